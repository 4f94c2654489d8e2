"""One hybrid search over memories and observations: BM25 + vectors, fused by reciprocal rank."""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import numpy as np

from memory.errors import BadQuery
from memory.index.vectors import VectorIndex
from memory.search import fts
from memory.search.framing import lexical_words
from memory.search.hits import Hit, HitRef, Source
from memory.search.moments import collapse
from memory.search.sequence import SCREEN_KINDS, SequenceQuery, next_screen, parse_sequence
from memory.search.snippets import build_snippet
from memory.search.speakers import ChatSpeakers, NamedSpeakers
from memory.search.timeparse import parse_time
from memory.search.visual import VisualMatch, VisualSearch
from memory.store import MEMORY_TYPES, MemoryStore
from memory.store.records import OBSERVATION_KINDS, Memory, Observation
from memory.timeutil import to_epoch
from models.protocols import ImageTextEmbedder, TextEmbedder

logger = logging.getLogger(__name__)

RRF_K = 60
SPEAKER_BOOST = 0.5
OVERFETCH = 1000  # nearest neighbours fetched before a time range is applied
SNIPPET = 400


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """A search request. ``since``/``until`` are hard filters; a time phrase in ``text`` ranks
    moments inside its range first (a soft filter, so a misread phrase never hides everything)."""

    text: str
    k: int = 10
    since: float | None = None
    until: float | None = None
    types: tuple[str, ...] = ()
    apps: tuple[str, ...] = ()
    now: datetime | None = None
    parse_time: bool = True


@dataclass(frozen=True, slots=True)
class Weights:
    """Fusion weights of the four ranked lists.

    BM25 over observations counts three times a dense rank: on LoCoMo dev (bench/locomo.py) R@10
    went 69.5 (1.4), 70.5 (1.8), 71.8 (2.2), 72.9 (3.2) with neighbouring-turn context.
    """

    obs_bm25: float = 3.0
    obs_dense: float = 1.0
    mem_bm25: float = 1.0
    mem_dense: float = 1.0
    obs_image: float = 0.25
    """Screens ranked by CLIP (the query's text tower against their pictures), #17; the setting
    ``search.image_weight``. No real CLIP weights were reachable where this was built, so it is
    a setting, not a tuned value: with a random (noise) image model on screens-dev-html
    (bench/screens.py, OCR cached, load ~21) hit@1 was 0.85 at 0, 0.82 at 0.1 and 0.25, 0.79 at
    0.5, and hit@5 1.00 at every weight; 0.25 is the worst case's price of one question at @1.
    Rerun bench/image_search.py and bench/screens.py with real weights to choose it."""


class Searcher:
    """Runs hybrid searches; safe to call from any thread (reads use per-thread connections)."""

    def __init__(
        self,
        store: MemoryStore,
        index: VectorIndex,
        embedder: Callable[[], TextEmbedder],
        weights: Weights | None = None,
        lock: Any = None,
        clip: Callable[[], ImageTextEmbedder | None] | None = None,
    ) -> None:
        self._store = store
        self._index = index
        self._embedder = embedder
        # the service passes its IndexLock (shared for queries); alone, a plain thread lock
        self._lock = lock if lock is not None else threading.Lock()
        self.weights = weights or Weights()
        #: the image side (#17), None when no image model is wired in
        self.visual = VisualSearch(store, index, clip, self._lock) if clip is not None else None
        self.floor = Floor()  # benchmarks set Floor(0.0, -1.0) to see everything
        self.speakers = ChatSpeakers(store)
        #: how much a named chat speaker's own turns are ranked up (``memory.search.speakers``)
        self.speaker_boost = SPEAKER_BOOST
        #: whether a named speaker's name is left out of the word match
        self.drop_speaker_names = True
        #: whether framing words ("did I have open") are left out of the word match
        self.framing = True

    def search(self, q: SearchQuery) -> list[Hit]:
        """Hits best first.

        Raises:
            BadQuery: the query has no searchable words and no filter, or a filter is malformed.
        """
        obs_kinds, mem_types = _split_types(q.types)
        text = q.text.strip()
        soft = None
        if q.parse_time and text:
            rng, rest = parse_time(text, (q.now or datetime.now()).astimezone())
            if rng is not None:
                soft = (to_epoch(rng.start), to_epoch(rng.end))
                text = rest
        if not fts.tokens(text) and soft is None and q.since is None and q.until is None:
            raise BadQuery("the query has no words to search for")
        seq = parse_sequence(text)
        if seq is not None and obs_kinds is not None:
            return self._sequence(seq, q, soft)
        pool = max(50, q.k * 5)
        evidence: dict[str, Evidence] = {}
        # embedded once, on first use: a query with a time phrase is fused twice
        vector = functools.cache(lambda: self._embedder().embed_texts([text])[0])
        named = self._named(text, obs_kinds)
        ranked = self._fused(
            text, pool, q, (obs_kinds, mem_types), (q.since, q.until), evidence, vector, named
        )
        if any(t not in fts.STOPWORDS for t in fts.tokens(text)):
            # the floor judges words; a time phrase alone ("what happened on Tuesday") has none
            ranked = self.floor.apply(ranked, evidence)
        if soft is not None:
            lo = max(soft[0], q.since) if q.since is not None else soft[0]
            hi = min(soft[1], q.until) if q.until is not None else soft[1]
            inside = (
                self._fused(
                    text, pool, q, (obs_kinds, mem_types), (lo, hi), evidence, vector, named
                )
                if lo < hi
                else []
            )
            # no floor inside the query's own time range: "what happened on Tuesday" wants that
            # day's moments, whatever their words (bench/relevance_floor.py: no hit@k changes)
            inside_ids = {key for key, _ in inside}
            ranked = inside + [(key, s) for key, s in ranked if key not in inside_ids]
        hits = self._hits(ranked[: q.k * 3], soft, text, evidence)
        return hits[: q.k]

    def _sequence(
        self, seq: SequenceQuery, q: SearchQuery, soft: tuple[float, float] | None
    ) -> list[Hit]:
        """Find the anchor moments, then answer with the screen that came after (or before) each."""
        anchors = self.search(
            replace(q, text=seq.anchor, types=SCREEN_KINDS, parse_time=False, k=max(q.k, 10))
        )
        if soft is not None:  # a time phrase still decides between anchors
            anchors.sort(key=lambda h: not (soft[0] <= h.ts < soft[1]))
        out: list[Hit] = []
        seen: set[int] = set()
        anchor_obs = self._store.get_observations(
            [h.ref.id for h in anchors if h.ref.is_observation]
        )
        for rank, hit in enumerate(anchors):
            anchor = anchor_obs.get(hit.ref.id) if hit.ref.is_observation else None
            nxt = next_screen(self._store, anchor, seq.step) if anchor else None
            if nxt is None or nxt.id in seen:
                continue
            seen.add(nxt.id)
            found = observation_hit(nxt, 1.0 / (RRF_K + rank + 1))
            out.append(replace(found, extra={"after" if seq.step > 0 else "before": hit.id}))
        return out[: q.k]

    def _fused(  # noqa: PLR0913 - the query, its filters and what one search shares
        self,
        text: str,
        pool: int,
        q: SearchQuery,
        types: tuple[tuple[str, ...] | None, tuple[str, ...] | None],
        span: tuple[float | None, float | None],
        evidence: dict[str, Evidence],
        vector: Callable[[], np.ndarray],
        named: NamedSpeakers | None = None,
    ) -> list[tuple[str, float]]:
        """Fused ranking; fills ``evidence`` with why each key came up (words, similarity).

        ``types``: (observation kinds, memory types), None to leave that side out; ``span``:
        the hard time range; ``vector``: the query's text vector.
        """
        (obs_kinds, mem_types), (start, end) = types, span
        lists: list[tuple[float, list[str]]] = []
        match = self._match(text, named)
        conn = self._store.read()
        w = self.weights
        if match is None:  # only a time range: the moments in it, newest first
            if obs_kinds is None:
                return []
            rows = self._store.observations_between(
                start or 0.0, end or 1e12, kinds=obs_kinds or (), limit=pool
            )
            return [(f"o:{o.id}", 1.0 / (RRF_K + i)) for i, o in enumerate(reversed(rows))]
        if obs_kinds is not None:
            obs = fts.search_observations(
                conn, match, pool, start=start, end=end, apps=q.apps, kinds=obs_kinds
            )
            lists.append((w.obs_bm25, [f"o:{i}" for i, _ in obs]))
        if mem_types is not None and not q.apps:
            mems = fts.search_memories(conn, match, pool, start=start, end=end, types=mem_types)
            lists.append((w.mem_bm25, [f"m:{i}" for i, _ in mems]))
        for _, keys in lists:
            for key in keys:
                evidence[key] = replace(evidence.get(key, NO_EVIDENCE), lexical=True)
        sims: dict[str, float] = {}
        lists += self._dense(vector, pool, start, end, obs_kinds, mem_types, q.apps, sims)
        for key, sim in sims.items():
            old = evidence.get(key, NO_EVIDENCE)
            evidence[key] = replace(old, similarity=max(old.similarity, sim))
        looks = self._looks(text, pool, start, end, obs_kinds, q.apps)
        if looks:
            lists.append((w.obs_image, [m.key for m in looks]))
            for m in looks:
                old = evidence.get(m.key, NO_EVIDENCE)
                evidence[m.key] = replace(old, visual=max(old.visual, m.similarity))
        return self._prefer_speakers(rrf(lists), named)

    def _match(self, text: str, named: NamedSpeakers | None) -> str | None:
        """The FTS5 expression of the query's words (speaker names and framing words out)."""
        words = named.words if named and self.drop_speaker_names else text
        if not self.framing:
            return fts.quote_fts(words)
        return fts.quote_fts(lexical_words(words))

    def _named(self, text: str, obs_kinds: tuple[str, ...] | None) -> NamedSpeakers | None:
        """The chat speakers the query names, when chat turns are searched at all."""
        if self.speaker_boost <= 0 or obs_kinds is None or (obs_kinds and "chat" not in obs_kinds):
            return None
        return self.speakers.named_in(text) or None

    def _prefer_speakers(
        self, ranked: list[tuple[str, float]], named: NamedSpeakers | None
    ) -> list[tuple[str, float]]:
        """``ranked`` with the named speakers' chat turns scored ``1 + speaker_boost`` times up."""
        if not named:
            return ranked
        names = named.names
        ids = [int(key[2:]) for key, _ in ranked if key.startswith("o:")]
        theirs: set[str] = set()
        conn = self._store.read()
        for lo in range(0, len(ids), 500):
            chunk = ids[lo : lo + 500]
            rows = conn.execute(
                f"SELECT id, speaker FROM observations WHERE kind = 'chat' "
                f"AND id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            theirs.update(f"o:{r[0]}" for r in rows if r[1] in names)
        up = 1.0 + self.speaker_boost
        out = [(key, s * up if key in theirs else s) for key, s in ranked]
        return sorted(out, key=lambda kv: -kv[1])

    def _looks(  # noqa: PLR0913 - the query's filters
        self,
        text: str,
        pool: int,
        start: float | None,
        end: float | None,
        obs_kinds: tuple[str, ...] | None,
        apps: tuple[str, ...],
    ) -> list[VisualMatch]:
        """Screens whose picture matches the query (CLIP), when an image model is available."""
        if self.visual is None or self.weights.obs_image <= 0 or obs_kinds is None:
            return []
        if obs_kinds and "screen" not in obs_kinds:
            return []
        try:
            return self.visual.for_text(text, pool, start, end, apps)
        except Exception:  # the image side must never break a search by words
            logger.exception("image search failed; searching by text only")
            return []

    def visual_hits(self, matches: list[VisualMatch]) -> list[Hit]:
        """Hits for screens found by their picture (``similar``), best first."""
        found = self._store.get_observations([int(m.key[2:]) for m in matches])
        out = []
        for m in matches:
            o = found.get(int(m.key[2:]))
            if o is not None:
                hit = observation_hit(o, m.similarity)
                hit.extra["visual"] = m.similarity
                out.append(hit)
        return out

    def _dense(
        self,
        vector: Callable[[], np.ndarray],
        pool: int,
        start: float | None,
        end: float | None,
        obs_kinds: tuple[str, ...] | None,
        mem_types: tuple[str, ...] | None,
        apps: tuple[str, ...],
        sims: dict[str, float] | None = None,
    ) -> list[tuple[float, list[str]]]:
        vec = vector()
        out = []
        if obs_kinds is not None:
            found = self._nearest(vec, pool, "o", start, end, obs_kinds, apps, sims)
            out.append((self.weights.obs_dense, found))
        if mem_types is not None and not apps:
            found = self._nearest(vec, pool, "m", start, end, mem_types, (), sims)
            out.append((self.weights.mem_dense, found))
        return out

    def _nearest(
        self,
        vec: np.ndarray,
        pool: int,
        src: str,
        start: float | None,
        end: float | None,
        kinds: tuple[str, ...],
        apps: tuple[str, ...],
        sims: dict[str, float] | None = None,
    ) -> list[str]:
        """Nearest observations or memories; a time range filters a larger unfiltered candidate set.

        ``sims`` receives each key's best cosine similarity (chunks fold into their observation).

        A metadata-filtered HNSW query in Chroma costs ~200 ms at 100k vectors (search_scale bench),
        so the time range is applied here to the OVERFETCH nearest instead: exact while a home holds
        fewer vectors than that, and otherwise the best in-range items among the globally nearest
        (BM25, always filtered exactly in SQLite, finds the rest).
        """
        conds: list[dict[str, object]] = [{"src": src}]
        if kinds:
            # vectors written before migration 0005 carry kind "import" for imported screens
            legacy = ["import"] if src == "o" and "screen" in kinds else []
            conds.append({"kind": {"$in": list(kinds) + legacy}})
        if apps:
            conds.append({"app": {"$in": list(apps)}})
        where = conds[0] if len(conds) == 1 else {"$and": conds}
        ranged = start is not None or end is not None
        with self._lock.shared() if hasattr(self._lock, "shared") else self._lock:
            found = self._index.query(vec, max(OVERFETCH, pool * 2) if ranged else pool * 2, where)
        seen: list[str] = []
        best: dict[str, float] = {}
        for vid, sim in found:
            key = ":".join(vid.split(":")[:2])  # chunks "o:12:3" fold into "o:12"
            if key not in best:
                seen.append(key)
                best[key] = sim
        if sims is not None:
            sims.update(best)
        if ranged:
            times = self._timestamps(seen)
            lo, hi = start if start is not None else -1e18, end if end is not None else 1e18
            seen = [key for key in seen if key in times and lo <= times[key] < hi]
        return seen[:pool]

    def _timestamps(self, keys: list[str]) -> dict[str, float]:
        """Timestamps of "o:N"/"m:N" keys from SQLite (primary-key lookups)."""
        out: dict[str, float] = {}
        conn = self._store.read()
        refs = [HitRef.parse(k) for k in keys]
        for prefix, table, col in (("o:", "observations", "ts_start"), ("m:", "memories", "ts")):
            ids = [r.id for r in refs if r.kind == prefix[0]]
            for lo in range(0, len(ids), 500):
                chunk = ids[lo : lo + 500]
                rows = conn.execute(
                    f"SELECT id, {col} FROM {table} WHERE id IN ({','.join('?' * len(chunk))})",
                    chunk,
                )
                out.update((f"{prefix}{r[0]}", r[1]) for r in rows)
        return out

    def _hits(
        self,
        ranked: list[tuple[str, float]],
        soft: tuple[float, float] | None,
        query: str = "",
        evidence: dict[str, Evidence] | None = None,
    ) -> list[Hit]:
        refs = [HitRef.parse(k) for k, _ in ranked]
        obs_ids = [r.id for r in refs if r.is_observation]
        mem_ids = [r.id for r in refs if r.is_memory]
        observations = self._store.get_observations(obs_ids)
        memories = self._store.get_memories(mem_ids)
        src_ids = sorted({s for m in memories.values() for s in m.source_ids} - set(observations))
        observations.update(self._store.get_observations(src_ids))
        hits = []
        for (key, score), ref in zip(ranked, refs, strict=True):
            num = ref.id
            if ref.is_observation and num in observations:
                hit = observation_hit(observations[num], score, query)
            elif ref.is_memory and num in memories and memories[num].live:
                hit = memory_hit(memories[num], score, observations, query)
            else:
                continue
            if soft is not None:
                hit = replace(hit, in_time_range=soft[0] <= hit.ts < soft[1])
            why = (evidence or {}).get(key)
            if why is not None:  # for benchmarks and the curious: why this hit came up
                hit.extra["lexical"], hit.extra["similarity"] = why.lexical, why.similarity
                if why.visual > -1.0:
                    hit.extra["visual"] = why.visual
            hits.append(hit)
        return collapse(hits, observations)


@dataclass(frozen=True, slots=True)
class Evidence:
    """Why a key came up: its words matched (BM25), and its best cosine similarity to the query."""

    lexical: bool = False
    similarity: float = -1.0
    visual: float = -1.0
    """The best CLIP similarity of the screen's picture to the query (-1: not found that way)."""


NO_EVIDENCE = Evidence()


@dataclass(frozen=True, slots=True)
class Floor:
    """The relevance floor: fewer, better hits, and none when nothing is a good match (#13).

    A hit stays when its words match the query or its similarity reaches ``min_similarity``, and
    its fused score reaches ``relative`` times the best kept hit's; a screen found by its picture
    (#17) passes the similarity test, since CLIP's scale is not MiniLM's. The default was chosen
    with ``bench/relevance_floor.py`` (2026-12-02): no floor up to (0.5, 0.25) lowers any hit@k on
    screens-dev, screens-dev-v2, screens-dev-html or LoCoMo dev; min_similarity 0.30 costs v2 hit@1
    0.923 -> 0.885. (0.4, 0.2) keeps a margin below that edge for unseen data and cuts the hits
    returned for unrelated questions from 10 to ~6. ``Floor(0.0, -1.0)`` keeps everything.
    """

    relative: float = 0.4
    min_similarity: float = 0.2

    def apply(
        self, ranked: list[tuple[str, float]], evidence: dict[str, Evidence]
    ) -> list[tuple[str, float]]:
        """The ranked keys that pass, best first (keys without evidence pass: time-only queries)."""
        if not ranked or (self.relative <= 0 and self.min_similarity <= -1):
            return ranked
        good = [
            (key, s)
            for key, s in ranked
            if key not in evidence
            or evidence[key].lexical
            or evidence[key].similarity >= self.min_similarity
            or evidence[key].visual > -1.0
        ]
        if not good:
            return []
        top = good[0][1]
        return [(key, s) for key, s in good if s >= self.relative * top]


def rrf(lists: list[tuple[float, list[str]]]) -> list[tuple[str, float]]:
    """Reciprocal-rank fusion of weighted ranked lists: (key, score) best first."""
    scores: dict[str, float] = {}
    for weight, keys in lists:
        for rank, key in enumerate(keys):
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _split_types(types: tuple[str, ...]) -> tuple[tuple[str, ...] | None, tuple[str, ...] | None]:
    """(observation kinds or None to skip observations, memory types or None to skip memories)."""
    if not types:
        return (), ()
    obs: list[str] = []
    mems: list[str] = []
    for t in types:
        if t == "observation":
            obs.extend(OBSERVATION_KINDS)
        elif t == "import":
            raise BadQuery(
                "imported screenshots are screens: use --type screen (their origin, capture or "
                "import, is kept apart)"
            )
        elif t in OBSERVATION_KINDS:
            obs.append(t)
        elif t == "memory":
            mems.extend(MEMORY_TYPES)
        elif t in MEMORY_TYPES:
            mems.append(t)
        else:
            raise BadQuery(
                f"unknown type {t!r}: use observation, screen, audio, chat, memory "
                f"or one of {', '.join(MEMORY_TYPES)}"
            )
    return (tuple(obs) if obs else None), (tuple(mems) if mems else None)


def observation_source(o: Observation) -> Source:
    """The source entry of an observation."""
    return Source(
        o.id, o.ts_start, message_id=o.ext_id if o.kind == "chat" else None, frame_path=o.frame_path
    )


def observation_hit(o: Observation, score: float, query: str = "") -> Hit:
    """A hit for an observation; its text is the passage around the best match of ``query``."""
    if o.kind == "chat":
        title = f"{o.speaker or 'someone'} (chat)"
    else:
        title = o.window_title or o.app or o.kind
    text = f"{o.speaker}: {o.text}" if o.kind == "chat" and o.speaker else o.text
    snippet = build_snippet(text, query, SNIPPET)
    return Hit(
        f"o:{o.id}",
        "observation",
        score,
        o.ts_start,
        title,
        snippet.text,
        (observation_source(o),),
        spans=snippet.spans,
        app=o.app,
        obs_kind=o.kind,
        origin=o.origin,
    )


def memory_hit(
    m: Memory, score: float, observations: dict[int, Observation], query: str = ""
) -> Hit:
    """A hit for a memory, with its provenance as sources and the passage that matched."""
    sources = tuple(observation_source(observations[s]) for s in m.source_ids if s in observations)
    text = m.summary or m.details
    if m.type == "vault":
        text = m.summary or m.title
    elif query and m.details and not build_snippet(text, query).matched:
        text = f"{text} {m.details}".strip()  # the words may be in the details only
    snippet = build_snippet(text, query, SNIPPET)
    return Hit(
        f"m:{m.id}",
        m.type,
        score,
        m.ts,
        m.title or m.summary[:80],
        snippet.text,
        sources,
        spans=snippet.spans,
    )
