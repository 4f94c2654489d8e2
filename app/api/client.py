"""The CLI's fast path: `engram search`/`engram ask` through a running `engram serve` or app (#14).

A fresh process would load the store, the index and the embedder (seconds); a warm server answers
in milliseconds. When no server runs for the home, or it cannot be reached, callers run in-process.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from app.api.files import TOKEN_FILE, read_server_info
from memory.errors import BadQuery, NotFound

logger = logging.getLogger(__name__)

USER_AGENT = "engram-cli"


def call_server(home: Path, path: str, body: dict[str, Any], timeout: float = 300) -> Any:
    """POST ``body`` to the home's running server; its JSON answer, or None when there is none.

    Raises:
        BadQuery: the server refused the request (the message is the server's). NotFound: 404.
    """
    info = read_server_info(home)
    if info is None:
        return None
    try:
        token = (Path(home) / TOKEN_FILE).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    import httpx

    try:
        response = httpx.post(
            f"{info.url}{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}", "User-Agent": f"{USER_AGENT} {path}"},
            timeout=httpx.Timeout(timeout, connect=1.0),
        )
    except httpx.TransportError as exc:  # a stale file or a server going away: run in-process
        logger.info("no server at %s (%s); running in-process", info.url, exc)
        return None
    if response.status_code == 200:
        return response.json()
    try:
        message = str(response.json().get("error", response.text))
    except (ValueError, AttributeError):
        message = response.text[:200]
    if response.status_code == 404:
        raise NotFound(message)
    if response.status_code in (400, 403):
        raise BadQuery(f"{message} (answered by the server at {info.url}; --local runs here)")
    logger.warning(
        "the server at %s answered %s; running in-process", info.url, response.status_code
    )
    return None


def hits_as_cli_json(answer: dict[str, Any]) -> list[dict[str, Any]]:
    """The server's search answer in the shape `engram search --json` prints."""
    return [
        {
            "id": h["id"],
            "kind": h["kind"],
            "score": h["score"],
            "ts": h["time"],
            "title": h["title"],
            "text": h["snippet"],
            "sources": [
                {"observation_id": s["observation_id"], "ts": s["time"]} for s in h["sources"]
            ],
        }
        for h in answer["hits"]
    ]


def dumps(obj: object) -> str:
    """JSON for the terminal."""
    return json.dumps(obj, ensure_ascii=False, indent=2)
