"""Settings → Assistant: a local server is detected with its models and picked in one click."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

TIMEOUT = 20_000


class OllamaLike(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path != "/api/tags":
            self.send_error(404)
            return
        data = json.dumps({"models": [{"name": "qwen2.5:1.5b"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def ollama(monkeypatch: pytest.MonkeyPatch) -> Any:
    from models.llm import discover

    srv = ThreadingHTTPServer(("127.0.0.1", 0), OllamaLike)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setattr(
        discover, "KNOWN", (discover.KnownServer("Ollama", srv.server_port, ollama=True),)
    )
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def test_a_detected_server_is_offered_and_saved(qtbot, window, ollama, monkeypatch):
    from app.views.assistant_box import AssistantBox

    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND")  # the test session's "no assistant" default
    box = AssistantBox(window.bridge)
    qtbot.addWidget(box)
    qtbot.waitUntil(lambda: len(box.choices) > 0, timeout=TIMEOUT)
    assert box.selected().kind == "server", "a running server is offered first"
    assert "qwen2.5:1.5b" in box.combo.currentText()
    with qtbot.waitSignal(box.assistant_changed, timeout=TIMEOUT):
        box.use_selected()
    assistant = window.bridge.service.settings.current.assistant
    assert assistant.backend == "server" and assistant.model == "qwen2.5:1.5b"
    assert assistant.server_url == f"http://127.0.0.1:{ollama.server_port}/v1"
    assert "qwen2.5:1.5b" in box.current.text()
    qtbot.waitUntil(lambda: not window.bridge.busy(), timeout=TIMEOUT)
