"""Configuration of the models layer: one sub-config per role (pydantic)."""

from __future__ import annotations

import logging
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

logger = logging.getLogger(__name__)

DevicePref = Literal["auto", "cuda", "mps", "cpu"]


class RoleConfig(BaseModel):
    """Which model a role uses and where it runs.

    Attributes:
        model_id: a catalogue id (see ``models.registry.CATALOGUE``) or a free-form name.
        path: a local folder or file with the weights; overrides the catalogue source.
        device: "auto" picks cuda > mps > cpu; anything else pins that device.
    """

    model_config = ConfigDict(extra="forbid")

    model_id: str
    path: str | None = None
    device: DevicePref = "auto"


class TextEmbeddingConfig(RoleConfig):
    """Text embedding role (sentence-transformers)."""

    model_id: str = "all-MiniLM-L6-v2"


class OcrConfig(RoleConfig):
    """OCR role (RapidOCR on onnxruntime)."""

    model_id: str = "rapidocr-ppocrv4"
    max_side: int = Field(default=4096, ge=64, description="larger images are downscaled first")
    det_side: int = Field(
        default=960,
        ge=0,
        description="longer side of the image text detection sees (0: full size); the lines "
        "found are still read from the full-resolution frame",
    )
    line_cache: int = Field(
        default=4096,
        ge=0,
        description="recognised text lines remembered, so a line already read is not read again",
    )
    threads: int = Field(default=0, ge=0, description="onnxruntime threads (0: one per core)")
    spin: bool = Field(
        default=False,
        description="let idle onnxruntime threads spin-wait (off: better beside other work)",
    )


class SpeechConfig(RoleConfig):
    """Speech-to-text role (faster-whisper)."""

    model_id: str = "whisper-tiny.en"
    vad_filter: bool = True
    beam_size: int = Field(default=1, ge=1)
    language: str | None = None


class ClipConfig(RoleConfig):
    """Image embedding role (open_clip)."""

    model_id: str = "clip-vit-b32-laion2b"
    architecture: str = "ViT-B-32"
    pretrained_tag: str = "laion2b_s34b_b79k"


class LLMConfig(RoleConfig):
    """LLM role: a local GGUF/transformers model or an OpenAI-compatible server.

    Attributes:
        model_id: a catalogue id, or "auto": the best packaged model that fits this machine.
        backend: "auto" runs GGUF files with llama.cpp when llama-cpp-python is installed and
            with transformers otherwise; "llamacpp" and "transformers" force one;
            "openai" talks to ``base_url`` over HTTP.
        gguf_file: file name inside ``path`` when ``path`` is a folder holding a GGUF file.
        base_url: e.g. ``http://127.0.0.1:8080/v1`` (Ollama, vLLM, llama.cpp, LM Studio).
        model: the model name the server expects.
        api_key: sent as a Bearer token when set.
        timeout: seconds per HTTP request, or per local generation.
        retries: extra attempts after a failed request (connection errors, 5xx, timeouts).
        threads: llama.cpp threads; None follows the machine's load before each call.
        context_tokens: the context window to allocate for a local model.
    """

    model_id: str = "auto"
    backend: Literal["auto", "llamacpp", "transformers", "openai"] = "auto"
    gguf_file: str | None = None
    base_url: str = "http://127.0.0.1:8080/v1"
    model: str = "default"
    api_key: str | None = None
    timeout: float = Field(default=60.0, gt=0)
    retries: int = Field(default=2, ge=0)
    threads: int | None = Field(default=None, ge=1)
    context_tokens: int = Field(default=4096, ge=512)


class ModelConfig(BaseModel):
    """All model roles; received by ``memory.modelhub.ModelHub``.

    Attributes:
        cache_dir: where ``engram models pull`` stores downloads (None: the platform cache).
    """

    model_config = ConfigDict(extra="forbid")

    text_embedding: TextEmbeddingConfig = Field(default_factory=TextEmbeddingConfig)
    ocr: OcrConfig = Field(default_factory=OcrConfig)
    speech: SpeechConfig = Field(default_factory=SpeechConfig)
    clip: ClipConfig = Field(default_factory=ClipConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    cache_dir: str | None = None

    def role(self, name: str) -> RoleConfig:
        """Return the sub-config of a role by name ("ocr", "speech", ...)."""
        if name not in ROLES:
            raise KeyError(f"unknown model role {name!r}; known: {', '.join(ROLES)}")
        sub: RoleConfig = getattr(self, name)
        return sub


ROLES: tuple[str, ...] = ("text_embedding", "ocr", "speech", "clip", "llm")
