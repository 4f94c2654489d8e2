"""Timestamps: the store keeps unix seconds; users see local ISO 8601."""

from __future__ import annotations

from datetime import UTC, datetime

from memory.errors import BadQuery


def parse_ts(text: str) -> float:
    """Parse an ISO 8601 timestamp (naive means local time) into unix seconds.

    Raises:
        BadQuery: the text is not an ISO 8601 timestamp.
    """
    if not isinstance(text, str) or not text.strip():
        raise BadQuery(f"not a timestamp: {text!r}")
    raw = text.strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        dt = datetime.fromisoformat(raw)
    except ValueError as exc:
        raise BadQuery(f"not an ISO 8601 timestamp: {text!r}") from exc
    return to_epoch(dt)


def to_epoch(dt: datetime) -> float:
    """Unix seconds of a datetime; a naive one is taken as local time."""
    if dt.tzinfo is None:
        dt = dt.astimezone()
    return dt.timestamp()


def to_local(ts: float) -> datetime:
    """The local, timezone-aware datetime of unix seconds."""
    return datetime.fromtimestamp(ts, tz=UTC).astimezone()


def iso(ts: float | None) -> str | None:
    """Local ISO 8601 (seconds precision, with offset) of unix seconds, or None."""
    if ts is None:
        return None
    return to_local(ts).isoformat(timespec="seconds")
