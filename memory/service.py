"""MemoryService: the one facade the CLI and the GUI call; it wires store, indexes and models."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from memory.changes import Changes
from memory.errors import NotFound
from memory.importers.chat import ChatLine, read_chat_jsonl
from memory.index.locks import IndexLock
from memory.index.sync import Progress, VectorSync
from memory.index.vectors import ChromaIndex, VectorIndex
from memory.paths import HomePaths
from memory.pipeline.progress import phase as _phase
from memory.privacy.forget import ForgetPreview, ForgetReport, forget_preview, forget_rows
from memory.search.hits import Hit
from memory.search.hybrid import Searcher, SearchQuery
from memory.settings.config_file import read_config, write_section
from memory.store import Memory, MemoryStore, NewObservation
from models.protocols import TextEmbedder

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from memory.modelhub import ModelHub


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did."""

    imported: int
    duplicates: int
    skipped: tuple[tuple[int, str], ...] = ()


class MemoryService:
    """Everything a user can do with one Engram home.

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
        self.paths = HomePaths(Path(home))
        self.paths.create()
        self.store = MemoryStore(self.paths.db)
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._index_lock = IndexLock(self.paths.root / "vectors.lock")
        self._open_lock = threading.RLock()
        self._reconcile = reconcile
        if index is not None:
            self.__dict__["_index"] = index

    # -- lazy parts: Chroma and the models load on first use, so `engram status`, `memory list`
    # and an argument error answer without importing chromadb or torch (#13) --------------------

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened (and reconciled with SQLite) on first use."""
        self._open_vectors()
        return self.__dict__["_index"]  # type: ignore[no-any-return]

    @property
    def vectors(self) -> VectorSync:
        """Writes and repairs vectors; opening it opens the index."""
        self._open_vectors()
        return self.__dict__["_vectors"]  # type: ignore[no-any-return]

    @property
    def searcher(self) -> Searcher:
        """The hybrid searcher; opening it opens the index."""
        self._open_vectors()
        return self.__dict__["_searcher"]  # type: ignore[no-any-return]

    def warm_up(self) -> None:
        """Load the text model and open (and reconcile) the vector index now, not on first use.

        For long-running work (`engram run`, the app's recorder) that would otherwise pay for it
        in the middle of its first batch.
        """
        self.embedder()
        self._open_vectors()

    def _open_vectors(self) -> None:
        if "_searcher" in self.__dict__:
            return
        with self._open_lock:
            if "_searcher" in self.__dict__:
                return
            if "_index" not in self.__dict__:
                # two processes creating the collections at once race in Chroma
                with self._index_lock:
                    self.__dict__["_index"] = ChromaIndex(self.paths.vectors)
            index = self.__dict__["_index"]
            self.__dict__["_vectors"] = VectorSync(
                self.store, index, self.embedder, self._index_lock
            )
            self.__dict__["_searcher"] = Searcher(
                self.store, index, self.embedder, lock=self._index_lock
            )
            if self._reconcile:
                self.startup_repair()

    # -- lifecycle ------------------------------------------------------------------------------

    def embedder(self) -> TextEmbedder:
        """The text embedder (the model hub's unless one was injected), created on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self.models.text_embedder()
            return self._embedder

    @property
    def models(self) -> ModelHub:
        """The on-device models, configured by the ``[models]`` table of config.toml."""
        hub = self.__dict__.get("_models")
        if hub is None:
            from memory.modelhub import ModelHub
            from models.config import ModelConfig

            section = read_config(self.paths.config).get("models", {})
            hub = self.__dict__["_models"] = ModelHub(ModelConfig.model_validate(section))
        return hub

    def save_model_config(self, config: Any) -> None:
        """Persist a ModelConfig into config.toml (``engram models use``, the settings dialog)."""
        write_section(self.paths.config, "models", config.model_dump(mode="json"))

    def startup_repair(self, progress: Progress | None = None) -> None:
        """Rebuild vectors if the model changed, index pending chat, fix index drift."""
        if self.vectors.ensure_model(progress):
            return
        self.index_pending()
        expected = self.store.get_meta("vector_count")
        if expected is None or int(expected) != self.index.count():
            added, removed = self.vectors.reconcile()
            if added or removed:
                logger.info("vector index reconciled: %d added, %d removed", added, removed)
        self._remember_vector_count()

    def _remember_vector_count(self) -> None:
        if "_searcher" not in self.__dict__:
            return  # the index was never opened, so its count did not change
        self.store.set_meta("vector_count", str(self.index.count()))

    def close(self) -> None:
        """Stop background workers, flush and close everything; joins their threads."""
        self.stop_capture()  # a no-op when capture never started
        if "_agents" in self.__dict__:
            self.stop_memorizing()
        self.store.close()
        self._index_lock.close()

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
        """Embed pending text observations (chat, imports) and mark them indexed; returns how many."""
        done = 0
        total = self.store.counts()["by_status"].get("pending", 0)
        if total:
            _phase(progress, "embedding and indexing")
        while True:
            pending = [
                o for o in self.store.observations_with_status("pending", batch) if o.kind == "chat"
            ]
            if not pending:
                break
            contexts = dict(
                self.store.read()
                .execute(
                    f"SELECT id, context FROM observations WHERE id IN ({','.join('?' * len(pending))})",
                    [o.id for o in pending],
                )
                .fetchall()
            )
            self.vectors.add_observations(pending, contexts)
            self.store.set_status([o.id for o in pending], "indexed")
            done += len(pending)
            if progress:
                progress(done, total)
        if done:
            self._remember_vector_count()
        return done

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

    def memory_types(self) -> list[Any]:
        """The six memory types with label, description, empty-state hint and live count
        (``memory.memory_types.TypeSummary``), for the memory browser and `engram memory list`."""
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
        data: dict[str, Any],
        *,
        source_ids: list[int] = (),  # type: ignore[assignment]
        tree_path: list[str] = (),
        agent: str = "user",
    ) -> int:  # type: ignore[assignment]
        """Add a memory and index it; returns its id."""
        mid = self.store.add_memory(
            mtype, data, source_ids=list(source_ids), tree_path=list(tree_path), agent=agent
        )
        self.vectors.add_memories([self.store.get_memory(mid)])
        self._remember_vector_count()
        return mid

    def edit_memory(
        self,
        mid: int,
        data: dict[str, Any],
        *,
        agent: str = "user",
        tree_path: list[str] | None = None,
    ) -> Changes:
        """Edit a memory (history kept) and re-index it."""
        new = self.store.edit_memory(mid, data, agent=agent, tree_path=tree_path)
        self.vectors.add_memories([new])
        return Changes(memories=True)

    def delete_memory(self, mid: int, *, agent: str = "user") -> Changes:
        """Soft-delete a memory and drop its vector."""
        self.store.delete_memory(mid, agent=agent)
        self.vectors.delete_memories([mid])
        self._remember_vector_count()
        return Changes(memories=True)

    def memory_history(self, mid: int) -> list[dict[str, Any]]:
        """Audit events of a memory, oldest first."""
        self.store.get_memory(mid)
        return self.store.history(mid)

    # -- forget, export, reindex ----------------------------------------------------------------

    def forget(self, since: float, until: float) -> ForgetReport:
        """Remove every observation with ``since <= ts < until`` and what derives only from them."""
        ids = [
            r[0]
            for r in self.store.read().execute(
                "SELECT id FROM observations WHERE ts_start >= ? AND ts_start < ?", (since, until)
            )
        ]
        report = self.store.write(lambda c: forget_rows(c, ids), "forget")
        self.vectors.delete_observations(report.observation_ids)
        self.vectors.delete_memories(report.memory_ids)
        for rel in report.files:
            path = self.paths.root / rel
            if path.is_file():
                path.unlink()
        self._remember_vector_count()
        return report

    def forget_preview(self, since: float, until: float) -> ForgetPreview:
        """What ``forget(since, until)`` would remove (counts per kind, span, derived memories)."""
        return forget_preview(self.store.read(), since, until)

    def forget_observation(self, obs_id: int) -> ForgetReport:
        """Forget one moment.

        Raises:
            NotFound: no observation has that id.
        """
        o = self.store.get_observation(obs_id)
        report = self.store.write(lambda c: forget_rows(c, [o.id]), "forget")
        self.vectors.delete_observations([o.id])
        self.vectors.delete_memories(report.memory_ids)
        for rel in report.files:
            (self.paths.root / rel).unlink(missing_ok=True)
        self._remember_vector_count()
        return report

    def reindex(self, progress: Progress | None = None) -> int:
        """Rebuild the vector index from SQLite; returns the number of vectors."""
        written = self.vectors.rebuild(progress)
        emb = self.embedder()
        self.store.set_meta("embedding_model", f"{emb.model_id}:{emb.dim}")
        self._remember_vector_count()
        return written

    def status(self) -> dict[str, Any]:
        """Counts and locations for `engram status` and the GUI.

        ``vectors`` is the index's count when it is open, else the count remembered at the last
        write (opening Chroma costs seconds; `engram status` answers without it).
        """
        counts = self.store.counts()
        if "_index" in self.__dict__:
            vectors = self.__dict__["_index"].count()
        else:
            vectors = int(self.store.get_meta("vector_count") or 0)
        return {"home": str(self.paths.root), "vectors": vectors, **counts}

    def observation(self, obs_id: int) -> Any:
        """One observation.

        Raises:
            NotFound: no observation has that id.
        """
        return self.store.get_observation(obs_id)

    # -- gui support ----------------------------------------------------------------------------
    # Thin reads/writes the desktop app needs (issue #6); the logic lives in memory/timeline.py,
    # memory/settings/table.py and memory/agents/chat_log.py. Call them off the GUI thread.

    def timeline_summary(self, start: float, end: float, bucket_s: float) -> Any:
        """Bands, gaps, episodes and representative frames of ``[start, end)`` (a timeline.Summary)."""
        from memory.timeline import load_summary

        return load_summary(self.store.read(), start, end, bucket_s)

    def nearest_observation(self, ts: float, kinds: tuple[str, ...] = ()) -> Any:
        """The observation closest in time to ``ts``, or None when there are none."""
        from memory.timeline import nearest_observation_id

        oid = nearest_observation_id(self.store.read(), ts, kinds)
        return None if oid is None else self.store.get_observation(oid)

    def neighbour(self, obs_id: int, step: int) -> Any:
        """The observation after (step=1) or before (step=-1) this one, or None."""
        return self.store.neighbour(obs_id, step)

    def memories_from(self, obs_id: int) -> list[Memory]:
        """Live memories derived from one observation."""
        return self.store.memories_from([obs_id])

    def frame_file(self, obs: Any) -> Path | None:
        """The stored image of an observation: its full frame, else its thumbnail (thinned), or None.

        The stored frame is found from the thumbnail: an import's ``frame_path`` is the manifest's
        path of the user's original, and a thinned screen's points at the thumbnail. Audio has none.
        """
        from memory.pipeline.frames import THUMB_SUFFIX, full_for_thumb

        thumb = obs.thumb_path
        if thumb and thumb.endswith(THUMB_SUFFIX):
            full = self.paths.root / full_for_thumb(thumb)
            return full if full.is_file() else self.paths.root / thumb
        rel = obs.frame_path
        if obs.kind == "screen" and obs.origin == "capture" and rel and not Path(rel).is_absolute():
            return self.paths.root / rel
        return None

    def thumbnail_file(self, obs_id: int) -> Path | None:
        """The thumbnail of an observation (its full frame when there is none), or None."""
        obs = self.store.get_observation(obs_id)
        if obs.thumb_path:
            return self.paths.root / obs.thumb_path
        return self.frame_file(obs)

    def get_settings(self) -> dict[str, Any]:
        """Every user setting (stored values over defaults)."""
        from memory.settings.table import read_settings

        return read_settings(self.store.read())

    def set_settings(self, values: dict[str, Any]) -> Changes:
        """Store some settings.

        Raises:
            BadQuery: an unknown key.
        """
        from memory.settings.table import write_settings

        self.store.write(lambda c: write_settings(c, values), "settings")
        return Changes(settings=True)

    def chat_sessions(self) -> list[Any]:
        """Kept chat sessions, most recent first."""
        from memory.agents.chat_log import list_sessions

        return list_sessions(self.store.read())

    def chat_messages(self, session_id: int) -> list[Any]:
        """Messages of one chat session, oldest first."""
        from memory.agents.chat_log import session_messages

        return session_messages(self.store.read(), session_id)

    def save_chat_turn(
        self, session_id: int | None, question: str, answer: str, citations: list[dict[str, Any]]
    ) -> int:
        """Keep one question and its answer; creates the session when ``session_id`` is None."""
        from memory.agents.chat_log import add_message, create_session

        def _do(conn: Any) -> int:
            sid = session_id if session_id is not None else create_session(conn, question)
            add_message(conn, sid, "user", question)
            add_message(conn, sid, "assistant", answer, citations)
            return sid

        return self.store.write(_do, "chat turn")

    # -- pipeline (capture, indexing, vault) --

    def pipeline(self, options: Any = None) -> Any:
        """The capture pipeline of this home (``memory.pipeline.core.Pipeline``), built on first use.

        ``options`` (a ``PipelineOptions``) only counts on the first call.
        """
        existing = self.__dict__.get("_pipeline")
        if existing is None:
            from memory.pipeline.core import Pipeline

            existing = self.__dict__["_pipeline"] = Pipeline(self, options)
        return existing

    def import_frames(
        self, path: Path, *, skip_bad: bool = False, progress: Progress | None = None
    ) -> Any:
        """Import a frames manifest (JSONL) or a folder of images, then index them.

        Raises:
            ImportFailed: a bad line or image (unless ``skip_bad``); nothing was written.
        """
        return self.pipeline().import_frames(path, skip_bad=skip_bad, progress=progress)

    def index_frames(self, progress: Progress | None = None) -> int:
        """Index pending screen, import and audio observations now; returns how many were indexed."""
        done = self.pipeline().indexer.process_pending(progress)
        self._remember_vector_count()
        return done

    def resume_pending(self, progress: Progress | None = None) -> int:
        """Index everything an earlier run or a crash left ``pending``: chat, frames and audio.

        Blocks until done (OCR and speech-to-text run here): call it off the GUI thread.
        ``engram run`` gets the same from its indexing worker. Returns how many were indexed.
        """
        return self.index_pending(progress) + self.index_frames(progress)

    def vault(self) -> Any:
        """The vault store (``memory.vault.store.Vault``)."""
        return self.pipeline().vault

    # Recording for the desktop app: the same ``Recorder`` as `engram run --headless`
    # (memory/pipeline/recorder.py), built from the saved settings. Safe from any thread.

    def _capture_guard(self) -> threading.Lock:
        return self.__dict__.setdefault("_capture_lock", threading.Lock())  # type: ignore[no-any-return]

    def start_capture(self) -> dict[str, Any]:
        """Start screen/audio capture, indexing and memorising in background threads (no-op if running).

        Built from the saved settings; pending frames and audio left by a crash are indexed first
        by the indexing worker. Returns ``capture_status()``.
        """
        from memory.pipeline.recorder import Recorder, config_from_settings

        with self._capture_guard():
            if self.__dict__.get("_capture") is None:
                self.__dict__["_capture_error"] = None
                try:
                    config, policy = config_from_settings(self.get_settings())
                except ValueError as exc:  # a bad monitor list or title pattern in the settings
                    self.__dict__["_capture_error"] = f"bad capture settings: {exc}"
                    return self.capture_status()
                recorder = Recorder(self, config, policy=policy, housekeeping=True)
                self.__dict__["_capture"] = recorder
                for note in recorder.start():
                    logger.info("capture: %s", note)
        return self.capture_status()

    def pause_capture(self) -> dict[str, Any]:
        """Pause screen and audio capture (indexing goes on); returns ``capture_status()``."""
        recorder = self.__dict__.get("_capture")
        if recorder is not None:
            recorder.pause()
        return self.capture_status()

    def resume_capture(self) -> dict[str, Any]:
        """Resume capture after ``pause_capture`` (a no-op when not started); returns ``capture_status()``."""
        recorder = self.__dict__.get("_capture")
        if recorder is not None:
            recorder.resume()
        return self.capture_status()

    def restart_capture(self) -> dict[str, Any]:
        """Apply changed capture settings: stop, then start again when ``capture.enabled`` is on."""
        was_paused = getattr(self.__dict__.get("_capture"), "user_paused", False)
        self.stop_capture()
        if self.get_settings().get("capture.enabled", True):
            self.start_capture()
            if was_paused:
                self.pause_capture()
        return self.capture_status()

    def capture_status(self) -> dict[str, Any]:
        """State (capturing|paused|unavailable|error|stopped), reason, frames kept/skipped, pending,
        indexed, errors and the audio status."""
        recorder = self.__dict__.get("_capture")
        if recorder is not None:
            return recorder.summary()  # type: ignore[no-any-return]
        error = self.__dict__.get("_capture_error")
        return {
            "state": "error" if error else "stopped",
            "reason": error or "not started",
            "frames_kept": 0,
            "frames_skipped": 0,
            "pending": 0,
            "indexed": 0,
            "errors": 0,
            "audio": "off",
        }

    def stop_capture(self) -> None:
        """Stop capture, flush the indexing backlog and join every capture thread (no-op if stopped)."""
        if "_capture_lock" not in self.__dict__:
            return
        with self._capture_guard():
            recorder = self.__dict__.pop("_capture", None)
            if recorder is not None:
                recorder.stop()

    # -- agents (memorise, ask, chat) --

    def agents(self, llm: Any = None, config: Any = None) -> Any:
        """The memory agents of this home (``memory.agents.Agents``), built on first use.

        ``llm`` (an object with ``chat``/``stream``/``json``; None = no LLM, deterministic memories
        and extractive answers) and ``config`` (``AgentConfig``) count on the first call, or pass
        them again to rebuild.
        """
        existing = self.__dict__.get("_agents")
        if existing is None or llm is not None or config is not None:
            from memory.agents import Agents

            if existing is not None:
                existing.worker.stop()
            existing = self.__dict__["_agents"] = Agents(self, llm, config)
        return existing

    def memorize_pending(self, progress: Progress | None = None) -> list[Any]:
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
        history: list[dict[str, str]] = (),
        keep: bool = True,
    ) -> Any:  # type: ignore[assignment]
        """Answer from memory with citations (``memory.agents.Answer``); the turn is kept."""
        return self.agents().ask(
            question, now=now, session_id=session_id, history=history, keep=keep
        )

    def ask_stream(
        self,
        question: str,
        *,
        now: datetime | None = None,
        session_id: int | None = None,
        history: list[dict[str, str]] = (),
        keep: bool = True,
    ) -> Any:  # type: ignore[assignment]
        """Like ``ask`` but iterable over text pieces; ``.result`` is the Answer afterwards."""
        return self.agents().ask_stream(
            question, now=now, session_id=session_id, history=history, keep=keep
        )

    def start_memorizing(self) -> None:
        """Start the background memorising worker (call ``notify_indexed`` from the indexer hook)."""
        self.agents().worker.start()

    def notify_indexed(self, n: int = 0) -> None:
        """Indexing produced new observations: the worker batches them (the pipeline's hook)."""
        agents = self.__dict__.get("_agents")
        if agents is not None:
            agents.worker.notify()

    def stop_memorizing(self) -> None:
        """Stop the background memorising worker (joins its thread)."""
        agents = self.__dict__.get("_agents")
        if agents is not None:
            agents.worker.stop()


__all__ = ["ImportReport", "MemoryService", "NotFound"]
