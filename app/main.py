"""Starting the desktop app, and ``--snapshot``: render the main window on a home's data to PNG."""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QCoreApplication
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication

from app import theme
from app.bridge import CoreBridge
from app.views.main_window import VIEWS, MainWindow

logger = logging.getLogger(__name__)
ICON = Path(__file__).resolve().parent.parent / "assets" / "engram.svg"


def application(argv: list[str] | None = None, theme_choice: str = "system") -> QApplication:
    """The QApplication (created once), themed (``theme_choice``: system, light or dark)."""
    existing = QApplication.instance()
    if existing is None:
        theme.avoid_gtk_platform_theme()  # before Qt loads its platform theme plugin
    app = existing or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Engram")
    app.setOrganizationName("Engram")
    app.setQuitOnLastWindowClosed(True)
    theme.apply(app, theme.is_dark(theme_choice))
    return app


def app_icon() -> QIcon:
    """Engram's icon (assets/engram.svg), or an empty icon when missing."""
    return QIcon(str(ICON)) if ICON.is_file() else QIcon()


def wait_until_idle(bridge: CoreBridge, timeout_s: float = 15.0, settle_s: float = 0.3) -> bool:
    """Process events until no op has run for ``settle_s`` (used by --snapshot and tests)."""
    deadline = time.monotonic() + timeout_s
    quiet_since = time.monotonic()
    while time.monotonic() < deadline:
        QCoreApplication.processEvents()
        if bridge.busy():
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= settle_s:
            return True
        time.sleep(0.01)
    return False


def snapshot(window: MainWindow, path: Path, view: str = "timeline") -> Path:
    """Render the window once its data has loaded and save a PNG."""
    window.show()
    window.show_view(view)
    wait_until_idle(window.bridge)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(path)):
        raise OSError(f"cannot write {path}")
    return path


def build_window(service: Any, *, chat_backend: Any = None) -> MainWindow:
    """The main window over a service (the bridge owns and closes it)."""
    bridge = CoreBridge(service)
    window = MainWindow(bridge, chat_backend=chat_backend, icon=app_icon())
    window.open_latest()
    return window


def ask_passphrase(problem: str) -> str | None:
    """Ask for the home's passphrase in a small dialog; None when the user cancels."""
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    text, accepted = QInputDialog.getText(
        None, "Unlock Engram", f"{problem}\n\nPassphrase:", QLineEdit.EchoMode.Password
    )
    return text if accepted and text else None


def open_service(home: Path, ask: Callable[[str], str | None], tries: int = 3) -> Any:
    """The service of ``home``; an encrypted home that cannot unlock by itself (a passphrase
    home, or one locked with `engram lock`) asks ``ask`` for the passphrase, up to ``tries`` times.

    Raises:
        EngramLocked: the user cancelled, or every passphrase was wrong.
    """
    from memory.atrest import keys
    from memory.errors import EngramLocked
    from memory.service import MemoryService

    try:
        return MemoryService(home)
    except EngramLocked as exc:
        if not keys.is_encrypted(home):
            raise
        problem = str(exc)
    for _ in range(tries):
        secret = ask(problem)
        if secret is None:
            raise EngramLocked("Engram is locked: no passphrase was given")
        try:
            keys.unlock(home, secret)  # opening the app is unlocking it (clears the lock)
        except EngramLocked as exc:
            problem = str(exc)
            continue
        return MemoryService(home)
    raise EngramLocked(problem)


def run_app(
    home: Path,
    *,
    snapshot_path: Path | None = None,
    view: str = "timeline",
    minimized: bool = False,
    service: Any = None,
) -> int:
    """Run the app on ``home`` (or write a snapshot and exit); returns the exit code."""
    if view not in VIEWS:
        raise ValueError(f"unknown view {view!r}; expected one of {', '.join(VIEWS)}")
    app = application()
    if service is None:
        service = open_service(home, ask_passphrase)
    choice = str(service.get_settings().get("ui.theme", "system"))  # one small read at start-up
    theme.apply(app, theme.is_dark(choice))
    window = build_window(service)
    try:
        if snapshot_path is not None:
            snapshot(window, snapshot_path, view)
            return 0
        return _run_interactive(app, window, view, minimized)
    finally:
        window.close()
        window.bridge.close()  # joins the GUI workers, then service.close() stops capture


def _lock_action(app: QApplication, window: MainWindow) -> Callable[[], None] | None:
    """The tray's lock of an encrypted home: set the lock, then quit (closing the service stops
    capture and drops the key) (#12); None for a plain home."""
    from memory.atrest.keys import is_encrypted

    service = window.bridge.service
    if not is_encrypted(service.paths.root):
        return None

    def _lock() -> None:
        service.lock_home()
        app.quit()

    return _lock


def _run_interactive(app: QApplication, window: MainWindow, view: str, minimized: bool) -> int:
    from PySide6.QtWidgets import QSystemTrayIcon

    from app.views.first_run import FirstRunDialog
    from app.widgets.tray import Tray

    tray = None
    if QSystemTrayIcon.isSystemTrayAvailable():
        tray = Tray(app_icon(), window, window.capture, _lock_action(app, window))
        tray.show()
        app.setQuitOnLastWindowClosed(False)  # closing the window leaves Engram in the tray
    settings = window.bridge.service.get_settings()  # one small read before the loop starts
    accepted = True
    if not settings.get("ui.first_run_done"):
        dialog = FirstRunDialog(str(window.bridge.service.paths.root), window, window.bridge)
        accepted = bool(dialog.exec())
        if accepted:
            window.bridge.service.set_settings(dialog.choices())
            if dialog.lock_vault():
                window.bridge.service.vault().lock()
    if accepted:
        window.capture.start()  # off the GUI thread; records only when capture.enabled is on
    else:
        window.capture.refresh()
    # Load the assistant and its fixed prompt prefix while the user looks around (the chat's
    # own worker, so a first question simply waits for it).
    window.bridge.submit(window.bridge.service.warm_assistant, "stream")
    api = _start_api(window, bool(settings.get("api.enabled", False)))
    window.show_view(view)
    if minimized and tray is not None:
        window.hide()
    else:
        window.show()
    try:
        code = app.exec()
    finally:
        api.stop()
    del tray
    return int(code)


def _start_api(window: MainWindow, enabled: bool) -> Any:
    """The app's local HTTP API (#14), on when ``api.enabled``; the Settings switch toggles it."""
    from app.api.app_server import AppApi

    api = AppApi(window.bridge.service)

    def apply(on: bool) -> None:  # binding and importing the server take a moment: off the GUI
        threading.Thread(target=api.apply, args=(on,), name="engram-api-switch").start()

    apply(enabled)
    window.settings_view.connections.api_switched.connect(apply)
    return api
