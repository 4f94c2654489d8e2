"""The first-run dialog explains the desktop's screen-sharing question on Wayland (#18)."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QLabel

from app.views.first_run import FirstRunDialog


def _text(dialog: FirstRunDialog) -> str:
    return " ".join(label.text() for label in dialog.findChildren(QLabel))


def test_wayland_first_run_explains_the_portal_question(qtbot, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-0")
    monkeypatch.delenv("SWAYSOCK", raising=False)
    monkeypatch.delenv("I3SOCK", raising=False)
    dialog = FirstRunDialog("/home/me/.local/share/engram")
    qtbot.addWidget(dialog)
    text = _text(dialog)
    assert "(not Engram) asks in its own dialog" in text and "screencast-token" in text
    assert '"unknown"' in text  # no sway here: excluded apps cannot be recognised


@pytest.mark.parametrize("sway", [True, False])
def test_x11_first_run_says_nothing_of_portals_and_sway_keeps_its_rules(
    qtbot,
    monkeypatch,
    sway: bool,  # noqa: ANN001
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    monkeypatch.delenv("SWAYSOCK", raising=False)
    if sway:
        monkeypatch.setenv("WAYLAND_DISPLAY", "wayland-1")
        monkeypatch.setenv("SWAYSOCK", "/run/user/1000/sway-ipc.sock")
    else:
        monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
        monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)
        monkeypatch.setenv("DISPLAY", ":0")
    dialog = FirstRunDialog("/home/me/.local/share/engram")
    qtbot.addWidget(dialog)
    text = _text(dialog)
    assert ("(not Engram) asks in its own dialog" in text) is sway
    assert '"unknown"' not in text
