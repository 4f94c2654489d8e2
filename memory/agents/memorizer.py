"""Memorising batches of indexed observations: route, extract, ask the managers, apply once.

A batch moves its observations from ``indexed`` to ``memorized`` in one go. When the LLM is down
or too slow, nothing is applied: the observations stay ``indexed``, their attempt count and error
are recorded, and the caller backs off. A manager whose answers are rejected twice defers the batch
to a later pass (``rejected_retries``; the last pass keeps the other managers' work). Any other
failure marks the batch ``failed`` with the error (retried later until ``max_attempts``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from memory.agents import core, deterministic, extractors, meta
from memory.agents.apply import ApplyReport, apply_ops, log_run
from memory.agents.config import AgentConfig
from memory.agents.consolidate import dedupe_inserts, drop_conflicts
from memory.agents.llm_protocol import AgentLLM, is_transient
from memory.agents.managers import (
    AnswersRejected,
    Call,
    describe,
    format_observation,
    rewrite_core,
    run_ops_manager,
    summarise,
)
from memory.agents.ops import Op
from memory.errors import BadQuery
from memory.store.records import Memory, Observation

if TYPE_CHECKING:
    from memory.home import Home

logger = logging.getLogger(__name__)

MAX_SUMMARIES = 1


class LLMUnavailable(Exception):
    """The LLM could not be reached in time; the batch stays queued (``cause`` says why)."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(f"LLM unavailable: {type(cause).__name__}: {cause}")
        self.cause = cause


@dataclass(frozen=True, slots=True)
class BatchResult:
    """What memorising one batch did."""

    obs_ids: tuple[int, ...]
    types: tuple[str, ...]
    counts: dict[str, int] = field(default_factory=dict)
    llm_calls: int = 0
    proposal_id: int | None = None


class CountingLLM:
    """Wraps an LLM and counts its calls (for the bench and the logs)."""

    def __init__(self, llm: AgentLLM) -> None:
        self.inner = llm
        self.calls = 0

    @property
    def model_id(self) -> str:
        """The model's id (a lazily loaded one names itself once loaded)."""
        return str(getattr(self.inner, "model_id", "llm"))

    def chat(self, messages: Any, **kw: Any) -> str:
        self.calls += 1
        return self.inner.chat(messages, **kw)

    def stream(self, messages: Any, **kw: Any) -> Any:
        self.calls += 1
        return self.inner.stream(messages, **kw)

    def json(self, messages: Any, schema: dict[str, Any], **kw: Any) -> dict[str, Any]:
        self.calls += 1
        return self.inner.json(messages, schema, **kw)

    def __getattr__(self, name: str) -> Any:
        """Everything else (count_tokens, context_tokens, prime, get) is the model's own."""
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.inner, name)


class Memorizer:
    """Turns batches of observations into memories for one ``MemoryService``.

    Thread-safety: one batch at a time per instance (the worker owns it); reads and the one write
    transaction go through the store as usual.
    """

    def __init__(
        self, home: Home, llm: AgentLLM | None = None, config: AgentConfig | None = None
    ) -> None:
        self.home = home
        self.store = home.store
        self.config = config or AgentConfig()
        self.llm = CountingLLM(llm) if llm is not None else None
        self._final = True

    # -- lookups the managers use ------------------------------------------------------------

    def find(self, text: str, mtype: str, k: int) -> list[Memory]:
        """Live items of one type relevant to ``text`` (hybrid search, not a table scan)."""
        if k <= 0 or not text.strip():
            return []
        try:
            hits = self.home.search(text, k=k, types=(mtype,))
        except BadQuery:
            return []
        ids = [h.ref.id for h in hits if h.ref.is_memory]
        found = self.store.get_memories(ids)
        return [found[i] for i in ids if i in found and found[i].live]

    def by_uri(self, uri: str) -> Memory | None:
        """The live resource with this uri (indexed lookup)."""
        row = (
            self.store.read()
            .execute(
                "SELECT m.id FROM resource_memory r JOIN memories m ON m.id = r.id WHERE r.uri = ? "
                "AND m.deleted_at IS NULL AND m.superseded_by IS NULL ORDER BY m.id DESC LIMIT 1",
                (uri,),
            )
            .fetchone()
        )
        return self.store.get_memory(row[0]) if row else None

    def _log(self, agent: str, outcome: str, detail: str, ids: list[int]) -> None:
        log_run(self.store, agent, outcome, detail, ids)

    # -- one batch -----------------------------------------------------------------------------

    def run_batch(self, observations: list[Observation]) -> BatchResult:
        """Memorise one batch: route, build operations, apply them in one transaction.

        Raises:
            LLMUnavailable: the LLM is down or too slow; nothing was applied or marked.
        """
        ids = [o.id for o in observations]
        calls_before = self.llm.calls if self.llm else 0
        self._final = max(o.attempts for o in observations) >= self.config.rejected_retries
        try:
            types = self._route(observations)
            ops = self._operations(observations, types)
        except Exception as exc:
            if is_transient(exc):
                raise LLMUnavailable(exc) from exc
            raise
        allow_delete = any(core.own_statement(o) for o in observations)
        report = apply_ops(
            self.store,
            ops,
            allow_delete=allow_delete,
            delete_limit=self.config.delete_limit,
            reason="",
            memorized=ids,
        )
        try:
            self.sync_vectors(report)
        except Exception:  # committed: the vectors stay owed in the outbox, never re-applied
            logger.exception("indexing the memories of a batch failed; retried at the next drain")
        calls = (self.llm.calls - calls_before) if self.llm else 0
        self._log(
            "meta_manager",
            "applied",
            f"types={sorted(types)} ops={describe(ops)} llm_calls={calls}",
            ids,
        )
        if report.proposal_id is not None:
            self._log("meta_manager", "proposed", f"proposal {report.proposal_id}", ids)
        return BatchResult(
            tuple(ids), tuple(sorted(types)), dict(report.counts), calls, report.proposal_id
        )

    def _route(self, observations: list[Observation]) -> set[str]:
        types = meta.rule_route(observations, self.llm is not None)
        if (
            self.llm is not None
            and self.config.use_llm_routing
            and not set(meta.LLM_TYPES) <= types
        ):
            text = "\n".join(format_observation(o, 300) for o in observations[:12])
            types |= meta.llm_route(self.llm, text) & (set(meta.LLM_TYPES) | types)
        return types

    def _call(self) -> Call:
        assert self.llm is not None
        return Call(self.llm, self.config, self.find, self._log, final=self._final)

    def _operations(self, observations: list[Observation], types: set[str]) -> list[Op]:
        ops: list[Op] = []
        if "episodic" in types:
            segs = extractors.segments(observations)
            ops += deterministic.episode_ops(segs, self.find, self._summaries(segs))
        if "resource" in types:
            ops += deterministic.resource_ops(observations, self.by_uri)
        if "core" in types:
            rewrite = (
                (lambda v, n: rewrite_core(self._call(), v, n)) if self.llm else (lambda v, n: None)
            )
            ops += deterministic.core_ops(
                observations, self.home.store.list_memories("core", limit=20), rewrite
            )
        for mtype in meta.LLM_TYPES:
            if mtype in types and self.llm is not None:
                ops += run_ops_manager(self._call(), mtype, observations)
        kept, dropped = drop_conflicts(dedupe_inserts(ops, self.find))
        if dropped:
            ids = [o.id for o in observations]
            self._log(
                "meta_manager",
                "rejected",
                f"conflicting operations dropped: {describe(dropped)}",
                ids,
            )
        return kept

    def _summaries(self, segs: list[extractors.Segment]) -> dict[str, deterministic.Summary]:
        if self.llm is None:
            return {}
        out: dict[str, deterministic.Summary] = {}
        biggest = sorted(segs, key=lambda s: -sum(len(t) for t in s.texts))[:MAX_SUMMARIES]
        for seg in biggest:
            if sum(len(t) for t in seg.texts) < 80:
                continue
            where = extractors.where_title(seg.app, seg.title)
            got = summarise(self._call(), where, list(seg.texts))
            if got:
                out[seg.key + str(seg.start)] = got
        return out

    def sync_vectors(self, report: ApplyReport) -> None:
        """Carry out the vector work the applied operations recorded (``vector_outbox``)."""
        if self.home.vectors.drain() or report.changed or report.removed:
            self.home.remember_vector_count()

    # -- queues ---------------------------------------------------------------------------------

    def next_batch(self, skip: set[int] | frozenset[int] = frozenset()) -> list[Observation]:
        """The oldest waiting observations: indexed first, then failed ones with attempts left
        (except those in ``skip``, already tried by this caller)."""
        batch = self.store.observations_with_status("indexed", self.config.max_batch)
        if not batch:
            batch = [
                o
                for o in self.store.observations_with_status("failed", self.config.max_batch * 4)
                if o.attempts < self.config.max_attempts and o.id not in skip
            ][: self.config.max_batch]
        return batch

    def note_outage(self, ids: list[int], exc: BaseException) -> None:
        """Record an LLM outage on observations without changing their status."""
        msg = f"LLM unavailable, will retry: {exc}"[:500]
        self.store.write(
            lambda c: c.executemany(
                "UPDATE observations SET attempts = attempts + 1, error = ? WHERE id = ?",
                [(msg, i) for i in ids],
            ),
            "note outage",
        )
        self._log("meta_manager", "retry", msg, ids)

    def process(self, observations: list[Observation]) -> BatchResult | None:
        """Run one batch with the failure policy; returns None when it failed.

        Raises:
            LLMUnavailable: after recording the outage on the batch.
        """
        ids = [o.id for o in observations]
        try:
            return self.run_batch(observations)
        except LLMUnavailable as exc:
            self.note_outage(ids, exc.cause)
            raise
        except AnswersRejected as exc:  # nothing applied: the whole batch gets another pass
            self.store.set_status(ids, "failed", f"{exc}; memorised again later"[:500])
            self._log("meta_manager", "retry", str(exc), ids)
            return None
        except Exception as exc:
            logger.exception("memorising observations %s..%s failed", ids[0], ids[-1])
            self.store.set_status(ids, "failed", f"{type(exc).__name__}: {exc}"[:500])
            self._log("meta_manager", "failed", f"{type(exc).__name__}: {exc}", ids)
            return None

    def process_pending(
        self, progress: Callable[[int, int], None] | None = None, limit: int | None = None
    ) -> list[BatchResult]:
        """Memorise everything waiting now, batch by batch (``engram memorize``).

        Raises:
            LLMUnavailable: the LLM is down; what was done so far stays done.
        """
        total = self.waiting()
        done, results = 0, []
        tried: set[int] = set()
        while limit is None or done < limit:
            batch = self.next_batch(tried)
            if not batch:
                break
            tried.update(o.id for o in batch)
            result = self.process(batch)
            results.append(result)
            done += len(batch)
            if progress:
                progress(min(done, total), total)
        return [r for r in results if r is not None]

    def waiting(self) -> int:
        """Observations waiting to be memorised (indexed, or failed with attempts left)."""
        row = (
            self.store.read()
            .execute(
                "SELECT SUM(status = 'indexed'), SUM(status = 'failed' AND attempts < ?) "
                "FROM observations",
                (self.config.max_attempts,),
            )
            .fetchone()
        )
        return int(row[0] or 0) + int(row[1] or 0)
