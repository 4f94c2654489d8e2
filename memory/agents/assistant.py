"""The configured assistant, loaded on first use and kept loaded (the app's warm model).

``LazyAssistant`` looks like an LLM to the agents but loads the model only when a question or a
batch first needs it, on that caller's thread, so opening the app never waits for a model. A model
that cannot be loaded raises ``ModelUnavailable`` from the call; the chat then answers
extractively and says why.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

logger = logging.getLogger(__name__)

Message = dict[str, str]


class LazyAssistant:
    """An LLM built by ``loader`` on first use; ``label`` names it before it is loaded."""

    def __init__(self, loader: Callable[[], Any], label: str) -> None:
        self._loader = loader
        self._model: Any = None
        self._lock = threading.Lock()
        self.label = label

    @property
    def model_id(self) -> str:
        """The loaded model's id, or the configured label before it is loaded."""
        return str(getattr(self._model, "model_id", self.label))

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory."""
        return self._model is not None

    def get(self) -> Any:
        """The model, loaded now if needed.

        Raises:
            ModelUnavailable: the weights, the runtime or the server are missing.
        """
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._loader()
        return self._model

    @property
    def context_tokens(self) -> int:
        """The model's context window (a default of 4096 until it is loaded)."""
        return int(getattr(self._model, "context_tokens", 4096))

    def count_tokens(self, text: str) -> int:
        """Tokens with the model's own tokenizer when it has one, else an estimate."""
        model = self._model
        counter = getattr(model, "count_tokens", None)
        if callable(counter):
            return int(counter(text))
        return len(text) // 3 + 1

    def chat(self, messages: Sequence[Message], **kw: Any) -> str:
        """Delegate to the model."""
        return str(self.get().chat(messages, **kw))

    def stream(self, messages: Sequence[Message], **kw: Any) -> Iterator[str]:
        """Delegate to the model."""
        yield from self.get().stream(messages, **kw)

    def json(self, messages: Sequence[Message], schema: dict[str, Any], **kw: Any) -> Any:
        """Delegate to the model."""
        return self.get().json(messages, schema, **kw)

    def prime(self, messages: Sequence[Message]) -> float:
        """Load the model and evaluate a prompt prefix ahead of the first question."""
        primer = getattr(self.get(), "prime", None)
        return float(primer(messages)) if callable(primer) else 0.0

    def unload(self) -> None:
        """Drop the model (it loads again on the next call)."""
        with self._lock:
            model, self._model = self._model, None
        closer = getattr(model, "unload", None)
        if callable(closer):
            closer()
