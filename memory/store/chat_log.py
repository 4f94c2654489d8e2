"""The assistant's chat sessions and messages (``chat_sessions``/``chat_messages``): the queries."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

from memory.privacy.redaction import scrub, scrub_data


@dataclass(frozen=True, slots=True)
class ChatSession:
    """One kept conversation with the assistant."""

    id: int
    title: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class ChatMessage:
    """One message; ``citations`` are dicts like ``{"n": 1, "observation_id": 12}``."""

    id: int
    session_id: int
    role: str
    content: str
    citations: tuple[dict[str, Any], ...]
    ts: float


def list_sessions(conn: sqlite3.Connection, limit: int = 200) -> list[ChatSession]:
    """Sessions, most recently used first."""
    rows = conn.execute(
        "SELECT id, title, created_at, updated_at FROM chat_sessions "
        "ORDER BY updated_at DESC, id DESC LIMIT ?",
        (limit,),
    ).fetchall()
    return [ChatSession(*tuple(r)) for r in rows]


def session_messages(conn: sqlite3.Connection, session_id: int) -> list[ChatMessage]:
    """The messages of one session, oldest first."""
    rows = conn.execute(
        "SELECT id, session_id, role, content, citations, ts FROM chat_messages "
        "WHERE session_id = ? ORDER BY id",
        (session_id,),
    ).fetchall()
    return [
        ChatMessage(r[0], r[1], r[2], r[3], tuple(json.loads(r[4] or "[]")), r[5]) for r in rows
    ]


def create_session(conn: sqlite3.Connection, title: str) -> int:
    """A new session (inside the caller's write transaction); returns its id."""
    now = time.time()
    cur = conn.execute(
        "INSERT INTO chat_sessions (title, created_at, updated_at) VALUES (?, ?, ?)",
        (scrub(title)[:120], now, now),
    )
    assert cur.lastrowid is not None  # an INSERT always sets it
    return cur.lastrowid


def add_message(
    conn: sqlite3.Connection,
    session_id: int,
    role: str,
    content: str,
    citations: list[dict[str, Any]] | tuple[dict[str, Any], ...] = (),
) -> int:
    """Append a message and touch its session (inside the caller's write transaction)."""
    now = time.time()
    cur = conn.execute(
        "INSERT INTO chat_messages (session_id, role, content, citations, ts) "
        "VALUES (?, ?, ?, ?, ?)",
        (session_id, role, scrub(content), json.dumps(scrub_data(list(citations))), now),
    )
    conn.execute("UPDATE chat_sessions SET updated_at = ? WHERE id = ?", (now, session_id))
    assert cur.lastrowid is not None  # an INSERT always sets it
    return cur.lastrowid


def keep_turn(
    conn: sqlite3.Connection,
    session_id: int | None,
    question: str,
    answer: str,
    citations: list[dict[str, Any]],
) -> int:
    """Store a question and its answer (inside the caller's write transaction); creates the
    session when ``session_id`` is None; returns the session id."""
    sid = session_id if session_id is not None else create_session(conn, question)
    add_message(conn, sid, "user", question)
    add_message(conn, sid, "assistant", answer, citations)
    return sid
