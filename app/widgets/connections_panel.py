"""Settings panel: whether MCP and the HTTP API are on, a switch for each, recent clients (#14)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QGroupBox, QLabel, QVBoxLayout, QWidget

from app import ops
from app.api.clients import recent_clients
from app.api.files import read_server_info
from app.bridge import CoreBridge
from app.ops import StoreOp

REFRESH_MS = 15_000


def _ago(seconds: float) -> str:
    if seconds < 90:
        return "just now"
    if seconds < 5400:
        return f"{round(seconds / 60)} min ago"
    if seconds < 172_800:
        return f"{round(seconds / 3600)} h ago"
    return f"{round(seconds / 86400)} days ago"


def _state(service: Any) -> dict[str, Any]:
    """Settings, running server and recent clients, read off the GUI thread."""
    home = Path(service.paths.root)
    settings = service.get_settings()
    return {
        "mcp": bool(settings.get("mcp.enabled", True)),
        "api": bool(settings.get("api.enabled", False)),
        "server": read_server_info(home),
        "clients": recent_clients(home),
    }


class ConnectionsPanel(QGroupBox):
    """Two switches (MCP, HTTP API), where the API listens, and who connected lately."""

    api_switched = Signal(bool)  # the app starts or stops its own API server
    state_loaded = Signal(dict)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__("Assistants and scripts", parent)
        self._bridge = bridge
        self.mcp_box = QCheckBox("AI assistants may read my memory over MCP (engram mcp)")
        self.api_box = QCheckBox("This app serves the local HTTP API (token in the data folder)")
        self.api_status = QLabel(objectName="muted")
        self.clients_label = QLabel(objectName="muted", wordWrap=True)
        lay = QVBoxLayout(self)
        for w in (self.mcp_box, self.api_box, self.api_status, self.clients_label):
            lay.addWidget(w)
        self.mcp_box.toggled.connect(lambda on: self._save("mcp.enabled", on))
        self.api_box.toggled.connect(self._on_api_toggled)
        self._timer = QTimer(self, interval=REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Read the switches, the server file and the recent clients (off the GUI thread)."""
        StoreOp(self._bridge, _state).success(self._on_state).run()

    def _on_state(self, state: dict[str, Any]) -> None:
        for box, key in ((self.mcp_box, "mcp"), (self.api_box, "api")):
            box.blockSignals(True)
            box.setChecked(state[key])
            box.blockSignals(False)
        server = state["server"]
        if server is not None:
            self.api_status.setText(f"API listening on {server.url} (process {server.pid})")
        else:
            self.api_status.setText("API not running" + ("" if state["api"] else " (turned off)"))
        now = time.time()
        lines = [
            f"{c['name']} ({c['transport']}, {_ago(now - float(c['last_seen']))})"
            for c in state["clients"][:5]
        ]
        self.clients_label.setText(
            "Recent clients: " + "; ".join(lines) if lines else "No client has connected yet."
        )
        self.state_loaded.emit(state)

    def _on_api_toggled(self, on: bool) -> None:
        self._save("api.enabled", on)
        self.api_switched.emit(on)

    def _save(self, key: str, on: bool) -> None:
        ops.set_settings(bridge=self._bridge, values={key: on}, on_done=lambda _c: self.refresh())
