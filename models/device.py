"""Pick the compute device: cuda, then mps, then cpu."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)


def pick_device(pref: str = "auto") -> str:
    """Return the device to use for a preference of "auto", "cuda", "mps" or "cpu".

    A pinned device that is not present falls back to cpu with a warning.
    """
    if pref == "cpu":
        return "cpu"
    try:
        import torch
    except ImportError:
        return "cpu"
    if pref in ("auto", "cuda") and torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if pref in ("auto", "mps") and mps is not None and mps.is_available():
        return "mps"
    if pref not in ("auto", "cpu"):
        logger.warning("device %s requested but not available; using cpu", pref)
    return "cpu"


def pick_dtype(device: str) -> str:
    """Return the torch dtype name suited to a device: float16 on cuda/mps, float32 on cpu.

    Returned as a name so callers import torch only when they need it.
    """
    return "float16" if device in ("cuda", "mps") else "float32"


def is_out_of_memory(exc: BaseException) -> bool:
    """Whether an exception is a GPU out-of-memory error (torch, onnxruntime or CTranslate2)."""
    name = type(exc).__name__
    text = str(exc).lower()
    return (
        name == "OutOfMemoryError" or "out of memory" in text or "cudaerrormemoryallocation" in text
    )


def onnx_providers() -> list[str]:
    """Return onnxruntime's available execution providers (empty if onnxruntime is missing)."""
    try:
        import onnxruntime
    except ImportError:
        return []
    return list(onnxruntime.get_available_providers())
