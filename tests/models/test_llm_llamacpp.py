"""The in-process llama.cpp runtime on the packaged Qwen2.5-Coder-0.5B GGUF (real weights)."""

from __future__ import annotations

import importlib.util

import jsonschema
import pytest

from models.config import LLMConfig
from models.errors import BadInput, ModelUnavailable
from models.llm import load_llm

pytestmark = pytest.mark.models

SYSTEM = {"role": "system", "content": "You are a helpful assistant. Answer in one sentence."}


@pytest.fixture(scope="module")
def qwen(packaged_gguf):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (scripts/test.sh builds it)")
    from models.llm.llamacpp import LlamaCppLLM

    llm = load_llm(LLMConfig(path=str(packaged_gguf), model_id="qwen-test", timeout=900))
    assert isinstance(llm, LlamaCppLLM), "a GGUF runs with llama.cpp when it is installed"
    yield llm
    llm.unload()


def test_chat_stream_and_context(qwen):
    msgs = [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]
    assert "paris" in qwen.chat(msgs, max_tokens=24).lower()
    pieces = list(qwen.stream(msgs, max_tokens=16))
    assert len(pieces) >= 2 and "paris" in "".join(pieces).lower()
    assert qwen.context_tokens == 4096


def test_tokens_are_counted_with_the_models_tokenizer(qwen):
    text = "Vantage CRM renews on 7 October 2026"
    assert qwen.count_tokens(text) == len(qwen._llm.tokenize(text.encode(), add_bos=False))
    assert 5 < qwen.count_tokens(text) < len(text)


def test_json_is_grammar_constrained_and_valid(qwen):
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 40},
            "is_capital": {"type": "boolean"},
        },
        "required": ["city", "is_capital"],
        "additionalProperties": False,
    }
    value = qwen.json(
        [{"role": "user", "content": "Paris: is it a capital city? JSON with city, is_capital."}],
        schema,
        max_tokens=40,
    )
    jsonschema.validate(value, schema)
    assert value["city"].lower() == "paris"


def test_a_prompt_over_the_context_is_refused_before_it_runs(qwen):
    huge = "memory " * 5000
    with pytest.raises(BadInput, match="context holds 4096"):
        list(qwen.stream([{"role": "user", "content": huge}], max_tokens=16))


def test_a_primed_prefix_is_reused(qwen):
    system = {"role": "system", "content": "You are Engram. " + "Remember things. " * 40}
    assert qwen.prime([system]) > 0
    assert qwen.prime([system]) == 0.0, "the prefix is cached: nothing to evaluate again"
    msgs = [system, {"role": "user", "content": "Say OK."}]
    assert qwen.chat(msgs, max_tokens=4)


def test_a_slow_call_is_stopped_with_what_was_said(packaged_gguf):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    from models.llm.llamacpp import LlamaCppLLM, LlamaOptions, ModelTooSlow

    llm = LlamaCppLLM(packaged_gguf, "qwen-slow", LlamaOptions(n_ctx=512, timeout=0.01))
    try:
        with pytest.raises(ModelTooSlow, match="longer than 0.01 s") as err:
            list(llm.stream([{"role": "user", "content": "Count to fifty."}], max_tokens=64))
        assert isinstance(err.value, TimeoutError) and isinstance(err.value.partial, str)
    finally:
        llm.unload()


def test_a_truncated_or_foreign_file_is_unavailable(packaged_gguf, tmp_path):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed")
    cut = tmp_path / "cut.gguf"
    with packaged_gguf.open("rb") as fh:
        cut.write_bytes(fh.read(3_000_000))
    with pytest.raises(ModelUnavailable, match="cannot load"):
        load_llm(LLMConfig(path=str(cut)))
    text = tmp_path / "notes.gguf"
    text.write_text("not a model")
    with pytest.raises(ModelUnavailable, match="not a GGUF file"):
        load_llm(LLMConfig(path=str(text)))
