"""Microphone audio in the pipeline: each ``AudioChunk`` becomes a pending ``audio`` observation.

The sink writes the samples first (16 kHz mono FLAC, lossless, about a third of raw 16-bit PCM;
WAV when PyAV is missing) under ``frames/YYYY/MM/DD/``, atomically, then commits the ``pending``
row, so a crash loses at most the chunk in flight. The indexer later transcribes the file with the
speech model (voice-activity filtering on: a chunk without speech gets empty text), redacts the
transcript, moves secrets to the vault and embeds the text like a screen's. Then the file is
deleted, unless the user keeps raw audio (``audio.keep_raw_audio``); a kept file has the redacted
words silenced (``memory.pipeline.silence``).
"""

from __future__ import annotations

import io
import logging
import secrets
import threading
import wave
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from capture.records import AudioChunk, Captured
from memory.media.frames import FrameStore
from memory.pipeline.silence import redacted_times, silence_file
from memory.privacy.redaction import RedactionResult, redact
from memory.store import MemoryStore, NewObservation
from memory.store.records import Observation
from models.speech import load_audio

logger = logging.getLogger(__name__)

SpeechModel = Callable[[], Any]
"""Returns an object with ``transcribe(path) -> Transcript`` (``models.speech`` has one)."""


def encode_audio(samples: np.ndarray, rate: int) -> tuple[bytes, str]:
    """Float samples in [-1, 1] as (file bytes, suffix): FLAC through PyAV, else 16-bit WAV."""
    pcm = np.clip(np.asarray(samples, np.float32) * 32768.0, -32768, 32767).astype(np.int16)
    try:
        import av
    except ImportError:
        return _wav(pcm, rate), ".wav"
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(pcm[None, :], format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return buf.getvalue(), ".flac"


def _wav(pcm: np.ndarray, rate: int) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


class AudioSink:
    """The audio sink of ``engram run``: stores each chunk, then its pending row.

    Runs on the audio recorder's worker thread. ``paused_reason`` (low disk) drops chunks.
    """

    def __init__(
        self, store: MemoryStore, frames: FrameStore, on_added: Callable[[int], None] | None = None
    ) -> None:
        self.store = store
        self.frames = frames
        self.on_added = on_added
        self.paused_reason: str | None = None
        self.kept = 0
        self.dropped = 0
        self._lock = threading.Lock()

    def __call__(self, item: Captured) -> None:
        if not isinstance(item, AudioChunk):
            return  # frames go to the screen sink
        if self.paused_reason is not None:
            self.dropped += 1
            return
        obs_id = self.add(item)
        with self._lock:
            self.kept += 1
        if self.on_added:
            self.on_added(obs_id)

    def add(self, chunk: AudioChunk) -> int:
        """Write the chunk's file, then its pending row; returns the row id."""
        samples = np.frombuffer(chunk.samples, dtype=np.float32)
        data, suffix = encode_audio(samples, chunk.sample_rate)
        rel = _audio_rel(chunk.ts_start, suffix)
        self.frames.write_bytes(rel, data)
        row = NewObservation(
            kind="audio",
            ts_start=chunk.ts_start.timestamp(),
            ts_end=chunk.ts_end.timestamp(),
            frame_path=rel,
            window_title=chunk.device,
        )
        try:
            (obs_id,) = self.store.add_observations([row])
        except BaseException:
            (self.frames.root / rel).unlink(missing_ok=True)
            raise
        assert obs_id is not None  # audio rows have no ext_id, so never a duplicate
        return obs_id


def _audio_rel(ts: datetime, suffix: str) -> str:
    local = datetime.fromtimestamp(ts.timestamp())
    stem = local.strftime("%H%M%S") + f"{local.microsecond // 1000:03d}-a-{secrets.token_hex(3)}"
    return (Path("frames") / local.strftime("%Y/%m/%d") / (stem + suffix)).as_posix()


class AudioTranscriber:
    """Turns the stored file of an ``audio`` observation into redacted text (indexer side)."""

    def __init__(
        self, frames: FrameStore, speech: SpeechModel, *, keep_audio: bool = False
    ) -> None:
        self.frames = frames
        self._speech = speech
        self.keep_audio = keep_audio

    def transcribe(self, o: Observation) -> RedactionResult:
        """The redacted transcript of one chunk (empty text when nobody spoke).

        Raises:
            FileNotFoundError: the audio file is gone.
            ModelUnavailable: no speech model (the row is retried later).
        """
        if not o.frame_path:
            raise FileNotFoundError(f"audio observation {o.id} has no file")
        path = self.frames.root / o.frame_path
        if not path.is_file():
            raise FileNotFoundError(f"audio observation {o.id}: {o.frame_path} is missing")
        speech = self._speech()
        # decrypted in memory when the home is encrypted (#12); never a plain copy on disk
        samples = load_audio(self.frames.read_bytes(o.frame_path))
        if self.keep_audio:  # word times, to silence redacted words in the kept file
            transcript = speech.transcribe(samples, word_timestamps=True)
        else:
            transcript = speech.transcribe(samples)
        result = redact(transcript.text)
        if self.keep_audio and result.findings:
            silence_file(
                self.frames, o.frame_path, samples, redacted_times(transcript, result.findings)
            )
        return result

    def release(self, o: Observation, store: MemoryStore) -> None:
        """After indexing: delete the audio file unless raw audio is kept (row first, then file).

        The transcript is the memory: by default no raw audio stays (#12).
        """
        if self.keep_audio or not o.frame_path:
            return
        store.update_observation(o.id, frame_path=None)
        (self.frames.root / o.frame_path).unlink(missing_ok=True)
