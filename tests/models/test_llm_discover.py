"""Finding local LLM servers: an Ollama-style listing from a local HTTP server, and a real
llama_cpp.server process serving the packaged GGUF."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models.llm.discover import KnownServer, discover, probe


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class OllamaLike(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/api/tags":
            body = {"models": [{"name": "qwen2.5:1.5b"}, {"name": "llama3.2:3b", "size": 1}]}
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        else:
            self.send_error(404)


class NotAnLLM(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        data = b"<html>hello</html>"
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def http_server(request: pytest.FixtureRequest) -> Iterator[int]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield int(srv.server_port)
    srv.shutdown()
    srv.server_close()


@pytest.mark.parametrize("http_server", [OllamaLike], indirect=True)
def test_an_ollama_listing_is_found_with_its_models(http_server):
    found = probe(KnownServer("Ollama", http_server, ollama=True))
    assert found is not None
    assert found.base_url == f"http://127.0.0.1:{http_server}/v1"
    assert found.models == ("qwen2.5:1.5b", "llama3.2:3b")


@pytest.mark.parametrize("http_server", [NotAnLLM], indirect=True)
def test_a_web_page_on_the_port_is_not_a_server(http_server):
    assert probe(KnownServer("llama.cpp", http_server)) is None


def test_nothing_listening_means_nothing_found():
    servers = (KnownServer("LM Studio", _port()), KnownServer("Ollama", _port(), ollama=True))
    assert discover(servers, timeout=0.3) == []


@pytest.mark.llamaserver
def test_a_real_llama_cpp_server_is_found_with_its_model(llama_server):
    url, alias = llama_server
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    found = discover((KnownServer("Ollama", _port(), ollama=True), KnownServer("llama.cpp", port)))
    assert [f.name for f in found] == ["llama.cpp"]
    assert found[0].base_url == url and alias in found[0].models
