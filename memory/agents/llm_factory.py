"""The agents' LLM from a short spec, or the one the user configured.

Specs: "none" (extractive answers, deterministic memories), "config" or nothing (the assistant
configured in the home's settings), "local" (the best packaged model for this machine), a
catalogue id ("qwen2.5-1.5b-instruct-q4km"; downloaded first if needed, with ``progress``), an
OpenAI-compatible URL ("http://127.0.0.1:11434/v1") or a path to a GGUF file.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from memory.agents.llm_protocol import AgentLLM

if TYPE_CHECKING:
    from memory.home import Home

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


def build_llm(
    spec: str | None,
    *,
    model: str = "default",
    timeout: float = 60.0,
    home: Home | None = None,
    progress: Progress | None = None,
) -> AgentLLM | None:
    """The LLM for ``spec`` (see the module docstring); None means no LLM.

    Raises:
        ModelUnavailable: a local model whose weights or runtime are missing (the reason says how
            to get them), or a download that cannot reach its host.
        DownloadError: a download failed or did not verify.
    """
    if spec in (None, "", "config"):
        if home is None:
            return None
        return configured_llm(home)
    if spec == "none":
        return None
    from models.config import LLMConfig
    from models.llm import load_llm
    from models.registry import CATALOGUE

    cache = _cache_dir(home)
    if spec.startswith(("http://", "https://")):
        cfg = LLMConfig(backend="openai", base_url=spec.rstrip("/"), model=model, timeout=timeout)
    elif spec == "local":
        cfg = LLMConfig(timeout=max(timeout, 120.0))
    elif spec in CATALOGUE:
        entry = CATALOGUE[spec]
        if entry.url is not None:
            from models.download import pull

            pull(spec, cache_dir=cache, progress=progress)
        cfg = LLMConfig(model_id=spec, timeout=max(timeout, 120.0))
    else:
        cfg = LLMConfig(path=spec, model_id=spec, timeout=max(timeout, 120.0))
    logger.info("agents use LLM %s (%s)", spec, cfg.backend)
    return load_llm(cfg, cache)


def configured_llm(home: Home) -> AgentLLM | None:
    """The assistant configured in the home's settings, loaded on first use (None: extractive).

    The local model and a server client are both wrapped in a ``LazyAssistant``: nothing loads
    until a question or a batch needs it, and then it stays loaded.
    """
    from memory.agents.assistant import LazyAssistant
    from models.llm import load_llm

    settings = home.settings.current
    cfg = settings.assistant.llm_config(settings.models.llm)
    if cfg is None:
        return None
    cache = _cache_dir(home)
    label = cfg.model if cfg.backend == "openai" else cfg.model_id
    return LazyAssistant(lambda: load_llm(cfg, cache), label)


def _cache_dir(home: Home | None) -> str | None:
    return home.models.config.cache_dir if home is not None else None
