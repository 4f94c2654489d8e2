"""The durable inbox, the indexer (retries, restart resume) and frame imports with dedup."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from capture.records import ScreenFrame, WindowInfo
from memory.errors import ImportFailed
from memory.index.vectors import NumpyIndex
from memory.pipeline.core import PipelineOptions
from memory.pipeline.inbox import FrameMeta
from memory.pipeline.ingest import ScreenSink
from memory.service import MemoryService
from models.ocr import OcrLine
from models.text_embedding import HashingEmbedder

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def render(lines: list[str], size: tuple[int, int] = (900, 300), offset: int = 0) -> Image.Image:
    """A white screenshot with black text lines (DejaVu Sans, 26 px)."""
    img = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(FONT, 26)
    for i, text in enumerate(lines):
        draw.text((30, 30 + offset + 50 * i), text, fill="black", font=font)
    return img


class ColourOcr:
    """A fake OCR engine: reads the red channel of pixel (0, 0) (to the nearest 40, as stored
    frames are lossy WebP) as a word; can fail on demand."""

    def __init__(self, fail_times: int = 0) -> None:
        self.calls = 0
        self.fail_times = fail_times

    def read(self, source: Image.Image) -> list[OcrLine]:
        self.calls += 1
        if self.calls <= self.fail_times:
            raise RuntimeError("ocr exploded")
        red = source.convert("RGB").getpixel((0, 0))[0]
        return [OcrLine(f"marker{round(red / 40) * 40}", (0, 0, 10, 10), 0.9)]


def service(home: Path, ocr: object | None = None, **opts: object) -> MemoryService:
    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(ocr=ocr, backoff_s=0.0, **opts))  # type: ignore[arg-type]
    return svc


def test_inbox_writes_frame_then_pending_row_and_restart_resumes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    svc = service(home, ColourOcr())
    inbox = svc.pipeline().inbox
    ids = [
        inbox.add(Image.new("RGB", (64, 48), (red, 0, 0)), FrameMeta("screen", 1_700_000_000 + red))
        for red in (40, 80, 120)
    ]
    rows = [svc.observation(i) for i in ids]
    assert [r.status for r in rows] == ["pending"] * 3
    assert ids == sorted(ids)
    for r in rows:
        assert (home / r.frame_path).is_file() and r.frame_path.startswith("frames/2023/")
        assert (home / r.thumb_path).is_file()
    svc.close()  # "crash" before indexing: nothing indexed yet

    svc = service(home, ColourOcr())
    assert svc.pipeline().indexer.backlog() == 3
    assert svc.index_frames() == 3
    texts = [svc.observation(i).text for i in ids]
    assert texts == ["marker40", "marker80", "marker120"]
    assert svc.search("marker80")[0].id == f"o:{ids[1]}"
    assert svc.index_frames() == 0
    assert svc.status()["observations"] == 3
    svc.close()


def test_failures_are_recorded_and_retried_up_to_the_limit(tmp_path: Path) -> None:
    svc = service(tmp_path / "home", ColourOcr(fail_times=1), max_attempts=3)
    obs = svc.pipeline().inbox.add(
        Image.new("RGB", (32, 32), (40, 0, 0)), FrameMeta("screen", 1.0e9)
    )
    assert svc.index_frames() == 1  # first try fails, the retry (backoff 0) succeeds
    o = svc.observation(obs)
    assert (o.status, o.attempts, o.text) == ("indexed", 1, "marker40")
    svc.close()

    svc = service(tmp_path / "home2", ColourOcr(fail_times=99), max_attempts=3)
    obs = svc.pipeline().inbox.add(
        Image.new("RGB", (32, 32), (40, 0, 0)), FrameMeta("screen", 1.0e9)
    )
    assert svc.index_frames() == 0  # three attempts, all failed
    o = svc.observation(obs)
    assert (o.status, o.attempts) == ("failed", 3)
    assert "ocr exploded" in (o.error or "")
    assert svc.pipeline().indexer.backlog() == 0
    svc.close()


def captured(window: WindowInfo, colour: tuple[int, int, int], phash: int) -> ScreenFrame:
    """An 80x60 captured frame of one colour on monitor 1."""
    img = Image.new("RGB", (80, 60), colour)
    return ScreenFrame(
        datetime(2026, 2, 20, 9, 0, tzinfo=UTC), 1, 80, 60, img.tobytes(), window, phash=phash
    )


def test_screen_sink_stores_capture_frames_and_indexes_them(tmp_path: Path) -> None:
    svc = service(tmp_path / "home", ColourOcr())
    sink = ScreenSink(svc.pipeline().inbox)
    sink(captured(WindowInfo("xterm", "build log"), (160, 0, 0), (1 << 64) - 5))
    assert sink.kept == 1
    (o,) = svc.store.observations_with_status("pending")
    assert (o.kind, o.app, o.window_title, o.monitor) == ("screen", "xterm", "build log", 1)
    svc.index_frames()
    assert svc.observation(o.id).text == "marker160"
    svc.close()


def write_manifest(
    folder: Path, items: list[tuple[str, str, Image.Image | bytes | None]], app: str = "Editor"
) -> Path:
    (folder / "frames").mkdir(parents=True, exist_ok=True)
    lines = []
    for fid, ts, img in items:
        rel = f"frames/{fid}.png"
        if isinstance(img, Image.Image):
            img.save(folder / rel)
        elif isinstance(img, bytes):
            (folder / rel).write_bytes(img)
        lines.append(
            json.dumps(
                {
                    "id": fid,
                    "path": rel,
                    "ts": ts,
                    "app": app,
                    "title": f"{app} window",
                    "url": None,
                }
            )
        )
    manifest = folder / "manifest.jsonl"
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_import_with_real_ocr_folds_near_duplicates_and_keeps_manifest_paths(
    tmp_path: Path,
) -> None:
    a = ["Quarterly budget review", "Flight number TP1351 to Lisbon"]
    b = ["Shopping list", "oat milk and lentils"]
    manifest = write_manifest(
        tmp_path / "set",
        [
            ("f1", "2026-02-16T09:00:00", render(a)),
            ("f2", "2026-02-16T09:00:04", render(a)),  # the same screen 4 s later: folded into f1
            ("f3", "2026-02-16T11:00:00", render(b)),
            (
                "f4",
                "2026-02-16T11:00:04",
                render(b, offset=6),
            ),  # scrolled: recorded, as live capture does
        ],
    )
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    report = svc.import_frames(manifest)
    assert (report.imported, report.near_duplicates, report.indexed, report.failed) == (3, 1, 3, 0)
    hit = svc.search("flight to Lisbon", k=1)[0]
    assert hit.sources[0].frame_path == "frames/f1.png"
    o = svc.observation(hit.sources[0].observation_id)
    assert "TP1351" in o.text and o.ext_id == "f1"
    assert (o.kind, o.origin) == ("screen", "import")  # a screenshot is a screen (#13)
    screens = svc.search("flight to Lisbon", k=3, types=("screen",))
    assert screens and screens[0].sources[0].frame_path == "frames/f1.png"
    assert screens[0].origin == "import"
    assert svc.status()["by_kind"] == {"screen": 3}
    assert o.ts_end - o.ts_start == pytest.approx(4.0)
    # the scrolled copy is one moment with the frame it copies: one hit, both frames its sources
    found = svc.search("oat milk lentils", k=2)
    assert {s.frame_path for s in found[0].sources} == {"frames/f3.png", "frames/f4.png"}
    again = svc.import_frames(manifest)
    assert (again.imported, again.duplicates, again.near_duplicates) == (0, 3, 1)
    assert svc.status()["observations"] == 3
    svc.close()


@pytest.mark.parametrize(
    "bad, reason",
    [
        (None, "not found"),
        (b"this is not an image", "not a readable image"),
        ("truncated", "corrupt or truncated"),
    ],
)
def test_bad_images_name_the_line_and_import_nothing(
    tmp_path: Path, bad: object, reason: str
) -> None:
    good = render(["fine frame"])
    if bad == "truncated":
        path = tmp_path / "whole.png"
        render(["some text", "more text"]).save(path)
        bad = path.read_bytes()[:2000]
    manifest = write_manifest(
        tmp_path / "set",
        [
            ("ok1", "2026-02-16T09:00:00", good),
            ("bad", "2026-02-16T10:00:00", bad),  # type: ignore[arg-type]
            ("ok2", "2026-02-16T11:00:00", render(["other"])),
        ],
    )
    svc = service(tmp_path / "home", ColourOcr())
    with pytest.raises(ImportFailed) as info:
        svc.import_frames(manifest)
    assert info.value.line == 2 and reason in info.value.reason
    assert svc.status()["observations"] == 0
    assert not list((tmp_path / "home" / "frames").rglob("*.webp"))
    report = svc.import_frames(manifest, skip_bad=True)
    assert report.imported == 2 and [n for n, _ in report.skipped] == [2]
    svc.close()


def test_bad_manifest_lines_are_named(tmp_path: Path) -> None:
    folder = tmp_path / "set"
    folder.mkdir()
    render(["x"]).save(folder / "a.png")
    manifest = folder / "m.jsonl"
    manifest.write_text(
        '{"id": "a", "path": "a.png", "ts": "2026-02-16T09:00:00"}\n'
        '{"id": "b", "path": "a.png", "ts": "yesterday"}\n'
    )
    svc = service(tmp_path / "home", ColourOcr())
    with pytest.raises(ImportFailed, match="line 2"):
        svc.import_frames(manifest)
    svc.close()


def test_import_a_folder_uses_file_times(tmp_path: Path) -> None:
    folder = tmp_path / "shots"
    folder.mkdir()
    for n, red in enumerate((200, 240)):
        p = folder / f"s{n}.png"
        Image.new("RGB", (64, 64), (red, 200 * n, 0)).save(p)
        import os

        os.utime(p, (1_750_000_000 + 3600 * n, 1_750_000_000 + 3600 * n))
    svc = service(tmp_path / "home", ColourOcr())
    report = svc.import_frames(folder)
    assert report.imported == 2
    rows = svc.store.observations_between(0, 2e9)
    assert [r.ts_start for r in rows] == [1_750_000_000, 1_750_003_600]
    assert [r.frame_path for r in rows] == ["s0.png", "s1.png"]
    assert np.array_equal([r.text for r in rows], ["marker200", "marker240"])
    svc.close()


class CountingOcr:
    """Wraps the real OCR engine and counts the pixels it was asked to read."""

    def __init__(self, engine: object) -> None:
        self.engine = engine
        self.pixels = 0

    def read(self, source: Image.Image) -> list[OcrLine]:
        self.pixels += source.width * source.height
        return self.engine.read(source)  # type: ignore[attr-defined,no-any-return]


def test_changed_region_ocr_reads_only_the_change_and_matches_a_full_read() -> None:
    from memory.pipeline.regions import RegionReader
    from models.ocr import RapidOcrEngine

    engine = RapidOcrEngine(device="cpu")
    before = ["Release checklist", "tag the build", "status: waiting for review"]
    after = ["Release checklist", "tag the build", "status: approved by Maria"]
    img_a, img_b = render(before, (900, 400)), render(after, (900, 400))
    diff = np.abs(np.asarray(img_a, dtype=np.int16) - np.asarray(img_b, dtype=np.int16)).sum(axis=2)
    ys, xs = np.nonzero(diff)
    box = (int(xs.min()), int(ys.min()), int(xs.max() - xs.min() + 1), int(ys.max() - ys.min() + 1))
    counting = CountingOcr(engine)
    reader = RegionReader(counting)
    reader.read(img_a, monitor=1, obs_id=1)
    counting.pixels = 0
    lines = reader.read(img_b, monitor=1, obs_id=2, boxes=(box,), previous_id=1)
    assert reader.frames_partial == 1
    assert counting.pixels < 0.3 * 900 * 400
    assert [ln.text for ln in lines] == [ln.text for ln in engine.read(img_b)]
    assert "approved by Maria" in " ".join(ln.text for ln in lines)
    # a frame whose previous frame is not the one remembered is read whole
    reader.read(img_a, monitor=1, obs_id=3, boxes=(box,), previous_id=99)
    assert reader.frames_full == 2


def test_changed_rows_find_a_one_digit_edit_the_deduper_boxes_miss() -> None:
    from memory.pipeline.regions import RegionReader, changed_rows
    from models.ocr import RapidOcrEngine

    a = render(["Invoice 48213 due Friday", "Total 1,250.00 EUR", "Paid by card"], (900, 400))
    b = render(["Invoice 48213 due Friday", "Total 1,258.00 EUR", "Paid by card"], (900, 400))
    pa, pb = np.asarray(a), np.asarray(b)
    rows = np.flatnonzero(np.any(pa != pb, axis=(1, 2)))
    bands = changed_rows(pa, pb)
    assert bands and all(any(y <= r < y + h for _x, y, _w, h in bands) for r in rows)
    assert sum(h for _x, _y, _w, h in bands) < 60
    assert changed_rows(pa, pa) == []
    counting = CountingOcr(RapidOcrEngine(device="cpu"))
    reader = RegionReader(counting)
    assert "1,250.00" in " ".join(ln.text for ln in reader.read(a, monitor=1, obs_id=1))
    counting.pixels = 0
    # the box a sampled deduper might report lies elsewhere: the exact comparison still finds
    # the changed digit, reads only its line, and keeps the other lines
    lines = reader.read(b, monitor=1, obs_id=2, boxes=((0, 300, 50, 50),), previous_id=1)
    text = " ".join(ln.text for ln in lines)
    assert reader.frames_partial == 1 and counting.pixels < 0.3 * 900 * 400
    assert "1,258.00" in text and "1,250.00" not in text
    assert "Invoice" in text and "Paid by card" in text


class JoinedOcr:
    """A fake OCR engine that reads a chat author and time run together, as small text comes."""

    def read(self, source: Image.Image) -> list[OcrLine]:
        return [
            OcrLine("NoahAcheampong09:42", (0, 0, 10, 10), 0.9),
            OcrLine("can someone look at the export bug", (0, 12, 10, 22), 0.9),
        ]


def test_indexed_screens_find_words_ocr_ran_together(tmp_path: Path) -> None:
    svc = service(tmp_path / "home", JoinedOcr())
    ScreenSink(svc.pipeline().inbox)(
        captured(WindowInfo("Slack", "backend - Quillfield - Slack"), (0, 0, 0), 1)
    )
    svc.index_frames()
    (o,) = svc.store.observations_with_status("indexed")
    assert o.text.startswith("NoahAcheampong09:42")  # the text keeps what OCR read
    hits = svc.search("what did Noah ask", types=("screen",))
    assert [h.id for h in hits][:1] == [f"o:{o.id}"]
    assert hits[0].extra["lexical"]  # found by the word, not only by the vector
    svc.close()
