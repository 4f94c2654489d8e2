"""The ``settings`` table of homes made before config.toml held every setting (read once, #10)."""

from __future__ import annotations

import json
import logging
import sqlite3

logger = logging.getLogger(__name__)


def read_legacy_settings(conn: sqlite3.Connection) -> dict[str, object]:
    """Every row of the old ``settings`` table as key -> JSON value (unreadable values skipped)."""
    out: dict[str, object] = {}
    for key, raw in conn.execute("SELECT key, value FROM settings"):
        try:
            out[str(key)] = json.loads(raw)
        except (TypeError, json.JSONDecodeError):
            logger.warning("old setting %s has an unreadable value; not migrated", key)
    return out
