"""First run: what Engram captures, where it is kept, the privacy switches, then start."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QCheckBox, QDialog, QDialogButtonBox, QLabel, QVBoxLayout, QWidget

TEXT = """<h2>Welcome to Engram</h2>
<p>Engram keeps a private memory of your computer: a screenshot every few seconds when the screen
changes, the text on it, optionally your microphone, and your chats with its assistant.</p>
<p><b>Everything stays on this machine</b>, in <code>{home}</code> (readable only by you).
Nothing is sent anywhere unless you point the assistant at a server of your own.</p>
<p>Passwords and keys seen on screen are redacted and kept encrypted in the vault. You can pause
capture from the tray at any time, exclude apps, and forget any moment or range.</p>"""
WAYLAND = """<p><b>This is a Wayland session.</b> When capture starts, your desktop
(not Engram) asks in its own dialog which screens Engram may record. Choose the monitors
and allow it: Engram asks the desktop to remember the choice, so you are not asked again
(the permission is kept in your home; delete <code>screencast-token</code> there to be
asked anew).</p>"""
NO_WINDOWS = """<p>This desktop does not tell apps which window is active, so Engram
cannot recognise excluded apps or private browser windows here: every screenshot is
recorded with the app "unknown". Pause capture before showing something private; the
text still passes redaction.</p>"""


RULES_LIMIT = (
    "This Wayland desktop does not tell apps which window is active: the app and title rules "
    'below cannot apply, and every screenshot is recorded with the app "unknown" (only sway '
    "tells Engram the active window)."
)


def windows_unknown() -> bool:
    """Whether this session records without knowing the active window (Wayland off sway)."""
    import os

    from capture.window import session_kind

    if session_kind() != "wayland":
        return False
    return not (os.environ.get("SWAYSOCK") or os.environ.get("I3SOCK"))


def session_text() -> str:
    """What the first run says about this session's screen capture (empty on X11)."""
    from capture.window import session_kind

    if session_kind() != "wayland":
        return ""
    return WAYLAND + (NO_WINDOWS if windows_unknown() else "")


class FirstRunDialog(QDialog):
    """Explains capture and storage and asks for the privacy switches."""

    def __init__(self, home: str, parent: QWidget | None = None, bridge: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Welcome to Engram")
        self.screen_box = QCheckBox("Capture my screen", checked=True)
        self.audio_box = QCheckBox(
            "Record my microphone (transcribed on this machine)", checked=False
        )
        self.vault_box = QCheckBox("Keep the vault locked until I unlock it", checked=True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Start Engram")
        buttons.accepted.connect(self.accept)
        lay = QVBoxLayout(self)
        info = QLabel(TEXT.format(home=home) + session_text(), wordWrap=True)
        lay.addWidget(info)
        for w in (self.screen_box, self.audio_box, self.vault_box):
            lay.addWidget(w)
        self.assistant_box = None
        if bridge is not None:  # offer a detected local server, or the packaged model
            from app.views.assistant_box import AssistantBox

            self.assistant_box = AssistantBox(bridge)
            lay.addWidget(self.assistant_box)
        lay.addWidget(buttons)
        self.resize(640, 480)

    def choices(self) -> dict[str, Any]:
        """The settings the user picked (the vault lock is ``lock_vault``)."""
        return {
            "capture.enabled": self.screen_box.isChecked(),
            "audio.enabled": self.audio_box.isChecked(),
            "ui.first_run_done": True,
        }

    def lock_vault(self) -> bool:
        """Whether the user asked for the vault to stay locked until they unlock it."""
        return self.vault_box.isChecked()
