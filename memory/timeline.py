"""The timeline's Qt-free core: compact day summaries (app bands, gaps, episodes) and a view range.

A day with 20,000 frames is summarised in SQL into at most a few thousand buckets, so a view draws
bands, not frames. ``Timeline`` holds what part of the day is visible and emits ``range_changed``
(a psygnal signal) when that changes; ``app/widgets/qt_timeline.py`` paints it.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from psygnal import Signal

MIN_SPAN_S = 120.0  # the closest zoom: two minutes across the strip
DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Bucket:
    """A slice of time with its dominant app and one representative observation."""

    start: float
    end: float
    app: str
    count: int
    rep_id: int
    rep_frame: str | None


@dataclass(frozen=True, slots=True)
class Band:
    """A run of consecutive buckets with the same dominant app."""

    start: float
    end: float
    app: str
    count: int


@dataclass(frozen=True, slots=True)
class Gap:
    """A stretch where nothing was captured."""

    start: float
    end: float


@dataclass(frozen=True, slots=True)
class EpisodeBlock:
    """An episodic memory drawn as a labelled block."""

    memory_id: int
    start: float
    end: float
    title: str


@dataclass(frozen=True, slots=True)
class Summary:
    """What the timeline draws for one range."""

    start: float
    end: float
    bucket_s: float
    buckets: tuple[Bucket, ...] = ()
    bands: tuple[Band, ...] = ()
    gaps: tuple[Gap, ...] = ()
    episodes: tuple[EpisodeBlock, ...] = ()
    total: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    def bucket_at(self, ts: float) -> Bucket | None:
        """The bucket covering ``ts`` (binary search), or None in a gap."""
        lo, hi = 0, len(self.buckets)
        while lo < hi:
            mid = (lo + hi) // 2
            if self.buckets[mid].end <= ts:
                lo = mid + 1
            else:
                hi = mid
        if lo < len(self.buckets) and self.buckets[lo].start <= ts:
            return self.buckets[lo]
        return None

    def middle(self, start: float, end: float) -> float | None:
        """The time by which half the moments in ``[start, end)`` were captured (None if none)."""
        inside = [b for b in self.buckets if b.end > start and b.start < end]
        total = sum(b.count for b in inside)
        seen = 0
        for b in inside:
            seen += b.count
            if seen * 2 >= total:
                return (max(b.start, start) + min(b.end, end)) / 2
        return None

    def extent(self) -> tuple[float, float] | None:
        """First and last captured time in the summary (None when empty)."""
        if not self.buckets:
            return None
        return self.buckets[0].start, self.buckets[-1].end


def filmstrip_slots(summary: Summary, start: float, end: float, n: int) -> list[Bucket | None]:
    """One representative bucket for each of ``n`` equal slots of ``[start, end)`` (None: nothing).

    The bucket whose middle is nearest the slot's middle wins, so the strip shows what was on
    screen at each point of the zoomed range.
    """
    out: list[Bucket | None] = []
    buckets = summary.buckets
    width = (end - start) / max(1, n)
    i = 0
    for k in range(max(0, n)):
        s0, s1 = start + k * width, start + (k + 1) * width
        while i < len(buckets) and buckets[i].end <= s0:
            i += 1
        mid, best, j = (s0 + s1) / 2, None, i
        while j < len(buckets) and buckets[j].start < s1:
            b = buckets[j]
            if best is None or abs((b.start + b.end) / 2 - mid) < abs(
                (best.start + best.end) / 2 - mid
            ):
                best = b
            j += 1
        out.append(best)
    return out


_BUCKET_SQL = """
SELECT CAST((ts_start - :start) / :bucket AS INTEGER) AS b,
       COALESCE(NULLIF(app, ''), kind) AS label, COUNT(*) AS n, MIN(id) AS rep
FROM observations WHERE ts_start >= :start AND ts_start < :end
GROUP BY b, label ORDER BY b, n DESC
"""


def load_summary(
    conn: sqlite3.Connection, start: float, end: float, bucket_s: float, gap_min_s: float = 300.0
) -> Summary:
    """Summarise ``[start, end)`` into buckets, bands, gaps and episodes (one pass of SQL).

    Runs on a reader thread; cost grows with the rows in range, never with widgets.
    """
    bucket_s = max(1.0, float(bucket_s))
    rows = conn.execute(_BUCKET_SQL, {"start": start, "end": end, "bucket": bucket_s}).fetchall()
    best: dict[int, tuple[str, int, int]] = {}
    totals: dict[int, int] = {}
    for b, label, n, rep in rows:
        totals[b] = totals.get(b, 0) + n
        if b not in best:  # rows come with the biggest count first within a bucket
            best[b] = (label, n, rep)
    frames = _frame_paths(conn, [v[2] for v in best.values()])
    buckets = tuple(
        Bucket(
            start + b * bucket_s,
            min(end, start + (b + 1) * bucket_s),
            label,
            totals[b],
            rep,
            frames.get(rep),
        )
        for b, (label, _n, rep) in sorted(best.items())
    )
    return Summary(
        start,
        end,
        bucket_s,
        buckets,
        merge_bands(buckets),
        find_gaps(buckets, start, end, max(gap_min_s, bucket_s)),
        load_episodes(conn, start, end),
        sum(totals.values()),
    )


def _frame_paths(conn: sqlite3.Connection, ids: list[int]) -> dict[int, str | None]:
    out: dict[int, str | None] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        sql = (
            f"SELECT id, COALESCE(thumb_path, frame_path) FROM observations "
            f"WHERE id IN ({','.join('?' * len(chunk))})"
        )
        out.update(dict(conn.execute(sql, chunk).fetchall()))
    return out


def merge_bands(buckets: tuple[Bucket, ...]) -> tuple[Band, ...]:
    """Join touching buckets of the same app into bands."""
    bands: list[Band] = []
    for bk in buckets:
        last = bands[-1] if bands else None
        if last and last.app == bk.app and abs(last.end - bk.start) < 1e-6:
            bands[-1] = Band(last.start, bk.end, last.app, last.count + bk.count)
        else:
            bands.append(Band(bk.start, bk.end, bk.app, bk.count))
    return tuple(bands)


def find_gaps(
    buckets: tuple[Bucket, ...], start: float, end: float, min_s: float
) -> tuple[Gap, ...]:
    """Stretches of at least ``min_s`` seconds with no bucket, before the first and after the last
    included."""
    gaps: list[Gap] = []
    cursor = start
    for bk in buckets:
        if bk.start - cursor >= min_s:
            gaps.append(Gap(cursor, bk.start))
        cursor = max(cursor, bk.end)
    if end - cursor >= min_s:
        gaps.append(Gap(cursor, end))
    return tuple(gaps)


def load_episodes(conn: sqlite3.Connection, start: float, end: float) -> tuple[EpisodeBlock, ...]:
    """Live episodic memories overlapping ``[start, end)``."""
    rows = conn.execute(
        "SELECT m.id, e.occurred_at, COALESCE(e.ended_at, e.occurred_at), m.title, m.summary "
        "FROM episodic_memory e JOIN memories m ON m.id = e.id "
        "WHERE m.deleted_at IS NULL AND m.superseded_by IS NULL "
        "AND e.occurred_at < ? AND COALESCE(e.ended_at, e.occurred_at) >= ? "
        "ORDER BY e.occurred_at LIMIT 2000",
        (end, start),
    ).fetchall()
    return tuple(EpisodeBlock(r[0], r[1], max(r[2], r[1]), r[3] or r[4]) for r in rows)


def nearest_observation_id(
    conn: sqlite3.Connection, ts: float, kinds: tuple[str, ...] = ()
) -> int | None:
    """The id of the observation closest in time to ``ts`` (two indexed lookups)."""
    kind_sql = f" AND kind IN ({','.join('?' * len(kinds))})" if kinds else ""
    after = conn.execute(
        f"SELECT id, ts_start FROM observations WHERE ts_start >= ?{kind_sql} "
        "ORDER BY ts_start LIMIT 1",
        (ts, *kinds),
    ).fetchone()
    before = conn.execute(
        f"SELECT id, ts_start FROM observations WHERE ts_start < ?{kind_sql} "
        "ORDER BY ts_start DESC LIMIT 1",
        (ts, *kinds),
    ).fetchone()
    found = [r for r in (after, before) if r is not None]
    if not found:
        return None
    return int(min(found, key=lambda r: abs(r[1] - ts))[0])


def latest_observation_id(conn: sqlite3.Connection, start: float, end: float) -> int | None:
    """The id of the last observation in ``[start, end)``, or None (one indexed lookup)."""
    row = conn.execute(
        "SELECT id FROM observations WHERE ts_start >= ? AND ts_start < ? "
        "ORDER BY ts_start DESC LIMIT 1",
        (start, end),
    ).fetchone()
    return None if row is None else int(row[0])


def day_bounds(day: date) -> tuple[float, float]:
    """Unix seconds of local midnight of ``day`` and of the next day."""
    start = datetime.combine(day, time.min).astimezone()
    end = datetime.combine(day + timedelta(days=1), time.min).astimezone()
    return start.timestamp(), end.timestamp()


class Timeline:
    """Which day and which part of it is visible; zoom from the whole day down to minutes."""

    range_changed = Signal(float, float)

    def __init__(self, day: date | None = None) -> None:
        self.day = day or date.today()
        self.day_start, self.day_end = day_bounds(self.day)
        self.view_start, self.view_end = self.day_start, self.day_end

    @property
    def span(self) -> float:
        """Seconds visible across the strip."""
        return self.view_end - self.view_start

    def set_day(self, day: date) -> None:
        """Show the whole of ``day``."""
        self.day = day
        self.day_start, self.day_end = day_bounds(day)
        self._set_range(self.day_start, self.day_end)

    def zoom(self, factor: float, anchor: float | None = None) -> None:
        """Zoom by ``factor`` (<1 zooms in) keeping ``anchor`` (a timestamp) in place."""
        anchor = (self.view_start + self.view_end) / 2 if anchor is None else anchor
        span = min(self.day_end - self.day_start, max(MIN_SPAN_S, self.span * factor))
        frac = (anchor - self.view_start) / self.span if self.span else 0.5
        self._set_range(anchor - frac * span, anchor - frac * span + span)

    def pan(self, seconds: float) -> None:
        """Move the view by ``seconds`` within the day."""
        self._set_range(self.view_start + seconds, self.view_end + seconds)

    def center_on(self, ts: float) -> None:
        """Show ``ts`` (switching day if needed) in the middle of the current span."""
        local = datetime.fromtimestamp(ts).astimezone().date()
        if local != self.day:
            span = self.span
            self.day = local
            self.day_start, self.day_end = day_bounds(local)
            self.view_start, self.view_end = self.day_start, self.day_start + span
        self._set_range(ts - self.span / 2, ts + self.span / 2)

    def _set_range(self, start: float, end: float) -> None:
        span = min(end - start, self.day_end - self.day_start)
        start = min(max(start, self.day_start), self.day_end - span)
        new = (start, start + span)
        if new != (self.view_start, self.view_end):
            self.view_start, self.view_end = new
        self.range_changed.emit(*new)

    def to_frac(self, ts: float) -> float:
        """Where ``ts`` falls across the strip, 0..1 (outside when off view)."""
        return (ts - self.view_start) / self.span

    def from_frac(self, frac: float) -> float:
        """The timestamp at ``frac`` across the strip."""
        return self.view_start + frac * self.span

    def bucket_for(self, width_px: int, px_per_bucket: int = 2) -> float:
        """A bucket size (seconds) so a strip ``width_px`` wide gets about one bucket per 2 px."""
        return max(1.0, self.span / max(1, width_px // px_per_bucket))

    def tick_step(self) -> float:
        """Seconds between labelled ticks for the current span."""
        for step in (60, 300, 600, 900, 1800, 3600, 7200, 10800):
            if self.span / step <= 12:
                return float(step)
        return 10800.0
