"""The home's config.toml: one table per layer ([models], [capture], ...), written atomically."""

from __future__ import annotations

import logging
import os
import tomllib
from pathlib import Path
from typing import Any

import tomli_w

from memory.errors import StoreError

logger = logging.getLogger(__name__)


def read_config(path: Path) -> dict[str, Any]:
    """The whole file as a dict; a missing file is empty.

    Raises:
        StoreError: the file exists but is not valid TOML (it is left as it is).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path} is not valid TOML ({exc}); fix or remove it") from exc


def write_section(path: Path, name: str, values: dict[str, Any]) -> None:
    """Replace one table of the file, keeping the others; atomic (temp file + rename)."""
    data = read_config(path)
    data[name] = _drop_none(values)
    tmp = path.with_suffix(".toml.tmp")
    tmp.write_text(tomli_w.dumps(data), encoding="utf-8")
    os.replace(tmp, path)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value if v is not None]
    return value
