"""One Engram home opened for use: paths, settings, store, vector index and its sync, models (#10).

Subsystems (pipeline/, agents/, search/, importers/) take a ``Home``, never the ``MemoryService``
facade: a part gets the pieces it needs, and the facade stays a thin, typed door for app and CLI.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from memory.atrest.keys import db_key, keys_for
from memory.health import guard_database
from memory.index.locks import IndexLock
from memory.index.sync import Progress, VectorSync
from memory.index.tagged import TAGGED_MARK, TaggedIndex
from memory.index.vectors import ChromaIndex, VectorIndex
from memory.paths import HomePaths
from memory.privacy.forget import settle_debts, sweep_deletions
from memory.progress import phase
from memory.search.hits import Hit
from memory.search.hybrid import Searcher, SearchQuery, Weights
from memory.settings import LiveSettings, Settings
from memory.settings.load import read_settings
from memory.settings.migrate import migrate_settings_table
from memory.store import MemoryStore
from memory.store.legacy_settings import read_legacy_settings
from models.errors import ModelUnavailable
from models.protocols import ImageTextEmbedder, TextEmbedder

if TYPE_CHECKING:
    from memory.modelhub import ModelHub

logger = logging.getLogger(__name__)


def open_settings(root: Path) -> LiveSettings:
    """The settings of a home without opening its indexes (``engram config``).

    The old settings table of an existing database is carried into config.toml first (once).
    """
    paths = HomePaths(Path(root))
    paths.create()
    if paths.db.exists():
        store = MemoryStore(paths.db, key=db_key(paths.db, keys_for(paths.root)))
        try:
            migrate_settings_table(paths.root, lambda: read_legacy_settings(store.read()))
        finally:
            store.close()
    return LiveSettings(paths.root)


def wants_encryption(root: Path) -> bool:
    """The ``privacy.encrypt_at_rest`` setting (False when config.toml cannot be read)."""
    try:
        return read_settings(root).settings.privacy.encrypt_at_rest
    except Exception:  # noqa: BLE001 - a bad config is reported by the settings code itself
        return False


class Home:
    """The shared pieces of one home. Thread-safe; ``close`` releases the store and the lock.

    The vector index (Chroma) and the models open on first use, so commands that only read the
    database answer without importing them (#13).

    Args:
        root: the home folder (created 0700).
        embedder: a text embedder to use instead of the model hub's (tests, benchmarks).
        index: a vector index to use instead of the home's Chroma folder (tests).
        reconcile: when the index opens, repair drift between it and SQLite.
    """

    def __init__(
        self,
        root: Path,
        *,
        embedder: TextEmbedder | None = None,
        index: VectorIndex | None = None,
        reconcile: bool = True,
    ) -> None:
        self.paths = HomePaths(Path(root))
        self.paths.create()
        guard_database(self.paths)  # never re-create an emptied database over a home's data
        wanted = wants_encryption(self.paths.root)
        #: the keys of an encrypted home (None: plain); raises EngramLocked when locked (#12)
        self.keys = keys_for(self.paths.root, new_home_encrypted=wanted)
        if wanted and self.keys is None:
            logger.warning(
                "privacy.encrypt_at_rest is on but this home is still plain: run `engram encrypt`"
            )
        self.store = MemoryStore(self.paths.db, key=db_key(self.paths.db, self.keys))
        self.index_lock = IndexLock(self.paths.root / "vectors.lock")
        try:
            migrate_settings_table(self.paths.root, lambda: read_legacy_settings(self.store.read()))
            self.settings = LiveSettings(self.paths.root)
        except BaseException:
            self.store.close()
            self.index_lock.close()
            raise
        self._index: VectorIndex | None = index
        self._vectors: VectorSync | None = None
        self._searcher: Searcher | None = None
        self._reconcile = reconcile
        self.vectors_replaced = False
        if reconcile:  # files a killed forget still owes go now; its vector work when it opens
            sweep_deletions(self.store, self.paths.root)
        self._open_lock = threading.RLock()
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._models: ModelHub | None = None
        self._models_lock = threading.Lock()
        self._clip_retry_at = 0.0
        #: why the image model is unavailable, once a use found it so
        self.clip_unavailable: str | None = None
        self.settings.changed.connect(self._on_settings_changed)

    # -- the vector index, opened on first use ------------------------------------------------

    @property
    def index(self) -> VectorIndex:
        """The vector index, opened (and reconciled with SQLite) on first use."""
        return self._open()[0]

    @property
    def vectors(self) -> VectorSync:
        """Writes and repairs vectors; using it opens the index."""
        return self._open()[1]

    @property
    def searcher(self) -> Searcher:
        """The hybrid searcher; using it opens the index."""
        return self._open()[2]

    @property
    def index_is_open(self) -> bool:
        """Whether the vector index was opened in this process."""
        return self._searcher is not None

    def vector_count(self) -> int:
        """Vectors in the index when it is open, else the count remembered at the last write."""
        if self._searcher is not None and self._index is not None:
            return self._index.count()
        return int(self.store.get_meta("vector_count") or 0)

    def _open(self) -> tuple[VectorIndex, VectorSync, Searcher]:
        with self._open_lock:
            if self._index is None:
                with self.index_lock:  # two processes creating the collections race in Chroma
                    chroma, self.vectors_replaced = ChromaIndex.open_or_replace(self.paths.vectors)
                    self._index = self._tagged(chroma)
            if self._vectors is None or self._searcher is None:
                self._vectors = VectorSync(self.store, self._index, self.embedder, self.index_lock)
                self._searcher = Searcher(
                    self.store,
                    self._index,
                    self.embedder,
                    lock=self.index_lock,
                    clip=self.clip,
                    weights=Weights(obs_image=self.settings.current.search.image_weight),
                )
                if self._reconcile:
                    self.startup_repair()
            return self._index, self._vectors, self._searcher

    def startup_repair(self, progress: Progress | None = None) -> None:
        """Settle what a crash left owed (files, vectors), rebuild a replaced (damaged) index or
        one of another model, index pending chat, fix index drift."""
        settle_debts(self.store, self.vectors, self.paths.root)
        if self.vectors_replaced:
            self.rebuild_vectors(progress)
            return
        if self.vectors.ensure_model(progress):
            return
        self.index_pending()
        expected = self.store.get_meta("vector_count")
        if expected is None or int(expected) != self.index.count():
            added, removed = self.vectors.reconcile()
            if added or removed:
                logger.info("vector index reconciled: %d added, %d removed", added, removed)
        self.remember_vector_count()

    # -- models -----------------------------------------------------------------------------------

    @property
    def models(self) -> ModelHub:
        """The on-device models of the settings' ``models`` section (rebuilt when it changes)."""
        with self._models_lock:
            if self._models is None:
                from memory.modelhub import ModelHub

                self._models = ModelHub(self.settings.current.models.model_copy(deep=True))
            return self._models

    def embedder(self) -> TextEmbedder:
        """The text embedder (the model hub's unless one was injected), created on first use."""
        with self._embedder_lock:
            if self._embedder is None:
                self._embedder = self.models.text_embedder()
            return self._embedder

    def clip(self) -> ImageTextEmbedder | None:
        """The image model (CLIP), or None when it is unavailable (search then runs on text).

        An unavailable model is asked again after a minute or when the model settings change,
        so a frame loop does not look for missing weights on every batch.
        """
        if time.monotonic() < self._clip_retry_at:
            return None
        try:
            return self.models.clip(required=True)
        except ModelUnavailable as exc:
            self.clip_unavailable = exc.reason
            self._clip_retry_at = time.monotonic() + 60.0
            return None

    def _on_settings_changed(self, new: Settings, old: Settings) -> None:
        if self._searcher is not None and new.search != old.search:
            self._searcher.weights = replace(
                self._searcher.weights, obs_image=new.search.image_weight
            )
        if new.models == old.models:
            return
        self._clip_retry_at = 0.0
        with self._models_lock:
            hub, self._models = self._models, None
        if hub is not None:
            hub.unload_all()  # the next use loads what the new settings name
        logger.info("model settings changed: models reload on next use")

    # -- index bookkeeping --------------------------------------------------------------------

    def rebuild_vectors(self, progress: Progress | None = None) -> int:
        """Rebuild the vector index from SQLite; returns the number of vectors."""
        written = self.vectors.rebuild(progress)
        self.vectors_replaced = False
        emb = self.embedder()
        self.store.set_meta("embedding_model", f"{emb.model_id}:{emb.dim}")
        self.remember_vector_count()
        return written

    def repair(self, progress: Progress | None = None, *, rebuild: bool = False) -> list[str]:
        """Fix what can be fixed without losing rows (`engram repair`); returns what was done.

        Carries out owed file deletions and vector work, rebuilds a replaced (damaged) vector
        index (or any when ``rebuild``), else reconciles the vectors with the rows by id, and
        truncates the WAL.
        """
        done = []
        files, keys = settle_debts(self.store, self.vectors, self.paths.root)
        if files or keys:
            done.append(f"carried out {files} owed file deletions and {keys} owed vector updates")
        if rebuild or self.vectors_replaced:
            n = self.rebuild_vectors(progress)
            done.append(f"rebuilt the vector index from the database ({n} vectors)")
        else:
            added, removed = self.vectors.reconcile()
            if added or removed:
                done.append(f"vectors reconciled by id: {added} added, {removed} removed")
        self.remember_vector_count()
        self.store.checkpoint()
        return done

    def remember_vector_count(self) -> None:
        """Note the index's size, so the next start can tell whether it drifted from SQLite."""
        if self._searcher is None:
            return  # never opened in this process, so its count did not change
        self.store.set_meta("vector_count", str(self.index.count()))

    def index_pending(self, progress: Progress | None = None, batch: int = 256) -> int:
        """Embed pending chat observations and mark them indexed; returns how many."""
        done = 0
        total = self.store.counts()["by_status"].get("pending", 0)
        if total:
            phase(progress, "embedding and indexing")
        while True:
            pending = [
                o for o in self.store.observations_with_status("pending", batch) if o.kind == "chat"
            ]
            if not pending:
                break
            contexts = self.store.observation_contexts([o.id for o in pending])
            self.vectors.add_observations(pending, contexts)
            self.store.set_status([o.id for o in pending], "indexed")
            done += len(pending)
            if progress:
                progress(done, total)
        if done:
            self.remember_vector_count()
        return done

    def search(
        self,
        text: str,
        *,
        k: int = 10,
        types: tuple[str, ...] = (),
        now: datetime | None = None,
    ) -> list[Hit]:
        """Hybrid search (see ``Searcher``); the agents' door to it.

        Raises:
            BadQuery: an empty query with no filter, or an unknown type.
        """
        return self.searcher.search(SearchQuery(text, k, None, None, tuple(types), (), now))

    def _tagged(self, chroma: ChromaIndex) -> VectorIndex:
        """An encrypted home's index stores keyed tags for app names (``memory.index.tagged``)."""
        if self.keys is None:
            return chroma
        mark = self.paths.vectors / TAGGED_MARK
        if not mark.exists() and chroma.count() == 0:  # a new index is tagged from the start
            mark.write_text("app names are keyed tags\n")
        return TaggedIndex(chroma, self.keys.tag)

    @property
    def file_key(self) -> bytes | None:
        """The key frames and audio files are sealed with (None: a plain home)."""
        return None if self.keys is None else self.keys.files

    def close(self) -> None:
        """Close the store (joins its thread) and the index lock file."""
        self.settings.changed.disconnect(self._on_settings_changed)
        self.store.close()
        self.index_lock.close()
