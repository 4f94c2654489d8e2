"""Microphone capture: a sounddevice input stream, an energy gate, chunks of speech.

Threads: PortAudio calls ``_on_block`` on its own thread; it only copies the block into a
bounded queue (dropping and counting when full). A worker thread runs the energy gate
and hands ``AudioChunk`` records (16 kHz mono float32) to the sink. Voice activity
detection and speech-to-text happen later, in the indexer.

The stream is opened as 16-bit integers (every ALSA device, including the file-fed fake
microphone used in tests, supports it) at ``config.audio_sample_rate`` if the device
accepts it, else at the device's default rate with linear resampling.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import deque
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from capture.records import AudioChunk, Sink
from capture.screen import Clock, utc_now

logger = logging.getLogger(__name__)

_FLUSH = (-1, np.zeros(0, np.float32))
"""Queue marker: end the chunk in progress (sent on pause)."""
_PRE_ROLL_BLOCKS = 5
"""Quiet blocks kept before the first loud one, so word onsets are not clipped."""


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library is missing
        raise CaptureUnavailable("audio", f"PortAudio is not installed ({exc})") from exc
    except ImportError as exc:
        raise CaptureUnavailable("audio", "the sounddevice package is not installed") from exc
    return sounddevice


def refresh_devices() -> None:
    """Re-scan audio devices (PortAudio lists them once, at initialisation).

    Uses sounddevice's documented ``_terminate``/``_initialize`` pair; call it only while
    no stream is open.
    """
    sd = _sounddevice()
    sd._terminate()
    sd._initialize()


def level_db(block: np.ndarray) -> float:
    """RMS level of a float block in dBFS (-120 for digital silence)."""
    rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if block.size else 0.0
    return 20.0 * np.log10(rms) if rms > 1e-6 else -120.0


def resample(samples: np.ndarray, rate_in: int, rate_out: int) -> np.ndarray:
    """Linearly resample a mono float32 signal (good enough for speech-to-text input)."""
    if rate_in == rate_out or samples.size == 0:
        return samples.astype(np.float32, copy=False)
    n_out = int(round(samples.size * rate_out / rate_in))
    positions = np.arange(n_out, dtype=np.float64) * (rate_in / rate_out)
    return np.interp(positions, np.arange(samples.size), samples).astype(np.float32)


@dataclass(frozen=True, slots=True)
class AudioStatus:
    """A snapshot of the audio recorder."""

    state: str
    reason: str | None
    device: str | None
    sample_rate: int
    chunks: int
    blocks_dropped: int
    sink_errors: int


class EnergyGate:
    """Cuts a stream of fixed-size blocks into chunks of sound louder than a threshold.

    Not thread-safe: fed by one worker thread. ``feed`` returns finished chunks as
    ``(first_sample_index, samples)``.
    """

    def __init__(self, config: CaptureConfig, rate: int, block: int) -> None:
        self.threshold_db = config.audio_energy_db
        self.hangover = max(1, int(config.audio_hangover_ms * rate / 1000 / block))
        self.min_samples = int(config.audio_min_chunk_ms * rate / 1000)
        self.max_samples = int(config.audio_max_chunk_s * rate)
        self._pre: deque[tuple[int, np.ndarray]] = deque(maxlen=_PRE_ROLL_BLOCKS)
        self._blocks: list[np.ndarray] = []
        self._start = 0
        self._quiet = 0
        self._loud_samples = 0

    def feed(self, index: int, block: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """Add one block starting at sample ``index``; return chunks that just ended."""
        loud = level_db(block) > self.threshold_db
        if not self._blocks:
            if not loud:
                self._pre.append((index, block))
                return []
            self._start = self._pre[0][0] if self._pre else index
            self._blocks = [b for _, b in self._pre]
            self._pre.clear()
            self._loud_samples = 0
        self._blocks.append(block)
        self._quiet = 0 if loud else self._quiet + 1
        self._loud_samples += block.size if loud else 0
        length = sum(b.size for b in self._blocks)
        if self._quiet >= self.hangover or length >= self.max_samples:
            return self.flush()
        return []

    def flush(self) -> list[tuple[int, np.ndarray]]:
        """End the current chunk (if long enough) and return it."""
        blocks, self._blocks = self._blocks, []
        if not blocks or self._loud_samples < self.min_samples:
            return []
        if self._quiet:  # trim the trailing silence but keep a short tail
            blocks = blocks[: len(blocks) - max(0, self._quiet - 2)]
        return [(self._start, np.concatenate(blocks))]


class AudioRecorder:
    """Records the microphone and sends chunks of sound to ``sink``.

    Args:
        config: capture settings (``audio_*`` fields).
        sink: called with each ``AudioChunk`` on the recorder's worker thread.
        clock: wall clock for the stream start; chunk times add the sample offset.
    """

    def __init__(self, config: CaptureConfig, sink: Sink, clock: Clock = utc_now) -> None:
        self.config = config
        self._sink = sink
        self._clock = clock
        self._blocks: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue(maxsize=512)
        self._stream: Any = None
        self._worker: threading.Thread | None = None
        self._paused = threading.Event()
        self._lock = threading.Lock()
        self._counts = {"chunks": 0, "dropped": 0, "sink": 0}
        self._state, self._reason = "stopped", "not started"
        self._device_name: str | None = None
        self._rate = config.audio_sample_rate
        self._next_index = 0
        self._t0 = utc_now()

    def start(self) -> None:
        """Open the input device and start recording.

        Raises:
            CaptureUnavailable: no PortAudio, no input device, or the device cannot open.
        """
        sd = _sounddevice()
        device = self.config.audio_device
        try:
            info = sd.query_devices(device, kind="input")
        except (ValueError, sd.PortAudioError) as exc:
            wanted = "the default input device" if device is None else f"input device {device!r}"
            raise CaptureUnavailable("audio", f"no microphone: {wanted} not found ({exc})") from exc
        self._device_name = str(info["name"])
        self._stream = self._open(sd, device, info)
        self._t0 = self._clock()
        self._worker = threading.Thread(target=self._work, name="engram-audio", daemon=True)
        self._worker.start()
        self._stream.start()
        self._set_state("recording", None)

    def _open(self, sd: Any, device: str | int | None, info: dict[str, Any]) -> Any:
        rates = [self.config.audio_sample_rate, int(info["default_samplerate"])]
        error: Exception | None = None
        for rate in dict.fromkeys(rates):
            block = int(rate * self.config.audio_block_ms / 1000)
            try:
                stream = sd.InputStream(
                    device=device,
                    channels=1,
                    samplerate=rate,
                    dtype="int16",
                    blocksize=block,
                    callback=self._on_block,
                )
            except sd.PortAudioError as exc:
                error = exc
                continue
            self._rate = rate
            return stream
        raise CaptureUnavailable("audio", f"cannot open {self._device_name!r}: {error}")

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the stream, send the chunk in progress and join the worker."""
        if self._stream is not None:
            self._stream.stop()
            self._stream.close()
            self._stream = None
        if self._worker is not None:
            self._blocks.put(None)
            self._worker.join(timeout)
            self._worker = None
        self._set_state("stopped", "stopped")

    def pause(self) -> None:
        """Ignore the microphone until :meth:`resume` (the stream stays open)."""
        self._paused.set()
        if self._worker is not None:
            self._blocks.put(_FLUSH)  # a chunk must not span the pause
        self._set_state("paused", "user")

    def resume(self) -> None:
        """Resume after :meth:`pause`."""
        self._paused.clear()
        if self._worker is not None:
            self._set_state("recording", None)

    def status(self) -> AudioStatus:
        """Return the state and counters (thread-safe)."""
        with self._lock:
            return AudioStatus(
                state=self._state,
                reason=self._reason,
                device=self._device_name,
                sample_rate=self._rate,
                chunks=self._counts["chunks"],
                blocks_dropped=self._counts["dropped"],
                sink_errors=self._counts["sink"],
            )

    def _set_state(self, state: str, reason: str | None) -> None:
        with self._lock:
            self._state, self._reason = state, reason

    def _count(self, key: str) -> None:
        with self._lock:
            self._counts[key] += 1

    def _on_block(self, data: np.ndarray, frames: int, _time: Any, status: Any) -> None:
        """PortAudio thread: copy the block and return at once."""
        if status:
            logger.debug("audio stream status: %s", status)
        index = self._next_index
        self._next_index += frames
        if self._paused.is_set():
            return
        try:
            self._blocks.put_nowait((index, data[:, 0].astype(np.float32) / 32768.0))
        except queue.Full:
            self._count("dropped")

    def _work(self) -> None:
        block = int(self._rate * self.config.audio_block_ms / 1000)
        gate = EnergyGate(self.config, self._rate, block)
        while True:
            item = self._blocks.get()
            chunks = gate.flush() if item is None or item is _FLUSH else gate.feed(*item)
            for start, samples in chunks:
                self._emit(start, samples)
            if item is None:
                return

    def _emit(self, start: int, samples: np.ndarray) -> None:
        rate = self._rate
        ts_start = self._t0 + timedelta(seconds=start / rate)
        ts_end = ts_start + timedelta(seconds=samples.size / rate)
        out = resample(samples, rate, self.config.audio_sample_rate)
        chunk = AudioChunk(
            ts_start=ts_start,
            ts_end=ts_end,
            samples=out.tobytes(),
            sample_rate=self.config.audio_sample_rate,
            device=self._device_name,
        )
        self._count("chunks")
        try:
            self._sink(chunk)
        except Exception:
            logger.exception("audio sink failed")
            self._count("sink")
