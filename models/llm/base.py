"""The one LLM interface every backend implements, plus shared checks."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from models.errors import BadInput, InvalidModelOutput

logger = logging.getLogger(__name__)

Message = dict[str, str]
ROLES = ("system", "user", "assistant")


class LLM(Protocol):
    """A chat model: plain text, streamed text, or JSON constrained by a JSON schema."""

    model_id: str

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Return the assistant's reply."""
        ...

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield the reply in pieces as they are generated."""
        ...

    def json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """Return a reply that is a JSON object valid against ``schema``."""
        ...


def check_messages(messages: Sequence[Message]) -> list[Message]:
    """Return messages as plain dicts after checking roles and contents.

    Raises:
        BadInput: empty list, unknown role or non-string content.
    """
    if not messages:
        raise BadInput("no messages to send to the LLM")
    out = []
    for msg in messages:
        role, content = msg.get("role"), msg.get("content")
        if role not in ROLES or not isinstance(content, str):
            raise BadInput(
                f"bad chat message {msg!r}: role must be one of {ROLES}, content a string"
            )
        out.append({"role": role, "content": content})
    return out


def check_schema(schema: dict[str, Any]) -> None:
    """Raise BadInput unless ``schema`` is a valid JSON schema."""
    import jsonschema

    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        raise BadInput(f"invalid JSON schema: {exc.message}") from exc


def parse_and_validate(raw: str, schema: dict[str, Any]) -> dict[str, Any]:
    """Parse model output as JSON and validate it against ``schema``.

    Raises:
        InvalidModelOutput: not JSON, or JSON that does not match the schema.
    """
    import jsonschema

    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidModelOutput(f"the model's reply is not valid JSON ({exc.msg})", raw) from exc
    try:
        jsonschema.validate(value, schema)
    except jsonschema.ValidationError as exc:
        raise InvalidModelOutput(
            f"the model's JSON does not match the schema: {exc.message}", raw
        ) from exc
    if not isinstance(value, dict):
        raise InvalidModelOutput("the model's JSON is not an object", raw)
    return value
