"""The vault in the memory browser (unlock, reveal, lock) and model downloads in Settings."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton

from app.views import memory_view as memory_view_module
from app.views import settings_view as settings_module
from app.views.memory_view import MASK, TYPES
from models.errors import ModelUnavailable

SECRET = "sk-test-1234567890abcdef"
PASSPHRASE = "correct horse"
TIMEOUT = 10_000


def _add_vault_entry(service: Any) -> int:
    """Create the vault key with a passphrase, store one secret, then lock the vault."""
    vault = service.vault()
    vault.unlock(PASSPHRASE)
    mid = vault.add_secret(
        "api_key",
        SECRET,
        placeholder="[API_KEY_1]",
        caption="api_key seen in Terminal",
        source="Terminal",
        source_id=None,
        ts=1_771_315_200.0,
    )
    vault.lock()
    return mid


@pytest.fixture
def vault_window(qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The main window on the vault tab with one (locked) entry selected."""
    service = window.bridge.service
    mid = _add_vault_entry(service)
    view = window.memory_view
    with qtbot.waitSignal(view.memories_loaded, timeout=TIMEOUT):
        view.type_bar.setCurrentIndex(TYPES.index("vault"))
    view.show_memory(mid)
    qtbot.waitUntil(lambda: view.current is not None and view.current.id == mid, timeout=TIMEOUT)
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=TIMEOUT)
    return window


def _answer_passphrase(monkeypatch: pytest.MonkeyPatch, text: str) -> list[str]:
    asked: list[str] = []

    def fake_get_text(*_a: Any, **_k: Any) -> tuple[str, bool]:
        asked.append(text)
        return text, True

    monkeypatch.setattr(memory_view_module.QInputDialog, "getText", staticmethod(fake_get_text))
    return asked


def test_unlock_reveal_then_lock_masks(
    qtbot: Any, vault_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = vault_window.memory_view
    assert view.vault_box.isVisibleTo(view)
    assert view.details_edit.toPlainText() == MASK
    assert not view.reveal_b.isEnabled()
    asked = _answer_passphrase(monkeypatch, PASSPHRASE)

    with qtbot.waitSignal(view.vault_state_changed, timeout=TIMEOUT) as blocker:
        view.unlock_b.click()
    assert blocker.args == [True] and asked == [PASSPHRASE]
    assert view.reveal_b.isEnabled() and view.lock_b.isEnabled() and not view.unlock_b.isEnabled()

    with qtbot.waitSignal(view.secret_revealed, timeout=TIMEOUT):
        view.reveal_b.click()
    assert view.details_edit.toPlainText() == SECRET

    with qtbot.waitSignal(view.vault_state_changed, timeout=TIMEOUT) as blocker:
        view.lock_b.click()
    assert blocker.args == [False]
    assert view.details_edit.toPlainText() == MASK
    assert not view.reveal_b.isEnabled()
    assert not vault_window.bridge.service.vault().keys.is_unlocked


def test_wrong_passphrase_shows_error(
    qtbot: Any, vault_window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = vault_window.memory_view
    _answer_passphrase(monkeypatch, "not it")
    with qtbot.waitSignal(view.vault_error, timeout=TIMEOUT) as blocker:
        view.unlock_b.click()
    assert "wrong vault passphrase" in blocker.args[0]
    assert view.message_box is not None and "wrong vault passphrase" in view.message_box.text()
    assert not view.vault_unlocked and view.unlock_b.isEnabled()
    assert view.details_edit.toPlainText() == MASK
    view.message_box.close()


def _fake_catalogue(downloaded: set[str]) -> Any:
    def rows(_hub: Any = None) -> list[dict[str, Any]]:
        return [
            {
                "model_id": "clip-test",
                "role": "clip",
                "description": "test",
                "package": None,
                "url": "https://example.invalid/clip.bin",
                "size_bytes": 1000,
                "sha256": None,
                "offline_available": "clip-test" in downloaded,
                "local_path": None,
                "in_use": False,
            },
            {
                "model_id": "ocr-test",
                "role": "ocr",
                "description": "test",
                "package": "rapidocr",
                "url": None,
                "size_bytes": None,
                "sha256": None,
                "offline_available": True,
                "local_path": "/x",
                "in_use": True,
            },
        ]

    return rows


def _settings_with_fake_catalogue(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch, downloaded: set[str]
) -> Any:
    monkeypatch.setattr(settings_module, "catalogue_rows", _fake_catalogue(downloaded))
    view = window.settings_view
    with qtbot.waitSignal(view.models_loaded, timeout=TIMEOUT):
        view.reload_models()
    view.select_model("clip-test")
    return view


def test_download_progress_reaches_100_and_list_refreshes(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloaded: set[str] = set()
    view = _settings_with_fake_catalogue(qtbot, window, monkeypatch, downloaded)
    assert "unavailable" in view.models_list.currentItem().text()
    assert view.download_b.isEnabled()
    seen: list[int] = []
    view._download_progress.connect(lambda done, total: seen.append(int(done * 100 / total)))

    def fake_pull(model_id: str, hub: Any = None, progress: Any = None) -> str:
        for done in range(0, 1001, 250):
            progress(done, 1000)
        downloaded.add(model_id)
        return f"/cache/{model_id}.bin"

    monkeypatch.setattr(settings_module, "pull_model", fake_pull)
    with qtbot.waitSignal(view.models_loaded, timeout=TIMEOUT):
        with qtbot.waitSignal(view.download_finished, timeout=TIMEOUT) as blocker:
            view.download_b.click()
            assert view.progress_dialog is not None and view.progress_dialog.isVisible()
    assert blocker.args == ["/cache/clip-test.bin"]
    assert seen == [0, 25, 50, 75, 100] and view.last_percent == 100
    assert view.progress_dialog is None
    view.select_model("clip-test")
    assert "— available" in view.models_list.currentItem().text()
    assert not view.download_b.isEnabled()


def test_cancel_stops_the_download(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    downloaded: set[str] = set()
    view = _settings_with_fake_catalogue(qtbot, window, monkeypatch, downloaded)
    started, steps = threading.Event(), []

    def fake_pull(model_id: str, hub: Any = None, progress: Any = None) -> str:
        progress(0, 1000)
        started.set()
        for done in range(1, 1000):  # ends when the callback raises after Cancel
            view._cancel.wait(0.01)
            steps.append(done)
            progress(done, 1000)
        downloaded.add(model_id)
        return "/never"

    monkeypatch.setattr(settings_module, "pull_model", fake_pull)
    view.download_b.click()
    qtbot.waitUntil(started.is_set, timeout=TIMEOUT)
    with qtbot.waitSignal(view.download_failed, timeout=TIMEOUT) as blocker:
        cancel = next(
            b for b in view.progress_dialog.findChildren(QPushButton) if b.text() == "Cancel"
        )
        cancel.click()
    assert blocker.args == ["Download cancelled."]
    assert not downloaded and view.progress_dialog is None and len(steps) < 999


def test_offline_download_shows_message(
    qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    view = _settings_with_fake_catalogue(qtbot, window, monkeypatch, set())

    def offline_pull(model_id: str, hub: Any = None, progress: Any = None) -> str:
        raise ModelUnavailable("clip", model_id, "you are offline; connect and try again")

    monkeypatch.setattr(settings_module, "pull_model", offline_pull)
    with qtbot.waitSignal(view.download_failed, timeout=TIMEOUT) as blocker:
        view.download_b.click()
    assert "you are offline" in blocker.args[0]
    assert view.message_box is not None and "you are offline" in view.message_box.text()
    assert view.progress_dialog is None and view.download_b.isEnabled()
    view.message_box.close()
