"""`engram serve` in a subprocess on a seeded home, reached by real HTTP and MCP clients (#14)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.app.api_home import EXCLUDED_TEXT, SECRET, Seeded, seed_api_home
from tests.app.test_mcp_stdio import ROOT, server_env


class Served:
    """A running `engram serve`: its process, port and token."""

    def __init__(self, proc: subprocess.Popen[bytes], home: Path, port: int, token: str) -> None:
        self.proc, self.home, self.port, self.token = proc, home, port, token
        self.url = f"http://127.0.0.1:{port}"

    def headers(self, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **extra}

    def post(self, path: str, body: object, **kw: Any) -> httpx.Response:
        return httpx.post(self.url + path, json=body, headers=self.headers(), timeout=120, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return httpx.get(self.url + path, headers=self.headers(), timeout=120, **kw)


def start_server(home: Path, timeout: float = 180) -> Served:
    """Start `engram serve` and wait until it answers its status route."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "serve", "--port", "0"],
        cwd=ROOT,
        env=server_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + timeout
    info = home / "api-server.json"
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[1].decode()[-2000:]
        if info.exists():
            port = json.loads(info.read_text())["port"]
            token = (home / "api-token").read_text().strip()
            served = Served(proc, home, port, token)
            try:
                if served.get("/v1/status").status_code == 200:
                    return served
            except httpx.TransportError:
                pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("engram serve did not start")


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_api_home(tmp_path_factory.mktemp("http") / "home")


@pytest.fixture(scope="module")
def served(seeded: Seeded) -> Iterator[Served]:
    s = start_server(seeded.home)
    yield s
    if s.proc.poll() is None:
        s.proc.send_signal(signal.SIGINT)
        s.proc.wait(timeout=30)


def test_token_and_server_files_are_private(served: Served) -> None:
    for name in ("api-token", "api-server.json"):
        mode = stat.S_IMODE((served.home / name).stat().st_mode)
        assert mode == 0o600, (name, oct(mode))
    assert len(served.token) >= 40


@pytest.mark.parametrize("path", ["/v1/search", "/v1/status", "/mcp", "/no/such/path", "/"])
def test_no_or_wrong_token_is_401_on_every_path(served: Served, path: str) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": served.token}):
        r = httpx.post(served.url + path, json={"query": "Lisbon"}, headers=headers, timeout=60)
        assert r.status_code == 401, (path, headers)
        assert SECRET not in r.text and "Lisbon" not in r.text
    r = httpx.options(served.url + path, headers={"Origin": "http://evil.example"}, timeout=60)
    assert r.status_code == 401 and "access-control-allow-origin" not in r.headers


def test_foreign_host_or_origin_is_403(served: Served) -> None:
    served.post("/v1/search", {"query": "warm"})  # the first search waits for the index
    evil_host = served.headers(Host=f"evil.example:{served.port}")
    assert httpx.get(served.url + "/v1/status", headers=evil_host, timeout=60).status_code == 403
    evil_origin = served.headers(Origin="http://evil.example")
    r = httpx.post(
        served.url + "/v1/search", json={"query": "Lisbon"}, headers=evil_origin, timeout=60
    )
    assert r.status_code == 403 and "Lisbon" not in r.text
    same = served.headers(Origin=f"http://127.0.0.1:{served.port}")
    r = httpx.post(served.url + "/v1/search", json={"query": "Lisbon"}, headers=same, timeout=60)
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


def _listening(port: int) -> list[str]:
    """Local addresses (hex, as /proc shows them) listening on ``port``."""
    found = []
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            parts = line.split()
            addr, hex_port = parts[1].split(":")
            if int(hex_port, 16) == port and parts[3] == "0A":  # 0A = LISTEN
                found.append(addr)
    return found


@pytest.mark.skipif(not os.path.exists("/proc/net/tcp"), reason="reads Linux's socket table")
def test_listens_on_loopback_only(served: Served) -> None:
    assert _listening(served.port) == ["0100007F"]  # 127.0.0.1, and nothing on IPv6


def test_search_and_other_routes(served: Served, seeded: Seeded) -> None:
    r = served.post("/v1/search", {"query": "Lisbon", "k": 20})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    hits = r.json()["hits"]
    assert hits and hits[0]["link"].startswith("engram://moment/")
    assert all(h["app"] != "KeePassXC" for h in hits)
    moment = served.get(f"/v1/moments/{seeded.screens[0]}").json()
    assert "TP1361" in moment["text"]
    assert served.get(f"/v1/moments/{seeded.excluded}").status_code == 404
    timeline = served.get("/v1/timeline", params={"day": "2026-02-17"}).json()
    assert [e["title"] for e in timeline["episodes"]] == ["Booking the Lisbon trip"]
    assert served.get("/v1/memories", params={"type": "vault"}).status_code == 403
    assert served.get(f"/v1/memories/{seeded.semantic}").json()["title"] == "Q3 budget"
    assert served.get("/v1/context").json()["time_zone"]
    assert "Lisbon" in served.get("/v1/core").text
    forget = served.post("/v1/forget", {"since": "2026-02-17T00:00", "until": "2026-02-18T00:00"})
    assert forget.status_code == 403 and "write tools are turned off" in forget.json()["error"]
    for path in ("/v1/search", "/v1/memories/1", "/v1/context", "/v1/timeline"):
        assert SECRET not in served.get(path).text and EXCLUDED_TEXT not in served.get(path).text


def test_bad_input_gets_a_reason(served: Served) -> None:
    bad_json = httpx.post(
        served.url + "/v1/search", content=b"{not json", headers=served.headers(), timeout=30
    )
    assert bad_json.status_code == 400 and "not JSON" in bad_json.json()["error"]
    unknown_field = served.post("/v1/search", {"query": "x", "nope": 1})
    assert unknown_field.status_code == 400 and "nope" in unknown_field.json()["error"]
    long_query = served.post("/v1/search", {"query": "lisbon " * 1500})
    assert long_query.status_code == 400 and "limit is 2000" in long_query.json()["error"]
    huge = httpx.post(
        served.url + "/v1/search",
        content=json.dumps({"query": "x" * 2_000_000}).encode(),
        headers=served.headers(),
        timeout=60,
    )
    assert huge.status_code == 400 and "limit" in huge.json()["error"]
    assert served.get("/v1/moments/abc").status_code == 404
    assert served.post("/v1/search", {"query": "budget"}).status_code == 200


def test_two_clients_at_once(served: Served) -> None:
    queries = ["Lisbon", "budget", "pytest", "flight", "marketing", "service"] * 4

    def one(q: str) -> int:
        with httpx.Client(headers=served.headers(), timeout=120) as client:
            return client.post(served.url + "/v1/search", json={"query": q}).status_code

    with ThreadPoolExecutor(max_workers=2) as pool:
        assert list(pool.map(one, queries)) == [200] * len(queries)


def test_client_disconnecting_mid_answer(served: Served) -> None:
    body = json.dumps({"question": "When does the Lisbon flight depart?"}).encode()
    for cut in (len(body) // 2, len(body)):  # mid-body, and right after the full request
        with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
            head = (
                f"POST /v1/ask HTTP/1.1\r\nHost: 127.0.0.1:{served.port}\r\n"
                f"Authorization: Bearer {served.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n"
            ).encode()
            sock.sendall(head + body[:cut])
        # closed without reading the answer
    assert served.proc.poll() is None
    answer = served.post("/v1/ask", {"question": "When does the Lisbon flight depart?"})
    assert answer.status_code == 200 and answer.json()["citations"]


def test_mcp_over_streamable_http(served: Served) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client

    async def main() -> tuple[list[str], dict[str, Any]]:
        async with (
            httpx.AsyncClient(headers=served.headers(), timeout=120) as http,
            streamable_http_client(served.url + "/mcp", http_client=http) as (read, write, _),
        ):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = [t.name for t in (await session.list_tools()).tools]
                result = await session.call_tool("search_memory", {"query": "Lisbon"})
                return tools, result.structuredContent or {}

    tools, found = asyncio.run(asyncio.wait_for(main(), 120))
    assert "search_memory" in tools and "forget" not in tools
    assert found["hits"] and SECRET not in json.dumps(found)
    clients = json.loads((served.home / "api-clients.json").read_text())
    assert {"mcp-http", "http"} & {c["transport"] for c in clients}


def test_cli_search_and_ask_use_the_running_server(served: Served) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli.main",
            "--home",
            str(served.home),
            "search",
            "Lisbon",
            "--json",
        ],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    hits = json.loads(out.stdout)
    assert hits and "Lisbon" in hits[0]["title"]
    asked = subprocess.run(
        [
            sys.executable,
            "-m",
            "app.cli.main",
            "--home",
            str(served.home),
            "ask",
            "When does the Lisbon flight depart?",
            "--json",
        ],
        cwd=ROOT,
        env=server_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    answer = json.loads(asked.stdout)
    assert "TP1361" in answer["answer"] and answer["citations"]
    names = {c["name"] for c in json.loads((served.home / "api-clients.json").read_text())}
    assert {"engram-cli /v1/search", "engram-cli /v1/ask"} <= names


def test_stop_removes_the_server_file(seeded: Seeded, tmp_path: Path) -> None:
    home = tmp_path / "second"
    home.mkdir()
    (home / "config.toml").write_text((seeded.home / "config.toml").read_text())
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        s = start_server(home)
        s.proc.send_signal(sig)
        assert s.proc.wait(timeout=30) == code  # Ctrl+C's code; SIGTERM exits 128+15
        assert not (home / "api-server.json").exists()
    assert (home / "api-token").read_text().strip() == s.token  # kept for the next start
