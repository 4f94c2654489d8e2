"""`engram ask --llm config` answers with the assistant the settings name (#10).

It raised ``TypeError: 'ModelHub' object is not callable`` before: llm_factory called
``service.models()``, a property, behind a ``service: Any``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.cli.main import main

ANSWER = "You fly to Lisbon on TP1234 [1]."


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.seen.append((self.headers.get("Authorization"), body))  # type: ignore[attr-defined]
        if body.get("stream"):
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for piece in (ANSWER[:10], ANSWER[10:]):
                event = {"choices": [{"delta": {"content": piece}}]}
                self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
            self.wfile.write(b"data: [DONE]\n\n")
            return
        data = json.dumps({"choices": [{"message": {"role": "assistant", "content": ANSWER}}]})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data.encode())


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.seen = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def test_ask_with_llm_config_uses_the_assistant_settings(
    tmp_path: Path,
    server: ThreadingHTTPServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home = str(tmp_path / "home")
    chat = tmp_path / "chat.jsonl"
    chat.write_text(
        json.dumps(
            {
                "id": "1",
                "ts": "2026-02-16T09:00:00",
                "speaker": "user",
                "text": "my flight is TP1234",
            }
        )
        + "\n"
    )
    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND", raising=False)  # conftest's default: none
    monkeypatch.setenv("ENGRAM_TEST_LLM_KEY", "sekrit")
    url = f"http://127.0.0.1:{server.server_port}/v1"
    for key, value in (
        ("assistant.backend", "server"),
        ("assistant.server_url", url),
        ("assistant.model", "smol"),
        ("assistant.api_key_env", "ENGRAM_TEST_LLM_KEY"),
    ):
        assert main(["--home", home, "config", "set", key, value]) == 0
    assert main(["--home", home, "import", "chat", str(chat)]) == 0
    capsys.readouterr()
    assert main(["--home", home, "ask", "which flight?", "--llm", "config", "--json"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert "TP1234" in answer["answer"]
    auth, body = server.seen[-1]  # type: ignore[attr-defined]
    assert auth == "Bearer sekrit" and body["model"] == "smol"
    assert "sekrit" not in (tmp_path / "home" / "config.toml").read_text()  # only its name
