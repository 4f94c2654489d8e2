"""The SQL of a forget: observations, every derived copy in the database, the file journal (#12).

Runs inside the caller's write transaction. Besides the rows themselves it reaches the copies
other rows hold: memories derived only from the forgotten moments (and their audit text), the
assistant's answers that cited them (rewritten, with their own chat observations forgotten too),
chat messages recorded as forgotten observations, neighbouring chat turns whose search context
quotes a forgotten line, proposals built from them and the agent log's details. Files to unlink
go to ``pending_deletions`` in the same transaction; vector work goes to ``vector_outbox`` by
trigger.
"""

from __future__ import annotations

import bisect
import json
import re
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from memory.store.journal import queue_deletions
from memory.store.store import log_event

FORGOTTEN_ANSWER = "[This answer quoted moments you asked Engram to forget; it was removed.]"
_WORD = re.compile(r"\w+")
_PHRASE_WORDS = 12
_MAX_ROUNDS = 8
_MIN_QUOTE = 16  # shorter texts ("ok", "thanks") are not recognisable as quotes
_WINDOW = 40
FORGOTTEN_MARK = "[forgotten]"


@dataclass(frozen=True, slots=True)
class ForgetReport:
    """What a forget removed."""

    observations: int = 0
    frames: int = 0
    memories_deleted: int = 0
    memories_trimmed: int = 0
    observation_ids: tuple[int, ...] = ()
    memory_ids: tuple[int, ...] = ()
    files: tuple[str, ...] = field(default=(), repr=False)
    answers_removed: int = 0
    contexts_rewritten: int = 0


FilesOf = Callable[[str, str | None, str | None], list[str]]


def forget_rows(
    conn: sqlite3.Connection, obs_ids: Iterable[int], files_of: FilesOf
) -> ForgetReport:
    """Delete observations and every copy derived from them, inside the caller's transaction.

    ``files_of(origin, frame_path, thumb_path)`` names the stored files of a row (relative to the
    home; never an import's original); they are queued in ``pending_deletions``. Memories whose
    every source is forgotten are deleted with their audit text; memories with other sources lose
    these ids from their provenance.
    """
    gone: set[int] = set(obs_ids)
    if not gone:
        return ForgetReport()
    deleted: set[int] = set()
    trimmed: dict[int, set[int]] = {}  # memory -> its forgotten sources
    rewritten: set[int] = set()
    for _ in range(_MAX_ROUNDS):  # answers citing what goes bring their own observations along
        new_deleted, new_trimmed = _settle_memories(conn, gone, deleted)
        deleted |= new_deleted
        for mid, cut in new_trimmed.items():
            trimmed.setdefault(mid, set()).update(cut)
        more, answers = _answers_citing(conn, gone, deleted)
        rewritten |= answers
        if more <= gone:
            break
        gone |= more
    for mid in deleted:
        trimmed.pop(mid, None)
    ids = sorted(gone)
    _scrub_quotes(conn, trimmed)
    files: list[str] = []
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for kind, frame, thumb in conn.execute(
            f"SELECT origin, frame_path, thumb_path FROM observations WHERE id IN ({marks})", chunk
        ):
            files += files_of(kind, frame, thumb)
    contexts = _strip_quoting_contexts(conn, ids, gone)
    _drop_messages_and_proposals(conn, ids, gone)
    _blank_agent_log(conn, ids)
    present = 0
    for chunk in _chunks(ids):
        present += conn.execute(
            f"DELETE FROM observations WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ).rowcount
    queue_deletions(conn, files)
    conn.execute("INSERT INTO observations_fts (observations_fts) VALUES ('optimize')")
    conn.execute("INSERT INTO memories_fts (memories_fts) VALUES ('optimize')")
    return ForgetReport(
        present,
        len(files),
        len(deleted),
        len(trimmed),
        tuple(ids),
        tuple(sorted(deleted)),
        tuple(files),
        len(rewritten),
        contexts,
    )


def _settle_memories(
    conn: sqlite3.Connection, gone: set[int], already: set[int]
) -> tuple[set[int], dict[int, set[int]]]:
    """Delete memories left with no source, trim the provenance of the others."""
    mem_ids = {
        r[0]
        for chunk in _chunks(sorted(gone))
        for r in conn.execute(
            f"SELECT memory_id FROM memory_sources WHERE observation_id IN "
            f"({','.join('?' * len(chunk))})",
            chunk,
        )
    } - already
    deleted: set[int] = set()
    trimmed: dict[int, set[int]] = {}
    for mid in sorted(mem_ids):
        row = conn.execute("SELECT source_ids FROM memories WHERE id = ?", (mid,)).fetchone()
        if row is None:
            continue
        old = [int(s) for s in json.loads(row[0])]
        kept = [s for s in old if s not in gone]
        cut = sorted(set(old) & gone)
        if kept:
            conn.execute("UPDATE memories SET source_ids = ? WHERE id = ?", (json.dumps(kept), mid))
            conn.executemany(
                "DELETE FROM memory_sources WHERE memory_id = ? AND observation_id = ?",
                [(mid, s) for s in cut],
            )
            trimmed[mid] = set(cut)
            continue
        conn.execute("UPDATE memories SET superseded_by = NULL WHERE superseded_by = ?", (mid,))
        conn.execute("DELETE FROM memories WHERE id = ?", (mid,))
        conn.execute(
            "UPDATE memory_events SET before = NULL, after = NULL WHERE memory_id = ?", (mid,)
        )
        log_event(conn, mid, "user", "forget", None, None)
        deleted.add(mid)
    return deleted, trimmed


def _quoted_texts(conn: sqlite3.Connection, ids: list[int]) -> list[str]:
    """The forgotten texts long enough to be recognised where another row quotes them."""
    out = []
    for chunk in _chunks(sorted(ids)):
        for (text,) in conn.execute(
            f"SELECT text FROM observations WHERE id IN ({','.join('?' * len(chunk))})", chunk
        ):
            flat = " ".join((text or "").split())
            if len(flat) >= _MIN_QUOTE:
                out.append(flat)
    return out


def _needles(text: str) -> list[str]:
    if len(text) <= 2 * _WINDOW:
        return [text]
    step = _WINDOW // 2
    return [text[i : i + _WINDOW] for i in range(0, len(text) - _WINDOW + 1, step)]


def _without_quotes(value: str, texts: list[str]) -> str:
    """``value`` with every quote of a forgotten text replaced (whole quotes, else their lines)."""
    for text in texts:
        flat = " ".join(value.split())
        if text in flat:  # the same words, whatever whitespace separates them here
            pattern = r"\s+".join(re.escape(w) for w in text.split())
            value = re.sub(pattern, FORGOTTEN_MARK, value)
            continue
        needles = _needles(text)
        if any(n in flat for n in needles):
            value = "\n".join(
                FORGOTTEN_MARK if any(n in " ".join(line.split()) for n in needles) else line
                for line in value.split("\n")
            )
    return value


def _scrub_quotes(conn: sqlite3.Connection, trimmed: dict[int, set[int]]) -> None:
    """Memories that keep other sources lose the text they quote of their forgotten sources, in
    their fields and in the audit snapshots of their history."""
    for mid, cut in sorted(trimmed.items()):
        texts = _quoted_texts(conn, sorted(cut))
        if not texts:
            continue
        row = conn.execute(
            "SELECT title, summary, details FROM memories WHERE id = ?", (mid,)
        ).fetchone()
        if row is None:
            continue
        new = [_without_quotes(v or "", texts) for v in row]
        if new != [v or "" for v in row]:
            conn.execute(
                "UPDATE memories SET title = ?, summary = ?, details = ? WHERE id = ?",
                (*new, mid),
            )
        forms = [n for t in texts for n in _needles(t)]
        forms += [json.dumps(n)[1:-1] for n in forms]
        for eid, before, after in conn.execute(
            "SELECT id, before, after FROM memory_events WHERE memory_id = ?", (mid,)
        ).fetchall():
            flat = [" ".join((v or "").split()) for v in (before, after)]
            if any(f in v for v in flat for f in forms) or any(
                f in (v or "") for v in (before, after) for f in forms
            ):
                conn.execute(
                    "UPDATE memory_events SET before = NULL, after = NULL WHERE id = ?", (eid,)
                )


def _answers_citing(
    conn: sqlite3.Connection, gone: set[int], deleted: set[int]
) -> tuple[set[int], set[int]]:
    """Rewrite assistant answers citing a forgotten moment or memory; returns (their observations,
    the rewritten message ids)."""
    keys = {f"o:{i}" for i in gone} | {f"m:{i}" for i in deleted}
    more: set[int] = set()
    rewritten: set[int] = set()
    rows = conn.execute(
        "SELECT id, citations, observation_id FROM chat_messages "
        "WHERE role = 'assistant' AND citations != '[]'"
    ).fetchall()
    for mid, cites, obs_id in rows:
        if not _cites(json.loads(cites or "[]"), keys, gone):
            continue
        conn.execute(
            "UPDATE chat_messages SET content = ?, citations = '[]', observation_id = NULL "
            "WHERE id = ?",
            (FORGOTTEN_ANSWER, mid),
        )
        rewritten.add(mid)
        if obs_id is not None:
            more.add(int(obs_id))
    return more, rewritten


def _cites(citations: list[object], keys: set[str], gone: set[int]) -> bool:
    for c in citations:
        if not isinstance(c, dict):
            continue
        if c.get("id") in keys or c.get("observation_id") in gone:
            return True
        for s in c.get("sources") or ():
            if isinstance(s, dict) and s.get("observation_id") in gone:
                return True
    return False


def _strip_quoting_contexts(conn: sqlite3.Connection, ids: list[int], gone: set[int]) -> int:
    """Remove forgotten chat lines from the search context of the turns around them."""
    changed = 0
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        lines = conn.execute(
            f"SELECT speaker, text FROM observations WHERE id IN ({marks}) AND kind = 'chat'",
            chunk,
        ).fetchall()
        for speaker, text in lines:
            quoted = f"{speaker}: {text}"
            words = _WORD.findall(text or "")[:_PHRASE_WORDS]
            if not words:
                continue
            phrase = '"' + " ".join(words) + '"'
            for oid, context in conn.execute(
                "SELECT o.id, o.context FROM observations_fts f JOIN observations o "
                "ON o.id = f.rowid WHERE observations_fts MATCH ?",
                (f"context : {phrase}",),
            ).fetchall():
                if oid in gone or quoted not in context:
                    continue
                kept = "\n".join(x for x in context.split("\n") if x != quoted)
                conn.execute("UPDATE observations SET context = ? WHERE id = ?", (kept, oid))
                changed += 1
    return changed


def _drop_messages_and_proposals(conn: sqlite3.Connection, ids: list[int], gone: set[int]) -> None:
    """Chat messages recorded as forgotten observations (not the answers just rewritten, whose
    link is already cut), and proposals built from them."""
    for chunk in _chunks(ids):
        conn.execute(
            f"DELETE FROM chat_messages WHERE observation_id IN ({','.join('?' * len(chunk))})",
            chunk,
        )
    for pid, sources in conn.execute("SELECT id, source_ids FROM memory_proposals").fetchall():
        if gone & {int(s) for s in json.loads(sources or "[]")}:
            conn.execute("DELETE FROM memory_proposals WHERE id = ?", (pid,))


def _blank_agent_log(conn: sqlite3.Connection, ids: list[int]) -> None:
    """Agent log details of batches that included a forgotten moment (errors may quote text)."""
    rows = conn.execute(
        "SELECT id, obs_from, obs_to FROM agent_log WHERE obs_from <= ? AND obs_to >= ?",
        (ids[-1], ids[0]),
    ).fetchall()
    for rid, lo, hi in rows:
        at = bisect.bisect_left(ids, lo)
        if at < len(ids) and ids[at] <= hi:
            conn.execute("UPDATE agent_log SET detail = '' WHERE id = ?", (rid,))


def _chunks(ids: list[int], size: int = 500) -> list[list[int]]:
    return [ids[i : i + size] for i in range(0, len(ids), size)]
