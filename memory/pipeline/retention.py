"""Frame retention: full frames for N days, then thumbnails only; a disk quota; low-disk pause.

Only frame files are ever removed here: observations, their text and every memory stay. A thinned
screen observation points its ``frame_path`` at its thumbnail; an import keeps the manifest path
(its stored copy is found through ``thumb_path``). Pending frames are never thinned (the indexer
still needs them).
"""

from __future__ import annotations

import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.media.frames import FrameStore, full_for_thumb
from memory.store import MemoryStore

logger = logging.getLogger(__name__)

GIB = 1 << 30


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long full frames stay and how much disk they may use (built from the settings'
    retention section by ``memory.pipeline.recorder.retention_policy``; no defaults here).

    Attributes:
        keep_full_days: full frames older than this are thinned to thumbnails (0 = never by age).
        quota_bytes: full frames beyond this total are thinned, oldest first (0 = no quota).
        min_free_bytes: capture pauses while the disk has less free space than this.
    """

    keep_full_days: float
    quota_bytes: int
    min_free_bytes: int


@dataclass(frozen=True, slots=True)
class RetentionReport:
    """What one retention pass did."""

    thinned: int
    freed_bytes: int
    total_bytes: int

    def to_json(self) -> dict[str, Any]:
        """The JSON shape the CLI prints."""
        return {
            "thinned": self.thinned,
            "freed_bytes": self.freed_bytes,
            "total_bytes": self.total_bytes,
        }


def full_frames_bytes(store: MemoryStore) -> int:
    """Bytes used by full-size stored frames (thumbnails not counted)."""
    row = (
        store.read()
        .execute(
            "SELECT COALESCE(SUM(frame_bytes), 0) FROM observations WHERE frame_bytes IS NOT NULL"
        )
        .fetchone()
    )
    return int(row[0])


def _candidates(store: MemoryStore, before: float | None, limit: int) -> list[Any]:
    sql = (
        "SELECT id, kind, origin, frame_path, thumb_path, frame_bytes FROM observations "
        "WHERE frame_bytes IS NOT NULL AND status != 'pending'"
    )
    args: list[Any] = []
    if before is not None:
        sql += " AND ts_start < ?"
        args.append(before)
    sql += " ORDER BY ts_start, id LIMIT ?"
    return store.read().execute(sql, (*args, limit)).fetchall()


def _thin(store: MemoryStore, frames: FrameStore, rows: list[Any]) -> int:
    """Delete the full frames of these rows (after the rows stop pointing at them)."""
    updates, files, freed = [], [], 0
    for r in rows:
        captured = r["kind"] == "screen" and r["origin"] == "capture"  # an import's frame_path
        full = (  # is the user's original: its stored copy is found from the thumbnail
            r["frame_path"]
            if captured
            else (full_for_thumb(r["thumb_path"]) if r["thumb_path"] else None)
        )
        new_frame = r["thumb_path"] if captured else r["frame_path"]
        updates.append((new_frame, r["id"]))
        if full:
            files.append(full)
        freed += int(r["frame_bytes"] or 0)
    store.write(
        lambda c: c.executemany(
            "UPDATE observations SET frame_path = ?, frame_bytes = NULL WHERE id = ?", updates
        ),
        "thin frames",
    )
    for rel in files:  # rows first: a crash here leaves a stray file, never a broken row
        (frames.root / rel).unlink(missing_ok=True)
    return freed


def apply_retention(
    store: MemoryStore,
    frames: FrameStore,
    policy: RetentionPolicy,
    now: float | None = None,
    batch: int = 500,
) -> RetentionReport:
    """Thin frames past the age limit, then oldest frames until under the quota."""
    now = time.time() if now is None else now
    thinned = freed = 0
    if policy.keep_full_days > 0:
        cutoff = now - policy.keep_full_days * 86400
        while rows := _candidates(store, cutoff, batch):
            freed += _thin(store, frames, rows)
            thinned += len(rows)
    total = full_frames_bytes(store)
    while policy.quota_bytes and total > policy.quota_bytes:
        rows = _candidates(store, None, batch)
        if not rows:
            break
        take, over = [], total - policy.quota_bytes
        for r in rows:
            take.append(r)
            over -= int(r["frame_bytes"] or 0)
            if over <= 0:
                break
        got = _thin(store, frames, take)
        freed, total, thinned = freed + got, total - got, thinned + len(take)
    if thinned:
        logger.info("retention thinned %d frames to thumbnails (%d bytes freed)", thinned, freed)
    return RetentionReport(thinned, freed, total)


def low_disk(path: Path, policy: RetentionPolicy) -> str | None:
    """Why capture must pause for lack of disk space, or None when there is enough."""
    try:
        free = shutil.disk_usage(path).free
    except OSError as exc:
        return f"cannot read free disk space: {exc}"
    if free < policy.min_free_bytes:
        return (
            f"paused: only {free / GIB:.1f} GiB free on the disk of {path} "
            f"(capture resumes above {policy.min_free_bytes / GIB:.1f} GiB)"
        )
    return None
