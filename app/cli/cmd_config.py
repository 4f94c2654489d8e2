"""`engram config show|get|set`: the home's settings (config.toml) for people without the GUI."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from app.cli.common import print_json

if TYPE_CHECKING:
    from memory.settings import LiveSettings


def register(sub: argparse._SubParsersAction) -> None:
    """Add `engram config`."""
    config = sub.add_parser("config", help="show or change settings (the home's config.toml)")
    csub = config.add_subparsers(dest="config_cmd", required=True)
    show = csub.add_parser("show", help="every setting with its value and what it does")
    show.add_argument("--json", action="store_true", help="one JSON object of dotted keys")
    show.set_defaults(func=cmd_config_show)
    get = csub.add_parser("get", help="one setting's value")
    get.add_argument("key", help="a dotted key, e.g. capture.interval_s")
    get.set_defaults(func=cmd_config_get)
    put = csub.add_parser("set", help="change one setting (validated; a running recorder follows)")
    put.add_argument("key", help="a dotted key, e.g. capture.interval_s")
    put.add_argument("value", help='the new value: 5, true, "a, b" for a list, [1, 2]')
    put.set_defaults(func=cmd_config_set)


def _settings(args: argparse.Namespace) -> LiveSettings:
    from memory.home import open_settings
    from memory.paths import default_home

    return open_settings(args.home or default_home())  # problems are logged as warnings


def _text(value: object) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def cmd_config_show(args: argparse.Namespace) -> int:
    """Every setting, its value and its description."""
    from memory.settings import flatten
    from memory.settings.keys import describe

    values = flatten(_settings(args).current)
    if args.json:
        print_json(values)
        return 0
    for key, value in values.items():
        about = describe(key)
        print(f"{key} = {_text(value)}" + (f"    # {about}" if about else ""))
    return 0


def cmd_config_get(args: argparse.Namespace) -> int:
    """One value (lists and numbers as JSON)."""
    from memory.settings import get_key

    print(_text(get_key(_settings(args).current, args.key)))
    return 0


def cmd_config_set(args: argparse.Namespace) -> int:
    """Validate and save one value."""
    from memory.settings import get_key

    live = _settings(args)
    new = live.update({args.key: args.value})
    print(f"{args.key} = {_text(get_key(new, args.key))}")
    return 0
