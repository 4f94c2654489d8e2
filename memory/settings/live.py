"""The settings of a running home, with a change signal (Qt-free, psygnal).

Every part of one process shares one ``LiveSettings``: the app's Settings view saves through it, and
the recorder and the agents connect to ``changed`` to apply a saved change without a restart. A
change another process writes to config.toml (``engram config set``) is picked up by ``poll``, which
the recorder's housekeeping tick calls.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from psygnal import Signal

from memory.settings.keys import Value, set_keys
from memory.settings.load import config_path, read_settings, save_settings
from memory.settings.model import Settings

logger = logging.getLogger(__name__)


class LiveSettings:
    """The current settings of one home and the signal that they changed. Thread-safe.

    Signals:
        changed(new: Settings, old: Settings): emitted on the thread that saved or polled.
    """

    changed = Signal(object, object)

    def __init__(self, home: Path) -> None:
        self._home = Path(home)
        self._lock = threading.RLock()
        loaded = read_settings(self._home)
        self._current = loaded.settings
        self.problems = loaded.problems
        for problem in self.problems:
            logger.warning("%s", problem)
        self._stamp = self._file_stamp()

    @property
    def current(self) -> Settings:
        """The settings now (a validated, immutable-by-convention snapshot)."""
        return self._current

    def save(self, new: Settings) -> Settings:
        """Write ``new`` to config.toml (only what changed) and tell every listener."""
        with self._lock:
            old = self._current
            save_settings(self._home, new, base=old)
            self._current = new
            self._stamp = self._file_stamp()
        if new != old:
            self.changed.emit(new, old)
        return new

    def update(self, values: dict[str, Value]) -> Settings:
        """Change some dotted keys and save (see ``keys.set_keys``).

        Raises:
            SettingsKeyError: an unknown key or a refused value; nothing was saved.
        """
        with self._lock:
            return self.save(set_keys(self._current, values))

    def poll(self) -> bool:
        """Reload when another process changed config.toml; whether the settings changed."""
        stamp = self._file_stamp()
        if stamp == self._stamp:
            return False
        with self._lock:
            old = self._current
            loaded = read_settings(self._home)
            self._current, self.problems, self._stamp = loaded.settings, loaded.problems, stamp
        for problem in loaded.problems:
            logger.warning("%s", problem)
        if loaded.settings == old:
            return False
        self.changed.emit(loaded.settings, old)
        return True

    def _file_stamp(self) -> tuple[int, int] | None:
        try:
            st = config_path(self._home).stat()
        except FileNotFoundError:
            return None
        return st.st_mtime_ns, st.st_size
