"""StoreOp and StreamOp: run service work off the GUI thread, get callbacks on it (Anki's QueryOp).

Also the small verb helpers views call, with keyword-only arguments (``delete_memory(bridge=..,
memory_id=..)``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any, Generic, TypeVar

from app.bridge import CoreBridge
from memory.changes import Changes

logger = logging.getLogger(__name__)
T = TypeVar("T")


class StoreOp(Generic[T]):
    """Run ``op(service)`` on a worker thread; ``success``/``failure`` run on the GUI thread."""

    def __init__(self, bridge: CoreBridge, op: Callable[[Any], T], *, pool: str = "ops") -> None:
        self._bridge = bridge
        self._op = op
        self._pool = pool
        self._success: Callable[[T], None] | None = None
        self._failure: Callable[[Exception], None] | None = None

    def success(self, fn: Callable[[T], None]) -> StoreOp[T]:
        """Call ``fn(result)`` on the GUI thread when the op returns."""
        self._success = fn
        return self

    def failure(self, fn: Callable[[Exception], None]) -> StoreOp[T]:
        """Call ``fn(exception)`` on the GUI thread when the op raises."""
        self._failure = fn
        return self

    def run(self) -> None:
        """Start the op; returns at once."""
        self._bridge.submit(self._work, self._pool)

    def _work(self) -> None:
        try:
            result = self._op(self._bridge.service)
        except Exception as exc:  # handed to the GUI thread, never swallowed
            logger.debug("op failed: %s", exc)
            self._bridge.deliver(self._on_failed, exc)
            return
        self._bridge.deliver(self._on_succeeded, result)

    def _on_succeeded(self, result: T) -> None:
        if self._success is not None:
            self._success(result)
        if isinstance(result, Changes):
            self._bridge.changes_applied.emit(result)

    def _on_failed(self, exc: Exception) -> None:
        if self._failure is not None:
            self._failure(exc)
        else:
            self._bridge.op_failed.emit(exc)


class StreamOp(Generic[T]):
    """Iterate ``op(service)`` (a generator) on the stream pool; each item reaches the GUI thread.

    ``stop()`` sets a flag checked between items; items produced after it are dropped and the
    generator is closed, so a slow model stops at its next token.
    """

    def __init__(self, bridge: CoreBridge, op: Callable[[Any], Iterator[T]]) -> None:
        self._bridge = bridge
        self._op = op
        self._stop = threading.Event()
        self._yielded: Callable[[T], None] = lambda _item: None
        self._finished: Callable[[bool], None] = lambda _stopped: None
        self._failure: Callable[[Exception], None] | None = None

    def yielded(self, fn: Callable[[T], None]) -> StreamOp[T]:
        """Call ``fn(item)`` on the GUI thread for each item."""
        self._yielded = fn
        return self

    def finished(self, fn: Callable[[bool], None]) -> StreamOp[T]:
        """Call ``fn(stopped)`` on the GUI thread when the stream ends (after the last item)."""
        self._finished = fn
        return self

    def failure(self, fn: Callable[[Exception], None]) -> StreamOp[T]:
        """Call ``fn(exception)`` on the GUI thread when the generator raises."""
        self._failure = fn
        return self

    @property
    def stopped(self) -> bool:
        """True once ``stop()`` was called."""
        return self._stop.is_set()

    def stop(self) -> None:
        """Ask the stream to stop after the current item (any thread)."""
        self._stop.set()

    def run(self) -> StreamOp[T]:
        """Start the stream; returns at once."""
        self._bridge.submit(self._work, "stream")
        return self

    def _work(self) -> None:
        gen = self._op(self._bridge.service)
        try:
            for item in gen:
                if self._stop.is_set() or self._bridge.closed:
                    break
                self._bridge.deliver(self._on_item, item)
        except Exception as exc:  # reported on the GUI thread
            self._bridge.deliver(self._on_failed, exc)
        finally:
            close = getattr(gen, "close", None)
            if close is not None:
                close()
        self._bridge.deliver(self._finished, self._stop.is_set())

    def _on_item(self, item: T) -> None:
        if not self._stop.is_set():
            self._yielded(item)

    def _on_failed(self, exc: Exception) -> None:
        if self._failure is not None:
            self._failure(exc)
        else:
            self._bridge.op_failed.emit(exc)


# -- verbs views call -------------------------------------------------------------------------


def delete_memory(
    *, bridge: CoreBridge, memory_id: int, on_done: Callable[[Changes], None] | None = None
) -> None:
    """Soft-delete a memory (history kept) off the GUI thread."""
    StoreOp(bridge, lambda s: s.delete_memory(memory_id)).success(
        on_done or (lambda _c: None)
    ).run()


def edit_memory(
    *,
    bridge: CoreBridge,
    memory_id: int,
    data: dict[str, Any],
    on_done: Callable[[Changes], None] | None = None,
) -> None:
    """Edit a memory (a new version; history kept) off the GUI thread."""
    StoreOp(bridge, lambda s: s.edit_memory(memory_id, data)).success(
        on_done or (lambda _c: None)
    ).run()


def set_settings(
    *,
    bridge: CoreBridge,
    values: dict[str, Any],
    on_done: Callable[[Changes], None] | None = None,
    on_error: Callable[[Exception], None] | None = None,
) -> None:
    """Validate and save settings off the GUI thread (a refused value calls ``on_error``)."""
    op = StoreOp(bridge, lambda s: s.set_settings(values)).success(on_done or (lambda _c: None))
    if on_error is not None:
        op = op.failure(on_error)
    op.run()


def forget_range(
    *, bridge: CoreBridge, since: float, until: float, on_done: Callable[[Any], None] | None = None
) -> None:
    """Forget every moment in ``[since, until)`` off the GUI thread."""

    def _op(s: Any) -> Changes:
        s.forget(since, until)
        return Changes(observations=True, memories=True)

    StoreOp(bridge, _op).success(on_done or (lambda _c: None)).run()


def forget_moment(
    *, bridge: CoreBridge, observation_id: int, on_done: Callable[[Any], None] | None = None
) -> None:
    """Forget one observation off the GUI thread."""

    def _op(s: Any) -> Changes:
        s.forget_observation(observation_id)
        return Changes(observations=True, memories=True)

    StoreOp(bridge, _op).success(on_done or (lambda _c: None)).run()
