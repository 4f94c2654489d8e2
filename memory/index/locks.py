"""A lock for the vector index shared by threads and by every Engram process on one home.

portalocker gives the same shared/exclusive file lock on Linux and macOS (``flock``) and Windows
(``LockFileEx``), so importing this module works everywhere (#10: ``fcntl`` kept Windows out).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TextIO

import portalocker


class IndexLock:
    """Threads of this process take turns; processes share for reading and exclude for writing.

    ChromaDB's persistent files are not safe for two writing processes, and ``engram import`` may
    run beside ``engram run``: writers take an exclusive lock on ``vectors.lock`` for the length of
    one batch, readers a shared one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._fh: TextIO | None = None
        self._cm: AbstractContextManager[None] | None = None

    def _file(self) -> TextIO:
        if self._fh is None:
            self._fh = open(self._path, "a+")  # noqa: SIM115 - held for the process's life
        return self._fh

    @contextmanager
    def _held(self, flags: portalocker.LockFlags) -> Iterator[None]:
        with self._thread_lock:
            fh = self._file()
            portalocker.lock(fh, flags)
            try:
                yield
            finally:
                portalocker.unlock(fh)

    def __enter__(self) -> IndexLock:
        cm = self._held(portalocker.LockFlags.EXCLUSIVE)
        cm.__enter__()
        self._cm = cm
        return self

    def __exit__(self, *exc: object) -> None:
        cm, self._cm = self._cm, None
        if cm is not None:
            cm.__exit__(None, None, None)

    def shared(self) -> AbstractContextManager[None]:
        """Hold the lock for reading."""
        return self._held(portalocker.LockFlags.SHARED)

    def close(self) -> None:
        """Close the lock file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
