"""Where a home keeps its files."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import platformdirs

from memory.errors import DiskFull

PRIVATE_UMASK = 0o077
"""New files 0600, folders 0700 (SQLite WAL/SHM, Chroma files, frames, logs; #12)."""
_FIX_MODES_UNDER = ("vectors", "logs")
"""Small folders whose existing files get their modes fixed at start (frames/ is closed by its
own 0700 folder mode: walking a year of frames at every start would cost minutes)."""


def private_umask() -> None:
    """Make every file this process creates private to the user (#12): umask 077.

    Process-wide on purpose: SQLite, Chroma, Pillow and the log handler create files we do not
    open ourselves, and a umask is the one setting they all honour.
    """
    os.umask(PRIVATE_UMASK)


def secure_modes(root: Path) -> None:
    """Set 0700 on the home, its folders and the small folders' subfolders, 0600 on their files."""
    paths = [root, *root.iterdir()]
    for name in _FIX_MODES_UNDER:
        if (root / name).is_dir():
            paths += list((root / name).rglob("*"))
    for path in paths:
        if path.is_symlink():
            continue
        want = 0o700 if path.is_dir() else 0o600
        if path.stat().st_mode & 0o777 != want:
            os.chmod(path, want)


def open_private(path: Path) -> TextIO:
    """Open ``path`` for writing text, created (or truncated) with mode 0600 (exports)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
    return os.fdopen(fd, "w", encoding="utf-8")


def default_home() -> Path:
    """``ENGRAM_HOME`` if set, else the platform's user data folder."""
    env = os.environ.get("ENGRAM_HOME")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir("engram", appauthor=False))


@dataclass(frozen=True, slots=True)
class HomePaths:
    """The files of one Engram home (mode 0700)."""

    root: Path

    @property
    def db(self) -> Path:
        """The SQLite database."""
        return self.root / "engram.db"

    @property
    def vectors(self) -> Path:
        """The ChromaDB folder."""
        return self.root / "vectors"

    @property
    def frames(self) -> Path:
        """Stored frames, by date."""
        return self.root / "frames"

    @property
    def logs(self) -> Path:
        """Log files."""
        return self.root / "logs"

    @property
    def screencast_token(self) -> Path:
        """The Wayland ScreenCast portal's restore token (0600; #18)."""
        return self.root / "screencast-token"

    @property
    def config(self) -> Path:
        """The user's config.toml."""
        return self.root / "config.toml"

    def create(self) -> None:
        """Make the folders, private to the user (umask 077 for the process, modes fixed).

        Raises:
            DiskFull: the folder is on a read-only or full disk.
        """
        private_umask()
        try:
            for folder in (self.root, self.frames, self.logs):
                folder.mkdir(parents=True, exist_ok=True)
            secure_modes(self.root)
        except OSError as exc:
            if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
                raise DiskFull(
                    f"the data folder {self.root} is read-only; nothing was written"
                ) from exc
            if exc.errno == errno.ENOSPC:
                raise DiskFull(
                    f"the disk holding {self.root} is full; nothing was written"
                ) from exc
            raise
