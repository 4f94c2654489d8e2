"""Reading frame imports: a manifest JSONL of screenshots, or a folder of images.

Every line is checked (JSON, fields, time, and that the image file exists and decodes fully)
before anything is written, like the chat import: one bad line stops the import unless the
caller asks to skip bad lines.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from memory.errors import BadQuery, ImportFailed
from memory.importers.chat import json_reason
from memory.timeutil import parse_ts
from models.errors import BadInput
from models.ocr import open_image

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif", ".tif", ".tiff")
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class FrameEntry:
    """One image to import.

    Attributes:
        line: 1-based manifest line (or position in a folder listing).
        id: the manifest id (ext_id of the observation).
        path: the image file on disk.
        rel: the path as the manifest gave it (what search hits show as ``frame_path``).
        ts: capture time, unix seconds.
    """

    line: int
    id: str
    path: Path
    rel: str
    ts: float
    app: str | None = None
    title: str | None = None
    url: str | None = None


def _opt_str(obj: dict, key: str) -> str | None:
    value = obj.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f'field "{key}" must be a string, not {type(value).__name__}')
    return value


def parse_manifest_line(raw: bytes, number: int, base: Path) -> FrameEntry:
    """Parse one manifest line (the image itself is checked by :func:`check_image`).

    Raises:
        ValueError: with a reason naming what is wrong.
    """
    try:
        obj = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte {exc.start})") from exc
    except json.JSONDecodeError as exc:
        raise ValueError(json_reason(exc)) from exc
    except RecursionError as exc:  # "[[[[..." 200,000 deep: a hostile line, not a crash (#12)
        raise ValueError("the JSON is nested too deeply to be a manifest line") from exc
    if not isinstance(obj, dict):
        raise ValueError("a line must be a JSON object")
    try:  # "\\udcff" in JSON decodes to a lone surrogate, which no UTF-8 store can hold
        json.dumps(obj, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("the line holds an invalid \\u escape (a lone surrogate)") from exc
    for key in ("id", "path", "ts"):
        if obj.get(key) in (None, ""):
            raise ValueError(f'missing field "{key}"')
    rel = obj["path"]
    if not isinstance(rel, str):
        raise ValueError('field "path" must be a string')
    try:
        ts = parse_ts(obj["ts"])
    except BadQuery as exc:
        raise ValueError(str(exc)) from exc
    return FrameEntry(
        number,
        str(obj["id"]),
        (base / rel),
        rel,
        ts,
        _opt_str(obj, "app"),
        _opt_str(obj, "title"),
        _opt_str(obj, "url"),
    )


def check_image(path: Path) -> None:
    """Decode an image fully to prove it is readable.

    Raises:
        ValueError: missing, unsupported, corrupt or truncated, with the reason.
    """
    if not path.is_file():
        raise ValueError(f"image file not found: {path}")
    try:
        open_image(path).close()
    except BadInput as exc:
        raise ValueError(str(exc)) from exc


def read_manifest(
    path: Path, *, skip_bad: bool = False, progress: Progress | None = None
) -> tuple[list[FrameEntry], list[tuple[int, str]]]:
    """Read and check a whole manifest: (entries, skipped (line, reason)).

    Raises:
        ImportFailed: every bad line when ``skip_bad`` is False, or an unreadable file.
    """
    path = Path(path)
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise ImportFailed(str(path), None, f"cannot read the file: {exc.strerror or exc}") from exc
    entries: list[FrameEntry] = []
    bad: list[tuple[int, str]] = []
    seen: set[str] = set()
    total = len(raw_lines)
    for number, raw in enumerate(raw_lines, start=1):
        if progress:
            progress(number, total)
        if not raw.strip():
            continue
        try:
            entry = parse_manifest_line(raw, number, path.parent)
            if entry.id in seen:
                raise ValueError(f'duplicate id "{entry.id}" in this file')
            check_image(entry.path)
            seen.add(entry.id)
            entries.append(entry)
        except ValueError as exc:
            bad.append((number, str(exc)))
    if bad and not skip_bad:
        raise ImportFailed.lines(str(path), bad)
    return entries, bad


def read_folder(
    folder: Path, *, skip_bad: bool = False, progress: Progress | None = None
) -> tuple[list[FrameEntry], list[tuple[int, str]]]:
    """Every image under a folder (recursively), with file modification times as capture times.

    Raises:
        ImportFailed: every unreadable image when ``skip_bad`` is False.
    """
    folder = Path(folder)
    files = sorted(
        p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
    )
    entries: list[FrameEntry] = []
    bad: list[tuple[int, str]] = []
    for number, file in enumerate(files, start=1):
        if progress:
            progress(number, len(files))
        rel = file.relative_to(folder).as_posix()
        try:
            _utf8_name(rel)
            check_image(file)
            entries.append(FrameEntry(number, rel, file, rel, os.stat(file).st_mtime))
        except ValueError as exc:
            bad.append((number, f"{_printable(rel)}: {exc}"))
    if bad and not skip_bad:
        raise ImportFailed.lines(str(folder), bad, what="image")
    return entries, bad


def _utf8_name(rel: str) -> None:
    """A file name must be text to be stored (ids, paths and messages are UTF-8).

    Raises:
        ValueError: the name holds bytes that are not UTF-8 (Python keeps them as surrogates).
    """
    try:
        rel.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(
            f"the file name {_printable(rel)!r} is not valid UTF-8; rename the file"
        ) from exc


def _printable(rel: str) -> str:
    """A file name with undecodable bytes shown as \\xNN escapes (safe to print and store)."""
    return os.fsencode(rel).decode("utf-8", "backslashreplace")
