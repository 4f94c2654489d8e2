"""Progress callbacks: ``progress(done, total)``, and ``progress.phase(name)`` where one exists."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Progress = Callable[[int, int], None]


def phase(progress: Any, name: str) -> Progress | None:
    """Tell a progress callback that takes phases (the CLI's ``PhaseProgress``) a phase began."""
    if progress is None:
        return None
    setter = getattr(progress, "phase", None)
    if callable(setter):
        setter(name)
    return progress  # type: ignore[no-any-return]
