"""The agents' LLM from a short spec: "none", "local" (the catalogue model) or a server URL.

"config" is the LLM configured in the home's config.toml (``MemoryService.models().llm()``).
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)


def build_llm(
    spec: str | None, *, model: str = "default", timeout: float = 60.0, service: Any = None
) -> Any | None:
    """The LLM for ``spec``: None for "none"/empty, the configured one for "config" (needs
    ``service``), the packaged local model for "local",
    an OpenAI-compatible client for an ``http(s)://.../v1`` URL.

    Raises:
        ModelUnavailable: the local model's weights are not installed.
    """
    if not spec or spec == "none":
        return None
    if spec == "config" and service is not None:
        return service.models().llm()
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
