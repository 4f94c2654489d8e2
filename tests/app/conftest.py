"""Fixtures for the app's Qt tests: a seeded home, a bridge over it, and a dangling-thread check."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.app.seed import seed


class SlowFakeLLM:
    """A chat backend that streams a canned, cited answer slowly (tests only; no model)."""

    def __init__(self, observation_id: int, delay_s: float = 0.02, words: int = 40) -> None:
        self.observation_id = observation_id
        self.delay_s = delay_s
        self.words = words
        self.closed = False

    def unavailable_reason(self, service: Any) -> str | None:
        return None

    def stream(
        self,
        service: Any,
        question: str,
        history: list[tuple[str, str]],
        session_id: int | None = None,
    ) -> Iterator[Any]:
        from app.views.chat_backend import ChatEvent

        try:
            for i in range(self.words):
                time.sleep(self.delay_s)
                yield ChatEvent("token", f"word{i} ")
            yield ChatEvent("token", "The flight is TP1361 [1].")
            obs = service.observation(self.observation_id)
            yield ChatEvent(
                "citations",
                citations=(
                    {
                        "n": 1,
                        "observation_id": obs.id,
                        "ts": obs.ts_start,
                        "title": obs.window_title,
                    },
                ),
            )
            yield ChatEvent("done")
        finally:
            self.closed = True


@pytest.fixture
def threads_before() -> Iterator[int]:
    """Fails the test if it leaves Python threads running."""
    before = threading.active_count()
    yield before


@pytest.fixture
def seeded(tmp_path: Any, threads_before: int) -> Iterator[tuple[Any, dict[str, Any]]]:
    """A seeded MemoryService (closed, and its threads checked, at teardown)."""
    service, ids = seed(tmp_path / "home")
    yield service, ids
    service.close()


@pytest.fixture
def window(qtbot: Any, seeded: tuple[Any, dict[str, Any]], threads_before: int) -> Iterator[Any]:
    """The main window over the seeded home, with a slow fake LLM for chat."""
    from app.main import build_window

    service, ids = seeded
    win = build_window(service, chat_backend=SlowFakeLLM(ids["screens"][0]))
    qtbot.addWidget(win)
    win.show()
    # start-up opens the latest moment and fits its day: let that finish, or its late summary
    # (and its fit) lands in the middle of a test's own zoom
    qtbot.waitUntil(lambda: win.timeline.strip.settled() and not win.bridge.busy(), timeout=10_000)
    win.ids = ids
    yield win
    win.chat.stop()
    win.bridge.close()
    deadline = time.monotonic() + 5
    while threading.active_count() > threads_before and time.monotonic() < deadline:
        time.sleep(0.05)
    leftover = [t.name for t in threading.enumerate()][threads_before - 1 :]
    assert threading.active_count() <= threads_before, f"dangling threads: {leftover}"
