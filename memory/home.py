"""One Engram home opened for use: its paths, settings, store, index and models (#10)."""

from __future__ import annotations

from pathlib import Path

from memory.paths import HomePaths
from memory.settings import LiveSettings
from memory.settings.migrate import migrate_settings_table


def open_settings(root: Path) -> LiveSettings:
    """The settings of a home without opening its indexes (``engram config``).

    The old settings table of an existing database is carried into config.toml first (once).
    """
    paths = HomePaths(Path(root))
    paths.create()
    if paths.db.exists():
        from memory.store import MemoryStore
        from memory.store.legacy_settings import read_legacy_settings

        store = MemoryStore(paths.db)
        try:
            migrate_settings_table(paths.root, lambda: read_legacy_settings(store.read()))
        finally:
            store.close()
    return LiveSettings(paths.root)
