"""`engram import frames`, `engram run --headless`, `engram vault ...` and `engram frames prune`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from pathlib import Path
from typing import Any

from app.cli.common import (
    get_service,
    import_progress,
    parse_time_option,
    print_json,
)
from memory.errors import BadQuery
from memory.timeutil import iso


def _import_subparsers(sub: argparse._SubParsersAction) -> argparse._SubParsersAction:
    """The subcommands of `engram import` (created here if no other module made it yet)."""
    parser = sub.choices.get("import")
    if parser is None:
        parser = sub.add_parser("import", help="import chat messages or frames")
        return parser.add_subparsers(dest="what", required=True)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return action
    return parser.add_subparsers(dest="what", required=True)


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    frames = _import_subparsers(sub).add_parser(
        "frames",
        help="screenshots: a manifest JSONL of {id, path, ts, app, title, url} or a folder",
    )
    frames.add_argument(
        "source", type=Path, help="manifest.jsonl, or a folder of images (mtime = time)"
    )
    frames.add_argument(
        "--skip-bad", action="store_true", help="import the good lines, report the bad"
    )
    frames.add_argument("--json", action="store_true")
    frames.set_defaults(func=cmd_import_frames)

    run = sub.add_parser("run", help="capture the screen (and microphone) and index it")
    run.add_argument(
        "--headless", action="store_true", help="no GUI: capture and index in this terminal"
    )
    run.add_argument("--duration", type=float, default=None, help="stop after this many seconds")
    run.add_argument(
        "--interval",
        type=float,
        default=None,
        help="seconds between screenshots (this run; setting capture.interval_s)",
    )
    run.add_argument(
        "--no-audio", action="store_true", help="do not record the microphone (this run)"
    )
    run.add_argument(
        "--audio",
        action="store_true",
        help="record the microphone even if audio.enabled is off (this run)",
    )
    run.add_argument(
        "--audio-device",
        default=None,
        help="microphone: a sounddevice input name or index (this run; setting audio.device)",
    )
    keep = run.add_mutually_exclusive_group()
    keep.add_argument(
        "--discard-audio",
        action="store_true",
        help="delete each audio chunk once it is transcribed (this run)",
    )
    keep.add_argument(
        "--keep-audio",
        action="store_true",
        help="keep each audio chunk after transcription, with redacted words silenced "
        "(this run; setting audio.keep_raw_audio, off by default)",
    )
    run.add_argument(
        "--require-screen",
        action="store_true",
        help="exit with code 4 when the screen cannot be captured (default: warn, go on)",
    )
    run.set_defaults(func=cmd_run)

    vault = sub.add_parser("vault", help="secrets found on screen, kept encrypted")
    vsub = vault.add_subparsers(dest="vault_cmd", required=True)
    vlist = vsub.add_parser("list", help="captions of vault entries (never the secrets)")
    vlist.add_argument("--json", action="store_true")
    vlist.set_defaults(func=cmd_vault_list)
    show = vsub.add_parser("show", help="one entry; the secret only when the vault is unlocked")
    show.add_argument("id", type=int)
    show.add_argument("--json", action="store_true")
    show.set_defaults(func=cmd_vault_show)
    vsub.add_parser("lock", help="lock the vault until `engram vault unlock`").set_defaults(
        func=cmd_vault_lock
    )
    unlock = vsub.add_parser("unlock", help="unlock (creates the vault key the first time)")
    unlock.set_defaults(func=cmd_vault_unlock)

    prune = sub.add_parser("frames", help="stored screenshots: retention and disk quota")
    psub = prune.add_subparsers(dest="frames_cmd", required=True)
    pr = psub.add_parser("prune", help="thin old frames to thumbnails and enforce the quota now")
    pr.add_argument(
        "--keep-days", type=float, default=None, help="default: retention.keep_full_days"
    )
    pr.add_argument(
        "--before",
        metavar="T",
        help="thin frames older than this time ('last week', '3 days ago', ISO)",
    )
    pr.add_argument("--quota-mb", type=float, default=None, help="default: retention.quota_gb")
    pr.add_argument("--json", action="store_true")
    pr.set_defaults(func=cmd_frames_prune)


def cmd_import_frames(args: argparse.Namespace) -> int:
    """Import screenshots through the capture pipeline."""
    service = get_service(args)
    with import_progress(service, args.source) as progress:
        report = service.import_frames(args.source, skip_bad=args.skip_bad, progress=progress)
    if args.json:
        print_json(
            {
                "imported": report.imported,
                "duplicates": report.duplicates,
                "near_duplicates": report.near_duplicates,
                "indexed": report.indexed,
                "failed": report.failed,
                "skipped": [{"line": n, "reason": r} for n, r in report.skipped],
            }
        )
        return 0
    print(
        f"imported {report.imported} frames ({report.duplicates} already there, "
        f"{report.near_duplicates} near-duplicates folded into the frame before); "
        f"indexed {report.indexed}, failed {report.failed}"
    )
    for line, reason in report.skipped:
        print(f"  skipped line {line}: {reason}", file=sys.stderr)
    return 0 if report.failed == 0 else 3


def cmd_run(args: argparse.Namespace) -> int:
    """Capture and index until Ctrl-C, SIGTERM or --duration."""
    if not args.headless:
        print(
            "engram: the GUI is `engram app`; use `engram run --headless` for capture only",
            file=sys.stderr,
        )
        return 2
    from capture.screen import probe_screen
    from memory.pipeline.runner import run_headless

    if args.require_screen:
        probe_screen()  # no X display or no Wayland portal: exit 4 before any model loads
    service = get_service(args)
    service.warm_up()  # the index and the text model load before recording starts, not during
    run = service.headless_run(run_overrides(args))
    run.require_screen = args.require_screen  # a portal that refuses at start: exit 4 too
    return run_headless(run, duration=args.duration, out=sys.stderr)


def run_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The settings the flags of `engram run` change for this run only (the rest: config.toml)."""
    out: dict[str, object] = {}
    if args.interval is not None:
        out["capture.interval_s"] = args.interval
    if args.no_audio:
        out["audio.enabled"] = False
    elif args.audio:
        out["audio.enabled"] = True
    if args.audio_device is not None:
        out["audio.device"] = str(args.audio_device)
    if args.discard_audio:
        out["audio.keep_raw_audio"] = False
    elif args.keep_audio:
        out["audio.keep_raw_audio"] = True
    return out


def _passphrase(confirm: bool = False) -> str | None:
    env = os.environ.get("ENGRAM_VAULT_PASSPHRASE")
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("vault passphrase: ")
    if confirm and getpass.getpass("again: ") != first:
        print("engram: the passphrases differ", file=sys.stderr)
        return None
    return first


def _vault(args: argparse.Namespace) -> Any:
    return get_service(args).vault()


def cmd_vault_list(args: argparse.Namespace) -> int:
    """Captions of vault entries."""
    items = _vault(args).items()
    if args.json:
        print_json([_item_json(i) for i in items])
        return 0
    if not items:
        print("the vault is empty")
    for i in items:
        empty = "" if i.has_secret else "  (no value)"
        print(f"{i.id:5}  {iso(i.ts)}  [{i.entry_type}] {i.caption}{empty}")
    return 0


def _item_json(i: Any) -> dict[str, Any]:
    out = {
        "id": i.id,
        "caption": i.caption,
        "entry_type": i.entry_type,
        "source": i.source,
        "sensitivity": i.sensitivity,
        "ts": iso(i.ts),
        "observations": list(i.source_ids),
        "has_secret": i.has_secret,
    }
    if i.secret is not None:
        out["secret"] = i.secret
    return out


def cmd_vault_show(args: argparse.Namespace) -> int:
    """One entry; its secret only when the vault unlocks."""
    vault = _vault(args)
    passphrase = None
    if (
        not vault.keys.is_unlocked
        and not vault.locked_by_user
        and vault.keys.backend == "passphrase"
    ):
        passphrase = _passphrase()
    item, problem = vault.show(args.id, passphrase)
    if args.json:
        print_json({**_item_json(item), **({"locked": problem} if problem else {})})
        return 0
    print(
        f"{item.caption}\n  type: {item.entry_type}   seen: {iso(item.ts)}   source: {item.source}"
    )
    if problem:
        print(f"  secret: hidden ({problem})")
        return 0
    print(f"  secret: {item.secret}")
    return 0


def cmd_vault_lock(args: argparse.Namespace) -> int:
    """Lock the vault."""
    _vault(args).lock()
    print("the vault is locked")
    return 0


def cmd_vault_unlock(args: argparse.Namespace) -> int:
    """Unlock the vault (the first time, this sets its passphrase or keyring key)."""
    vault = _vault(args)
    first = not vault.keys.initialized
    secret = None if vault.keys.backend == "keyring" else _passphrase(confirm=first)
    vault.unlock(secret)
    print("the vault is unlocked" + (" (new key created)" if first else ""))
    return 0


def cmd_frames_prune(args: argparse.Namespace) -> int:
    """Apply retention and the disk quota now (the settings' retention unless overridden)."""
    from memory.pipeline.recorder import retention_policy
    from memory.pipeline.retention import apply_retention

    if args.before is not None:
        if args.keep_days is not None:
            raise BadQuery("give --before or --keep-days, not both")
        before = parse_time_option(args.before, "--before")
        assert before is not None
        args.keep_days = max(0.0, (time.time() - before) / 86400)
    service = get_service(args)
    overrides: dict[str, object] = {}
    if args.keep_days is not None:
        overrides["retention.keep_full_days"] = args.keep_days
    if args.quota_mb is not None:
        overrides["retention.quota_gb"] = args.quota_mb / 1024
    settings = service.settings.current
    if overrides:
        from memory.settings import set_keys

        settings = set_keys(settings, overrides)
    report = apply_retention(service.store, service.pipeline().frames, retention_policy(settings))
    if args.json:
        print_json(report.to_json())
    else:
        print(
            f"thinned {report.thinned} frames to thumbnails, "
            f"freed {report.freed_bytes / 2**20:.1f} MB; "
            f"frames now use {report.total_bytes / 2**20:.1f} MB"
        )
    return 0
