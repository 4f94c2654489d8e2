"""Import progress on the terminal: one rich bar per phase, with counts, rate, elapsed time and ETA.

The core reports ``progress(done, total)`` and, when the callback has one, ``progress.phase(name)``
at the start of each phase (memory/pipeline/core.py ``_phase``); nothing here knows the phases.
"""

from __future__ import annotations

import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second of a task ("12.3/s"), blank until rich has measured a rate."""

    def render(self, task: Any) -> Text:
        """The rate text."""
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


class PhaseProgress:
    """A progress callback showing each phase as its own line; silent unless stderr is a terminal.

    Use as a context manager around the work (it stops the live display, leaving the lines).
    """

    def __init__(self, console: Console | None = None, enabled: bool | None = None) -> None:
        self.console = console or Console(file=sys.stderr)
        self.enabled = self.console.is_terminal if enabled is None else enabled
        self._progress = Progress(
            SpinnerColumn(finished_text="✓"),
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("left"),
            TimeRemainingColumn(),
            console=self.console,
            disable=not self.enabled,
        )
        self._task: TaskID | None = None
        self.phases: list[str] = []

    def __enter__(self) -> PhaseProgress:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._finish()
        self._progress.stop()

    def phase(self, name: str) -> None:
        """Start a new line for a phase (the one before stays, completed)."""
        self._finish()
        self.phases.append(name)
        self._task = self._progress.add_task(name, total=None)

    def __call__(self, done: int, total: int) -> None:
        if self._task is None:
            self.phase("working")
        assert self._task is not None
        self._progress.update(self._task, completed=done, total=max(total, done))

    def _finish(self) -> None:
        if self._task is not None:
            task = self._progress.tasks[-1]
            if task.total is None:
                self._progress.update(
                    self._task, total=task.completed or 1, completed=task.completed or 1
                )
            self._progress.stop_task(self._task)
