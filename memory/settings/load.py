"""Read and save the settings of a home (its config.toml), forgiving bad entries one by one.

An unknown key or a value of the wrong type is reported by name and that one entry falls back to
its default; the file itself is never rewritten by a read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from memory.settings.config_file import ConfigFileError, TomlData, read_config, write_config
from memory.settings.keys import flatten, set_path
from memory.settings.model import SCHEMA_VERSION, Settings

logger = logging.getLogger(__name__)

CONFIG_NAME = "config.toml"
_MAX_PASSES = 50


@dataclass(frozen=True, slots=True)
class Loaded:
    """Settings read from a file, and what was wrong with it (one sentence per problem)."""

    settings: Settings
    problems: tuple[str, ...] = field(default=())


def config_path(home: Path) -> Path:
    """The config.toml of a home folder."""
    return Path(home) / CONFIG_NAME


def load_settings(home: Path) -> Settings:
    """The settings of a home: its config.toml over the defaults, environment over both.

    Problems are logged as warnings (``read_settings`` returns them).
    """
    loaded = read_settings(home)
    for problem in loaded.problems:
        logger.warning("%s", problem)
    return loaded.settings


def read_settings(home: Path) -> Loaded:
    """Like ``load_settings``, returning the problems found instead of logging them."""
    path = config_path(home)
    try:
        raw = read_config(path)
    except ConfigFileError as exc:
        return Loaded(Settings(), (f"{exc}; using the defaults, the file is left as it is",))
    return validate_leniently(raw, source=path.name)


def validate_leniently(raw: TomlData, *, source: str) -> Loaded:
    """Settings from ``raw``, dropping each entry pydantic refuses (named in ``problems``)."""
    data, problems = clean(raw, source=source)
    try:
        return Loaded(Settings.model_validate(data), problems)
    except ValidationError as exc:  # the environment is wrong, not the file
        env = f"environment override refused ({exc.errors()[0]['msg']}); ignored"
        return Loaded(_without_env(data), (*problems, env))


def clean(raw: TomlData, *, source: str) -> tuple[TomlData, tuple[str, ...]]:
    """A copy of ``raw`` without the entries the model refuses, and one sentence per entry."""
    data = _copy(raw)
    problems: list[str] = []
    for _ in range(_MAX_PASSES):
        try:
            _FileOnly.model_validate(data)
        except ValidationError as exc:
            dropped = False
            for error in exc.errors():
                key = ".".join(str(p) for p in error["loc"])
                if _drop(data, error["loc"]):
                    dropped = True
                    problems.append(_sentence(source, key, error["type"], error["msg"]))
            if dropped:
                continue
        break
    return data, tuple(problems)


def save_settings(home: Path, settings: Settings, *, base: Settings | None = None) -> None:
    """Write what differs from ``base`` (default: what the home holds now) into config.toml.

    Only changed keys are written, so unknown keys, comments' neighbours and values that came
    from the environment stay as they were; the write is atomic and the file is 0600.
    """
    path = config_path(home)
    try:
        raw = read_config(path)
    except ConfigFileError:
        raw = {}  # write_config keeps the unreadable file beside the new one
    before = flatten(base if base is not None else validate_leniently(raw, source="").settings)
    for key, value in flatten(settings).items():
        if before.get(key) != value:
            set_path(raw, key, value)
    raw["schema_version"] = SCHEMA_VERSION
    write_config(path, raw)


def _sentence(source: str, key: str, kind: str, msg: str) -> str:
    if kind == "extra_forbidden":
        return f"{source}: unknown key {key!r} ignored (the file is left as it is)"
    return f"{source}: {key}: {msg}; using the default"


def _drop(data: TomlData, loc: tuple[int | str, ...]) -> bool:
    """Remove the entry at ``loc`` (a list item takes its whole list); whether one was removed."""
    node: object = data
    for i, part in enumerate(loc):
        if not isinstance(node, dict) or part not in node:
            return False
        if i == len(loc) - 1 or not isinstance(node[part], dict):
            del node[part]
            return True
        node = node[part]
    return False


def _copy(value: TomlData) -> TomlData:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in value.items()}


class _FileOnly(Settings):
    """The model without the environment source."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _without_env(data: TomlData) -> Settings:
    """Settings from the file alone (an environment variable the model refuses is ignored)."""
    checked = _FileOnly.model_validate(data)
    return Settings.model_construct(
        **{name: getattr(checked, name) for name in Settings.model_fields}
    )
