"""Errors raised by the capture layer."""

from __future__ import annotations


class CaptureError(Exception):
    """Base class of every error the capture layer raises."""


class CaptureUnavailable(CaptureError):
    """A capture source cannot run here (no display, no microphone, ...)."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source} capture unavailable: {reason}")
        self.source = source
        self.reason = reason


class StreamEnded(CaptureError):
    """A screen-cast stream stopped delivering frames (session closed, PipeWire gone)."""
