"""Dotted keys over the settings (``capture.interval_s``): list, read, and set one from text."""

from __future__ import annotations

import difflib
import json
from typing import TYPE_CHECKING

from pydantic import BaseModel, ValidationError

from memory.errors import BadQuery

if TYPE_CHECKING:
    from memory.settings.model import Settings

#: A settings value as TOML and JSON hold it.
Value = object


class SettingsKeyError(BadQuery):
    """An unknown settings key or a value the key refuses; the message names the key."""


def flatten(settings: BaseModel) -> dict[str, Value]:
    """Every leaf setting by dotted key, in declaration order (lists are leaves)."""
    out: dict[str, Value] = {}
    _walk(settings.model_dump(mode="json"), "", out)
    return out


def _walk(node: dict[str, Value], prefix: str, out: dict[str, Value]) -> None:
    for name, value in node.items():
        key = f"{prefix}{name}"
        if isinstance(value, dict):
            _walk(value, key + ".", out)
        else:
            out[key] = value


def describe(key: str) -> str:
    """The documentation of one key (its field's description), or ''."""
    from memory.settings.model import Settings

    model: type[BaseModel] = Settings
    parts = key.split(".")
    for i, part in enumerate(parts):
        info = model.model_fields.get(part)
        if info is None:
            return ""
        if i == len(parts) - 1:
            return info.description or ""
        sub = info.annotation
        if not (isinstance(sub, type) and issubclass(sub, BaseModel)):
            return ""
        model = sub
    return ""


def get_key(settings: Settings, key: str) -> Value:
    """The value of one dotted key.

    Raises:
        SettingsKeyError: no such key (the message suggests close ones).
    """
    values = flatten(settings)
    if key not in values:
        raise SettingsKeyError(_unknown(key, values))
    return values[key]


def set_key(settings: Settings, key: str, value: Value) -> Settings:
    """A copy of ``settings`` with one key changed; text is read as the key's type
    (``5``, ``true``, ``[1, 2]`` or ``a, b`` for a list; empty text unsets an optional key).

    Raises:
        SettingsKeyError: no such key, or a value it refuses (the message names the key).
    """
    return set_keys(settings, {key: value})


def set_keys(settings: Settings, values: dict[str, Value]) -> Settings:
    """A copy of ``settings`` with several keys changed (see ``set_key``); all or nothing.

    Raises:
        SettingsKeyError: an unknown key or a refused value (the message names the key).
    """
    known = flatten(settings)
    data = settings.model_dump(mode="json")
    for key, value in values.items():
        if key not in known:
            raise SettingsKeyError(_unknown(key, known))
        data = _with_value(settings, data, key, value)
    return type(settings).model_validate(data)


def _with_value(
    settings: Settings, data: dict[str, Value], key: str, value: Value
) -> dict[str, Value]:
    first: ValidationError | None = None
    for candidate in _candidates(value):
        trial = _copy(data)
        set_path(trial, key, candidate)
        try:
            type(settings).model_validate(trial)
        except ValidationError as exc:
            if first is None:
                first = exc
            if _concerns(exc, key):
                continue
        return trial
    assert first is not None
    raise SettingsKeyError(f"{key}: {_message(first, key)} (got {value!r})")


def _candidates(value: Value) -> list[Value]:
    """Empty text as "not set", the value as given, then read as JSON, then as a comma list."""
    if not isinstance(value, str):
        return [value]
    out: list[Value] = [None] if not value.strip() else []
    out.append(value)
    try:
        out.append(json.loads(value))
    except json.JSONDecodeError:
        pass
    out.append([p.strip() for p in value.split(",") if p.strip()])
    return out


def _concerns(exc: ValidationError, key: str) -> bool:
    return any(".".join(str(p) for p in e["loc"]).startswith(key) for e in exc.errors())


def _message(exc: ValidationError, key: str) -> str:
    for error in exc.errors():
        if ".".join(str(p) for p in error["loc"]).startswith(key):
            return str(error["msg"])
    return str(exc.errors()[0]["msg"])


def set_path(data: dict[str, Value], key: str, value: Value) -> None:
    """Set a dotted key inside nested dicts, creating the tables on the way."""
    *tables, leaf = key.split(".")
    node = data
    for name in tables:
        child = node.get(name)
        if not isinstance(child, dict):
            child = node[name] = {}
        node = child
    node[leaf] = value


def _copy(value: dict[str, Value]) -> dict[str, Value]:
    return {k: _copy(v) if isinstance(v, dict) else v for k, v in value.items()}


def _unknown(key: str, known: dict[str, Value]) -> str:
    close = difflib.get_close_matches(key, list(known), n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; `engram config show` lists them"
    return f"unknown setting {key!r}{hint}"
