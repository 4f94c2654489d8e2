"""The home's config.toml as data: read it; replace it atomically (0600, never half-written)."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import tempfile
import time
import tomllib
from pathlib import Path

import tomli_w

from memory.errors import StoreError

logger = logging.getLogger(__name__)

#: A TOML document as Python data.
TomlData = dict[str, object]


class ConfigFileError(StoreError):
    """config.toml exists but cannot be read as TOML (it is left as it is)."""


def read_config(path: Path) -> TomlData:
    """The whole file as a dict; a missing file is empty.

    Raises:
        ConfigFileError: the file exists but is not valid TOML (it is left as it is).
    """
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigFileError(f"{path} is not valid TOML ({exc}); fix or remove it") from exc


def write_config(path: Path, data: TomlData) -> None:
    """Replace the file with ``data``: a private temp file in the same folder, fsync, rename.

    A file that cannot be parsed is kept beside it as ``config.toml.bad-<time>`` first, so a save
    never loses what the user wrote. A crash leaves the old file or the new one, never half of one.
    """
    cleaned = _drop_none(data)
    assert isinstance(cleaned, dict)
    text = tomli_w.dumps(cleaned)
    if path.exists():
        try:
            read_config(path)
        except ConfigFileError:
            backup = path.with_name(f"{path.name}.bad-{int(time.time())}")
            shutil.copy2(path, backup)
            os.chmod(backup, 0o600)
            logger.warning("kept the unreadable %s as %s", path.name, backup.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _drop_none(value: object) -> object:
    """TOML has no null: a None value is left out (it reads back as the field's default)."""
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_drop_none(v) for v in value if v is not None]
    return value
