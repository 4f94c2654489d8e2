"""OCR: reads a rendered 1080p screenshot; every bad image input raises BadInput."""

from __future__ import annotations

import difflib
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from models.errors import BadInput
from models.ocr import OcrLine, RapidOcrEngine

# (text, font size, colour, position, background region is dark?)
LINES = [
    ("Quarterly budget review meeting", 48, (20, 20, 20), (60, 60)),
    ("Invoice number 48213 due Friday", 32, (40, 40, 40), (60, 170)),
    ("Call the dentist about Tuesday", 22, (0, 0, 0), (60, 270)),
    ("Terminal output: build succeeded", 28, (230, 230, 230), (60, 620)),
    ("git commit pushed to origin main", 20, (200, 200, 200), (60, 720)),
    ("Engram search results page", 40, (255, 255, 255), (900, 860)),
]


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    return RapidOcrEngine(device="cpu")


@pytest.fixture(scope="module")
def screenshot(dejavu: Path) -> Image.Image:
    img = Image.new("RGB", (1920, 1080), (248, 248, 246))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 540, 1920, 1080), fill=(28, 30, 36))  # a dark terminal half
    for text, size, colour, pos in LINES:
        bold = "DejaVuSans-Bold.ttf" if size >= 40 else "DejaVuSans.ttf"
        draw.text(pos, text, font=ImageFont.truetype(str(dejavu / bold), size), fill=colour)
    return img


def _squash(text: str) -> str:
    return "".join(text.lower().split())


def _best(lines: list[OcrLine], expected: str) -> tuple[float, OcrLine]:
    scored = [
        (difflib.SequenceMatcher(None, _squash(line.text), _squash(expected)).ratio(), line)
        for line in lines
    ]
    return max(scored, key=lambda pair: pair[0])


def test_reads_every_line_of_a_1080p_screenshot(engine, screenshot):
    lines = engine.read(screenshot)
    for text, _size, _colour, (x, y) in LINES:
        ratio, line = _best(lines, text)
        assert ratio >= 0.9, (text, [ln.text for ln in lines])
        assert abs(line.box[0] - x) < 15 and abs(line.box[1] - y) < 15, (text, line.box)
        assert 0.5 <= line.confidence <= 1.0


def test_path_and_array_inputs_give_the_same_lines(engine, screenshot, tmp_path):
    path = tmp_path / "shot.png"
    screenshot.save(path)
    from_path = [ln.text for ln in engine.read(path)]
    from_str = [ln.text for ln in engine.read(str(path))]
    from_array = [ln.text for ln in engine.read(np.asarray(screenshot))]
    assert from_path == from_str == from_array
    assert len(from_path) == len(LINES)


def test_blank_image_has_no_lines(engine):
    assert engine.read(Image.new("RGB", (640, 480), "white")) == []
    assert engine.read(Image.new("RGB", (1, 1), "white")) == []


def test_concurrent_reads_from_threads(engine, screenshot):
    small = screenshot.crop((0, 0, 960, 540))
    results: list[list[str]] = []

    def work() -> None:
        results.append([ln.text for ln in engine.read(small)])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3 and results[0] == results[1] == results[2] and results[0]


def test_huge_in_memory_image_is_downscaled_and_read(engine, dejavu):
    img = Image.new("L", (20000, 20000), 255)
    draw = ImageDraw.Draw(img)
    draw.text(
        (1000, 1000),
        "HUGE CANVAS",
        font=ImageFont.truetype(str(dejavu / "DejaVuSans-Bold.ttf"), 400),
        fill=0,
    )
    lines = engine.read(img)
    ratio, line = _best(lines, "HUGE CANVAS")
    assert ratio >= 0.9
    # boxes come back in the original 20000x20000 coordinates
    assert abs(line.box[0] - 1000) < 150 and abs(line.box[1] - 1000) < 250


def _png_claiming(width: int, height: int, path: Path) -> None:
    """Write a PNG whose header claims width x height but whose data is tiny (a pixel bomb)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 16))
        + chunk(b"IEND", b"")
    )


def test_huge_file_is_refused_before_decoding(engine, tmp_path):
    path = tmp_path / "bomb.png"
    _png_claiming(20000, 20000, path)
    with pytest.raises(BadInput, match="too large"):
        engine.read(path)


def test_truncated_png(engine, screenshot, tmp_path):
    path = tmp_path / "cut.png"
    screenshot.save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(BadInput, match="corrupt or truncated"):
        engine.read(path)


def test_truncated_jpeg(engine, screenshot, tmp_path):
    path = tmp_path / "cut.jpg"
    screenshot.save(path, quality=90)
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(BadInput):
        engine.read(path)


def test_corrupt_png_body(engine, tmp_path):
    path = tmp_path / "garbage.png"
    rng = np.random.default_rng(0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(BadInput):
        engine.read(path)


def test_non_image_file(engine, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is plain text, not an image\n")
    with pytest.raises(BadInput, match="not a readable image"):
        engine.read(path)


def test_missing_file(engine, tmp_path):
    with pytest.raises(BadInput, match="no such image"):
        engine.read(tmp_path / "absent.png")


def test_zero_size_image(engine):
    with pytest.raises(BadInput, match="0x0"):
        engine.read(Image.new("RGB", (0, 0)))


def test_bad_array(engine):
    with pytest.raises(BadInput):
        engine.read(np.zeros((10, 10, 3), dtype=np.float64))


def test_a_line_cache_answers_lines_seen_before_with_the_same_text(screenshot):
    from models.ocr import LineCache, OcrTuning

    cached = RapidOcrEngine(device="cpu", tuning=OcrTuning(det_side=960, line_cache=64))
    cache = cached._engine.text_rec
    assert isinstance(cache, LineCache)
    first = cached.read(screenshot)
    assert cache.hits == 0 and cache.misses >= len(LINES)
    # the same screen with one line changed: that line (and at most one whose detected box the
    # change nudged) goes to the recogniser again
    changed = screenshot.copy()
    draw = ImageDraw.Draw(changed)
    draw.rectangle((50, 260, 900, 310), fill=(248, 248, 246))
    draw.text((60, 270), "Call the plumber on Monday", fill=(0, 0, 0))
    misses = cache.misses
    second = cached.read(changed)
    assert cache.misses - misses <= 2 and cache.hits >= len(LINES) - 2
    unchanged = [ln.text for ln in first if ln.box[1] < 250 or ln.box[1] > 320]
    assert [ln.text for ln in second if ln.box[1] < 250 or ln.box[1] > 320] == unchanged


def test_line_cache_keeps_at_most_its_size():
    from models.ocr import LineCache

    calls: list[int] = []

    def recognise(
        crops: list[np.ndarray], _word_box: bool
    ) -> tuple[list[tuple[str, float]], float]:
        calls.append(len(crops))
        return [(f"line {int(c[0, 0, 0])}", 0.9) for c in crops], 0.01

    cache = LineCache(recognise, size=3)
    crops = [np.full((10, 40, 3), i, dtype=np.uint8) for i in range(5)]
    out, _ = cache(crops)
    assert [t for t, _s in out] == [f"line {i}" for i in range(5)] and calls == [5]
    out, _ = cache(crops[3:])  # the three newest are kept
    assert calls == [5] and [t for t, _s in out] == ["line 3", "line 4"]
    cache(crops[:1])
    assert calls == [5, 1]


def test_the_ocr_settings_reach_the_engine():
    from models.config import OcrConfig
    from models.ocr import LineCache, load_ocr

    default = load_ocr(OcrConfig(device="cpu"))
    assert default.tuning.det_side == 960 and isinstance(default._engine.text_rec, LineCache)
    assert default._engine.text_det.limit_type == "max"
    plain = load_ocr(OcrConfig(device="cpu", det_side=0, line_cache=0, threads=1, spin=True))
    assert plain.tuning.det_side == 0 and not isinstance(plain._engine.text_rec, LineCache)
    assert plain._engine.text_det.limit_type == "min"
