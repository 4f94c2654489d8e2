"""The agents' LLM from a short spec: "none", "config" (the assistant settings), "local" (the
catalogue model) or a server URL.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from memory.agents.llm_protocol import AgentLLM

if TYPE_CHECKING:
    from memory.modelhub import ModelHub
    from memory.settings import Settings

logger = logging.getLogger(__name__)


def llm_from_settings(settings: Settings, hub: ModelHub) -> AgentLLM | None:
    """The LLM the ``assistant`` section asks for: None ("none"), the hub's ``models.llm``
    ("local"), or an OpenAI-compatible client ("server").

    Raises:
        ModelUnavailable: the local model's weights are not installed.
    """
    cfg = settings.assistant.llm_config(hub.config.llm)
    if cfg is None:
        return None
    if settings.assistant.backend == "local":
        return hub.llm()
    from models.llm import load_llm

    logger.info("agents use the LLM server %s", cfg.base_url)
    return load_llm(cfg)


def build_llm(
    spec: str | None,
    *,
    model: str = "default",
    timeout: float = 60.0,
    settings: Settings | None = None,
    hub: ModelHub | None = None,
) -> AgentLLM | None:
    """The LLM for ``spec``: None for "none"/empty, the assistant settings for "config" (needs
    ``settings`` and ``hub``), the packaged local model for "local", an OpenAI-compatible client
    for an ``http(s)://.../v1`` URL, else a local model folder.

    Raises:
        ModelUnavailable: the local model's weights are not installed.
        ValueError: "config" without settings and a model hub.
    """
    if not spec or spec == "none":
        return None
    if spec == "config":
        if settings is None or hub is None:
            raise ValueError('the "config" LLM needs the home\'s settings and model hub')
        return llm_from_settings(settings, hub)
    from models.config import LLMConfig
    from models.llm import load_llm

    if spec.startswith(("http://", "https://")):
        cfg = LLMConfig(backend="openai", base_url=spec.rstrip("/"), model=model, timeout=timeout)
    elif spec == "local":
        cfg = LLMConfig()
    else:
        cfg = LLMConfig(path=spec)
    logger.info("agents use LLM %s (%s)", spec, cfg.backend)
    return load_llm(cfg)
