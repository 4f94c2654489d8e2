"""Time expressions in queries ("yesterday", "last Tuesday afternoon", "in March") as ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)
PARTS = {
    "morning": (5, 12),
    "afternoon": (12, 17),
    "evening": (17, 22),
    "night": (21, 29),
    "lunchtime": (11, 14),
    "lunch": (11, 14),
    "lunch break": (11, 14),
    "after lunch": (13, 18),
    "before lunch": (8, 12),
    "tonight": (17, 29),
}

_PART = (
    r"(?:,?\s+(?:in\s+the\s+|during\s+(?:the\s+)?|at\s+|over\s+)?(?P<part>morning|afternoon|"
    r"evening|night|lunchtime|lunch\s+break|(?:after|before)\s+lunch|lunch))?"
)
_WD = r"(?P<wd>" + "|".join(WEEKDAYS) + r")"
_MON = r"(?P<mon>" + "|".join(MONTHS) + r"|" + "|".join(m[:3] for m in MONTHS) + r")"


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A half-open local-time range parsed from a query, and the words that said it."""

    start: datetime
    end: datetime
    phrase: str


def _day_range(day: date, part: str | None, tz: object) -> tuple[datetime, datetime]:
    start_h, end_h = PARTS.get(re.sub(r"\s+", " ", part or ""), (0, 24))
    base = datetime.combine(day, time(0), tzinfo=tz)  # type: ignore[arg-type]
    return base + timedelta(hours=start_h), base + timedelta(hours=end_h)


def _past_weekday(now: datetime, wd: str, last: bool) -> date:
    delta = (now.weekday() - WEEKDAYS.index(wd)) % 7
    if delta == 0 and last:
        delta = 7
    return now.date() - timedelta(days=delta)


def _month_range(now: datetime, mon: str, year: str | None) -> tuple[datetime, datetime]:
    idx = next(i for i, m in enumerate(MONTHS) if m.startswith(mon[:3])) + 1
    y = int(year) if year else (now.year if idx <= now.month else now.year - 1)
    start = datetime(y, idx, 1, tzinfo=now.tzinfo)
    end = datetime(y + (idx == 12), idx % 12 + 1, 1, tzinfo=now.tzinfo)
    return start, end


def _rules(now: datetime) -> list[tuple[re.Pattern[str], object]]:
    tz = now.tzinfo
    today = now.date()

    def rel_day(offset: int):  # noqa: ANN202 - small closures
        return lambda m: _day_range(today - timedelta(days=offset), m.group("part"), tz)

    def week(offset: int):  # noqa: ANN202
        def f(m: re.Match[str]) -> tuple[datetime, datetime]:
            monday = today - timedelta(days=today.weekday() + 7 * offset)
            start = datetime.combine(monday, time(0), tzinfo=tz)
            return start, start + timedelta(days=7)

        return f

    def month(offset: int):  # noqa: ANN202
        def f(m: re.Match[str]) -> tuple[datetime, datetime]:
            y, mo = now.year, now.month - offset
            while mo < 1:
                y, mo = y - 1, mo + 12
            return _month_range(now, MONTHS[mo - 1], str(y))

        return f

    def ago(m: re.Match[str]) -> tuple[datetime, datetime]:
        n = int(m.group("n"))
        days = n * (7 if m.group("unit").startswith("week") else 1)
        return _day_range(today - timedelta(days=days), None, tz)

    return [
        (re.compile(r"\b(?:the\s+)?day\s+before\s+yesterday" + _PART), rel_day(2)),
        (re.compile(r"\byesterday" + _PART), rel_day(1)),
        (re.compile(r"\b(?:earlier\s+)?today" + _PART), rel_day(0)),
        (re.compile(r"\bthis\s+(?P<part>morning|afternoon|evening)"), rel_day(0)),
        (re.compile(r"\b(?P<part>tonight)"), rel_day(0)),
        (re.compile(r"\b(?P<n>\d{1,3})\s+(?P<unit>days?|weeks?)\s+ago\b"), ago),
        (re.compile(r"\blast\s+week\b"), week(1)),
        (re.compile(r"\bthis\s+week\b"), week(0)),
        (re.compile(r"\blast\s+month\b"), month(1)),
        (re.compile(r"\bthis\s+month\b"), month(0)),
        (
            re.compile(r"\b(?:on\s+)?(?P<y>\d{4})-(?P<mo>\d{2})-(?P<d>\d{2})\b" + _PART),
            lambda m: _day_range(date(int(m["y"]), int(m["mo"]), int(m["d"])), m.group("part"), tz),
        ),
        (
            re.compile(
                r"\b(?:on\s+)?(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?"
                + _MON
                + r"(?:,?\s+(?P<y>\d{4}))?\b"
                + _PART
            ),
            lambda m: _dated(now, m),
        ),
        (
            re.compile(
                r"\b(?:on\s+)?"
                + _MON
                + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?(?:,?\s+(?P<y>\d{4}))?\b"
                + _PART
            ),
            lambda m: _dated(now, m),
        ),
        (
            re.compile(
                r"\b(?:(?P<last>last|this|past)\s+|on\s+)?" + _WD + r"(?P<poss>'s)?" + _PART
            ),
            lambda m: _day_range(
                _past_weekday(now, m["wd"], bool(m.group("last"))), m.group("part"), tz
            ),
        ),
        (
            re.compile(r"\b(?:in|during)\s+" + _MON + r"(?:\s+(?P<y>\d{4}))?\b"),
            lambda m: _month_range(now, m["mon"], m.group("y")),
        ),
    ]


def _dated(now: datetime, m: re.Match[str]) -> tuple[datetime, datetime]:
    idx = next(i for i, mo in enumerate(MONTHS) if mo.startswith(m["mon"][:3])) + 1
    year = int(m["y"]) if m.group("y") else now.year
    day = date(year, idx, int(m["d"]))
    if not m.group("y") and day > now.date():
        day = date(year - 1, idx, int(m["d"]))
    return _day_range(day, m.group("part"), now.tzinfo)


def parse_time(query: str, now: datetime) -> tuple[TimeRange | None, str]:
    """Find the first time expression in ``query`` relative to ``now`` (local, aware).

    Returns the range (or None) and the query with the expression removed.
    """
    lowered = query.lower()
    for pattern, build in _rules(now):
        m = pattern.search(lowered)
        if not m:
            continue
        if m.groupdict().get("poss") and not m.group("part"):
            # "Thursday's interview": the day of an event on the screen, not when it was seen
            continue
        try:
            start, end = build(m)  # type: ignore[operator]
        except ValueError:  # "31 February": not a date, so not a time filter
            continue
        rest = (query[: m.start()] + " " + query[m.end() :]).strip()
        return TimeRange(start, end, query[m.start() : m.end()].strip()), re.sub(
            r"\s{2,}", " ", rest
        )
    return None, query


_AGO = re.compile(
    r"^(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|"
    r"d|days?|w|weeks?)\s+ago$"
)
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_time_arg(text: str, now: datetime, *, end: bool = False) -> datetime:
    """One time given on the command line (``--since``, ``--until``, ``--now``, ...), as a moment.

    Accepts ``now``, an ISO 8601 time (naive means local), an amount ago (``90 minutes ago``,
    ``2h ago``, ``3 days ago`` exactly that long before ``now``) and every phrase a query may hold
    ("yesterday", "last week", "monday afternoon", "2026-02-16", "march"). A phrase names a span:
    its first moment, or with ``end`` its end (``--since monday --until monday``: all of Monday).

    Raises:
        ValueError: not a time this parser understands (the message says what is accepted).
    """
    raw = text.strip()
    lowered = raw.lower()
    if lowered == "now":
        return now
    m = _AGO.match(lowered)
    if m:
        return now - timedelta(seconds=float(m["n"]) * _UNIT_S[m["unit"][0]])
    if "T" in raw or ":" in raw:
        try:
            dt = datetime.fromisoformat(raw[:-1] + "+00:00" if raw.endswith("Z") else raw)
        except ValueError:
            pass
        else:
            return dt if dt.tzinfo else dt.astimezone()
    rng, rest = parse_time(raw, now)
    if rng is None or rest.strip():  # "march" alone reads as "in march"
        rng, rest = parse_time(f"in {raw}", now)
    if rng is None or rest.strip():
        raise ValueError(
            f"not a time: {text!r} (use an ISO 8601 time like 2026-02-16T09:30, a date, 'now', "
            "'yesterday', 'last week', 'monday afternoon' or '3 hours ago')"
        )
    return rng.end if end else rng.start
