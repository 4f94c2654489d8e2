"""Fixtures for the agent tests: a fast service and a scripted fake LLM."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import jsonschema
import pytest

from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from memory.store import NewObservation
from models.text_embedding import HashingEmbedder

T0 = 1_771_236_000.0  # 2026-02-16 10:00 UTC


class ScriptedLLM:
    """A deterministic LLM: ``json`` answers come from ``script(messages, schema)`` (or a queue).

    It records every call. ``check_schema`` makes it behave like a constrained decoder (answers
    must match the schema); leave it off to test what the agents do with a non-constraining server.
    """

    model_id = "scripted"

    def __init__(
        self,
        script: Callable[[list[dict[str, str]], dict[str, Any]], Any] | None = None,
        answer: str = "It was TP1234 [1].",
        check_schema: bool = False,
    ) -> None:
        self.script = script or (
            lambda messages, schema: (
                {"operations": []} if "operations" in json.dumps(schema) else _minimal(schema)
            )
        )
        self.answer = answer
        self.check_schema = check_schema
        self.calls: list[tuple[str, list[dict[str, str]], dict[str, Any] | None]] = []

    def chat(self, messages: Sequence[dict[str, str]], **kw: Any) -> str:
        self.calls.append(("chat", list(messages), None))
        return self.answer

    def stream(self, messages: Sequence[dict[str, str]], **kw: Any) -> Iterator[str]:
        self.calls.append(("stream", list(messages), None))
        for word in self.answer.split(" "):
            yield word + " "

    def json(
        self, messages: Sequence[dict[str, str]], schema: dict[str, Any], **kw: Any
    ) -> dict[str, Any]:
        self.calls.append(("json", list(messages), schema))
        out = self.script(list(messages), schema)
        if isinstance(out, BaseException):
            raise out
        if self.check_schema:
            jsonschema.validate(out, schema)
        return out


def _minimal(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties", {})
    if "types" in props:
        return {"types": []}
    if "summary" in props:
        return {"title": "Worked on something", "summary": "Worked on it", "category": ["work"]}
    if "value" in props:
        return {"value": "Name: short"}
    return {}


@pytest.fixture
def service(tmp_path):
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    yield svc
    svc.stop_memorizing()
    svc.close()


def add_indexed(service: MemoryService, items: list[NewObservation]) -> list[int]:
    """Insert observations as indexed (text embedded), as the indexer leaves them."""
    ids = [i for i in service.store.add_observations(items) if i is not None]
    service.store.set_status(ids, "indexed")
    service.vectors.add_observations(service.store.get_observations(ids).values())
    return ids


def screen(ts: float, app: str, title: str, text: str, url: str | None = None) -> NewObservation:
    """A screen observation."""
    return NewObservation(
        kind="screen", ts_start=ts, app=app, window_title=title, text=text, url=url
    )


def chat(
    ts: float, text: str, speaker: str = "user", session: str = "s1", app: str = "engram"
) -> NewObservation:
    """A chat observation: a turn of Engram's own chat, or of an imported chat (``app="chat"``)."""
    return NewObservation(
        kind="chat", ts_start=ts, text=text, speaker=speaker, session=session, app=app
    )


class Kit:
    """Helpers handed to tests as one fixture (importlib mode cannot import conftest modules)."""

    T0 = T0
    ScriptedLLM = ScriptedLLM
    add_indexed = staticmethod(add_indexed)
    screen = staticmethod(screen)
    chat = staticmethod(chat)


@pytest.fixture
def kit() -> type[Kit]:
    return Kit
