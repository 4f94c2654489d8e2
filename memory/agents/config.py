"""Settings of the memory agents (pydantic, like every layer's config)."""

from __future__ import annotations

from pydantic import BaseModel, Field


class AgentConfig(BaseModel):
    """How often and how much the agents memorise, and the budgets of their prompts."""

    batch_frames: int = Field(20, ge=1, description="memorise once this many observations wait")
    batch_seconds: float = Field(300.0, gt=0, description="... or once the oldest waited this long")
    poll_seconds: float = Field(5.0, gt=0, description="how often the worker looks for work")
    max_batch: int = Field(60, ge=1, description="observations taken per batch at most")
    context_tokens: int = Field(2048, ge=256, description="the LLM's context window")
    json_max_tokens: int = Field(480, ge=32, description="tokens a manager's JSON answer may use")
    answer_max_tokens: int = Field(160, ge=16, description="tokens a chat answer may use")
    prompt_tokens: int = Field(
        400,
        ge=128,
        description="a chat prompt's size at most after its fixed prefix (system prompt, worked "
        "example, core memory: evaluated once and cached): prefill is the cost of the first "
        "token, and the packaged 0.5B reads ~75-100 tokens/s on two cores",
    )
    shown_items: int = Field(8, ge=0, le=40, description="existing items shown to each manager")
    delete_limit: int = Field(
        3, ge=0, description="more deletes than this in a batch need the user"
    )
    max_attempts: int = Field(5, ge=1, description="attempts before a batch is marked failed")
    rejected_retries: int = Field(
        1,
        ge=0,
        description="later passes a batch gets when a manager's answers are rejected twice "
        "(the last pass keeps what the other managers wrote)",
    )
    backoff_base: float = Field(5.0, gt=0, description="first retry delay after an LLM outage (s)")
    backoff_max: float = Field(600.0, gt=0, description="longest retry delay (s)")
    chat_k: int = Field(12, ge=1, le=50, description="items retrieved for a chat answer")
    use_llm_routing: bool = Field(True, description="ask the LLM which types a batch concerns")
