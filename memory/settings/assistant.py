"""The assistant section of the settings: which LLM answers questions and writes memories (#11).

Kept in a module of its own so the assistant work can extend it without touching the other sections.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.config import LLMConfig

AssistantBackend = Literal["none", "local", "server"]


class AssistantSettings(BaseModel):
    """The assistant's LLM: none (extractive answers), the local model, or a server."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    backend: AssistantBackend = Field(
        default="local",
        description=(
            "none: answers quote the best matching passage, no LLM; local: the model of "
            "models.llm run in-process (by default the packaged model that suits this machine); "
            "server: an OpenAI-compatible server at server_url"
        ),
    )
    server_url: str = Field(
        default="http://127.0.0.1:8080/v1",
        description="base URL of the OpenAI-compatible server (llama.cpp, Ollama, vLLM, LM Studio)",
    )
    model: str = Field(default="default", description="the model name the server expects")
    api_key_env: str | None = Field(
        default=None,
        description=(
            "name of the environment variable holding the server's API key (the key itself is "
            "never written to config.toml)"
        ),
    )
    timeout_s: float = Field(default=60.0, gt=0, description="seconds per request to the server")
    retries: int = Field(
        default=2, ge=0, le=10, description="extra attempts after a failed server request"
    )
    local_timeout_s: float = Field(
        default=120.0, gt=0, description="seconds a local answer may take before it is stopped"
    )
    threads: int | None = Field(
        default=None,
        ge=1,
        description="threads for the local model (empty: follow the machine's load)",
    )

    def llm_config(self, local: LLMConfig) -> LLMConfig | None:
        """The models layer's LLM config for this choice (``local``: the models.llm role), or None.

        The server's API key is read from ``api_key_env`` now, not stored.
        """
        import os

        if self.backend == "none":
            return None
        if self.backend == "local":
            update: dict[str, object] = {"timeout": self.local_timeout_s}
            if self.threads is not None:
                update["threads"] = self.threads
            return local.model_copy(update=update)
        key = os.environ.get(self.api_key_env) if self.api_key_env else None
        return LLMConfig(
            backend="openai",
            base_url=self.server_url.rstrip("/"),
            model=self.model,
            api_key=key,
            timeout=self.timeout_s,
            retries=self.retries,
        )
