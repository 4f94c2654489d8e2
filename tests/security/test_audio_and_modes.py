"""Raw audio is not kept by default; kept audio has redacted words silenced; files 0600 (#12)."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from capture.records import AudioChunk
from memory.index.vectors import NumpyIndex
from memory.paths import HomePaths
from memory.pipeline.audio import AudioSink
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from models.speech import Segment, Transcript, Word, load_audio
from models.text_embedding import HashingEmbedder

RATE = 16_000
PASSWORD = "Tr0ub4dor-Xq9z"


class TimedSpeech:
    """Says "the wifi password is <PASSWORD> thanks" over 3 s, with word times when asked."""

    def __init__(self) -> None:
        self.asked_words: list[bool] = []

    def transcribe(self, source: Path, word_timestamps: bool = False) -> Transcript:
        self.asked_words.append(word_timestamps)
        said = [("the", 0.2), ("wifi", 0.5), ("password", 0.9), ("is", 1.4), (PASSWORD, 1.8),
                ("thanks", 2.6)]  # fmt: skip
        words = tuple(Word(t, t + 0.3, " " + w) for w, t in said) if word_timestamps else ()
        text = " ".join(w for w, _ in said)
        return Transcript((Segment(0.0, 3.0, text, words),), "en", 3.0)


def _record(home: Path, **opts: object) -> tuple[MemoryService, int]:
    service = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    service.pipeline(PipelineOptions(speech=TimedSpeech(), backoff_s=0.0, **opts))  # type: ignore[arg-type]
    t = np.arange(3 * RATE) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    start = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    chunk = AudioChunk(start, start + timedelta(seconds=3), samples.tobytes(), RATE, "mic")
    AudioSink(service.store, service.pipeline().frames)(chunk)
    (o,) = service.store.observations_with_status("pending")
    assert service.index_frames() == 1
    return service, o.id


def test_raw_audio_is_not_kept_by_default(tmp_path: Path) -> None:
    service, oid = _record(tmp_path / "home")
    with service:
        o = service.observation(oid)
        assert o.frame_path is None and "[REDACTED:password:1]" in o.text
        assert not [p for p in (tmp_path / "home" / "frames").rglob("*") if p.is_file()]


def test_kept_audio_has_the_redacted_words_silenced(tmp_path: Path) -> None:
    home = tmp_path / "home"
    service, oid = _record(home, keep_audio=True)
    with service:
        o = service.observation(oid)
        assert o.frame_path and PASSWORD not in o.text
        kept = load_audio(home / o.frame_path)
    rms = [float(np.sqrt(np.mean(kept[int(s * RATE) : int(e * RATE)] ** 2))) for s, e in
           ((1.8, 2.1), (0.2, 1.5), (2.5, 2.9))]  # fmt: skip
    assert rms[0] < 1e-3, "the password's span is silent"
    assert rms[1] > 0.1 and rms[2] > 0.1, "the rest of the speech is kept"


def test_setting_keeps_raw_audio(tmp_path: Path) -> None:
    from memory.settings import load_settings, save_settings, set_key

    home = tmp_path / "home"
    HomePaths(home).create()
    save_settings(home, set_key(load_settings(home), "audio.keep_raw_audio", True))
    service, oid = _record(home)
    with service:
        assert service.observation(oid).frame_path


def test_a_home_of_the_first_version_gets_private_modes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = os.umask(0o022)
    try:
        for d in ("frames/2026/03/02", "logs", "vectors/abc"):
            (home / d).mkdir(parents=True)
        for f in ("engram.db-wal", "logs/engram.log", "vectors/abc/data.bin", "config.toml"):
            (home / f).write_text("x")
        assert (home / "logs/engram.log").stat().st_mode & 0o777 == 0o644
        HomePaths(home).create()
        for f in ("engram.db-wal", "logs/engram.log", "vectors/abc/data.bin", "config.toml"):
            assert (home / f).stat().st_mode & 0o777 == 0o600, f
        for d in ("", "frames", "logs", "vectors", "vectors/abc"):
            assert (home / d).stat().st_mode & 0o777 == 0o700, d
        (home / "new.txt").write_text("created after the home was opened")
        assert (home / "new.txt").stat().st_mode & 0o777 == 0o600
        from memory.paths import open_private

        out = tmp_path / "export.json"
        out.write_text("old")
        os.chmod(out, 0o644)
        with open_private(out) as fh:
            fh.write("{}")
        assert out.stat().st_mode & 0o777 == 0o600 and out.read_text() == "{}"
    finally:
        os.umask(old)
