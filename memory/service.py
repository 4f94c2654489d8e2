"""MemoryService: the one facade the CLI and the GUI call; it wires store, indexes and models."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from memory.agents.handle import FROM_SETTINGS, AgentsHandle, FromSettings
from memory.changes import Changes
from memory.errors import NotFound
from memory.home import Home
from memory.importers.chat import ChatLine, read_chat_jsonl
from memory.index.sync import Progress, VectorSync
from memory.index.vectors import VectorIndex
from memory.paths import HomePaths
from memory.privacy.forget import (
    ForgetPreview,
    ForgetReport,
    forget_observations,
    forget_preview,
)
from memory.progress import phase as _phase
from memory.search.hits import Hit
from memory.search.hybrid import Searcher, SearchQuery
from memory.settings import LiveSettings, flatten
from memory.store import Memory, MemoryStore, NewObservation, Observation
from models.protocols import TextEmbedder

if TYPE_CHECKING:
    from memory.agents import AgentConfig, Agents, Answer, AnswerStream, BatchResult
    from memory.agents.assistant import AssistantChoice
    from memory.agents.llm_protocol import AgentLLM
    from memory.memory_types import TypeSummary
    from memory.modelhub import ModelHub
    from memory.pipeline.core import FrameImportReport, Pipeline, PipelineOptions
    from memory.pipeline.recorder import Recorder
    from memory.pipeline.runner import HeadlessRun
    from memory.store.chat_log import ChatMessage, ChatSession
    from memory.timeline import Summary
    from memory.vault.store import Vault
    from models.config import ModelConfig

logger = logging.getLogger(__name__)

#: What ``capture_status`` says when no recorder runs in this process.
_STOPPED: dict[str, object] = {
    "frames_kept": 0,
    "frames_skipped": 0,
    "frames_private": 0,
    "pending": 0,
    "indexed": 0,
    "errors": 0,
    "audio": "off",
}


NO_ASSISTANT = (
    "No assistant model is set: answers quote the memories found. Choose one under "
    "Settings → Assistant (or `engram config set assistant.backend local`)."
)


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    imported: int
    duplicates: int
    skipped: tuple[tuple[int, str], ...] = ()


class MemoryService:
    """Everything a user can do with one Engram home: the typed door for the app and the CLI.

    The pieces live in a ``Home`` (paths, settings, store, vector index, models) that the
    subsystems share; this class only wires them and keeps the long-lived workers.
    Thread-safety: methods may be called from any thread; writes are serialised on the store thread.
    """

    def __init__(
        self,
        home: Path,
        *,
        embedder: TextEmbedder | None = None,
        index: VectorIndex | None = None,
        reconcile: bool = True,
    ) -> None:
        self.home = Home(Path(home), embedder=embedder, index=index, reconcile=reconcile)
        self.paths: HomePaths = self.home.paths
        self.store: MemoryStore = self.home.store
        self.settings: LiveSettings = self.home.settings
        self._pipeline: Pipeline | None = None
        self._pipeline_lock = threading.Lock()
        self._agents = AgentsHandle(self.home, self.vault)
        self._capture: Recorder | None = None
        self._capture_error: str | None = None
        self._capture_lock = threading.Lock()

    # -- the index opens on first use, so `engram status`, `memory list` and an argument error
    # answer without importing chromadb or torch (#13) --------------------------------------------

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened (and reconciled with SQLite) on first use."""
        return self.home.index

    @property
    def vectors(self) -> VectorSync:
        """Writes and repairs vectors; using it opens the index."""
        return self.home.vectors

    @property
    def searcher(self) -> Searcher:
        """The hybrid searcher; using it opens the index."""
        return self.home.searcher

    def warm_up(self) -> None:
        """Load the text model and open (and reconcile) the vector index now, not on first use.

        For long-running work (`engram run`) that would otherwise pay for it in the middle of
        its first batch.
        """
        self.embedder()
        self.home.vectors  # noqa: B018 - opening is the point

    # -- lifecycle ------------------------------------------------------------------------------

    def embedder(self) -> TextEmbedder:
        """The text embedder (the model hub's unless one was injected), created on first use."""
        return self.home.embedder()

    @property
    def models(self) -> ModelHub:
        """The on-device models, configured by the ``models`` section of the settings."""
        return self.home.models

    def save_model_config(self, config: ModelConfig) -> None:
        """Persist the models section (``engram models use``); the models reload live."""
        current = self.settings.current
        self.settings.save(current.model_copy(update={"models": config.model_copy(deep=True)}))

    def startup_repair(self, progress: Progress | None = None) -> None:
        """Settle crash debts, rebuild a damaged or outdated index, index chat, fix drift."""
        self.home.startup_repair(progress)

    def repair(self, progress: Progress | None = None, *, rebuild: bool = False) -> list[str]:
        """Fix what can be fixed without losing rows (`engram repair`); see ``Home.repair``."""
        return self.home.repair(progress, rebuild=rebuild)

    def close(self) -> None:
        """Stop background workers, flush and close everything; joins their threads."""
        self.stop_capture()  # a no-op when capture never started
        self._agents.close()
        self.home.close()

    def __enter__(self) -> MemoryService:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- import ---------------------------------------------------------------------------------

    def import_chat(
        self, path: Path, *, skip_bad: bool = False, progress: Progress | None = None
    ) -> ImportReport:
        """Import a chat JSONL file: all of it, or nothing if a line is bad (unless ``skip_bad``).

        Raises:
            ImportFailed: a bad line, naming it; nothing was written.
        """
        _phase(progress, "reading")
        lines, bad = read_chat_jsonl(path, skip_bad=skip_bad)
        # seconds on a cold start: a phase of its own, not a silent wait (#13); opening the index
        # first also keeps its start-up repair from indexing these rows without progress
        _phase(progress, "loading the text model")
        self.warm_up()
        _phase(progress, "storing")
        items = [
            self._chat_observation(
                line, lines[i - 1] if i else None, lines[i + 1] if i + 1 < len(lines) else None
            )
            for i, line in enumerate(lines)
        ]
        ids = self.store.add_observations(items)
        if progress:
            progress(len(ids), len(ids))
        new = [i for i in ids if i is not None]
        self.index_pending(progress)
        return ImportReport(len(new), len(ids) - len(new), tuple(bad))

    # Neighbouring turns of the same session, searchable with a low weight: a reply often names
    # what the message it answers only implies. LoCoMo dev R@10 (bench/locomo.py, exact index):
    # no context 62.8, previous turn 67.9, previous and next 69.5 (BM25 weight 1.4).
    CHAT_CONTEXT = ("prev", "next")

    @classmethod
    def _chat_observation(
        cls, line: ChatLine, prev: ChatLine | None, nxt: ChatLine | None = None
    ) -> NewObservation:
        parts = []
        for name, other in (("prev", prev), ("next", nxt)):
            if name in cls.CHAT_CONTEXT and other is not None and other.session == line.session:
                parts.append(f"{other.speaker}: {other.full_text}")
        return NewObservation(
            kind="chat",
            ts_start=line.ts,
            text=line.full_text,
            ext_id=line.id,
            speaker=line.speaker,
            session=line.session,
            context="\n".join(parts),
            app="chat",
            origin="import",
        )

    def index_pending(self, progress: Progress | None = None, batch: int = 256) -> int:
        """Embed pending text observations (chat, imports), mark them indexed; returns how many."""
        return self.home.index_pending(progress, batch)

    # -- search ---------------------------------------------------------------------------------

    def search(
        self,
        text: str,
        *,
        k: int = 10,
        since: float | None = None,
        until: float | None = None,
        types: tuple[str, ...] = (),
        apps: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> list[Hit]:
        """Hybrid search over memories and observations (see ``Searcher``).

        Raises:
            BadQuery: an empty query with no filter, or an unknown type.
        """
        return self.searcher.search(
            SearchQuery(text, k, since, until, tuple(types), tuple(apps), now)
        )

    def search_many(
        self,
        queries: Iterator[tuple[str, str, datetime | None]],
        *,
        k: int = 10,
        types: tuple[str, ...] = (),
    ) -> Iterator[tuple[str, list[Hit] | str]]:
        """Run many queries with models loaded once: yields (id, hits) or (id, error message)."""
        for qid, text, now in queries:
            try:
                yield qid, self.search(text, k=k, types=types, now=now)
            except Exception as exc:  # one bad query must not stop a batch
                yield qid, str(exc)

    # -- image memory (#17) -----------------------------------------------------------------------

    def search_image(self, path: Path, *, k: int = 10) -> list[Hit]:
        """Screens that look like the picture at ``path``, one per minute, best first.

        Raises:
            ModelUnavailable: no image model (the reason says how to get one).
            BadInput: the file is not a readable image.
        """
        from memory.pipeline.lookalike import search_by_image

        return search_by_image(self.home, self.pipeline().images, path, k)

    def similar_moments(self, obs_id: int, *, k: int = 10) -> list[Hit]:
        """Screens that look like this moment's, leaving out its own minute, best first.

        Raises:
            NotFound: no observation has that id.
            ModelUnavailable: no image model (the reason says how to get one).
            BadQuery: the moment has no picture (audio, chat).
        """
        from memory.pipeline.lookalike import similar_moments

        return similar_moments(self.home, self.pipeline().images, obs_id, k)

    def reindex_images(self, progress: Progress | None = None) -> int:
        """Give every kept screen without one an image vector (`engram reindex --images`).

        Raises:
            ModelUnavailable: no image model (the reason says how to get one).
        """
        images = self.pipeline().images
        if self.home.clip() is None:
            self.models.clip(required=True)  # raises with the reason
        done = images.backfill(progress)
        self.home.remember_vector_count()
        return done

    # -- memories -------------------------------------------------------------------------------

    def list_memories(
        self,
        mtype: str | None = None,
        *,
        limit: int = 100,
        offset: int = 0,
        include_inactive: bool = False,
    ) -> list[Memory]:
        """Memories newest first."""
        return self.store.list_memories(
            mtype, limit=limit, offset=offset, include_inactive=include_inactive
        )

    def memory_types(self) -> list[TypeSummary]:
        """The six memory types with label, description, empty-state hint and live count, for
        the memory browser and `engram memory list`."""
        from memory.memory_types import type_overview

        return type_overview(self.store.read())

    def get_memory(self, mid: int) -> Memory:
        """One memory.

        Raises:
            NotFound: no memory has that id.
        """
        return self.store.get_memory(mid)

    def add_memory(
        self,
        mtype: str,
        data: dict[str, object],
        *,
        source_ids: Sequence[int] = (),
        tree_path: Sequence[str] = (),
        agent: str = "user",
    ) -> int:
        """Add a memory and index it; returns its id."""
        mid = self.store.add_memory(
            mtype, data, source_ids=list(source_ids), tree_path=list(tree_path), agent=agent
        )
        self.vectors.drain()  # its vector, by the outbox entry the insert recorded (#12)
        self.home.remember_vector_count()
        return mid

    def edit_memory(
        self,
        mid: int,
        data: dict[str, object],
        *,
        agent: str = "user",
        tree_path: list[str] | None = None,
    ) -> Changes:
        """Edit a memory (history kept) and re-index it."""
        self.store.edit_memory(mid, data, agent=agent, tree_path=tree_path)
        self.vectors.drain()
        return Changes(memories=True)

    def delete_memory(self, mid: int, *, agent: str = "user") -> Changes:
        """Soft-delete a memory and drop its vector."""
        self.store.delete_memory(mid, agent=agent)
        self.vectors.drain()
        self.home.remember_vector_count()
        return Changes(memories=True)

    def memory_history(self, mid: int) -> list[dict[str, object]]:
        """Audit events of a memory, oldest first."""
        self.store.get_memory(mid)
        return self.store.history(mid)

    # -- forget, export, reindex ----------------------------------------------------------------

    def forget(self, since: float, until: float) -> ForgetReport:
        """Remove every observation with ``since <= ts < until`` and what derives only from them."""
        return forget_observations(self.home, self.store.observation_ids_between(since, until))

    def forget_preview(self, since: float, until: float) -> ForgetPreview:
        """What ``forget(since, until)`` would remove (counts per kind, span, derived memories)."""
        return forget_preview(self.store.read(), since, until)

    def forget_observation(self, obs_id: int) -> ForgetReport:
        """Forget one moment.

        Raises:
            NotFound: no observation has that id.
        """
        o = self.store.get_observation(obs_id)
        return forget_observations(self.home, [o.id])

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the vector index from SQLite; returns the number of vectors."""
        return self.home.rebuild_vectors(progress)

    def status(self) -> dict[str, object]:
        """Counts and locations for `engram status` and the GUI.

        ``vectors`` is the index's count when it is open, else the count remembered at the last
        write (opening Chroma costs seconds; `engram status` answers without it).
        """
        counts = self.store.counts()
        return {"home": str(self.paths.root), "vectors": self.home.vector_count(), **counts}

    def observation(self, obs_id: int) -> Observation:
        """One observation.

        Raises:
            NotFound: no observation has that id.
        """
        return self.store.get_observation(obs_id)

    # -- gui support ----------------------------------------------------------------------------
    # Thin reads/writes the desktop app needs (issue #6); the logic lives in memory/timeline.py,
    # memory/settings/ and memory/store/chat_log.py. Call them off the GUI thread.

    def timeline_summary(self, start: float, end: float, bucket_s: float) -> Summary:
        """Bands, gaps, episodes and representative frames of ``[start, end)`` (a Summary)."""
        from memory.timeline import load_summary

        return load_summary(self.store.read(), start, end, bucket_s)

    def nearest_observation(self, ts: float, kinds: tuple[str, ...] = ()) -> Observation | None:
        """The observation closest in time to ``ts``, or None when there are none."""
        from memory.timeline import nearest_observation_id

        oid = nearest_observation_id(self.store.read(), ts, kinds)
        return None if oid is None else self.store.get_observation(oid)

    def latest_observation(self, start: float, end: float) -> Observation | None:
        """The last observation in ``[start, end)`` (a day the user moved to), or None."""
        from memory.timeline import latest_observation_id

        oid = latest_observation_id(self.store.read(), start, end)
        return None if oid is None else self.store.get_observation(oid)

    def neighbour(self, obs_id: int, step: int) -> Observation | None:
        """The observation after (step=1) or before (step=-1) this one, or None."""
        return self.store.neighbour(obs_id, step)

    def memories_from(self, obs_id: int) -> list[Memory]:
        """Live memories derived from one observation."""
        return self.store.memories_from([obs_id])

    def frame_file(self, obs: Observation) -> Path | None:
        """The stored image of an observation: its full frame, else its thumbnail, or None.

        The stored frame is found from the thumbnail: an import's ``frame_path`` is the manifest's
        path of the user's original, and a thinned screen's points at the thumbnail. Audio has none.
        """
        from memory.media.frames import THUMB_SUFFIX, full_for_thumb

        thumb = obs.thumb_path
        if thumb and thumb.endswith(THUMB_SUFFIX):
            full = self.paths.root / full_for_thumb(thumb)
            return full if full.is_file() else self.paths.root / thumb
        rel = obs.frame_path
        if obs.kind == "screen" and obs.origin == "capture" and rel and not Path(rel).is_absolute():
            return self.paths.root / rel
        return None

    def lock_home(self) -> bool:
        """Lock an encrypted home (``engram lock``, the tray): every process refuses it until
        unlocked, a running recorder stops; the caller then closes this service. Returns False
        for a plain home (nothing to lock)."""
        from memory.atrest import keys

        if not keys.is_encrypted(self.paths.root):
            return False
        keys.lock(self.paths.root)
        return True

    def image_bytes(self, path: Path) -> bytes:
        """The content of a stored frame or thumbnail, decrypted in memory in an encrypted home
        (#12): the GUI decodes these bytes, never the file itself.

        Raises:
            FileNotFoundError: the file is gone.
            EngramLocked: the file is encrypted and the home is locked.
        """
        from memory.media.sealed import unseal

        return unseal(self.home.file_key, Path(path).read_bytes(), Path(path).name)

    def thumbnail_file(self, obs_id: int) -> Path | None:
        """The thumbnail of an observation (its full frame when there is none), or None."""
        obs = self.store.get_observation(obs_id)
        if obs.thumb_path:
            return self.paths.root / obs.thumb_path
        return self.frame_file(obs)

    def get_settings(self) -> dict[str, object]:
        """Every setting by dotted key (``capture.interval_s``): config.toml over the defaults."""
        return flatten(self.settings.current)

    def set_settings(self, values: dict[str, object]) -> Changes:
        """Validate and save some settings by dotted key; a running recorder and the agents
        apply them at once (``settings.changed``).

        Raises:
            SettingsKeyError: an unknown key or a refused value (named); nothing was saved.
        """
        self.settings.update(values)
        return Changes(settings=True)

    def chat_sessions(self) -> list[ChatSession]:
        """Kept chat sessions, most recent first."""
        from memory.store.chat_log import list_sessions

        return list_sessions(self.store.read())

    def chat_messages(self, session_id: int) -> list[ChatMessage]:
        """Messages of one chat session, oldest first."""
        from memory.store.chat_log import session_messages

        return session_messages(self.store.read(), session_id)

    def save_chat_turn(
        self,
        session_id: int | None,
        question: str,
        answer: str,
        citations: list[dict[str, object]],
    ) -> int:
        """Keep one question and its answer; creates the session when ``session_id`` is None."""
        from memory.store.chat_log import keep_turn

        return self.store.write(
            lambda c: keep_turn(c, session_id, question, answer, citations), "chat turn"
        )

    # -- pipeline (capture, indexing, vault) --

    def pipeline(self, options: PipelineOptions | None = None) -> Pipeline:
        """The capture pipeline of this home, built once (``options`` count on the first call)."""
        with self._pipeline_lock:
            if self._pipeline is None:
                from memory.pipeline.core import Pipeline

                self._pipeline = Pipeline(self.home, options)
            return self._pipeline

    def import_frames(
        self, path: Path, *, skip_bad: bool = False, progress: Progress | None = None
    ) -> FrameImportReport:
        """Import a frames manifest (JSONL) or a folder of images, then index them.

        Raises:
            ImportFailed: a bad line or image (unless ``skip_bad``); nothing was written.
        """
        return self.pipeline().import_frames(path, skip_bad=skip_bad, progress=progress)

    def index_frames(self, progress: Progress | None = None) -> int:
        """Index pending screen, import and audio observations now; returns how many."""
        done = self.pipeline().indexer.process_pending(progress)
        self.home.remember_vector_count()
        return done

    def resume_pending(self, progress: Progress | None = None) -> int:
        """Index everything an earlier run or a crash left ``pending``: chat, frames and audio.

        Blocks until done (OCR and speech-to-text run here): call it off the GUI thread.
        ``engram run`` gets the same from its indexing worker. Returns how many were indexed.
        """
        return self.index_pending(progress) + self.index_frames(progress)

    def vault(self) -> Vault:
        """The vault of secrets seen on screen."""
        return self.pipeline().vault

    # Recording for the desktop app: the same ``Recorder`` as `engram run --headless`
    # (memory/pipeline/recorder.py), built from the live settings. Safe from any thread.

    def start_capture(self) -> dict[str, object]:
        """Start capture, indexing and memorising in background threads (idempotent).

        Built from the settings, which it then follows live; pending frames and audio left by a
        crash are indexed first by the indexing worker. Returns ``capture_status()``.
        """
        from memory.pipeline.recorder import Recorder

        with self._capture_lock:
            if self._capture is None:
                self._capture_error = None
                try:
                    recorder = Recorder(
                        self.home, self.pipeline(), memorizing=self._agents, housekeeping=True
                    )
                except ValueError as exc:  # a title pattern the capture layer refuses
                    self._capture_error = f"bad capture settings: {exc}"
                    return self.capture_status()
                self._capture = recorder
                for note in recorder.start():
                    logger.info("capture: %s", note)
        return self.capture_status()

    def pause_capture(self) -> dict[str, object]:
        """Pause screen and audio capture (indexing goes on); returns ``capture_status()``."""
        recorder = self._capture
        if recorder is not None:
            recorder.pause()
        return self.capture_status()

    def resume_capture(self) -> dict[str, object]:
        """Resume capture after ``pause_capture`` (no-op when not started); ``capture_status()``."""
        recorder = self._capture
        if recorder is not None:
            recorder.resume()
        return self.capture_status()

    def restart_capture(self) -> dict[str, object]:
        """Stop, then start again when ``capture.enabled`` is on (keeps a user pause)."""
        was_paused = self._capture is not None and self._capture.user_paused
        self.stop_capture()
        if self.settings.current.capture.enabled:
            self.start_capture()
            if was_paused:
                self.pause_capture()
        return self.capture_status()

    def capture_status(self) -> dict[str, object]:
        """State (capturing|paused|unavailable|error|stopped), reason, frames kept/skipped/private,
        pending, indexed, errors and the audio status."""
        recorder = self._capture
        if recorder is not None:
            return recorder.summary()
        error = self._capture_error
        return {
            "state": "error" if error else "stopped",
            "reason": error or "not started",
            **_STOPPED,
        }

    def stop_capture(self) -> None:
        """Stop capture, flush the indexing backlog and join every capture thread (idempotent)."""
        with self._capture_lock:
            recorder, self._capture = self._capture, None
        if recorder is not None:
            recorder.stop()

    def headless_run(self, overrides: dict[str, object] | None = None) -> HeadlessRun:
        """A foreground recorder for `engram run --headless` (``overrides``: this run's flags).

        Raises:
            SettingsKeyError: an override the settings refuse (named).
            ValueError: settings the capture layer refuses.
        """
        from memory.pipeline.runner import HeadlessRun

        return HeadlessRun(self.home, self.pipeline(), memorizing=self._agents, overrides=overrides)

    # -- agents (memorise, ask, chat) --

    def agents(
        self,
        llm: AgentLLM | None | FromSettings = FROM_SETTINGS,
        config: AgentConfig | None = None,
    ) -> Agents:
        """The memory agents of this home, built on first use with the assistant of the settings
        (loaded on its first question) and rebuilt when those settings change. Passing ``llm``
        (None: no LLM, deterministic memories and extractive answers) pins that LLM; passing
        ``config`` rebuilds with it.
        """
        return self._agents.get(llm, config)

    def chat_unavailable_reason(self) -> str | None:
        """Why answers come without an LLM (none is configured), or None. A configured model
        that cannot load says why in the answer itself."""
        if self.settings.current.assistant.backend == "none":
            return NO_ASSISTANT
        return None

    def warm_assistant(self) -> float:
        """Load the configured assistant and evaluate its fixed prompt prefix now (the app calls
        this off the GUI thread at start, so the first question does not wait for them);
        returns seconds spent. A model that cannot load is left for the chat to report."""
        agents = self.agents()
        if agents.llm is None:
            return 0.0
        try:
            return float(agents.chat.prime())
        except Exception as exc:  # reported again, with the reason, when a question is asked
            logger.info("the assistant could not be warmed: %s", exc)
            return 0.0

    def assistant_choices(self, detect: bool = True) -> list[AssistantChoice]:
        """The assistants to offer: detected local servers with their models, models on disk,
        recommended downloads, none."""
        from memory.agents.assistant import assistant_choices

        return assistant_choices(detect, self.models.config.cache_dir)

    def use_assistant(
        self, choice: AssistantChoice, progress: Callable[[int, int | None], None] | None = None
    ) -> Changes:
        """Make ``choice`` the assistant: download it first if it is a recommended model (with
        ``progress``) and save it in the settings; the models and the agents follow at once.

        Raises:
            ModelUnavailable, DownloadError: the download failed (nothing was changed).
        """
        from memory.agents.assistant import choice_settings

        if choice.kind == "download":
            from models.download import pull

            pull(choice.model_id, cache_dir=self.models.config.cache_dir, progress=progress)
        self.settings.update(choice_settings(choice))
        self._agents.follow_settings()
        return Changes(settings=True)

    def memorize_pending(self, progress: Progress | None = None) -> list[BatchResult]:
        """Memorise every indexed observation now, batch by batch.

        Raises:
            LLMUnavailable: the configured LLM is down; the rest stays queued.
        """
        return self.agents().memorize_pending(progress)

    def ask(
        self,
        question: str,
        *,
        now: datetime | None = None,
        session_id: int | None = None,
        history: Sequence[dict[str, str]] = (),
        keep: bool = True,
    ) -> Answer:
        """Answer from memory with citations; the turn is kept."""
        return self.agents().ask(
            question, now=now, session_id=session_id, history=history, keep=keep
        )

    def ask_stream(
        self,
        question: str,
        *,
        now: datetime | None = None,
        session_id: int | None = None,
        history: Sequence[dict[str, str]] = (),
        keep: bool = True,
    ) -> AnswerStream:
        """Like ``ask`` but iterable over text pieces; ``.result`` is the Answer afterwards."""
        return self.agents().ask_stream(
            question, now=now, session_id=session_id, history=history, keep=keep
        )

    def start_memorizing(self) -> None:
        """Start the background memorising worker."""
        self._agents.start_memorizing()

    def notify_indexed(self, n: int = 0) -> None:
        """Indexing produced new observations: the worker batches them."""
        self._agents.notify_indexed(n)

    def stop_memorizing(self) -> None:
        """Stop the background memorising worker (joins its thread)."""
        self._agents.stop_memorizing()


__all__ = ["ImportReport", "MemoryService", "NotFound"]
