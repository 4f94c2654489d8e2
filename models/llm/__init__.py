"""Chat models behind one interface: local transformers or an OpenAI-compatible server."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from models.llm.base import LLM, Message

if TYPE_CHECKING:
    from models.config import LLMConfig

logger = logging.getLogger(__name__)

__all__ = ["LLM", "Message", "load_llm"]


def load_llm(cfg: LLMConfig, cache_dir: str | None = None) -> LLM:
    """Build the LLM for a config (registry loader).

    Raises:
        ModelUnavailable: a local model whose weights are missing or unreadable.
    """
    if cfg.backend == "openai":
        from models.llm.openai_http import OpenAICompatLLM

        return OpenAICompatLLM(
            cfg.base_url, cfg.model, api_key=cfg.api_key, timeout=cfg.timeout, retries=cfg.retries
        )
    from models.llm.local import TransformersLLM
    from models.registry import entry_for, resolve_source

    path, source = resolve_source("llm", cfg.model_id, cfg.path, cache_dir)
    entry = entry_for("llm", cfg.model_id)
    gguf = cfg.gguf_file
    if gguf is None and entry is not None and cfg.path is None and path.is_dir():
        gguf = entry.weight_file
    logger.info("LLM %s from %s", cfg.model_id, source)
    return TransformersLLM(path, cfg.model_id, gguf_file=gguf, device=cfg.device)
