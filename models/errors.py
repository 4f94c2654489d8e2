"""Errors raised by the models layer."""

from __future__ import annotations


class ModelError(Exception):
    """Base class of every error the models layer raises."""


class ModelUnavailable(ModelError):
    """A model cannot be loaded: missing weights, missing package, offline.

    Attributes:
        role: the model role (``text_embedding``, ``ocr``, ...).
        model_id: the configured model id or path.
        reason: a sentence for the user, saying how to get the model.
    """

    def __init__(self, role: str, model_id: str, reason: str) -> None:
        super().__init__(f"{role} model {model_id!r} is unavailable: {reason}")
        self.role = role
        self.model_id = model_id
        self.reason = reason


class BadInput(ModelError):
    """The input (image, audio, text) cannot be processed; ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class LLMServerError(ModelError):
    """An OpenAI-compatible server is unreachable, too slow, or answered with an error.

    Attributes:
        url: the endpoint that failed.
        reason: what went wrong, for the user.
    """

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"LLM server {url}: {reason}")
        self.url = url
        self.reason = reason


class InvalidModelOutput(ModelError):
    """A model or server returned output that is not valid JSON or does not match the schema."""

    def __init__(self, reason: str, raw: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.raw = raw


class DownloadError(ModelError):
    """A model download failed (network, HTTP status, or a file that does not verify)."""

    def __init__(self, model_id: str, reason: str) -> None:
        super().__init__(f"download of {model_id!r} failed: {reason}")
        self.model_id = model_id
        self.reason = reason


class ChecksumMismatch(DownloadError):
    """A downloaded or local model file does not have the expected sha256."""
