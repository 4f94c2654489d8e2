"""Benchmark of capture/dedup.py on synthetic 1080p screens.

Prints milliseconds per frame (grey + dHash + changed-area diff) and the skip ratio of
four scenes: a static screen (only a blinking caret and a clock), typing (a few words per
frame), scrolling and window switching; then a sweep of the changed-area threshold.

Run: ``.venv/bin/python bench/capture_dedup.py [--frames 60]``
"""

from __future__ import annotations

import argparse
import logging
import random
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from capture.config import DedupConfig  # noqa: E402
from capture.dedup import Deduper, changed_cells, dhash, to_grey_small  # noqa: E402

logger = logging.getLogger(__name__)

W, H = 1920, 1080
WORDS = (
    "the budget meeting moved to Tuesday and Maria asked for the Lisbon flight number "
    "before noon while the build kept failing on the integration branch"
).split()


def _font(size: int) -> ImageFont.ImageFont:
    try:
        return ImageFont.truetype("DejaVuSans.ttf", size)
    except OSError:
        return ImageFont.load_default()


FONT = _font(15)


def desktop(seed: int = 0, lines: int = 50, offset: int = 0) -> Image.Image:
    """A desktop-like image: a panel, two windows of text, ``offset`` scrolls the text."""
    rng = random.Random(seed)
    img = Image.new("RGB", (W, H), (rng.randrange(40, 90), 60, 90))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, W, 28), fill=(30, 30, 30))
    draw.rectangle((40, 60, 1180, 1040), fill=(250, 250, 250), outline=(0, 0, 0))
    draw.rectangle((1220, 60, 1880, 700), fill=(235, 240, 250), outline=(0, 0, 0))
    text_rng = random.Random(seed * 7 + 1)
    count = lines + offset // 20 + 30
    rows = [" ".join(text_rng.choice(WORDS) for _ in range(12)) for _ in range(count)]
    for i, row in enumerate(rows[offset // 20 : offset // 20 + lines]):
        draw.text((56, 70 + i * 19), row, fill=(20, 20, 20), font=FONT)
    for i in range(30):
        label = f"item {seed}-{i} {rows[i][:40]}"
        draw.text((1236, 72 + i * 20), label, fill=(0, 0, 80), font=FONT)
    return img


def _arr(img: Image.Image) -> np.ndarray:
    return np.asarray(img, dtype=np.uint8)


def static_scene(n: int) -> Iterator[np.ndarray]:
    """Only a caret blinks and the panel clock changes every 30 frames."""
    base = desktop(1)
    for i in range(n):
        img = base.copy()
        draw = ImageDraw.Draw(img)
        if i % 2:
            draw.rectangle((600, 500, 601, 517), fill=(0, 0, 0))
        draw.text((1830, 6), f"10:{i // 30:02d}", fill=(255, 255, 255), font=FONT)
        yield _arr(img)


def typing_scene(n: int) -> Iterator[np.ndarray]:
    """Two words typed per frame into the editor (about one second of typing)."""
    img = desktop(2)
    draw = ImageDraw.Draw(img)
    x, y = 56, 1000
    rng = random.Random(3)
    for _ in range(n):
        word = f"{rng.choice(WORDS)} {rng.choice(WORDS)} "
        draw.rectangle((x, y, x + 200, y + 18), fill=(250, 250, 250))
        draw.text((x, y), word, fill=(0, 0, 0), font=FONT)
        x += int(draw.textlength(word, font=FONT))
        if x > 1050:
            x, y = 56, y - 19
        yield _arr(img)


def scroll_scene(n: int) -> Iterator[np.ndarray]:
    """The editor scrolls three lines per frame."""
    for i in range(n):
        yield _arr(desktop(3, offset=i * 60))


def switch_scene(n: int) -> Iterator[np.ndarray]:
    """Alternate between three different desktops."""
    frames = [_arr(desktop(seed)) for seed in (4, 5, 6)]
    for i in range(n):
        yield frames[i % 3]


SCENES: dict[str, Callable[[int], Iterator[np.ndarray]]] = {
    "static": static_scene,
    "typing": typing_scene,
    "scroll": scroll_scene,
    "switch": switch_scene,
}


def skip_ratio(frames: list[np.ndarray], config: DedupConfig) -> float:
    """Share of frames (after the first) the deduper skipped."""
    deduper = Deduper(config)
    kept = [deduper.decide(frame, now=i * 2.0).keep for i, frame in enumerate(frames)]
    return 1.0 - sum(kept[1:]) / max(1, len(kept) - 1)


def timing(frames: list[np.ndarray]) -> dict[str, float]:
    """Milliseconds per frame: the whole decision, and its parts."""
    bgra = [np.dstack([f[..., ::-1], np.full(f.shape[:2], 255, np.uint8)]) for f in frames]
    deduper = Deduper(DedupConfig(max_skip_s=0))
    start = time.perf_counter()
    for i, frame in enumerate(bgra):
        deduper.decide(frame, now=float(i))
    total = (time.perf_counter() - start) * 1000 / len(bgra)
    start = time.perf_counter()
    greys = [to_grey_small(frame) for frame in bgra]
    grey_ms = (time.perf_counter() - start) * 1000 / len(bgra)
    start = time.perf_counter()
    for grey in greys:
        dhash(grey)
    hash_ms = (time.perf_counter() - start) * 1000 / len(bgra)
    start = time.perf_counter()
    for a, b in zip(greys, greys[1:], strict=False):
        changed_cells(a, b, 4, 6.0)
    diff_ms = (time.perf_counter() - start) * 1000 / max(1, len(greys) - 1)
    return {"decide": total, "grey": grey_ms, "dhash": hash_ms, "diff": diff_ms}


def main(argv: list[str] | None = None) -> None:
    """Print the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args(argv)
    scenes = {name: list(make(args.frames)) for name, make in SCENES.items()}
    ms = timing(scenes["static"] + scenes["scroll"])
    print(
        f"1080p BGRA frame, ms per frame: decide {ms['decide']:.2f} "
        f"(grey {ms['grey']:.2f}, dhash {ms['dhash']:.2f}, diff {ms['diff']:.2f})"
    )
    default = DedupConfig(max_skip_s=0)
    print(
        f"defaults: hash_distance={default.hash_distance} changed_area={default.changed_area} "
        f"cell_threshold={default.cell_threshold} grid_px={default.grid_px}"
    )
    print(
        "skip ratio with defaults: "
        + ", ".join(f"{name} {skip_ratio(frames, default):.2f}" for name, frames in scenes.items())
    )
    print("changed_area sweep (skip ratio per scene):")
    for area in (0.0005, 0.001, 0.002, 0.005, 0.01, 0.02):
        config = default.model_copy(update={"changed_area": area})
        row = ", ".join(f"{n} {skip_ratio(f, config):.2f}" for n, f in scenes.items())
        print(f"  changed_area={area:<7} {row}")


if __name__ == "__main__":
    main()
