"""The operations MCP tools and the HTTP API share, with the exposure policy applied (#14).

Every result passes ``Policy``: kinds the user did not expose, moments of excluded apps and vault
secrets never come out; write operations run only when the user turned them on. The service opens
lazily (so ``initialize`` is answered before any model or index loads) and stays open, warm.
Thread-safety: every method may be called from any thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from app.api.policy import Policy, Refused
from app.api.schemas import (
    AddedOut,
    AnswerOut,
    CitationOut,
    ContextOut,
    CoreOut,
    ForgotOut,
    HitOut,
    MemoryListOut,
    MemoryOut,
    MomentOut,
    NeighbourOut,
    SearchOut,
    SearchRequest,
    SourceOut,
    TimelineOut,
    moment_link,
)
from app.api.timeline_view import timeline_out
from memory.errors import BadQuery, NotFound
from memory.store.records import MEMORY_TYPES
from memory.timeutil import iso, parse_ts
from models.errors import ModelUnavailable

if TYPE_CHECKING:
    from memory.search.hits import Hit
    from memory.service import MemoryService
    from memory.store.records import Memory, Observation

logger = logging.getLogger(__name__)

MAX_QUERY = 2_000  # characters; a longer query is refused with this number in the message
MAX_K = 100
MAX_FILTERS = 50
NEIGHBOURS = 2
FIELD_TYPES = (str, int, float, bool)


def _check_text(name: str, text: str) -> str:
    text = text.strip()
    if not text:
        raise BadQuery(f"{name} is empty")
    if len(text) > MAX_QUERY:
        raise BadQuery(f"{name} has {len(text)} characters; the limit is {MAX_QUERY}")
    return text


def _time(value: str | None, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        return parse_ts(value)
    except BadQuery as exc:
        raise BadQuery(f"{name}: {exc}") from exc


class Operations:
    """Search, ask, moments, timeline, memories and context of one home, as JSON-ready models."""

    def __init__(
        self,
        home: Path,
        *,
        face: str = "mcp",
        service_factory: Callable[[], MemoryService] | None = None,
    ) -> None:
        self.home = Path(home)
        self.face = face  # "mcp" (stdio) or "api" (HTTP): which switches of the settings apply
        self._factory = service_factory
        self._service: MemoryService | None = None
        self._lock = threading.Lock()
        self.owns_service = service_factory is None

    # -- lifecycle ------------------------------------------------------------------------------

    def service(self) -> MemoryService:
        """The home's service, opened on first use (one per process, kept open)."""
        with self._lock:
            if self._service is None:
                if self._factory is not None:
                    self._service = self._factory()
                else:
                    from memory.service import MemoryService

                    self._service = MemoryService(self.home)
            return self._service

    def warm_up(self) -> None:
        """Open the service, the vector index and the text embedder now (a fast first search)."""
        try:
            service = self.service()
            service.searcher  # noqa: B018 - opens Chroma and repairs the index (#13 made it lazy)
            service.embedder().embed_texts(["warm up"])
        except Exception:  # a broken model is reported by the first real call, not here
            logger.warning("warming up failed", exc_info=True)

    def warm_up_in_background(self) -> threading.Thread:
        """Start ``warm_up`` on a daemon thread; returns it."""
        thread = threading.Thread(target=self.warm_up, name="engram-warm-up", daemon=True)
        thread.start()
        return thread

    def close(self) -> None:
        """Close the service if this object opened it."""
        with self._lock:
            if self._service is not None and self.owns_service:
                self._service.close()
            self._service = None

    def policy(self) -> Policy:
        """The exposure policy of the saved settings (read at every call: a switch acts at once).

        Raises:
            Refused: MCP is turned off in the settings (``mcp.enabled``).
        """
        policy = Policy.from_settings(self.service().settings.current, self.face)
        if not policy.enabled:
            raise Refused("Engram's MCP server is turned off in its settings (mcp.enabled)")
        return policy

    # -- reads ----------------------------------------------------------------------------------

    def search(self, req: SearchRequest) -> SearchOut:
        """Hybrid search; hits the policy hides are dropped before ``k`` is counted.

        Raises:
            BadQuery: empty or too long a query, bad k or time. Refused: a kind not exposed.
        """
        text = _check_text("the query", req.query)
        if not 1 <= req.k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}")
        if len(req.kinds) > MAX_FILTERS or len(req.apps) > MAX_FILTERS:
            raise BadQuery(f"at most {MAX_FILTERS} kinds and {MAX_FILTERS} apps per search")
        if any(len(a) > 200 for a in req.apps):
            raise BadQuery("an app name has more than 200 characters")
        policy = self.policy()
        hits = self.service().search(
            text,
            k=min(MAX_K * 2, req.k * 2),
            since=_time(req.since, "since"),
            until=_time(req.until, "until"),
            types=policy.kinds_for(tuple(req.kinds)),
            apps=tuple(req.apps),
        )
        visible = [out for h in hits if (out := self._hit(h, policy)) is not None]
        return SearchOut(query=text, hits=visible[: req.k])

    def ask(self, question: str, *, keep: bool = False) -> AnswerOut:
        """A cited answer from the assistant the user configured (the same path as `engram ask`).

        Raises:
            Refused: asking is turned off, or the question asks for a secret.
        """
        text = _check_text("the question", question)
        policy = self.policy()
        if not policy.ask:
            raise Refused("ask_memory is turned off (setting mcp.ask_tool)")
        from memory.agents.chat import asks_for_secret

        if asks_for_secret(text):
            # the chat agent reveals vault entries to such questions when the vault is unlocked
            raise Refused("questions about secrets are answered only in Engram's own window")
        # the service's agents answer with the assistant of the settings (#11), loaded on the
        # first question and kept loaded
        answer = self.service().ask(text, keep=keep)
        cites = []
        for c in answer.citations:
            sources = self._sources([int(s["observation_id"]) for s in c["sources"]], policy)
            if sources is None or str(c.get("kind")) not in policy.exposed | {"observation"}:
                continue
            cites.append(CitationOut(n=c["n"], title=c["title"], kind=c["kind"], sources=sources))
        return AnswerOut(question=text, answer=answer.text, model=answer.model, citations=cites)

    def moment(self, obs_id: int) -> MomentOut:
        """One moment with its neighbours.

        Raises:
            NotFound: no such moment, or one the policy hides (the same message).
        """
        policy = self.policy()
        obs = self._visible_observation(obs_id, policy)
        if obs is None:
            raise NotFound(f"no moment {obs_id}")
        return MomentOut(
            id=obs.id,
            link=moment_link(obs.id),
            kind=obs.kind,
            time=iso(obs.ts_start) or "",
            end_time=iso(obs.ts_end),
            app=obs.app,
            title=obs.window_title,
            url=obs.url,
            speaker=obs.speaker,
            text=obs.text,
            before=self._neighbours(obs.id, -1, policy),
            after=self._neighbours(obs.id, 1, policy),
        )

    def similar(self, obs_id: int, k: int = 10) -> SearchOut:
        """Moments whose screen looked like this one (#17), hidden ones left out.

        Raises:
            NotFound: no such moment, or one the policy hides. Refused: no image model.
            BadQuery: bad k, or a moment without a picture.
        """
        if not 1 <= k <= MAX_K:
            raise BadQuery(f"k must be between 1 and {MAX_K}")
        policy = self.policy()
        if self._visible_observation(obs_id, policy) is None:
            raise NotFound(f"no moment {obs_id}")
        try:
            hits = self.service().similar_moments(obs_id, k=min(MAX_K * 2, k * 2))
        except ModelUnavailable as exc:
            raise Refused(f"image search is off: {exc.reason}") from exc
        visible = [out for h in hits if (out := self._hit(h, policy)) is not None]
        return SearchOut(query=f"looks like moment {obs_id}", hits=visible[:k])

    def timeline(
        self, *, day: str | None = None, since: str | None = None, until: str | None = None
    ) -> TimelineOut:
        """Apps, activity runs and episodes of a day (default today) or a range (up to 31 days).

        Raises:
            BadQuery: a bad day or range.
        """
        start, end = _range(day, since, until)
        policy = self.policy()
        summary = self.service().timeline_summary(start, end, max(60.0, (end - start) / 2000))
        return timeline_out(summary, policy, self._memory_visible)

    def list_memories(
        self, mtype: str | None = None, *, limit: int = 20, offset: int = 0
    ) -> MemoryListOut:
        """Memories newest first, of one type or of every exposed type.

        Raises:
            BadQuery: an unknown type or a bad limit. Refused: a type not exposed.
        """
        if not 1 <= limit <= MAX_K or offset < 0:
            raise BadQuery(f"limit must be between 1 and {MAX_K}, offset >= 0")
        policy = self.policy()
        if mtype is not None:
            if mtype not in MEMORY_TYPES:
                raise BadQuery(f"unknown memory type {mtype!r}: one of {', '.join(MEMORY_TYPES)}")
            policy.check_kind(mtype)
        items = self.service().list_memories(mtype, limit=limit * 3, offset=offset)
        out = [m for m in (self._memory(m, policy) for m in items) if m is not None]
        return MemoryListOut(type=mtype, memories=out[:limit])

    def get_memory(self, mid: int) -> MemoryOut:
        """One memory with its sources.

        Raises:
            NotFound: no such memory, or one the policy hides.
        """
        policy = self.policy()
        found = self._memory(self.service().get_memory(mid), policy)
        if found is None:
            raise NotFound(f"no memory {mid}")
        return found

    def core(self) -> CoreOut:
        """The live core memory blocks (empty when core memory is not exposed)."""
        policy = self.policy()
        if "core" not in policy.exposed:
            return CoreOut(blocks=[])
        blocks = self.service().list_memories("core", limit=20)
        return CoreOut(blocks=[m for m in (self._memory(b, policy) for b in blocks) if m])

    def context_now(self) -> ContextOut:
        """Current time, time zone and whether Engram is recording."""
        now = datetime.now().astimezone()
        service = self.service()
        state = str(service.capture_status().get("state", "stopped"))
        last = service.nearest_observation(time.time())
        last_ts = last.ts_start if last is not None else None
        enabled = service.settings.current.capture.enabled
        if state != "stopped":
            recording, detail = state, f"this process records ({state})"
        elif last_ts is not None and time.time() - last_ts < 180:
            recording, detail = "capturing", "a moment was recorded in the last 3 minutes"
        elif not enabled:
            recording, detail = "off", "capture is turned off in the settings"
        else:
            recording, detail = "unknown", "nothing recorded in the last 3 minutes"
        return ContextOut(
            now=now.isoformat(timespec="seconds"),
            time_zone=str(now.tzname()),
            recording=recording,
            last_moment=iso(last_ts),
            detail=detail,
        )

    # -- writes (off unless the user turned them on) ----------------------------------------------

    def add_memory(
        self, mtype: str, *, title: str, summary: str, details: str = "", tree_path: list[str] = ()
    ) -> AddedOut:  # type: ignore[assignment]
        """Write a memory a client asked for; secrets in its text are replaced by placeholders.

        Raises:
            Refused: write tools are off, or the type is not exposed (vault never is writable).
        """
        policy = self.policy()
        if not policy.write:
            raise Refused(f"write tools are turned off (setting {self.face}.write_tools)")
        if mtype == "vault" or mtype not in MEMORY_TYPES:
            raise BadQuery(f"cannot add a {mtype!r} memory here")
        policy.check_kind(mtype)
        from memory.privacy.redaction import redact
        from memory.store.memories import SPECS

        spec = SPECS[mtype]
        data = {
            spec.title_alias or "title": redact(_check_text("title", title)).text,
            "summary": redact(_check_text("summary", summary)).text,
            spec.details_alias or "details": redact(details).text,
        }
        mid = self.service().add_memory(mtype, data, tree_path=list(tree_path), agent="mcp")
        return AddedOut(id=mid, type=mtype)

    def forget(self, since: str, until: str) -> ForgotOut:
        """Delete every moment in ``[since, until)`` and what derives only from them.

        Raises:
            Refused: write tools are off. BadQuery: a missing or reversed range.
        """
        policy = self.policy()
        if not policy.write:
            raise Refused(f"write tools are turned off (setting {self.face}.write_tools)")
        lo, hi = _time(since, "since"), _time(until, "until")
        if lo is None or hi is None or lo >= hi:
            raise BadQuery("forget needs since < until (ISO 8601 times)")
        report = self.service().forget(lo, hi)
        return ForgotOut(
            since=iso(lo) or "",
            until=iso(hi) or "",
            observations=len(report.observation_ids),
            memories=len(report.memory_ids),
            files=len(report.files),
        )

    # -- policy helpers -------------------------------------------------------------------------

    def _visible_observation(self, obs_id: int, policy: Policy) -> Observation | None:
        try:
            obs: Observation = self.service().observation(obs_id)
        except NotFound:
            return None
        if obs.kind not in policy.exposed or policy.app_hidden(obs.app, obs.window_title):
            return None
        return obs

    def _neighbours(self, obs_id: int, step: int, policy: Policy) -> list[NeighbourOut]:
        out: list[NeighbourOut] = []
        current = obs_id
        for _ in range(NEIGHBOURS * 10):  # skip hidden moments, but never walk the whole day
            nxt = self.service().neighbour(current, step)
            if nxt is None:
                break
            current = nxt.id
            if nxt.kind in policy.exposed and not policy.app_hidden(nxt.app, nxt.window_title):
                out.append(
                    NeighbourOut(
                        id=nxt.id,
                        link=moment_link(nxt.id),
                        time=iso(nxt.ts_start) or "",
                        app=nxt.app,
                        title=nxt.window_title,
                    )
                )
                if len(out) == NEIGHBOURS:
                    break
        return out

    def _sources(self, ids: list[int], policy: Policy) -> list[SourceOut] | None:
        """Source entries, or None when any source is hidden (then so is what came from it)."""
        found = self.service().store.get_observations(ids) if ids else {}
        out = []
        for oid in ids:
            obs = found.get(oid)
            if obs is None:
                continue
            if policy.app_hidden(obs.app, obs.window_title):
                return None
            out.append(
                SourceOut(
                    observation_id=oid,
                    link=moment_link(oid),
                    time=iso(obs.ts_start) or "",
                    app=obs.app,
                )
            )
        return out

    def _memory_visible(self, mid: int, policy: Policy) -> bool:
        try:
            return self._memory(self.service().get_memory(mid), policy) is not None
        except NotFound:
            return False

    def _hit(self, hit: Hit, policy: Policy) -> HitOut | None:
        kind = hit.obs_kind if hit.kind == "observation" else hit.kind
        if kind not in policy.exposed:
            return None
        if hit.kind == "observation" and policy.app_hidden(hit.app, hit.title):
            return None
        sources = self._sources([s.observation_id for s in hit.sources], policy)
        if sources is None:
            return None
        first = sources[0] if sources else None
        return HitOut(
            id=hit.id,
            kind=hit.kind,
            observation_kind=hit.obs_kind,
            score=round(hit.score, 6),
            time=iso(hit.ts) or "",
            app=hit.app or (first.app if first else None),
            title=hit.title,
            snippet=hit.text,
            link=first.link if first else None,
            sources=sources[:5],
        )

    def _memory(self, m: Memory, policy: Policy) -> MemoryOut | None:
        if m.type not in policy.exposed or not m.live:
            return None
        sources = self._sources(list(m.source_ids), policy)
        if sources is None:
            return None
        fields = {
            key: value
            for key, value in m.fields.items()
            if not key.startswith("secret")
            and (isinstance(value, FIELD_TYPES) or value is None or _str_list(value))
        }
        return MemoryOut(
            id=m.id,
            type=m.type,
            title=m.title,
            summary=m.summary,
            details=m.details,
            time=iso(m.ts) or "",
            tree_path=list(m.tree_path),
            fields=fields,
            sources=sources[:20],
        )


def _str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def _range(day: str | None, since: str | None, until: str | None) -> tuple[float, float]:
    """(start, end) of a day or a range, at most 31 days long."""
    if since or until:
        lo, hi = _time(since, "since"), _time(until, "until")
        if lo is None or hi is None or lo >= hi:
            raise BadQuery("a range needs since < until (ISO 8601 times)")
    else:
        try:
            d = date.fromisoformat(day) if day else date.today()
        except ValueError as exc:
            raise BadQuery(f"day must be YYYY-MM-DD, not {day!r}") from exc
        first = datetime.combine(d, datetime.min.time()).astimezone()
        lo, hi = first.timestamp(), (first + timedelta(days=1)).timestamp()
    if hi - lo > 31 * 86400:
        raise BadQuery("a timeline range may span at most 31 days")
    return lo, hi
