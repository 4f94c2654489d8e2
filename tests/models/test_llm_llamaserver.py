"""The OpenAI-compatible client against a real server: llama-cpp-python serving SmolLM2 GGUF."""

from __future__ import annotations

import pytest

from models.config import LLMConfig
from models.llm import load_llm
from models.llm.openai_http import OpenAICompatLLM

pytestmark = pytest.mark.llamaserver


@pytest.fixture(scope="module")
def server_url(smol_server: str) -> str:
    return smol_server


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
