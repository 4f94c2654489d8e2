"""Where a home keeps its files."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

from memory.errors import DiskFull


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
    def config(self) -> Path:
        """The user's config.toml."""
        return self.root / "config.toml"

    def create(self) -> None:
        """Make the folders, private to the user.

        Raises:
            DiskFull: the folder is on a read-only or full disk.
        """
        try:
            for folder in (self.root, self.frames, self.logs):
                folder.mkdir(parents=True, exist_ok=True)
            if self.root.stat().st_mode & 0o777 != 0o700:
                os.chmod(self.root, 0o700)
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
