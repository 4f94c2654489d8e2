"""The agents of one home: memoriser, background worker and chat, with the chat turn log."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from memory.agents.apply import apply_ops, pending_proposals, resolve_proposal
from memory.agents.chat import Answer, ChatAgent, asks_for_secret
from memory.agents.config import AgentConfig
from memory.agents.consolidate import duplicate_merges
from memory.agents.core import states_fact
from memory.agents.llm_protocol import AgentLLM
from memory.agents.memorizer import BatchResult, Memorizer
from memory.agents.worker import MemoryWorker
from memory.privacy.redaction import scrub
from memory.store.chat_log import add_message, create_session
from memory.store.records import NewObservation

if TYPE_CHECKING:
    from memory.home import Home

logger = logging.getLogger(__name__)


class VaultLike(Protocol):
    """What chat needs from the vault (``memory.vault.store.Vault``)."""

    @property
    def locked_by_user(self) -> bool:
        """Whether the user locked the vault."""
        ...

    def show(self, item_id: int) -> tuple[Any, str | None]:
        """One entry and why its secret is hidden (None: shown)."""
        ...


class AnswerStream:
    """Iterate to get the answer's text pieces; ``result`` holds the ``Answer`` once done.

    When the model fails mid-answer (server down or killed, too slow, a bad reply) the text said
    so far stays, a last piece says what happened, and the turn is still finished (``error`` and
    ``result.extra["error"]`` hold the reason). When the consumer stops early (the Stop button
    closes the iterator), what was said so far is kept, marked as stopped.
    """

    def __init__(self, pieces: Iterator[str], finish: Callable[[str], Answer]) -> None:
        self._pieces = pieces
        self._finish = finish
        self.result: Answer | None = None
        self.error: str | None = None

    def __iter__(self) -> Iterator[str]:
        text: list[str] = []
        try:
            for piece in self._pieces:
                text.append(piece)
                yield piece
        except GeneratorExit:
            self.error = "stopped"
            self.result = self._finish("".join(text) + " (stopped)")
            raise
        except Exception as exc:
            if not _model_failure(exc):
                raise
            self.error = _failure_message(exc)
            logger.warning("the assistant failed mid-answer: %s", exc)
            note = f"\n[{self.error}]"
            text.append(note)
            yield note
        self.result = self._finish("".join(text))
        if self.error is not None:
            self.result.extra["error"] = self.error


def _model_failure(exc: BaseException) -> bool:
    """Errors of the model or its server (not bugs of ours): the partial answer is kept."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    return bool(names & {"ModelError", "TimeoutError", "ConnectionError", "BadInput"})


def _failure_message(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"the assistant was too slow and was stopped ({exc}); the answer is incomplete"
    reason = getattr(exc, "reason", None) or str(exc)
    return f"the assistant stopped answering: {reason}; the answer is incomplete"


HOLD_BACK = 64
"""Characters of the answer held back while streaming: a secret is seen whole before any of it
is shown (a card's groups, a label and its value)."""


def redacted_stream(pieces: Iterator[str]) -> Iterator[str]:
    """The answer's pieces with secrets redacted, streamed with a short hold-back.

    Answers print no secret unless the vault is unlocked and the question asks for one (#12):
    the prompt holds none then, and this catches one an LLM copied from the history or made up.
    The text so far is redacted whole at each piece; what is shown stops at a word boundary
    ``HOLD_BACK`` characters before its end, so a secret cut across pieces is seen whole.
    """
    text = ""
    shown = ""
    try:
        for piece in pieces:
            text += piece
            clean = scrub(text)
            cut = clean.rfind(" ", 0, max(0, len(clean) - HOLD_BACK)) + 1
            if cut > len(shown) and clean.startswith(shown):
                yield clean[len(shown) : cut]
                shown = clean[:cut]
    except GeneratorExit:
        raise
    except Exception:  # the model died mid-answer: what it said still shows (redacted)
        yield _rest(text, shown)
        raise
    yield _rest(text, shown)


def _rest(text: str, shown: str) -> str:
    clean = scrub(text)
    if clean.startswith(shown):
        return clean[len(shown) :]
    return "\n" + clean  # a later piece changed how earlier text redacts: repeat it whole


class Agents:
    """Memorising and chat for one home (``MemoryService.agents()``).

    Args:
        home: the home's store, index, search and settings.
        vault: returns the home's vault, for chat to reveal a secret when it is unlocked.
    """

    def __init__(
        self,
        home: Home,
        llm: AgentLLM | None = None,
        config: AgentConfig | None = None,
        vault: Callable[[], VaultLike | None] | None = None,
    ) -> None:
        self.home = home
        self.config = config or AgentConfig()
        self._vault_getter = vault
        self.memorizer = Memorizer(home, llm, self.config)
        self.llm = self.memorizer.llm
        self.worker = MemoryWorker(self.memorizer)
        self.chat = ChatAgent(home, self.llm, self.config, self._vault_unlocked, self._reveal)

    # -- vault access for chat (only when unlocked and asked) ---------------------------------

    def _vault(self) -> VaultLike | None:
        if self._vault_getter is None:
            return None
        try:
            return self._vault_getter()
        except Exception:  # no pipeline/vault configured in this home: nothing to reveal
            logger.debug("vault not available", exc_info=True)
            return None

    def _vault_unlocked(self) -> bool:
        # Explicitly unlocked in this process (GUI unlock, `vault.unlock()`), not merely unlockable.
        vault = self._vault()
        keys = getattr(vault, "keys", None)
        return bool(
            vault is not None and not vault.locked_by_user and getattr(keys, "is_unlocked", False)
        )

    def _reveal(self, mid: int) -> str | None:
        vault = self._vault()
        if vault is None:
            return None
        try:
            item, problem = vault.show(mid)
            return getattr(item, "secret", None) if problem is None else None
        except Exception:
            logger.info("vault entry %s could not be revealed", mid)
            return None

    # -- asking -------------------------------------------------------------------------------

    def ask_stream(
        self,
        question: str,
        *,
        now: datetime | None = None,
        history: Sequence[dict[str, str]] = (),
        session_id: int | None = None,
        keep: bool = True,
    ) -> AnswerStream:
        """Stream an answer; when done (and ``keep``) the turn is stored and queued to memorise."""
        prepared = self.chat.prepare(question, history, now)
        pieces = self.chat.stream(prepared)
        if not (asks_for_secret(question) and self._vault_unlocked()):
            pieces = redacted_stream(pieces)

        def finish(text: str) -> Answer:
            answer = self.chat.finish(prepared, text)
            if keep:
                sid, mids = self.record_turn(session_id, question, answer)
                answer = Answer(
                    answer.text,
                    answer.citations,
                    answer.retrieved,
                    answer.model,
                    sid,
                    mids,
                    answer.extra,
                )
            return answer

        return AnswerStream(pieces, finish)

    def ask(self, question: str, **kw: Any) -> Answer:
        """Answer a question (blocking); see ``ask_stream``."""
        stream = self.ask_stream(question, **kw)
        for _ in stream:
            pass
        assert stream.result is not None
        return stream.result

    def record_turn(
        self, session_id: int | None, question: str, answer: Answer
    ) -> tuple[int, tuple[int, ...]]:
        """Store a turn in chat_sessions/chat_messages (its conversation).

        The turn is not an episode of the user's day: only a user message that states a fact
        ("my name is ...", "remember that ...") also becomes a chat observation, which the
        worker memorises; the assistant's answers never do (they would cite themselves later).
        """
        store = self.home.store

        def _do(conn: Any) -> tuple[int, tuple[int, ...]]:
            sid = session_id if session_id is not None else create_session(conn, question)
            q = add_message(conn, sid, "user", question)
            a = add_message(conn, sid, "assistant", answer.text, answer.citations)
            return sid, (q, a)

        sid, mids = store.write(_do, "chat turn")
        if not states_fact(question):
            return sid, mids
        obs = NewObservation(
            kind="chat",
            ts_start=time.time(),
            text=question,
            ext_id=f"engram:{sid}:{mids[0]}:{uuid.uuid4().hex[:12]}",
            speaker="user",
            session=f"engram-{sid}",
            app="engram",
        )
        ids = store.add_observations([obs])
        if ids and ids[0] is not None:
            store.write(
                lambda c: c.execute(
                    "UPDATE chat_messages SET observation_id = ? WHERE id = ?", (ids[0], mids[0])
                ),
                "chat link",
            )
        self.home.index_pending()
        self.worker.notify(urgent=True)
        return sid, mids

    # -- memorising ---------------------------------------------------------------------------

    def memorize_pending(
        self, progress: Callable[[int, int], None] | None = None, limit: int | None = None
    ) -> list[BatchResult]:
        """Memorise everything waiting now (``engram memorize``)."""
        return self.memorizer.process_pending(progress, limit)

    def consolidate(self, limit: int = 200) -> int:
        """Merge near-duplicate semantic/procedural/resource items; returns merges applied."""
        items = [
            m
            for t in ("semantic", "procedural", "resource")
            for m in self.home.store.list_memories(t, limit=limit)
        ]
        ops = duplicate_merges(items, self.memorizer.find)
        if ops:
            report = apply_ops(self.home.store, ops)
            self.memorizer.sync_vectors(report)
        return len(ops)

    def proposals(self) -> list[dict[str, Any]]:
        """Operations waiting for the user's confirmation."""
        return pending_proposals(self.home.store)

    def resolve(self, proposal_id: int, accept: bool) -> None:
        """Confirm or reject a proposal."""
        report = resolve_proposal(self.home.store, proposal_id, accept)
        self.memorizer.sync_vectors(report)

    def status(self) -> dict[str, Any]:
        """Worker and queue state for ``engram status`` and the GUI."""
        st = self.worker.state()
        rows = (
            self.home.store.read()
            .execute("SELECT outcome, COUNT(*) FROM agent_log GROUP BY outcome")
            .fetchall()
        )
        return {
            "llm": getattr(self.llm, "model_id", None),
            "running": st.running,
            "waiting": st.waiting,
            "retry_at": st.retry_at,
            "last_error": st.last_error,
            "batches": st.batches,
            "proposals": len(self.proposals()),
            "log": dict(rows),
        }
