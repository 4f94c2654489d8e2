"""Programs that used Engram's MCP server or HTTP API lately, kept in the home for the GUI (#14)."""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from pathlib import Path

logger = logging.getLogger(__name__)

CLIENTS_FILE = "api-clients.json"
KEEP = 20  # most recent clients kept
_lock = threading.Lock()
_last_write: dict[tuple[str, str, str], float] = {}


def write_private(path: Path, text: str) -> None:
    """Write a file atomically with mode 0600 (never readable by others, even for a moment)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def record_client(home: Path, name: str, transport: str) -> None:
    """Note that ``name`` connected over ``transport`` (at most one write a minute per client)."""
    name = " ".join(name.split())[:80] or "unknown client"
    now = time.time()
    key = (str(home), name, transport)
    with _lock:
        if now - _last_write.get(key, 0.0) < 60:
            return
        _last_write[key] = now
        entries = [
            e for e in recent_clients(home) if (e["name"], e["transport"]) != (name, transport)
        ]
        entries.insert(0, {"name": name, "transport": transport, "last_seen": now})
        try:
            write_private(Path(home) / CLIENTS_FILE, json.dumps(entries[:KEEP]))
        except OSError:
            logger.warning("cannot record the client in %s", home)


def recent_clients(home: Path) -> list[dict[str, str | float]]:
    """Clients newest first: ``name``, ``transport`` (stdio|http|mcp-http), ``last_seen``."""
    try:
        raw = json.loads((Path(home) / CLIENTS_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    if not isinstance(raw, list):
        return []
    return [
        {
            "name": str(e["name"]),
            "transport": str(e["transport"]),
            "last_seen": float(e["last_seen"]),
        }
        for e in raw
        if isinstance(e, dict) and {"name", "transport", "last_seen"} <= e.keys()
    ]
