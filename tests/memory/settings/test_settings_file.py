"""The settings model and its file: defaults, bad entries named, atomic 0600 writes, migration."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memory.settings import (
    LiveSettings,
    Settings,
    SettingsKeyError,
    flatten,
    load_settings,
    read_settings,
    save_settings,
    set_key,
)
from memory.settings.config_file import read_config

ROOT = Path(__file__).resolve().parents[3]


def test_defaults_are_documented_field_by_field(monkeypatch) -> None:
    from memory.settings.keys import describe

    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND")  # the test session's override
    keys = flatten(Settings())
    assert keys["capture.interval_s"] == 2.0 and keys["audio.keep_raw_audio"] is False
    assert keys["retention.keep_full_days"] == 30.0 and keys["assistant.backend"] == "local"
    undocumented = [
        k for k in keys if not k.startswith("models.") and not describe(k)
    ]  # models.* are the models layer's own config (documented in models/config.py)
    assert undocumented == []


def test_save_writes_only_changes_atomically_and_private(tmp_path: Path) -> None:
    new = set_key(Settings(), "capture.interval_s", "5")
    save_settings(tmp_path, new)
    path = tmp_path / "config.toml"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_config(path) == {"schema_version": 1, "capture": {"interval_s": 5.0}}
    assert load_settings(tmp_path).capture.interval_s == 5.0
    assert [p.name for p in tmp_path.iterdir()] == ["config.toml"]  # no temp file left


def test_unknown_keys_and_wrong_types_are_named_defaults_kept_file_kept(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    text = (
        'schema_version = 1\n[capture]\ninterval_s = "fast"\nintervl = 3\nmonitors = [0]\n'
        "excluded_apps = ['signal']\n[audio]\nenabled = true\n[nonsense]\nx = 1\n"
    )
    path.write_text(text)
    loaded = read_settings(tmp_path)
    problems = "\n".join(loaded.problems)
    for key in ("capture.interval_s", "capture.intervl", "capture.monitors", "nonsense"):
        assert key in problems
    s = loaded.settings
    assert s.capture.interval_s == 2.0 and s.capture.monitors == "all"  # defaults kept
    assert s.capture.excluded_apps == ["signal"] and s.audio.enabled  # good entries kept
    assert path.read_text() == text  # a read never rewrites the file
    save_settings(tmp_path, set_key(s, "audio.device", "3"))
    after = read_config(path)
    assert after["capture"]["intervl"] == 3 and after["nonsense"] == {"x": 1}
    assert after["audio"] == {"enabled": True, "device": "3"}


def test_a_file_that_is_not_toml_is_kept_beside_the_new_one(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[capture\ninterval_s = 3\n")
    loaded = read_settings(tmp_path)
    assert loaded.settings == Settings() and "not valid TOML" in loaded.problems[0]
    save_settings(tmp_path, set_key(Settings(), "audio.enabled", "true"))
    (backup,) = tmp_path.glob("config.toml.bad-*")
    assert backup.read_text() == "[capture\ninterval_s = 3\n"
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert load_settings(tmp_path).audio.enabled


def test_set_key_reads_text_as_the_keys_type_and_names_bad_ones() -> None:
    s = set_key(Settings(), "capture.excluded_apps", "Signal, KeePassXC")
    assert s.capture.excluded_apps == ["Signal", "KeePassXC"]
    assert set_key(s, "capture.monitors", "2,1").capture.monitors == [2, 1]
    assert set_key(s, "capture.monitors", "all").capture.monitors == "all"
    assert set_key(s, "audio.enabled", "true").audio.enabled is True
    s = set_key(s, "assistant.api_key_env", "ENGRAM_LLM_KEY")
    assert set_key(s, "assistant.api_key_env", "").assistant.api_key_env is None
    with pytest.raises(SettingsKeyError, match=r"capture\.interval_s.*greater than 0"):
        set_key(s, "capture.interval_s", "-1")
    with pytest.raises(SettingsKeyError, match="did you mean capture.interval_s"):
        set_key(s, "capture.intervl_s", "3")
    with pytest.raises(SettingsKeyError, match="ui.theme"):
        set_key(s, "ui.theme", "purple")


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "config.toml").write_text("[capture]\ninterval_s = 4.0\n")
    monkeypatch.setenv("ENGRAM_CAPTURE__INTERVAL_S", "9")
    assert load_settings(tmp_path).capture.interval_s == 9.0
    monkeypatch.setenv("ENGRAM_CAPTURE__INTERVAL_S", "-9")
    loaded = read_settings(tmp_path)
    assert loaded.settings.capture.interval_s == 4.0 and "environment" in loaded.problems[-1]


def test_live_settings_signal_saves_and_changes_from_another_process(tmp_path: Path) -> None:
    live = LiveSettings(tmp_path)
    seen: list[tuple[float, float]] = []
    live.changed.connect(
        lambda new, old: seen.append((new.capture.interval_s, old.capture.interval_s))
    )
    live.update({"capture.interval_s": 3})
    assert seen == [(3.0, 2.0)]
    assert live.poll() is False  # our own save is not news
    other = LiveSettings(tmp_path)
    time.sleep(0.01)
    other.update({"capture.interval_s": 7})
    assert live.poll() is True and live.current.capture.interval_s == 7.0
    assert seen[-1] == (7.0, 3.0)
    with pytest.raises(SettingsKeyError):
        live.update({"capture.interval_s": 0})
    assert load_settings(tmp_path).capture.interval_s == 7.0 and len(seen) == 2


SAVER = """
import sys
from memory.settings import LiveSettings
live = LiveSettings(sys.argv[1])
i = 0
print("ready", flush=True)
while True:
    i += 1
    live.update({"capture.excluded_apps": [f"app{i}-" + "x" * 200 for _ in range(50)]})
"""


def test_a_killed_writer_never_leaves_a_half_written_file(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for delay in (0.3, 0.55, 0.8):
        proc = subprocess.Popen(
            [sys.executable, "-c", SAVER, str(tmp_path)], env=env, stdout=subprocess.PIPE
        )
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"ready"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        loaded = read_settings(tmp_path)
        assert loaded.problems == ()
        apps = loaded.settings.capture.excluded_apps
        assert len(apps) == 50 and len({a.split("-")[0] for a in apps}) == 1


def test_the_old_settings_table_is_migrated_once(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND")  # the test session's override
    from memory.home import open_settings
    from memory.store import MemoryStore

    home = tmp_path / "home"
    home.mkdir()
    (home / "config.toml").write_text(
        '[models.ocr]\nmodel_id = "rapidocr-ppocrv4"\nmax_side = 2048\n'
    )
    store = MemoryStore(home / "engram.db")
    rows = {
        "capture.interval_s": 6.0,
        "capture.excluded_apps": ["Signal"],
        "audio.enabled": True,
        "retention.days": 365,
        "first_run_done": True,
        "llm.backend": "openai-compatible",
        "llm.endpoint": "http://127.0.0.1:9/v1",
        "models.llm": "smollm2-135m-instruct",  # never read by any code: not carried over
        "capture.monitors": "0",  # refused by the new model: left out
    }
    store.write(
        lambda c: c.executemany(
            "INSERT INTO settings (key, value) VALUES (?, ?)",
            [(k, json.dumps(v)) for k, v in rows.items()],
        )
    )
    store.close()
    s = open_settings(home).current
    assert s.capture.interval_s == 6.0 and s.capture.excluded_apps == ["Signal"]
    assert s.audio.enabled and s.retention.keep_full_days == 365 and s.ui.first_run_done
    assert s.assistant.backend == "server" and s.assistant.server_url == "http://127.0.0.1:9/v1"
    assert s.models.ocr.max_side == 2048  # the old [models] table is kept as it was
    assert s.models.llm.model_id == Settings().models.llm.model_id
    assert s.capture.monitors == "all"
    open_settings(home).update({"capture.interval_s": 3})
    assert open_settings(home).current.capture.interval_s == 3.0  # not migrated a second time
