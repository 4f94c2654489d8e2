"""Dedup decisions on real rendered image pairs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from capture.config import DedupConfig
from capture.dedup import (
    STRIDE,
    Deduper,
    changed_boxes,
    changed_cells,
    dhash,
    hamming,
    to_grey_small,
)

W, H = 1280, 720


def _font() -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", 15)
    except OSError:
        return ImageFont.load_default()


FONT = _font()


Colour = tuple[int, int, int]


def screen(text_lines: list[str], background: Colour = (245, 245, 245)) -> Image.Image:
    img = Image.new("RGB", (W, H), (60, 70, 90))
    draw = ImageDraw.Draw(img)
    draw.rectangle((20, 20, 900, 700), fill=background)
    for i, line in enumerate(text_lines):
        draw.text((30, 30 + 19 * i), line, fill=(10, 10, 10), font=FONT)
    return img


LINES = [f"line {i}: the quarterly budget review moved to Tuesday at ten" for i in range(30)]


def arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.uint8)


def test_identical_frame_is_skipped() -> None:
    deduper = Deduper(DedupConfig(max_skip_s=0))
    first = deduper.decide(arr(screen(LINES)), now=0)
    second = deduper.decide(arr(screen(LINES)), now=2)
    assert first.keep and first.reason == "first" and first.boxes == ((0, 0, W, H),)
    assert not second.keep and second.distance == 0 and second.changed_ratio == 0.0


def test_blinking_caret_is_skipped_but_a_new_paragraph_is_kept() -> None:
    deduper = Deduper(DedupConfig(max_skip_s=0))
    base = screen(LINES)
    deduper.decide(arr(base), now=0)
    caret = base.copy()
    ImageDraw.Draw(caret).rectangle((400, 300, 401, 317), fill=(0, 0, 0))
    assert not deduper.decide(arr(caret), now=2).keep

    new_line = "Flight TP1234 to Lisbon departs 07:45 from gate 12"
    edited = screen(LINES[:10] + [new_line] + LINES[11:])
    decision = deduper.decide(arr(edited), now=4)
    assert decision.keep and decision.reason in {"area", "hash"}
    # the edited line is at y = 30 + 19 * 10 = 220; one box must cover it, none far from it
    # the edited line spans y = 220..239; boxes must overlap it and stay near it
    assert any(y < 239 and y + h > 220 and x <= 40 for x, y, w, h in decision.boxes)
    assert all(200 <= y and y + h <= 260 for _, y, _, h in decision.boxes)


def test_window_switch_is_kept_on_hash_distance() -> None:
    deduper = Deduper(DedupConfig(max_skip_s=0))
    deduper.decide(arr(screen(LINES)), now=0)
    other = screen(LINES[::-1], background=(30, 30, 30))
    decision = deduper.decide(arr(other), now=2)
    assert decision.keep and decision.reason == "hash" and decision.distance > 4
    assert decision.changed_ratio > 0.3


def test_skips_compare_with_last_kept_frame_so_slow_drift_is_kept() -> None:
    deduper = Deduper(DedupConfig(max_skip_s=0))
    img = screen(LINES)
    deduper.decide(arr(img), now=0)
    draw = ImageDraw.Draw(img)
    kept = []
    for step in range(12):  # one short word appended per frame
        draw.text((30 + 40 * step, 620), "word", fill=(0, 0, 0), font=FONT)
        kept.append(deduper.decide(arr(img), now=2 + step).keep)
    assert any(kept), "accumulated typing was never kept"
    assert not all(kept), "a single short word should not be enough"


def test_resolution_change_resets_reference() -> None:
    deduper = Deduper()
    deduper.decide(arr(screen(LINES)), now=0)
    smaller = arr(screen(LINES).resize((640, 360)))
    decision = deduper.decide(smaller, now=1)
    assert decision.keep and decision.reason == "first"


def test_max_skip_keeps_an_unchanged_frame_eventually() -> None:
    deduper = Deduper(DedupConfig(max_skip_s=10))
    frame = arr(screen(LINES))
    deduper.decide(frame, now=0)
    assert not deduper.decide(frame, now=5).keep
    decision = deduper.decide(frame, now=11)
    assert decision.keep and decision.reason == "age" and decision.boxes == ()


def test_bgra_and_rgb_give_the_same_grey_and_hash() -> None:
    rgb = arr(screen(LINES))
    bgra = np.dstack([rgb[..., ::-1], np.full(rgb.shape[:2], 255, np.uint8)])
    assert np.array_equal(to_grey_small(rgb), to_grey_small(bgra))
    assert dhash(to_grey_small(rgb)) == dhash(to_grey_small(bgra))


def test_dhash_separates_different_screens_and_tolerates_noise() -> None:
    a = to_grey_small(arr(screen(LINES)))
    other = Image.new("RGB", (W, H), (240, 240, 240))
    ImageDraw.Draw(other).rectangle((600, 100, 1200, 650), fill=(20, 40, 60))
    b = to_grey_small(arr(other))
    noisy = np.clip(a.astype(int) + np.random.default_rng(0).integers(-3, 4, a.shape), 0, 255)
    assert hamming(dhash(a), dhash(noisy.astype(np.uint8))) <= 4
    assert hamming(dhash(a), dhash(b)) > 8
    assert 0 <= dhash(a) < 2**64


@pytest.mark.parametrize("rect", [(1000, 500, 120, 40), (0, 0, 17, 17), (1263, 703, 17, 17)])
def test_changed_boxes_are_in_full_resolution_coordinates(rect: tuple[int, int, int, int]) -> None:
    before = arr(screen(LINES))
    after = before.copy()
    x, y, w, h = rect
    after[y : y + h, x : x + w] = 255
    grid = changed_cells(to_grey_small(before), to_grey_small(after), 4, 6.0)
    boxes = changed_boxes(grid, 16, W, H)
    assert len(boxes) == 1
    bx, by, bw, bh = boxes[0]
    tol = STRIDE - 1  # documented precision: changes between samples are not seen
    assert bx <= x + tol and by <= y + tol
    assert bx + bw >= x + w - tol and by + bh >= y + h - tol
    assert bw <= w + 32 and bh <= h + 32 and bx + bw <= W and by + bh <= H


def test_large_changes_still_give_bounded_boxes() -> None:
    rng = np.random.default_rng(1)
    before = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    after = rng.integers(0, 255, (1080, 1920, 3), dtype=np.uint8)
    grid = changed_cells(to_grey_small(before), to_grey_small(after), 4, 6.0)
    boxes = changed_boxes(grid, 16, 1920, 1080)
    assert boxes == ((0, 0, 1920, 1080),)
