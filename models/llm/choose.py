"""Which installed local LLM suits this machine: the packaged default is chosen, not hard-coded.

The 1.5B Qwen answers better (LoCoMo token-F1 43.9 vs 36.1 for the 0.5B, fact extraction P/R
91/79 vs 63/45, measured here) but prefills at ~46 tokens/s on two cores against ~98, so with
fewer than four physical cores and no GPU it cannot give a first token within 5 s; there the
0.5B is the default. SmolLM2-135M is the last resort.
"""

from __future__ import annotations

import logging
import os

from models.llm.threads import physical_cores

logger = logging.getLogger(__name__)

SMALL = "qwen2.5-coder-0.5b-instruct-q4km"
LARGE = "qwen2.5-coder-1.5b-instruct-q4km"
TINY = "smollm2-135m-instruct-gguf"
PREFERENCE = (LARGE, SMALL, TINY)
AUTO = "auto"


def total_ram_gb() -> float:
    """The machine's memory in GiB (0 when unknown)."""
    try:
        import psutil

        return float(psutil.virtual_memory().total) / 2**30
    except ImportError:
        pass
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    except (ValueError, OSError, AttributeError):
        return 0.0


def has_gpu() -> bool:
    """Whether an NVIDIA driver or Apple silicon is present (torch is not imported for this)."""
    import platform
    import shutil
    import sys
    from pathlib import Path

    if sys.platform == "darwin" and platform.machine() == "arm64":
        return True
    return Path("/proc/driver/nvidia/version").exists() or shutil.which("nvidia-smi") is not None


def fits(model_id: str, ram_gb: float, cores: int, gpu: bool) -> bool:
    """Whether a catalogue LLM runs well on a machine like this."""
    from models.registry import CATALOGUE

    entry = CATALOGUE[model_id]
    if ram_gb and ram_gb < entry.min_ram_gb:
        return False
    if model_id == LARGE:
        return gpu or cores >= 4
    return True


def installed(model_id: str) -> bool:
    """Whether the weights of a packaged LLM are installed (packages found, nothing imported)."""
    from models.registry import CATALOGUE, packaged_path

    return packaged_path(CATALOGUE[model_id]) is not None


def best_packaged(
    ram_gb: float | None = None, cores: int | None = None, gpu: bool | None = None
) -> str | None:
    """The best installed packaged LLM that fits this machine, or None when none is installed."""
    ram_gb = total_ram_gb() if ram_gb is None else ram_gb
    cores = physical_cores() if cores is None else cores
    gpu = has_gpu() if gpu is None else gpu
    present = [m for m in PREFERENCE if installed(m)]
    for model_id in present:
        if fits(model_id, ram_gb, cores, gpu):
            return model_id
    return present[-1] if present else None
