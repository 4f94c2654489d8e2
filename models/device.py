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
