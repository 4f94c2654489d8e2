"""Keeping the vector index in step with SQLite: add, delete, reconcile and rebuild."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from functools import partial

from memory.index.images import META_KEY as IMAGE_META
from memory.index.images import ImageVectors, current_images, image_key
from memory.index.locks import IndexLock
from memory.index.vectors import Metadata, VectorIndex
from memory.store import MemoryStore, journal
from memory.store.records import Memory, Observation
from models.protocols import TextEmbedder

logger = logging.getLogger(__name__)

CHUNK_WORDS = 90
CHUNK_STEP = 70
PASSAGE_WORDS = 24  # a screen is embedded passage by passage (a few OCR lines each)
MAX_CHUNKS = 40
Progress = Callable[[int, int], None]


def observation_chunks(o: Observation, context: str = "") -> list[str]:
    """The texts embedded for an observation: one for chat/audio, overlapping windows otherwise."""
    if o.kind == "chat":
        head = f"{o.speaker}: {o.text}" if o.speaker else o.text
        return [f"{head}\n{context}".strip() if context else head]
    words = (o.text or "").split()
    # the screen's window and what the user was doing there (``memory.pipeline.activity``)
    title = " ".join(x for x in (o.app, o.window_title) if x)
    if context:
        title = f"{title} ({context})" if title else context
    if o.kind in ("screen", "import"):
        return [f"{title}\n{p}".strip() for p in passages(o.text or "")] or [title]
    if len(words) <= CHUNK_WORDS:
        return [f"{title}\n{' '.join(words)}".strip()]
    chunks = []
    for start in range(0, len(words), CHUNK_STEP):
        chunks.append(f"{title}\n{' '.join(words[start : start + CHUNK_WORDS])}".strip())
        if len(chunks) >= MAX_CHUNKS or start + CHUNK_WORDS >= len(words):
            break
    return chunks


def passages(text: str, size: int = PASSAGE_WORDS) -> list[str]:
    """Consecutive OCR lines grouped into passages of about ``size`` words.

    One vector per passage, rather than per frame, lets a question match the one label and value
    it asks about ("Departs 08:10") instead of a blur of the whole screen. Each passage repeats the
    previous one's last line, so a label and its value on two lines stay together.
    """
    out: list[str] = []
    current: list[str] = []
    count = 0
    for line in text.splitlines():
        n = len(line.split())
        if not n:
            continue
        if current and count + n > size:
            out.append(" ".join(current))
            current, count = current[-1:], len(current[-1].split())
            if len(out) >= MAX_CHUNKS:
                return out
        current.append(line.strip())
        count += n
    if current and (not out or len(current) > 1):
        out.append(" ".join(current))
    return out[:MAX_CHUNKS]


def memory_text(m: Memory) -> str:
    """The text embedded for a memory (a vault entry: its caption only, never the secret)."""
    if m.type == "vault":
        return f"{m.title}\n{m.summary}".strip()
    return "\n".join(x for x in (m.title, m.summary, m.details[:1500]) if x)


class VectorSync:
    """Writes vectors for new rows and repairs the index; serialises index writes with a lock."""

    def __init__(
        self,
        store: MemoryStore,
        index: VectorIndex,
        embedder: Callable[[], TextEmbedder],
        lock: IndexLock | threading.Lock | None = None,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        self._lock = lock or threading.Lock()

    def add_observations(
        self, items: Iterable[Observation], contexts: dict[int, str] | None = None
    ) -> int:
        """Embed and index observations; returns the number of vectors written."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[Metadata] = []
        for o in items:
            chunks = observation_chunks(o, (contexts or {}).get(o.id, ""))
            for n, text in enumerate(chunks):
                ids.append(f"o:{o.id}:{n}")
                texts.append(text)
                metas.append(
                    {"src": "o", "kind": o.kind, "ts": float(o.ts_start), "app": o.app or ""}
                )
        return self._write(ids, texts, metas)

    def add_memories(self, items: Iterable[Memory]) -> int:
        """Embed and index live memories (replacing their old vectors)."""
        ids: list[str] = []
        texts: list[str] = []
        metas: list[Metadata] = []
        for m in items:
            if not m.live:
                continue
            ids.append(f"m:{m.id}")
            texts.append(memory_text(m))
            metas.append({"src": "m", "kind": m.type, "ts": float(m.ts), "app": ""})
        return self._write(ids, texts, metas)

    def _write(self, ids: list[str], texts: list[str], metas: list[Metadata]) -> int:
        if not ids:
            return 0
        vecs = self._embedder().embed_texts(texts)
        with self._lock:
            self._index.add(ids, vecs, metas)
        return len(ids)

    def delete_observations(self, obs_ids: Iterable[int]) -> None:
        """Drop every chunk vector of these observations."""
        keys = [f"o:{i}:{n}" for i in obs_ids for n in range(MAX_CHUNKS)]
        with self._lock:
            self._index.delete(keys)

    def images(self) -> ImageVectors | None:
        """The image collection of the home's image model, if it has one (#17)."""
        return current_images(self._store.get_meta(IMAGE_META), self._index)

    def delete_images(self, obs_ids: Iterable[int]) -> None:
        """Drop the image vectors of these observations (a forget, #17)."""
        images = self.images()
        if images is None:
            return
        with self._lock:
            images.delete([image_key(i) for i in obs_ids])

    def delete_memories(self, mem_ids: Iterable[int]) -> None:
        """Drop memory vectors."""
        with self._lock:
            self._index.delete([f"m:{i}" for i in mem_ids])

    def drain(self) -> int:
        """Carry out the vector work committed changes recorded in ``vector_outbox``.

        Each key is brought in line with what its row holds now (re-embedded, or dropped when the
        row is gone or no longer live), so running it twice, or after a crash, is harmless.
        Returns the number of keys handled.
        """
        handled = 0
        while True:
            upto, keys = journal.outbox_batch(self._store.read())
            if not keys:
                return handled
            self._settle_observations([int(k[2:]) for k in keys if k.startswith("o:")])
            self._settle_memories([int(k[2:]) for k in keys if k.startswith("m:")])
            self._store.write(partial(journal.outbox_done, upto=upto), "vector outbox")
            handled += len(keys)

    def _settle_observations(self, ids: list[int]) -> None:
        if not ids:
            return
        found = self._store.get_observations(ids)
        # chunk counts change with the text: drop every old chunk before writing the new ones
        self.delete_observations(ids)
        self.delete_images([i for i in ids if i not in found])  # the picture only goes with the row
        live = [o for o in found.values() if o.status != "pending"]
        if live:
            self.add_observations(live, self._contexts(live))

    def _settle_memories(self, ids: list[int]) -> None:
        if not ids:
            return
        found = self._store.get_memories(ids)
        gone = [i for i in ids if i not in found or not found[i].live]
        self.delete_memories(gone)
        self.add_memories([m for m in found.values() if m.live])

    def scrub_log(self, obs_ids: Iterable[int], mem_ids: Iterable[int]) -> int:
        """Blank forgotten vectors in the index's write-ahead log when it keeps one (Chroma's
        ``embeddings_queue``); returns how many log entries were blanked."""
        scrub = getattr(self._index, "scrub_log", None)
        if scrub is None:
            return 0
        obs = list(obs_ids)
        keys = [f"o:{i}:{n}" for i in obs for n in range(MAX_CHUNKS)]
        keys += [f"m:{i}" for i in mem_ids]
        keys += [image_key(i) for i in obs]
        with self._lock:
            return int(scrub(keys))

    def ensure_model(self, progress: Progress | None = None) -> bool:
        """Rebuild the index when the embedding model changed since it was built (True if so)."""
        emb = self._embedder()
        wanted = f"{emb.model_id}:{emb.dim}"
        # Decide under the index lock: two processes opening one new home both read no model id,
        # and the second, seeing the first one's vectors, would reset the collections from under it.
        with self._lock:
            have = self._store.get_meta("embedding_model")
            if have == wanted:
                return False
            if have is None and (
                self._index.count() == 0
                or (
                    self._store.counts()["observations"] == 0
                    and not self._store.list_memories(limit=1)
                )
            ):
                # a new home (its index opens lazily, maybe after the first rows were written):
                # nothing to rebuild; reconcile and index_pending add what is missing
                self._store.set_meta("embedding_model", wanted)
                return False
        if have is not None:
            logger.info("embedding model changed from %s to %s: rebuilding vectors", have, wanted)
        self.rebuild(progress)
        self._store.set_meta("embedding_model", wanted)
        return have is not None

    def rebuild(self, progress: Progress | None = None) -> int:
        """Drop the index and rebuild it from SQLite; returns the number of vectors written."""
        with self._lock:
            self._index.reset()  # type: ignore[attr-defined]
        total = self._store.counts()["observations"]
        done = written = 0
        for batch in self._store.iter_observations(500):
            written += self.add_observations(
                [o for o in batch if o.status != "pending"], self._contexts(batch)
            )
            done += len(batch)
            if progress:
                progress(done, total)
        for mems in self._store.iter_memories(500):
            written += self.add_memories(mems)
        return written

    def _contexts(self, batch: list[Observation]) -> dict[int, str]:
        rows = (
            self._store.read()
            .execute(
                f"SELECT id, context FROM observations WHERE id IN ({','.join('?' * len(batch))})",
                [o.id for o in batch],
            )
            .fetchall()
        )
        return {r[0]: r[1] for r in rows if r[1]}

    def reconcile(self) -> tuple[int, int]:
        """Add vectors missing from the index, drop ones SQLite no longer has: (added, removed)."""
        with self._lock:
            have = self._index.all_ids()  # type: ignore[attr-defined]
        have_obs = {int(v.split(":")[1]) for v in have if v.startswith("o:")}
        have_mem = {int(v.split(":")[1]) for v in have if v.startswith("m:")}
        conn = self._store.read()
        want_obs = {
            r[0] for r in conn.execute("SELECT id FROM observations WHERE status != 'pending'")
        }
        want_mem = {
            r[0]
            for r in conn.execute(
                "SELECT id FROM memories WHERE deleted_at IS NULL AND superseded_by IS NULL"
            )
        }
        missing_obs = sorted(want_obs - have_obs)
        missing_mem = sorted(want_mem - have_mem)
        extra = [
            v
            for v in have
            if (v.startswith("o:") and int(v.split(":")[1]) not in want_obs)
            or (v.startswith("m:") and int(v.split(":")[1]) not in want_mem)
        ]
        added = 0
        for i in range(0, len(missing_obs), 500):
            chunk = list(self._store.get_observations(missing_obs[i : i + 500]).values())
            added += self.add_observations(chunk, self._contexts(chunk) if chunk else {})
        added += self.add_memories(self._store.get_memories(missing_mem).values())
        if extra:
            with self._lock:
                self._index.delete(extra)
        return added, len(extra)


class DeferredVectors:
    """Stands in for a VectorSync until first used: ``get`` opens it (Chroma, a reconcile).

    Lets a pipeline be built for a command that never writes a vector (``engram vault list``)
    without opening the index (#13). Attribute lookup resolves outside any index lock.
    """

    def __init__(self, get: Callable[[], VectorSync]) -> None:
        self._get = get

    def __getattr__(self, name: str) -> object:
        return getattr(self._get(), name)
