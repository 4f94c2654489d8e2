"""A lock for the vector index shared by threads and by every Engram process on one home."""

from __future__ import annotations

import fcntl
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path


class IndexLock:
    """Threads of this process take turns; processes share for reading and exclude for writing.

    ChromaDB's persistent files are not safe for two writing processes, and ``engram import`` may
    run beside ``engram run``: writers take an exclusive ``flock`` on ``vectors.lock`` for the
    length of one batch, readers a shared one.
    """

    def __init__(self, path: Path) -> None:
        self._path = path
        self._thread_lock = threading.Lock()
        self._fh = None

    def _file(self):  # noqa: ANN202 - a text file handle
        if self._fh is None:
            self._fh = open(self._path, "a+")  # noqa: SIM115 - held for the process's life
        return self._fh

    @contextmanager
    def _held(self, mode: int) -> Iterator[None]:
        with self._thread_lock:
            fh = self._file()
            fcntl.flock(fh, mode)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def __enter__(self) -> IndexLock:
        self._cm = self._held(fcntl.LOCK_EX)
        self._cm.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._cm.__exit__(*exc)

    def shared(self) -> AbstractContextManager[None]:
        """Hold the lock for reading."""
        return self._held(fcntl.LOCK_SH)

    def close(self) -> None:
        """Close the lock file."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
