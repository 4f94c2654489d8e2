"""The Settings panel for MCP and the HTTP API: switches, where the API listens, recent clients."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from app.api.app_server import AppApi
from app.api.clients import record_client
from app.api.operations import Operations
from app.api.policy import Refused
from app.api.schemas import SearchRequest

TIMEOUT = 15_000


def _panel(window: Any) -> Any:
    panel = window.settings_view.connections
    window.show_view("settings")
    return panel


def _refreshed(qtbot: Any, panel: Any) -> dict[str, Any]:
    with qtbot.waitSignal(panel.state_loaded, timeout=TIMEOUT) as blocker:
        panel.refresh()
    return blocker.args[0]  # type: ignore[no-any-return]


def test_shows_switches_and_recent_clients(qtbot: Any, window: Any) -> None:
    panel = _panel(window)
    home = window.bridge.service.paths.root
    state = _refreshed(qtbot, panel)
    assert state["mcp"] and not state["api"]  # MCP answers when a client starts it; no server
    assert panel.mcp_box.isChecked() and not panel.api_box.isChecked()
    assert panel.api_status.text().startswith("API not running")
    assert panel.clients_label.text() == "No client has connected yet."
    record_client(home, "Claude Desktop 0.9", "stdio")
    _refreshed(qtbot, panel)
    assert "Claude Desktop 0.9 (stdio, just now)" in panel.clients_label.text()


def test_mcp_switch_turns_the_server_off(qtbot: Any, window: Any) -> None:
    panel = _panel(window)
    service = window.bridge.service
    _refreshed(qtbot, panel)
    panel.mcp_box.setChecked(False)
    qtbot.waitUntil(lambda: service.get_settings()["mcp.enabled"] is False, timeout=TIMEOUT)
    ops = Operations(service.paths.root, face="mcp", service_factory=lambda: service)
    with pytest.raises(Refused, match="turned off"):
        ops.search(SearchRequest(query="Lisbon"))
    panel.mcp_box.setChecked(True)
    qtbot.waitUntil(lambda: service.get_settings()["mcp.enabled"] is True, timeout=TIMEOUT)
    assert ops.search(SearchRequest(query="Lisbon")).hits


def test_api_switch_starts_and_stops_the_apps_server(qtbot: Any, window: Any) -> None:
    panel = _panel(window)
    service = window.bridge.service
    service.set_settings({"api.port": 0})  # any free port
    api = AppApi(service)
    panel.api_switched.connect(api.apply)
    try:
        _refreshed(qtbot, panel)
        panel.api_box.setChecked(True)
        assert api.port is not None
        token = (service.paths.root / "api-token").read_text().strip()
        url = f"http://127.0.0.1:{api.port}/v1/search"
        qtbot.waitUntil(lambda: service.get_settings()["api.enabled"] is True, timeout=TIMEOUT)
        auth = {"Authorization": f"Bearer {token}"}
        r = httpx.post(url, json={"query": "Lisbon"}, headers=auth, timeout=120)
        assert r.status_code == 200 and r.json()["hits"]
        qtbot.waitUntil(
            lambda: panel.api_status.text().startswith("API listening"), timeout=TIMEOUT
        )
        assert str(api.port) in panel.api_status.text()
        panel.api_box.setChecked(False)
        assert api.port is None
        with pytest.raises(httpx.TransportError):
            httpx.post(url, json={"query": "x"}, headers={"Authorization": f"Bearer {token}"})
        assert not (service.paths.root / "api-server.json").exists()
    finally:
        api.stop()
