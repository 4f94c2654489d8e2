"""Settings: the one model every face reads (``Settings``), its file, and its live copy.

Small API for the rest of Engram::

    settings = load_settings(home)            # config.toml over the defaults
    save_settings(home, new)                  # atomic, 0600, only what changed
    live = LiveSettings(home)                 # one per process; live.changed.connect(...)
    live.update({"capture.interval_s": 5})    # validate, save, notify
"""

from memory.settings.assistant import AssistantSettings
from memory.settings.keys import SettingsKeyError, flatten, get_key, set_key, set_keys
from memory.settings.live import LiveSettings
from memory.settings.load import Loaded, load_settings, read_settings, save_settings
from memory.settings.model import Settings

__all__ = [
    "AssistantSettings",
    "LiveSettings",
    "Loaded",
    "Settings",
    "SettingsKeyError",
    "flatten",
    "get_key",
    "load_settings",
    "read_settings",
    "save_settings",
    "set_key",
    "set_keys",
]
