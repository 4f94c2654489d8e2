"""User settings the app edits, kept as JSON values in the ``settings`` table (Qt-free).

Defaults live here so a fresh home shows sensible values; a stored value wins. Unknown keys are
refused so a typo never silently does nothing.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from memory.errors import BadQuery

DEFAULTS: dict[str, Any] = {
    "first_run_done": False,
    "capture.enabled": True,
    "capture.interval_s": 2.0,
    "capture.monitors": "all",
    "capture.excluded_apps": ["KeePassXC", "1Password", "Bitwarden"],
    "capture.excluded_titles": ["*private*", "*incognito*"],
    "audio.enabled": False,
    "audio.device": "default",
    "retention.days": 365,
    "retention.quota_gb": 20.0,
    "models.text_embedding": "all-MiniLM-L6-v2",
    "models.image_embedding": "clip-vit-b32",
    "models.ocr": "rapidocr-ppocrv4",
    "models.speech": "whisper-tiny.en",
    "models.llm": "smollm2-135m-instruct",
    "models.device": "auto",
    "llm.backend": "local",
    "llm.endpoint": "http://127.0.0.1:8080/v1",
    "vault.locked": True,
    # what other programs may reach through `engram mcp` and the local HTTP API (#14)
    "mcp.enabled": True,
    "api.enabled": True,
    "mcp.expose": [
        "screen",
        "audio",
        "chat",
        "import",
        "core",
        "episodic",
        "semantic",
        "procedural",
        "resource",
    ],
    "mcp.ask": True,
    "mcp.write": False,
}


def _check(key: str) -> None:
    if key not in DEFAULTS:
        raise BadQuery(f"unknown setting: {key!r}")


def read_settings(conn: sqlite3.Connection) -> dict[str, Any]:
    """Every setting: stored values over the defaults."""
    out = dict(DEFAULTS)
    for key, raw in conn.execute("SELECT key, value FROM settings"):
        if key in DEFAULTS:
            try:
                out[key] = json.loads(raw)
            except json.JSONDecodeError:
                continue  # a hand-edited bad value falls back to the default
    return out


def write_settings(conn: sqlite3.Connection, values: dict[str, Any]) -> None:
    """Store some settings (inside the caller's write transaction).

    Raises:
        BadQuery: an unknown key or a value JSON cannot hold.
    """
    for key in values:
        _check(key)
    try:
        rows = [(k, json.dumps(v)) for k, v in values.items()]
    except TypeError as exc:
        raise BadQuery(f"setting value not storable: {exc}") from exc
    conn.executemany("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", rows)
