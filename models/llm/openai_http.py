"""A client for OpenAI-compatible chat servers (Ollama, vLLM, llama.cpp, LM Studio) over httpx."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from models.errors import InvalidModelOutput, LLMServerError
from models.llm.base import Message, check_messages, check_schema, parse_and_validate

logger = logging.getLogger(__name__)

RETRY_STATUS = {429, 500, 502, 503, 504}


class OpenAICompatLLM:
    """Chat completions over HTTP with a timeout and retries with exponential backoff.

    Safe from any thread (httpx.Client is thread-safe).

    Args:
        base_url: e.g. ``http://127.0.0.1:8080/v1``.
        model: the model name the server expects.
        api_key: sent as ``Authorization: Bearer`` when set.
        timeout: seconds allowed per request (connect, read and write each).
        retries: extra attempts after a connection error, timeout or 429/5xx answer.
        backoff: first wait between attempts in seconds; doubles each time.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        retries: int = 2,
        backoff: float = 0.5,
    ) -> None:
        self.model_id = model
        self.base_url = base_url.rstrip("/")
        self.retries = retries
        self.backoff = backoff
        self.timeout = timeout
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(timeout=timeout, headers=headers)
        self._json_style = "json_schema"

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Return the assistant's reply.

        Raises:
            LLMServerError: unreachable, too slow, or an HTTP error after all retries.
            InvalidModelOutput: the server's answer is not the expected JSON.
        """
        body = self._body(messages, max_tokens, temperature)
        return _content(self._post(body))

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield reply pieces from the server's server-sent events as they arrive."""
        body = self._body(messages, max_tokens, temperature) | {"stream": True}
        url = f"{self.base_url}/chat/completions"
        try:
            with self._client.stream("POST", url, json=body) as response:
                _raise_for_status(url, response, streaming=True)
                for line in response.iter_lines():
                    piece = _sse_piece(line)
                    if piece is None:
                        break
                    if piece:
                        yield piece
        except httpx.TimeoutException as exc:
            raise LLMServerError(url, f"no answer within {self.timeout:g} s") from exc
        except httpx.TransportError as exc:
            raise LLMServerError(url, f"unreachable ({exc})") from exc

    def json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """Return a JSON object valid against ``schema`` using ``response_format`` json_schema.

        Raises:
            BadInput: the schema is invalid.
            InvalidModelOutput: the reply is not JSON or does not match the schema.
        """
        check_schema(schema)
        body = self._body(messages, max_tokens, temperature)
        if self._json_style == "json_schema":
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "engram_response", "schema": schema, "strict": True},
            }
            try:
                return parse_and_validate(_content(self._post(body)), schema)
            except LLMServerError as exc:
                if "json_schema" not in exc.reason and "response_format" not in exc.reason:
                    raise
                # llama-cpp-python's server only knows {"type": "json_object", "schema": ...}
                logger.info("server rejects json_schema response_format; using json_object+schema")
                self._json_style = "json_object"
        body["response_format"] = {"type": "json_object", "schema": schema}
        return parse_and_validate(_content(self._post(body)), schema)

    def unload(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()

    def _body(
        self, messages: Sequence[Message], max_tokens: int, temperature: float
    ) -> dict[str, Any]:
        return {
            "model": self.model_id,
            "messages": check_messages(messages),
            "max_tokens": max_tokens,
            "temperature": temperature,
        }

    def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        """POST to /chat/completions with retries; return the decoded JSON answer."""
        url = f"{self.base_url}/chat/completions"
        attempts = self.retries + 1
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.post(url, json=body)
            except httpx.TimeoutException as exc:
                if last:
                    raise LLMServerError(
                        url, f"no answer within {self.timeout:g} s after {attempts} attempts"
                    ) from exc
                reason = "timeout"
            except httpx.TransportError as exc:
                if last:
                    raise LLMServerError(
                        url, f"unreachable after {attempts} attempts ({exc})"
                    ) from exc
                reason = f"unreachable ({type(exc).__name__})"
            else:
                if response.status_code not in RETRY_STATUS or last:
                    _raise_for_status(url, response)
                    return _decode(url, response)
                reason = f"HTTP {response.status_code}"
            wait = self.backoff * 2**attempt
            logger.warning("LLM server %s: %s; retrying in %.1f s", url, reason, wait)
            time.sleep(wait)
        raise AssertionError("unreachable")  # the loop returns or raises on its last attempt


def _raise_for_status(url: str, response: httpx.Response, streaming: bool = False) -> None:
    if response.status_code < 400:
        return
    text = response.read().decode("utf-8", "replace") if streaming else response.text
    raise LLMServerError(url, f"HTTP {response.status_code}: {text[:300]}")


def _decode(url: str, response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise InvalidModelOutput(
            f"the server at {url} returned invalid JSON ({response.text[:120]!r})", response.text
        ) from exc
    if not isinstance(data, dict):
        raise InvalidModelOutput(
            f"the server at {url} returned JSON that is not an object", response.text
        )
    return data


def _content(data: dict[str, Any]) -> str:
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise InvalidModelOutput(
            "the server's answer has no choices[0].message.content", json.dumps(data)[:500]
        ) from exc
    return content if isinstance(content, str) else ""


def _sse_piece(line: str) -> str | None:
    """Return the text in one server-sent event line, "" for none, None at [DONE]."""
    if not line.startswith("data:"):
        return ""
    payload = line[5:].strip()
    if payload == "[DONE]":
        return None
    try:
        delta = json.loads(payload)["choices"][0].get("delta", {})
    except (json.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError) as exc:
        raise InvalidModelOutput(
            f"bad stream event from the server: {payload[:120]!r}", payload
        ) from exc
    return delta.get("content") or ""
