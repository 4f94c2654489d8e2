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
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class AssistantChoice:
    """One assistant the user can pick (Settings → Assistant, the first run).

    Attributes:
        kind: "none" (extractive answers), "local" (a model on disk), "server" (a detected
            OpenAI-compatible server) or "download" (a recommended model not downloaded yet).
        label: what the user reads.
        model_id: the catalogue id (local, download).
        server_url: the server's base URL (server).
        model: the model name the server expects (server).
        size_bytes: the download size (download).
    """

    kind: str
    label: str
    model_id: str = ""
    server_url: str = ""
    model: str = ""
    size_bytes: int | None = None

    def to_json(self) -> dict[str, object]:
        """For `engram assistant list --json`."""
        return {
            "kind": self.kind,
            "label": self.label,
            "model_id": self.model_id,
            "server_url": self.server_url,
            "model": self.model,
            "size_bytes": self.size_bytes,
        }


def assistant_choices(
    detect: bool = True, cache_dir: str | None = None, timeout: float = 0.8
) -> list[AssistantChoice]:
    """Every assistant this machine offers now: detected local servers with their models first,
    then the models on disk (the packaged default marked), then recommended downloads, then none.
    """
    from models.llm.choose import best_packaged
    from models.llm.discover import discover
    from models.registry import CATALOGUE, cached_path, packaged_path

    out: list[AssistantChoice] = []
    if detect:
        for server in discover(timeout=timeout):
            for model in server.models or ("default",):
                out.append(
                    AssistantChoice(
                        "server",
                        f"{server.name}: {model} ({server.base_url})",
                        server_url=server.base_url,
                        model=model,
                    )
                )
    best = best_packaged()
    downloads: list[AssistantChoice] = []
    for entry in CATALOGUE.values():
        if entry.role != "llm":
            continue
        on_disk = packaged_path(entry) if entry.url is None else cached_path(entry, cache_dir)
        if on_disk is not None:
            tag = " (recommended for this machine)" if entry.model_id == best else ""
            out.append(
                AssistantChoice("local", f"{entry.description}{tag}", model_id=entry.model_id)
            )
        elif entry.url is not None:
            downloads.append(
                AssistantChoice(
                    "download",
                    f"Download {entry.description}",
                    model_id=entry.model_id,
                    size_bytes=entry.size_bytes,
                )
            )
    out += downloads
    out.append(AssistantChoice("none", "None: answers quote the best matching passage"))
    return out


def choice_settings(choice: AssistantChoice) -> dict[str, object]:
    """The settings keys that make ``choice`` the assistant (for ``settings.update``)."""
    if choice.kind == "none":
        return {"assistant.backend": "none"}
    if choice.kind == "server":
        return {
            "assistant.backend": "server",
            "assistant.server_url": choice.server_url,
            "assistant.model": choice.model or "default",
        }
    return {"assistant.backend": "local", "models.llm.model_id": choice.model_id or "auto"}
