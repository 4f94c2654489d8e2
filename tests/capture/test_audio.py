"""Audio capture through a real PortAudio/ALSA stream fed by a file (the fake microphone)."""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
import wave
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from capture.audio import AudioRecorder, EnergyGate, level_db, refresh_devices, resample
from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from capture.records import AudioChunk

RATE = 16000
T0 = datetime(2024, 5, 7, 9, 30, tzinfo=UTC)


def _sounddevice():
    try:
        import sounddevice
    except OSError as exc:
        pytest.skip(f"libportaudio is not installed: {exc}")
    return sounddevice


def speech(text: str, tmp_path: Path) -> np.ndarray:
    """16 kHz int16 speech from espeak-ng, or voiced tone bursts where it is missing."""
    if shutil.which("espeak-ng"):
        wav = tmp_path / f"{abs(hash(text))}.wav"
        subprocess.run(["espeak-ng", "-w", str(wav), text], check=True)
        with wave.open(str(wav)) as handle:
            rate = handle.getframerate()
            data = np.frombuffer(handle.readframes(handle.getnframes()), "<i2")
        data = resample(data.astype(np.float32), rate, RATE)
        return np.clip(data, -32768, 32767).astype(np.int16)
    t = np.arange(int(1.2 * RATE)) / RATE
    envelope = (np.sin(2 * np.pi * 3 * t) > -0.6).astype(np.float32)
    return (8000 * envelope * np.sin(2 * np.pi * 180 * t)).astype(np.int16)


def trim(samples: np.ndarray) -> np.ndarray:
    """Cut leading/trailing silence so the test knows where the sound starts and ends."""
    loud = np.nonzero(np.abs(samples.astype(np.int32)) > 300)[0]
    return samples[loud[0] : loud[-1] + 1]


@pytest.fixture
def fake_mic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Write an ALSA ``wavmic`` device playing a given int16 signal, and rescan devices."""
    sd = _sounddevice()

    def install(signal: np.ndarray) -> str:
        raw = tmp_path / "mic.raw"
        signal.astype("<i2").tofile(raw)
        conf = tmp_path / "xdg-config" / "alsa"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "asoundrc").write_text(
            'pcm.wavmic {\n type file\n slave.pcm "null"\n file "/dev/null"\n'
            f' infile "{raw}"\n format "raw"\n'
            ' hint { show on description "Mic fed from a raw file" }\n}\n'
        )
        monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
        refresh_devices()
        return "wavmic"

    yield install
    monkeypatch.undo()
    refresh_devices()
    del sd


class Chunks:
    def __init__(self) -> None:
        self.items: list[AudioChunk] = []
        self.lock = threading.Lock()

    def __call__(self, chunk: AudioChunk) -> None:
        with self.lock:
            self.items.append(chunk)

    def wait(self, n: int, timeout: float = 15.0) -> list[AudioChunk]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.items) >= n:
                    return list(self.items)
            time.sleep(0.05)
        return list(self.items)


def test_two_utterances_become_two_chunks_with_times(fake_mic, tmp_path: Path) -> None:
    first = trim(speech("The budget meeting is on Tuesday.", tmp_path))
    second = trim(speech("Maria will send the flight number.", tmp_path))
    silence = np.zeros(int(1.5 * RATE), np.int16)
    lead = np.zeros(int(0.5 * RATE), np.int16)
    signal = np.concatenate([lead, first, silence, second, silence])
    device = fake_mic(signal)
    sink = Chunks()
    config = CaptureConfig(audio_enabled=True, audio_device=device)
    recorder = AudioRecorder(config, sink, clock=lambda: T0)
    recorder.start()
    try:
        chunks = sink.wait(2)
        time.sleep(0.5)  # anything more would be a spurious chunk from the silence
    finally:
        recorder.stop()
    assert len(sink.items) == 2, [(c.ts_start, c.ts_end) for c in sink.items]
    starts = [lead.size / RATE, (lead.size + first.size + silence.size) / RATE]
    ends = [starts[0] + first.size / RATE, starts[1] + second.size / RATE]
    for chunk, start, end in zip(chunks, starts, ends, strict=True):
        got_start = (chunk.ts_start - T0).total_seconds()
        got_end = (chunk.ts_end - T0).total_seconds()
        assert start - 0.2 <= got_start <= start + 0.05
        assert end - 0.05 <= got_end <= end + 0.7
        assert chunk.sample_rate == RATE and chunk.device and "wavmic" in chunk.device
        samples = np.frombuffer(chunk.samples, np.float32)
        assert samples.size == round((got_end - got_start) * RATE)
        offset = int(round(got_start * RATE))
        expected = signal[offset : offset + samples.size].astype(np.float32) / 32768.0
        assert np.array_equal(samples, expected)  # the exact audio, no resampling needed
    status = recorder.status()
    # (blocks_dropped may grow: the file-fed mic runs faster than real time once it is
    # past the file, and the bounded queue drops the excess silence)
    assert status.state == "stopped" and status.chunks == 2


def test_silence_gives_no_chunks(fake_mic) -> None:
    rng = np.random.default_rng(0)
    hiss = rng.normal(0, 20, 3 * RATE).astype(np.int16)  # about -64 dBFS
    device = fake_mic(hiss)
    sink = Chunks()
    recorder = AudioRecorder(CaptureConfig(audio_device=device), sink, clock=lambda: T0)
    recorder.start()
    time.sleep(1.0)
    recorder.stop()
    assert sink.items == []


def test_missing_named_device_is_capture_unavailable() -> None:
    _sounddevice()
    recorder = AudioRecorder(CaptureConfig(audio_device="engram-no-such-mic"), lambda c: None)
    with pytest.raises(CaptureUnavailable, match="no microphone") as info:
        recorder.start()
    assert info.value.source == "audio"


def test_no_input_device_at_all_is_capture_unavailable(tmp_path, monkeypatch) -> None:
    sd = _sounddevice()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "empty-config"))
    refresh_devices()
    if any(d["max_input_channels"] > 0 for d in sd.query_devices()):
        refresh_devices()
        pytest.skip("this machine has a real microphone, so 'no input device' cannot be shown")
    with pytest.raises(CaptureUnavailable, match="default input device"):
        AudioRecorder(CaptureConfig(), lambda c: None).start()


def test_energy_gate_hangover_min_length_and_max_length() -> None:
    config = CaptureConfig(audio_hangover_ms=90, audio_min_chunk_ms=60, audio_max_chunk_s=0.3)
    gate = EnergyGate(config, RATE, 480)  # 30 ms blocks
    loud = np.full(480, 0.1, np.float32)
    quiet = np.zeros(480, np.float32)
    out = []
    plan = [quiet] * 3 + [loud] + [quiet] * 5 + [loud] * 3 + [quiet] * 5 + [loud] * 20
    for i, block in enumerate(plan):
        out += gate.feed(i * 480, block)
    out += gate.flush()
    assert level_db(loud) == pytest.approx(-20.0, abs=0.01)
    # the lone 30 ms block (3) is shorter than the 60 ms minimum and its chunk ends after
    # 3 quiet blocks (4-6); the 3 loud blocks (9-11) keep blocks 7-8 as pre-roll; the 20
    # loud blocks are split at the 0.3 s maximum (10 blocks)
    lengths = [samples.size // 480 for _, samples in out]
    assert out[0][0] == 7 * 480 and lengths[0] >= 5
    assert all(n <= 10 for n in lengths) and sum(lengths[1:]) >= 20


def test_resample_keeps_duration_and_tone() -> None:
    t = np.arange(48000) / 48000
    tone = np.sin(2 * np.pi * 440 * t).astype(np.float32)
    out = resample(tone, 48000, RATE)
    assert out.size == RATE and out.dtype == np.float32
    spectrum = np.abs(np.fft.rfft(out))
    assert abs(np.argmax(spectrum) * RATE / out.size - 440) < 2
