"""The background memorising worker: batches by size or age, backs off while the LLM is down."""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from dataclasses import dataclass

from memory.agents.memorizer import LLMUnavailable, Memorizer
from memory.errors import StoreError
from memory.store.db import OPERATIONAL_ERRORS

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerState:
    """What the worker is doing, for ``status``."""

    running: bool
    waiting: int
    retry_at: float | None
    last_error: str | None
    batches: int


class MemoryWorker:
    """Runs ``Memorizer`` batches on its own thread.

    A batch starts when ``batch_frames`` observations wait, when the oldest waiting one is
    ``batch_seconds`` old, or right after ``notify(urgent=True)`` (a chat turn). The queue is the
    ``indexed`` status in SQLite, so a restart resumes where it stopped.
    """

    def __init__(self, memorizer: Memorizer) -> None:
        self.memorizer = memorizer
        self.config = memorizer.config
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._urgent = False
        self._thread: threading.Thread | None = None
        self._failures = 0
        self.retry_at: float | None = None
        self.last_error: str | None = None
        self.batches = 0

    def start(self) -> None:
        """Start the thread (idempotent)."""
        if self._thread is None or not self._thread.is_alive():
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="engram-memorize", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Ask the thread to finish its batch and join it."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def notify(self, urgent: bool = False) -> None:
        """New observations were indexed; ``urgent`` memorises them now (chat turns)."""
        self._urgent = self._urgent or urgent
        self._wake.set()

    def state(self) -> WorkerState:
        """A snapshot for status displays."""
        running = self._thread is not None and self._thread.is_alive()
        return WorkerState(
            running, self.memorizer.waiting(), self.retry_at, self.last_error, self.batches
        )

    def due(self, now: float | None = None) -> bool:
        """Whether a batch should run now."""
        now = time.time() if now is None else now
        if self.retry_at is not None and now < self.retry_at:
            return False
        if self._urgent:
            return True
        waiting = self.memorizer.store.observations_with_status("indexed", self.config.batch_frames)
        if len(waiting) >= self.config.batch_frames:
            return True
        return bool(waiting) and now - waiting[0].ts_start >= self.config.batch_seconds

    def step(self, now: float | None = None) -> bool:
        """Run one batch if one is due; returns whether it ran. (The loop's body; tests call it.)"""
        if not self.due(now):
            return False
        self._urgent = False
        batch = self.memorizer.next_batch()
        if not batch:
            return False
        try:
            self.memorizer.process(batch)
        except LLMUnavailable as exc:
            self._failures += 1
            delay = min(
                self.config.backoff_max, self.config.backoff_base * 2 ** (self._failures - 1)
            )
            self.retry_at = (time.time() if now is None else now) + delay
            self.last_error = str(exc)
            logger.warning("memorising paused for %.0f s: %s", delay, exc)
            return True
        self._failures = 0
        self.retry_at = None
        self.last_error = None
        self.batches += 1
        return True

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                ran = self.step()
            except (StoreError, sqlite3.ProgrammingError) as exc:
                if "closed" in str(exc):  # closed without stop_memorizing(): end quietly
                    return
                logger.exception("memorising worker step failed")
                ran = False
            except OPERATIONAL_ERRORS:  # the next step reads on a new connection
                logger.exception("memorising worker step failed")
                self.memorizer.store.drop_reader()
                ran = False
            except Exception:  # the worker must survive a bad batch; process() already marked it
                logger.exception("memorising worker step failed")
                ran = False
            if not ran:
                self._wake.wait(self.config.poll_seconds)
                self._wake.clear()
