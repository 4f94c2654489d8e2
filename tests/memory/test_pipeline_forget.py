"""Forgetting removes the stored frames of every kind, and never a user's original file."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from capture.records import ScreenFrame, WindowInfo
from memory.pipeline.ingest import ScreenSink
from memory.pipeline.retention import RetentionPolicy, apply_retention
from memory.timeutil import parse_ts
from tests.memory.test_pipeline import ColourOcr, service, write_manifest


def stored(home: Path, o: object) -> list[Path]:
    """The stored full frame and thumbnail of an observation (from its thumbnail path)."""
    thumb = home / o.thumb_path  # type: ignore[attr-defined]
    return [thumb.with_name(thumb.name.replace(".thumb.webp", ".webp")), thumb]


def test_forget_removes_stored_frames_of_imports_but_not_the_originals(tmp_path: Path) -> None:
    home = tmp_path / "home"
    # The manifest lives inside the home, so "frames/a.png" resolves to the user's original there:
    # a forget that unlinked home/frame_path would delete it.
    manifest = write_manifest(
        home,
        [
            ("a", "2026-02-16T09:00:00", Image.new("RGB", (64, 48), (40, 0, 0))),
            ("b", "2026-02-16T11:00:00", Image.new("RGB", (64, 48), (200, 0, 0))),
        ],
    )
    originals = {p: p.read_bytes() for p in (home / "frames").glob("*.png")}
    svc = service(home, ColourOcr())
    assert svc.import_frames(manifest).imported == 2
    by_ext = {svc.observation(i).ext_id: svc.observation(i) for i in (1, 2)}
    a_files, b_files = stored(home, by_ext["a"]), stored(home, by_ext["b"])
    assert all(p.is_file() for p in a_files + b_files)
    assert svc.frame_file(by_ext["a"]) == a_files[0]

    report = svc.forget(parse_ts("2026-02-16T08:00:00"), parse_ts("2026-02-16T10:00:00"))

    assert report.observation_ids == (by_ext["a"].id,)
    assert not any(p.exists() for p in a_files)
    assert all(p.is_file() for p in b_files)
    assert {p: p.read_bytes() for p in (home / "frames").glob("*.png")} == originals
    assert "frames/a.png" not in report.files
    svc.close()


def test_forget_observation_removes_a_thinned_screen_frame_and_frame_file_falls_back(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    svc = service(home, ColourOcr())
    img = Image.new("RGB", (80, 60), (160, 0, 0))
    ScreenSink(svc.pipeline().inbox)(
        ScreenFrame(
            datetime(2026, 2, 20, 9, 0, tzinfo=UTC),
            1,
            80,
            60,
            img.tobytes(),
            WindowInfo("xterm", "log"),
            phash=7,
        )
    )
    svc.index_frames()
    (o,) = svc.store.observations_between(0, 2e9)
    full, thumb = stored(home, o)
    assert svc.frame_file(o) == full and full.is_file()
    apply_retention(
        svc.store,
        svc.pipeline().frames,
        RetentionPolicy(keep_full_days=1, quota_bytes=0, min_free_bytes=0),
        now=o.ts_start + 3 * 86400,
    )
    o = svc.observation(o.id)
    assert not full.exists() and svc.frame_file(o) == thumb

    svc.forget_observation(o.id)
    assert not thumb.exists()
    assert not list((home / "frames").rglob("*.webp"))
    svc.close()
