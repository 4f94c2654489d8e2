"""Fixtures of the security tests: the secret corpus and an LLM that says what it is told."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest


def load_corpus() -> ModuleType:
    """tests/security/corpus.py (importlib mode cannot import sibling modules by name)."""
    name = "engram_secret_corpus"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("corpus.py"))
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


load_corpus()  # before the test modules, which read it from sys.modules


class EchoLLM:
    """An LLM that answers every question with a fixed text (a model repeating a secret)."""

    model_id = "echo"

    def __init__(self, answer: str) -> None:
        self.answer = answer
        self.calls = 0
        self.prompts: list[list[dict[str, str]]] = []

    def chat(self, messages: Sequence[dict[str, str]], **kw: Any) -> str:
        self.calls += 1
        self.prompts.append(list(messages))
        return self.answer

    def stream(self, messages: Sequence[dict[str, str]], **kw: Any) -> Iterator[str]:
        self.calls += 1
        self.prompts.append(list(messages))
        for i in range(0, len(self.answer), 7):  # pieces cut through words and secrets
            yield self.answer[i : i + 7]

    def json(self, messages: Sequence[dict[str, str]], schema: dict[str, Any], **kw: Any) -> Any:
        self.calls += 1
        return {"operations": []} if "operations" in str(schema) else {"types": []}


@pytest.fixture
def echo_llm() -> type[EchoLLM]:
    return EchoLLM
