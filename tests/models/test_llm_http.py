"""OpenAI-compatible client against a tiny local http.server: success, retries and error paths."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models.errors import InvalidModelOutput, LLMServerError
from models.llm.openai_http import OpenAICompatLLM

MSGS = [{"role": "user", "content": "hi"}]
SCHEMA = {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}


def _completion(content: str) -> bytes:
    return json.dumps(
        {"choices": [{"message": {"role": "assistant", "content": content}}]}
    ).encode()


class Handler(BaseHTTPRequestHandler):
    """Answers according to ``server.script``: a list of behaviours, one per request."""

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass

    def do_POST(self) -> None:  # noqa: N802 (http.server naming)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append((dict(self.headers), body))
        mode = self.server.script.pop(0) if len(self.server.script) > 1 else self.server.script[0]
        if mode == "slow":
            time.sleep(1.5)
            return self._send(200, _completion("late"))
        if mode == "500":
            return self._send(500, b'{"error": "overloaded"}')
        if mode == "400":
            return self._send(400, b'{"error": "bad model name"}')
        if mode == "not-json":
            return self._send(200, b"<html>proxy error</html>")
        if mode == "json-object-only":  # llama-cpp-python's server behaviour
            if body["response_format"]["type"] != "json_object":
                return self._send(
                    500,
                    b'{"error": "response_format.type: Input should be '
                    b'text or json_object, got json_schema"}',
                )
            return self._send(200, _completion('{"n": 7}'))
        if mode == "stream":
            return self._stream(["Hel", "lo", " there"])
        self._send(200, _completion(mode))

    def _send(self, status: int, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, pieces: list[str]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for piece in pieces:
            event = {"choices": [{"delta": {"content": piece}}]}
            self.wfile.write(f"data: {json.dumps(event)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")


class QuietServer(ThreadingHTTPServer):
    """Ignores the broken pipe when a client has already given up on a slow answer."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[ThreadingHTTPServer]:
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.script, srv.requests = ["ok"], []
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _client(srv: ThreadingHTTPServer, **kw: object) -> OpenAICompatLLM:
    return OpenAICompatLLM(f"http://127.0.0.1:{srv.server_port}/v1", "m", api_key="k", **kw)


def test_chat_sends_model_messages_and_key(server):
    server.script = ["Hello!"]
    assert _client(server).chat(MSGS, max_tokens=5) == "Hello!"
    headers, body = server.requests[0]
    assert headers["Authorization"] == "Bearer k"
    assert body["model"] == "m" and body["messages"] == MSGS and body["max_tokens"] == 5


def test_stream_yields_pieces(server):
    server.script = ["stream"]
    assert list(_client(server).stream(MSGS)) == ["Hel", "lo", " there"]


def test_json_uses_response_format_and_validates(server):
    server.script = ['{"n": 3}']
    assert _client(server).json(MSGS, SCHEMA) == {"n": 3}
    fmt = server.requests[0][1]["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["schema"] == SCHEMA


def test_reply_that_is_not_json(server):
    server.script = ["sure, n is three"]
    with pytest.raises(InvalidModelOutput, match="not valid JSON"):
        _client(server).json(MSGS, SCHEMA)


def test_reply_json_not_matching_schema(server):
    server.script = ['{"n": "three"}']
    with pytest.raises(InvalidModelOutput, match="does not match the schema"):
        _client(server).json(MSGS, SCHEMA)


def test_server_body_that_is_not_json(server):
    server.script = ["not-json"]
    with pytest.raises(InvalidModelOutput, match="invalid JSON"):
        _client(server).chat(MSGS)


def test_retries_5xx_with_backoff_then_succeeds(server):
    server.script = ["500", "500", "fine"]
    start = time.perf_counter()
    assert _client(server, retries=2, backoff=0.1).chat(MSGS) == "fine"
    assert len(server.requests) == 3
    assert time.perf_counter() - start >= 0.1 + 0.2  # waited 0.1 s, then 0.2 s


def test_persistent_5xx_gives_clear_error(server):
    server.script = ["500"]
    with pytest.raises(LLMServerError, match="HTTP 500"):
        _client(server, retries=1, backoff=0.01).chat(MSGS)
    assert len(server.requests) == 2


def test_4xx_is_not_retried(server):
    server.script = ["400"]
    with pytest.raises(LLMServerError, match="bad model name"):
        _client(server, retries=3, backoff=0.01).chat(MSGS)
    assert len(server.requests) == 1


def test_slow_server_times_out_after_retries(server):
    server.script = ["slow"]
    start = time.perf_counter()
    with pytest.raises(LLMServerError, match="no answer within 0.3 s after 2 attempts"):
        _client(server, timeout=0.3, retries=1, backoff=0.05).chat(MSGS)
    assert time.perf_counter() - start < 1.5


def test_closed_port_is_unreachable():
    with socket.socket() as sock:  # find a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = OpenAICompatLLM(f"http://127.0.0.1:{port}/v1", "m", retries=2, backoff=0.01)
    with pytest.raises(LLMServerError, match="unreachable after 3 attempts"):
        client.chat(MSGS)
    with pytest.raises(LLMServerError, match="unreachable"):
        list(client.stream(MSGS))


def test_falls_back_to_json_object_schema_for_servers_without_json_schema(server):
    server.script = ["json-object-only"]
    client = _client(server, retries=0)
    assert client.json(MSGS, SCHEMA) == {"n": 7}
    assert client.json(MSGS, SCHEMA) == {"n": 7}
    kinds = [body["response_format"]["type"] for _h, body in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]  # remembered after one failure
    assert server.requests[1][1]["response_format"]["schema"] == SCHEMA
