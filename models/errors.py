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
