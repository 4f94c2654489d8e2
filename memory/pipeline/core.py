"""The capture pipeline of one home: frames, audio, inbox, indexer and vault, wired once."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from capture.config import DedupConfig
from memory.importers.frames import read_folder, read_manifest
from memory.index.sync import DeferredVectors, VectorSync
from memory.media.frames import FrameSettings, FrameStore
from memory.pipeline.audio import AudioTranscriber
from memory.pipeline.images import ImageIndexer
from memory.pipeline.inbox import Inbox
from memory.pipeline.indexer import Indexer
from memory.pipeline.ingest import ingest_entries
from memory.pipeline.regions import OcrEngine, RegionReader
from memory.progress import phase as _phase
from memory.vault.store import Vault

if TYPE_CHECKING:
    from memory.home import Home

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class FrameImportReport:
    """What ``engram import frames`` did."""

    imported: int
    duplicates: int
    near_duplicates: int
    indexed: int
    failed: int
    skipped: tuple[tuple[int, str], ...] = ()


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """Knobs of the pipeline (tests inject a fake OCR engine or speech model here).

    Attributes:
        speech: a speech-to-text model (``transcribe(path) -> Transcript``); None = the model hub's.
        keep_audio: keep each audio chunk's file after transcription, with redacted words
            silenced (False deletes it); None: the settings' ``audio.keep_raw_audio`` (off).
        frames: how frames are stored; None: the defaults with the settings'
            ``retention.lossless_frames``.
        images: give kept screens image vectors when an image model is available (#17).
    """

    ocr: OcrEngine | None = None
    frames: FrameSettings | None = None
    dedup: DedupConfig | None = None
    max_attempts: int = 3
    backoff_s: float = 5.0
    vault_backend: str | None = None
    vault_passphrase: str | None = None
    images: bool = True
    speech: Any = None
    keep_audio: bool | None = None


class Pipeline:
    """Everything between a captured or imported frame and a searchable observation."""

    def __init__(self, home: Home, options: PipelineOptions | None = None) -> None:
        self.options = options or PipelineOptions()
        self.home = home
        #: called with the number indexed after each indexing batch (the recorder's hooks)
        self.after_index: list[Callable[[int], None]] = []
        root: Path = home.paths.root
        settings = home.settings.current
        frames = self.options.frames or FrameSettings(lossless=settings.retention.lossless_frames)
        self.frames = FrameStore(root, frames, key=home.file_key)
        self.frames.sweep_tmp()
        self.inbox = Inbox(home.store, self.frames)
        # the index opens on first write, not here (`engram vault list` needs no Chroma, #13)
        vectors = cast(VectorSync, DeferredVectors(lambda: home.vectors))
        backend = self.options.vault_backend
        if backend is None and settings.vault.key_backend != "auto":
            backend = settings.vault.key_backend
        self.vault = Vault(
            home.store,
            vectors,
            root,
            backend=backend,
            passphrase=self.options.vault_passphrase,
        )
        self._reader: RegionReader | None = None
        keep = self.options.keep_audio
        if keep is None:
            keep = settings.audio.keep_raw_audio
        self.audio = AudioTranscriber(self.frames, self.speech, keep_audio=keep)
        self.images = ImageIndexer(
            home.store,
            self.frames,
            lambda: home.index,
            home.clip,
            home.index_lock,
            lambda: home.settings.current,
            max_attempts=self.options.max_attempts,
        )
        self.indexer = Indexer(
            home.store,
            self.frames,
            vectors,
            self.inbox,
            self.reader,
            vault=self.vault,
            images=self.images if self.options.images else None,
            audio=self.audio,
            max_attempts=self.options.max_attempts,
            backoff_s=self.options.backoff_s,
        )

    def reader(self) -> RegionReader:
        """The OCR reader, loading the configured OCR model (``models.ocr``) on first use.

        Raises:
            ModelUnavailable: the configured OCR model cannot be loaded.
        """
        if self._reader is None:
            self._reader = RegionReader(self.options.ocr or self.home.models.ocr())
        return self._reader

    def speech(self) -> Any:
        """The speech-to-text model, loading it on first use.

        Raises:
            ModelUnavailable: no local weights for the configured speech model.
        """
        if self.options.speech is not None:
            return self.options.speech
        return self.home.models.speech()

    def import_frames(
        self,
        path: Path,
        *,
        skip_bad: bool = False,
        progress: Progress | None = None,
        index: bool = True,
    ) -> FrameImportReport:
        """Import a manifest JSONL or a folder of images; all of it, or nothing if a line is bad.

        Raises:
            ImportFailed: a bad line or image, naming it (unless ``skip_bad``); nothing was written.
        """
        path = Path(path)
        reader = read_folder if path.is_dir() else read_manifest
        entries, bad = reader(path, skip_bad=skip_bad, progress=_phase(progress, "reading"))
        result = ingest_entries(
            self.inbox, entries, dedup=self.options.dedup, progress=_phase(progress, "storing")
        )
        before = self.indexer.stats.failed
        indexed = (
            self.indexer.process_pending(_phase(progress, "OCR, embedding and indexing"))
            if index
            else 0
        )
        self.home.remember_vector_count()
        return FrameImportReport(
            result.new,
            result.existing,
            result.near_duplicates,
            indexed,
            self.indexer.stats.failed - before,
            tuple(bad),
        )
