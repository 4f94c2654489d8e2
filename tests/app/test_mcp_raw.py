"""`engram mcp` fed raw bytes: stdout holds only JSON-RPC, bad lines are answered with the reason,
a cancelled call leaves the server answering (#14)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path
from queue import Empty, Queue
from typing import Any

from tests.app.api_home import seed_api_home
from tests.app.test_mcp_stdio import ROOT, server_env


class RawServer:
    """`engram mcp` with pipes; stdout lines are collected by a thread."""

    def __init__(self, home: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli.main", "--home", str(home), "mcp"],
            cwd=ROOT,
            env=server_env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.lines: Queue[bytes] = Queue()
        self.raw: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.raw.append(line)
            self.lines.put(line)

    def send(self, data: bytes | dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        payload = data if isinstance(data, bytes) else json.dumps(data).encode() + b"\n"
        self.proc.stdin.write(payload)
        self.proc.stdin.flush()

    def wait_for(self, pred: Any, timeout: float = 180) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                msg = json.loads(self.lines.get(timeout=1))
            except Empty:
                continue
            if pred(msg):
                return msg  # type: ignore[no-any-return]
        raise AssertionError("no such message")

    def close(self) -> tuple[int, str]:
        assert self.proc.stdin is not None and self.proc.stderr is not None
        self.proc.stdin.close()
        code = self.proc.wait(timeout=60)
        return code, self.proc.stderr.read().decode()


def _request(rid: int, method: str, params: dict[str, Any]) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}


def test_stdout_is_protocol_only_and_bad_input_is_explained(tmp_path: Path) -> None:
    seeded = seed_api_home(tmp_path / "home")
    server = RawServer(seeded.home)
    server.send(b"this is not json\n")
    note = server.wait_for(lambda m: m.get("method") == "notifications/message")
    assert "not JSON" in note["params"]["data"]
    init = {
        "protocolVersion": "2025-06-18",
        "capabilities": {},
        "clientInfo": {"name": "raw-test", "version": "1"},
    }
    server.send(_request(1, "initialize", init))
    assert server.wait_for(lambda m: m.get("id") == 1)["result"]["serverInfo"]["name"] == "engram"
    server.send({"jsonrpc": "2.0", "method": "notifications/initialized"})
    server.send({"jsonrpc": "2.0", "id": "x"})  # neither request nor response
    note = server.wait_for(lambda m: m.get("method") == "notifications/message")
    assert "not a JSON-RPC" in note["params"]["data"]
    server.send(_request(2, "tools/list", {}))
    assert server.wait_for(lambda m: m.get("id") == 2)["result"]["tools"]
    # an answer cancelled mid-way, then the next call is still answered
    ask = {"name": "ask_memory", "arguments": {"question": "When does the Lisbon flight depart?"}}
    server.send(_request(3, "tools/call", ask))
    server.send({"jsonrpc": "2.0", "method": "notifications/cancelled", "params": {"requestId": 3}})
    server.send(_request(4, "tools/call", {"name": "search_memory", "arguments": {"query": "x"}}))
    found = server.wait_for(lambda m: m.get("id") == 4)
    assert found["result"]["isError"] is False
    server.send(_request(5, "bogus/method", {}))
    assert server.wait_for(lambda m: m.get("id") == 5)["error"]["code"] < 0
    code, stderr = server.close()
    assert code == 0, stderr[-2000:]
    for line in server.raw:  # nothing but JSON-RPC ever reached stdout
        assert json.loads(line)["jsonrpc"] == "2.0", line
    assert "ignored a malformed message" in stderr
    clients = json.loads((seeded.home / "api-clients.json").read_text())
    assert clients[0]["name"] == "raw-test 1" and clients[0]["transport"] == "stdio"
