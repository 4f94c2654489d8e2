"""Audio in the pipeline: chunks become pending rows; the indexer transcribes, redacts, embeds."""

from __future__ import annotations

import shutil
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from capture.records import AudioChunk
from memory.index.vectors import NumpyIndex
from memory.pipeline.audio import AudioSink
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from models.speech import Segment, Transcript
from models.text_embedding import HashingEmbedder

RATE = 16000
T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SENTENCE = "The quarterly budget meeting moves to Thursday afternoon in the library"


class FakeSpeech:
    """Says a fixed sentence for loud audio and nothing for silence; records what it read."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.calls: list[np.ndarray] = []

    def transcribe(self, source: Path, word_timestamps: bool = False) -> Transcript:
        from models.speech import load_audio

        audio = load_audio(source)
        self.calls.append(audio)
        loud = float(np.abs(audio).max()) > 0.05
        return Transcript((Segment(0.0, 1.0, self.text),) if loud else (), "en", audio.size / RATE)


def chunk(seconds: float, loud: bool, start: datetime = T0) -> AudioChunk:
    t = np.arange(int(seconds * RATE)) / RATE
    samples = (0.3 * np.sin(2 * np.pi * 220 * t) if loud else np.zeros(t.size)).astype(np.float32)
    return AudioChunk(
        start, start + timedelta(seconds=seconds), samples.tobytes(), RATE, "test mic"
    )


def service(home: Path, speech: object, keep_audio: bool = True) -> MemoryService:
    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(speech=speech, keep_audio=keep_audio, backoff_s=0.0))
    return svc


def test_chunks_survive_a_crash_then_are_transcribed_redacted_and_searchable(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    svc = service(home, FakeSpeech("never called"))
    sink = AudioSink(svc.store, svc.pipeline().frames)
    sink(chunk(1.5, loud=True))
    sink(chunk(1.0, loud=False, start=T0 + timedelta(seconds=10)))
    talk, quiet = svc.store.observations_with_status("pending")
    assert (talk.kind, talk.ts_start, talk.ts_end) == (
        "audio",
        T0.timestamp(),
        T0.timestamp() + 1.5,
    )
    assert talk.frame_path.startswith("frames/2026/03/0") and (home / talk.frame_path).is_file()
    svc.close()  # "crash" before any transcription

    speech = FakeSpeech(f"{SENTENCE} and the wifi password: Tr0ub4dor-Xq9z")
    svc = service(home, speech)
    assert svc.resume_pending() == 2
    stored = speech.calls[0]
    assert stored.size == int(1.5 * RATE)
    assert (
        np.abs(stored - 0.3 * np.sin(2 * np.pi * 220 * np.arange(stored.size) / RATE)).max() < 1e-3
    )
    talk, quiet = svc.observation(talk.id), svc.observation(quiet.id)
    assert (talk.status, quiet.status, quiet.text) == ("indexed", "indexed", "")
    assert (
        "Thursday afternoon" in talk.text
        and "Tr0ub4dor" not in talk.text
        and "[REDACTED" in talk.text
    )
    (entry,) = svc.vault().items()
    assert entry.source_ids == (talk.id,)
    hit = svc.search("budget meeting Thursday", k=3)[0]
    assert hit.id == f"o:{talk.id}" and hit.obs_kind == "audio"
    assert svc.resume_pending() == 0
    svc.close()


def test_discarded_audio_is_deleted_after_transcription_and_forget_removes_kept_files(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    svc = service(home, FakeSpeech(SENTENCE), keep_audio=False)
    AudioSink(svc.store, svc.pipeline().frames)(chunk(1.0, loud=True))
    (o,) = svc.store.observations_with_status("pending")
    path = home / o.frame_path
    assert svc.index_frames() == 1
    assert not path.exists() and svc.observation(o.id).frame_path is None
    svc.close()

    svc = service(tmp_path / "home2", FakeSpeech(SENTENCE))
    AudioSink(svc.store, svc.pipeline().frames)(chunk(1.0, loud=True))
    (o,) = svc.store.observations_with_status("pending")
    svc.index_frames()
    assert (tmp_path / "home2" / o.frame_path).is_file()
    svc.forget_observation(o.id)
    assert not (tmp_path / "home2" / o.frame_path).exists()
    svc.close()


def _sounddevice():  # noqa: ANN202
    try:
        import sounddevice
    except OSError as exc:
        pytest.skip(f"libportaudio is not installed: {exc}")
    return sounddevice


def spoken(text: str, tmp_path: Path) -> Path:
    """A raw 16 kHz mono s16 file of espeak-ng saying ``text`` (between silences)."""
    if not (shutil.which("espeak-ng") and shutil.which("sox")):
        pytest.fail("espeak-ng and sox are required (apt-get install espeak-ng sox)")
    wav, raw = tmp_path / "s.wav", tmp_path / "s.raw"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
    subprocess.run(
        ["sox", str(wav), "-r", "16000", "-c", "1", "-b", "16", "-t", "raw", str(raw)], check=True
    )
    speech = np.fromfile(raw, "<i2")
    pad = np.zeros(RATE // 2, np.int16)
    np.concatenate([pad, speech, pad, pad]).astype("<i2").tofile(raw)
    return raw


def install_wavmic(raw: Path, config_home: Path) -> None:
    """Write the ALSA ``wavmic`` device (a file-fed fake microphone) under ``config_home``."""
    conf = config_home / "alsa"
    conf.mkdir(parents=True, exist_ok=True)
    (conf / "asoundrc").write_text(
        'pcm.wavmic {\n type file\n slave.pcm "null"\n file "/dev/null"\n'
        f' infile "{raw}"\n format "raw"\n hint {{ show on description "fake mic" }}\n}}\n'
    )


def words(text: str) -> set[str]:
    return {w.strip(".,!?").lower() for w in text.split()}


def test_headless_run_without_display_records_the_fake_microphone_with_whisper(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    from capture.audio import refresh_devices
    from memory.pipeline.runner import HeadlessRun

    _sounddevice()
    install_wavmic(spoken(SENTENCE, tmp_path), tmp_path / "xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    refresh_devices()
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    out = io.StringIO()
    try:
        svc.set_settings(
            {"audio.enabled": True, "audio.device": "wavmic"}
        )  # the headless run obeys
        run = HeadlessRun(svc.home, svc.pipeline())  # no memorising
        started = time.monotonic()
        final = run.run(6.0, out)
    finally:
        monkeypatch.undo()
        refresh_devices()
    assert time.monotonic() - started < 120
    assert "screen capture unavailable" in out.getvalue() and "no X display" in final.state
    assert final.errors == 0 and final.pending == 0, out.getvalue()
    audio = svc.store.observations_between(0, 4e9, kinds=("audio",))
    assert audio and all(o.status == "indexed" for o in audio)
    heard = words(" ".join(o.text for o in audio))
    expected = words(SENTENCE)
    assert len(expected & heard) >= 0.7 * len(expected), heard
    hit = svc.search("quarterly budget meeting library", k=3)[0]
    assert hit.obs_kind == "audio"
    svc.close()
