"""CoreBridge: the one QObject between the GUI and MemoryService (injected, never global).

Work runs on Python worker pools owned here (joinable, so ``close()`` leaves no thread behind);
results come back to the GUI thread through queued signals. Separate pools keep a slow chat answer
from holding up a search, and thumbnails from holding up either.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, Signal

logger = logging.getLogger(__name__)

POOLS = {"ops": 2, "stream": 1, "thumbs": 2}


class CoreBridge(QObject):
    """Owns the service for the GUI and runs callables on worker pools.

    Signals:
        changes_applied(Changes): a write finished; views refresh what it says changed.
        op_failed(Exception): an operation failed and its caller gave no failure handler.
    """

    changes_applied = Signal(object)
    op_failed = Signal(object)
    _delivered = Signal(object, object)  # (callback, value): run callback(value) on the GUI thread

    def __init__(
        self, service: Any, *, owns_service: bool = True, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.service = service
        self._owns_service = owns_service
        self._pools = {
            name: ThreadPoolExecutor(max_workers=n, thread_name_prefix=f"engram-gui-{name}")
            for name, n in POOLS.items()
        }
        self._closed = False
        self._futures: set[Future[Any]] = set()
        self._lock = threading.Lock()
        self._queued = 0  # results emitted but not yet handled on the GUI thread
        self._delivered.connect(self._on_delivered)

    @property
    def closed(self) -> bool:
        """True once ``close()`` ran."""
        return self._closed

    def submit(self, fn: Callable[[], Any], pool: str = "ops") -> Future[Any] | None:
        """Run ``fn`` on a worker pool; None once closed. Runs nothing on the GUI thread."""
        if self._closed:
            return None
        future = self._pools[pool].submit(fn)
        self._futures.add(future)
        future.add_done_callback(self._futures.discard)
        return future

    def busy(self) -> bool:
        """True while submitted work runs or its results wait to be delivered on the GUI thread."""
        return bool(self._futures) or self._queued > 0

    def deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        """Call ``callback(value)`` on the GUI thread (safe from any thread)."""
        if not self._closed:
            with self._lock:
                self._queued += 1
            self._delivered.emit(callback, value)

    def _on_delivered(self, callback: Callable[[Any], None], value: Any) -> None:
        with self._lock:
            self._queued -= 1
        if self._closed:
            return
        try:
            callback(value)
        except Exception:  # a broken slot must not take the event loop down
            logger.exception("GUI callback failed")

    def close(self) -> None:
        """Cancel queued work, join every worker thread, then close the service (if owned)."""
        if self._closed:
            return
        self._closed = True
        for pool in self._pools.values():
            pool.shutdown(wait=True, cancel_futures=True)
        if self._owns_service:
            self.service.close()
