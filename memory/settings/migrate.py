"""Once per home: carry the old ``settings`` table into config.toml (#10).

Homes made before the one settings model kept the app's choices in a SQLite table and the models in
config.toml's ``[models]`` table. ``[models]`` already has the new layout and stays as it is. The
table's keys map onto the new sections below; its ``models.*``, ``llm.endpoint`` with the "local"
backend and ``vault.locked`` were read by no code, so they are not carried over (the vault's lock
state lives in the database). The table itself is left untouched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from memory.settings.config_file import ConfigFileError, read_config, write_config
from memory.settings.keys import set_path
from memory.settings.load import clean, config_path
from memory.settings.model import SCHEMA_VERSION

logger = logging.getLogger(__name__)

#: old table key -> new dotted key
RENAMED: dict[str, str] = {
    "first_run_done": "ui.first_run_done",
    "capture.enabled": "capture.enabled",
    "capture.interval_s": "capture.interval_s",
    "capture.monitors": "capture.monitors",
    "capture.excluded_apps": "capture.excluded_apps",
    "capture.excluded_titles": "capture.excluded_titles",
    "audio.enabled": "audio.enabled",
    "audio.device": "audio.device",
    "retention.days": "retention.keep_full_days",
    "retention.quota_gb": "retention.quota_gb",
}


def migrate_settings_table(home: Path, read_table: Callable[[], dict[str, object]]) -> bool:
    """Write the old table's values into config.toml unless the file already has the new layout.

    ``read_table`` returns the old rows (``memory.store.legacy_settings``). Returns whether
    config.toml was written. Values the new model refuses are left out (and logged).
    """
    path = config_path(home)
    try:
        raw = read_config(path)
    except ConfigFileError:
        return False  # never touch a file the user must fix first
    if "schema_version" in raw:
        return False
    old = read_table()
    for key, value in old.items():
        new_key = RENAMED.get(key)
        if new_key is not None:
            set_path(raw, new_key, value)
    if old.get("llm.backend") == "openai-compatible":
        set_path(raw, "assistant.backend", "server")
        if "llm.endpoint" in old:
            set_path(raw, "assistant.server_url", old["llm.endpoint"])
    elif old.get("llm.backend") == "none":
        set_path(raw, "assistant.backend", "none")
    raw, problems = clean(raw, source="old settings table")
    for problem in problems:
        logger.warning("%s (not migrated)", problem)
    raw["schema_version"] = SCHEMA_VERSION
    write_config(path, raw)
    logger.info("settings: moved %d entries of the old settings table into %s", len(old), path)
    return True
