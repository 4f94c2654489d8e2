"""Stored frames: atomic writes, retention to thumbnails, the disk quota and the low-disk pause."""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from memory.index.vectors import NumpyIndex
from memory.media.frames import (
    FrameSettings,
    FrameStore,
    atomic_write,
    encode_frame,
    full_for_thumb,
)
from memory.pipeline.core import PipelineOptions
from memory.pipeline.inbox import FrameMeta
from memory.pipeline.retention import RetentionPolicy, apply_retention, full_frames_bytes, low_disk
from memory.service import MemoryService
from models.ocr import OcrLine
from models.text_embedding import HashingEmbedder

DAY = 86400.0


class WordOcr:
    def read(self, source: Image.Image) -> list[OcrLine]:
        return [OcrLine("quarterly report", (0, 0, 10, 10), 1.0)]


def noisy(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (240, 320, 3), dtype=np.uint8))


def test_frames_are_downscaled_webp_with_thumbnails_and_atomic(tmp_path: Path) -> None:
    store = FrameStore(tmp_path, FrameSettings(max_side=1600))
    stored = store.save(Image.new("RGB", (3840, 2160), "navy"), 1_771_230_000.0, "s")
    assert stored.frame.startswith("frames/2026/02/") and stored.frame.endswith(".webp")
    assert full_for_thumb(stored.thumb) == stored.frame
    with Image.open(tmp_path / stored.frame) as img:
        assert img.format == "WEBP" and max(img.size) == 1600
    with Image.open(tmp_path / stored.thumb) as img:
        assert max(img.size) == store.settings.thumb_side
    (tmp_path / "frames" / ".left-behind.webp.1234.tmp").write_bytes(b"half")
    assert store.sweep_tmp() == 1
    target = tmp_path / "x.bin"
    atomic_write(target, b"one")
    atomic_write(target, b"two")
    assert target.read_bytes() == b"two" and len(list(tmp_path.glob(".*.tmp"))) == 0


def text_screen() -> Image.Image:
    img = Image.new("RGB", (1920, 1080), "white")
    draw = ImageDraw.Draw(img)
    for i in range(40):
        draw.text((8, 8 + 26 * i), f"{i:03d} compiling module_{i} ... ok {i * 7919}", fill="black")
    return img


def test_text_frames_are_stored_pixel_exact_at_full_size_and_smaller_than_lossy(
    tmp_path: Path,
) -> None:
    screen = text_screen()
    store = FrameStore(tmp_path)
    stored = store.save(screen, 1_771_230_000.0, "s")
    back = store.open(stored.frame)
    assert back.size == (1920, 1080)
    assert np.array_equal(np.asarray(back), np.asarray(screen))
    old = FrameStore(tmp_path, FrameSettings(max_side=1600, lossless=False, quality=70))
    before = old.save(screen, 1_771_230_001.0, "s")
    assert store.size(stored.frame) < old.size(before.frame)
    assert old.open(before.frame).size == (1600, 900)  # frames of earlier versions still open


def test_photo_like_frames_fall_back_to_lossy_when_that_is_smaller(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    photo = Image.fromarray(rng.integers(0, 255, (720, 1280, 3), dtype=np.uint8))
    lossless = encode_frame(photo, FrameSettings(lossy_above=10**9))
    chosen = encode_frame(photo, FrameSettings())
    assert len(chosen) < len(lossless)
    with Image.open(io.BytesIO(chosen)) as img:
        assert img.size == (1280, 720)


def test_the_lossless_setting_reaches_the_frame_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGRAM_RETENTION__LOSSLESS_FRAMES", "false")
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(ocr=WordOcr()))
    assert svc.pipeline().frames.settings.lossless is False
    svc.close()


def make_home(tmp_path: Path, days_old: list[float]) -> tuple[MemoryService, list[int]]:
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(ocr=WordOcr()))
    inbox = svc.pipeline().inbox
    now = time.time()
    ids = [inbox.add(noisy(i), FrameMeta("screen", now - d * DAY)) for i, d in enumerate(days_old)]
    svc.index_frames()
    return svc, ids  # type: ignore[return-value]


def test_old_frames_are_thinned_to_thumbnails_and_text_stays(tmp_path: Path) -> None:
    svc, ids = make_home(tmp_path, [40, 35, 2, 1])
    old = [svc.observation(i) for i in ids[:2]]
    report = apply_retention(
        svc.store,
        svc.pipeline().frames,
        RetentionPolicy(keep_full_days=30, quota_bytes=0, min_free_bytes=0),
    )
    assert report.thinned == 2 and report.freed_bytes > 0
    for before in old:
        after = svc.observation(before.id)
        assert not (svc.paths.root / before.frame_path).exists()
        assert after.frame_path == after.thumb_path and (svc.paths.root / after.thumb_path).exists()
        assert after.text == "quarterly report"
    for i in ids[2:]:
        assert (svc.paths.root / svc.observation(i).frame_path).exists()
    assert len(svc.search("quarterly report", k=10)) == 4
    assert apply_retention(svc.store, svc.pipeline().frames, RetentionPolicy(30, 0, 0)).thinned == 0
    svc.close()


def test_quota_thins_oldest_first_and_keeps_memories(tmp_path: Path) -> None:
    svc, ids = make_home(tmp_path, [5, 4, 3, 2, 1])
    mid = svc.add_memory(
        "semantic", {"name": "report", "summary": "the quarterly report"}, source_ids=[ids[0]]
    )
    total = full_frames_bytes(svc.store)
    sizes = [
        svc.store.read()
        .execute("SELECT frame_bytes FROM observations WHERE id = ?", (i,))
        .fetchone()[0]
        for i in ids
    ]
    assert sum(sizes) == total
    quota = total - sizes[0] - sizes[1]  # exactly the two oldest must go
    report = apply_retention(
        svc.store,
        svc.pipeline().frames,
        RetentionPolicy(keep_full_days=0, quota_bytes=quota, min_free_bytes=0),
    )
    assert report.total_bytes <= quota and report.thinned == 2
    thinned = [svc.observation(i).frame_path == svc.observation(i).thumb_path for i in ids]
    assert thinned == [True, True, False, False, False]
    assert svc.get_memory(mid).live and svc.status()["observations"] == 5
    svc.close()


def test_low_disk_pauses_with_a_clear_reason(tmp_path: Path) -> None:
    assert (
        low_disk(tmp_path, RetentionPolicy(keep_full_days=0, quota_bytes=0, min_free_bytes=0))
        is None
    )
    reason = low_disk(
        tmp_path, RetentionPolicy(keep_full_days=0, quota_bytes=0, min_free_bytes=1 << 62)
    )
    assert reason is not None and reason.startswith("paused: only") and "GiB free" in reason
