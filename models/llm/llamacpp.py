"""A GGUF chat model in-process with llama-cpp-python: quantised weights as they are, no fp32 copy.

- The chat template comes from the GGUF's metadata.
- JSON answers are constrained by a grammar built from the JSON schema (llama.cpp's converter).
- A RAM cache of model states keyed by prompt tokens keeps the fixed prefix (system prompt and core
  memory) evaluated between calls, even when other prompts ran in between; ``prime`` fills it ahead.
- The thread count is set before each call from the machine's load (see ``models.llm.threads``).
- ``count_tokens`` uses the model's own tokenizer, so callers can budget prompts exactly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import BadInput, InvalidModelOutput, ModelUnavailable
from models.llm.base import Message, check_messages, check_schema, parse_and_validate
from models.llm.threads import LoadTracker

logger = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
CACHE_BYTES = 512 << 20


class ModelTooSlow(TimeoutError):
    """A local generation ran past its time limit (the partial text is in ``partial``)."""

    def __init__(self, seconds: float, partial: str = "") -> None:
        super().__init__(f"the local model took longer than {seconds:g} s; stopped")
        self.partial = partial


@dataclass(frozen=True, slots=True)
class LlamaOptions:
    """How to run a GGUF model.

    Attributes:
        n_ctx: the context window to allocate (capped at the model's trained length).
        threads: a fixed thread count, or None to follow the machine's load before each call.
        timeout: seconds one call may take before it is stopped (``ModelTooSlow``).
        gpu_layers: layers to offload when llama.cpp was built with a GPU backend (-1: all).
    """

    n_ctx: int = 4096
    threads: int | None = None
    timeout: float = 120.0
    gpu_layers: int = 0


class LlamaCppLLM:
    """One GGUF model loaded with llama.cpp. Calls are serialised by a lock.

    Args:
        path: the ``.gguf`` file.
        model_id: a label for logs and answers.
        options: context size, threads, time limit and GPU offload.
    """

    def __init__(
        self, path: str | Path, model_id: str, options: LlamaOptions | None = None
    ) -> None:
        opts = options or LlamaOptions()
        n_ctx, threads, timeout = opts.n_ctx, opts.threads, opts.timeout
        gpu_layers = opts.gpu_layers
        path = Path(path)
        check_gguf(path, model_id)
        try:
            import llama_cpp
        except ImportError as exc:
            raise ModelUnavailable(
                "llm", model_id, "llama-cpp-python is not installed (the installer builds it)"
            ) from exc
        self.model_id = model_id
        self.path = path
        self.timeout = timeout
        self._fixed_threads = threads
        self._load = LoadTracker()
        self._lock = threading.Lock()
        n = threads or self._load.threads()
        try:
            self._llm = llama_cpp.Llama(
                model_path=str(path),
                n_ctx=n_ctx,
                n_threads=n,
                n_threads_batch=n,
                n_gpu_layers=gpu_layers,
                verbose=False,
            )
        except (ValueError, RuntimeError) as exc:  # llama.cpp's "Failed to load model from file"
            raise ModelUnavailable(
                "llm", model_id, f"llama.cpp cannot load {path} ({exc}); the file may be damaged"
            ) from exc
        trained = int(self._llm.metadata.get(f"{self._arch()}.context_length", n_ctx) or n_ctx)
        self.context_tokens = min(n_ctx, trained)
        self._llm.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=CACHE_BYTES))
        self._grammars: dict[str, Any] = {}
        logger.info("llama.cpp loaded %s (ctx %d, %d threads)", model_id, self.context_tokens, n)

    # -- the LLM interface ----------------------------------------------------------------------

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Return the assistant's reply."""
        return "".join(self.stream(messages, max_tokens=max_tokens, temperature=temperature))

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield pieces as they are generated; closing the iterator stops generation.

        Raises:
            BadInput: the prompt does not fit the context window.
            ModelTooSlow: the call ran past ``timeout`` (what was said so far is in ``partial``).
        """
        yield from self._run(messages, max_tokens, temperature, None)

    def json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """Return a JSON object valid against ``schema`` (grammar-constrained decoding).

        Raises:
            BadInput: invalid schema, or a prompt over the context.
            InvalidModelOutput: the answer was cut at ``max_tokens`` or does not validate.
        """
        check_schema(schema)
        raw = "".join(self._run(messages, max_tokens, temperature, schema))
        try:
            return parse_and_validate(raw, schema)
        except InvalidModelOutput as exc:
            if self.count_tokens(raw) < max_tokens - 2:
                raise
            raise InvalidModelOutput(
                f"the reply was cut at max_tokens={max_tokens} before the JSON was complete",
                raw,
            ) from exc

    def count_tokens(self, text: str) -> int:
        """Tokens ``text`` takes with this model's tokenizer."""
        return len(self._llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def prompt_tokens(self, messages: Sequence[Message]) -> int:
        """Tokens the chat-templated prompt of ``messages`` takes."""
        return len(self._tokens(check_messages(messages)))

    def prime(self, messages: Sequence[Message]) -> float:
        """Evaluate a prompt prefix now and keep its state cached; returns seconds spent.

        Call it with the fixed part (system prompt and core memory) while the user types.
        """
        tokens = self._tokens(check_messages(messages), generation_prompt=False)
        start = time.perf_counter()
        with self._lock:
            self._set_threads()
            cache = self._llm.cache
            if cache is not None:
                try:
                    if cache._find_longest_prefix_key(tuple(tokens)) == tuple(tokens):
                        return 0.0
                except AttributeError:  # a cache without that helper: evaluate anyway
                    pass
            self._llm.reset()
            self._llm.eval(tokens)
            if cache is not None:
                cache[tokens] = self._llm.save_state()
        return time.perf_counter() - start

    def unload(self) -> None:
        """Free the model."""
        llm = self.__dict__.pop("_llm", None)
        if llm is not None:
            llm.close()

    # -- internals ------------------------------------------------------------------------------

    def _arch(self) -> str:
        return str(self._llm.metadata.get("general.architecture", "llama"))

    def _tokens(self, messages: list[Message], generation_prompt: bool = True) -> list[int]:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        template = self._llm.metadata.get("tokenizer.chat_template")
        if not template:
            raise ModelUnavailable("llm", self.model_id, "the GGUF has no chat template")
        eos = self._llm._model.token_get_text(self._llm.token_eos())
        bos = self._llm._model.token_get_text(self._llm.token_bos())
        fmt = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)
        prompt = fmt(messages=messages).prompt
        if not generation_prompt:
            prompt = _strip_generation_prompt(fmt, messages, prompt)
        return self._llm.tokenize(prompt.encode("utf-8"), add_bos=not prompt, special=True)

    def _set_threads(self) -> None:
        n = self._fixed_threads or self._load.threads()
        ctx = getattr(self._llm, "_ctx", None)
        if ctx is None:
            return
        try:
            import llama_cpp

            llama_cpp.llama_set_n_threads(ctx.ctx, n, n)
        except (AttributeError, TypeError):  # an older binding: keep the load-time count
            return
        logger.debug("llama.cpp uses %d threads", n)

    def _run(
        self,
        messages: Sequence[Message],
        max_tokens: int,
        temperature: float,
        schema: dict[str, Any] | None,
    ) -> Iterator[str]:
        msgs = check_messages(messages)
        need = self.prompt_tokens(msgs)
        if need + max_tokens > self.context_tokens:
            raise BadInput(
                f"the prompt takes {need} tokens and the answer up to {max_tokens}; the model's "
                f"context holds {self.context_tokens}: shorten the prompt"
            )
        kwargs: dict[str, Any] = {
            "messages": msgs,
            "max_tokens": max_tokens,
            "temperature": temperature,
            "stream": True,
        }
        if temperature <= 0:
            kwargs["top_k"] = 1
        if schema is not None:
            kwargs["grammar"] = self._grammar(schema)
        deadline = time.monotonic() + self.timeout
        said: list[str] = []
        with self._lock:
            self._set_threads()
            cpu0 = time.process_time()
            chunks = self._llm.create_chat_completion(**kwargs)
            try:
                for chunk in chunks:
                    piece = chunk["choices"][0].get("delta", {}).get("content") or ""
                    if piece:
                        said.append(piece)
                        yield piece
                    if time.monotonic() > deadline:
                        raise ModelTooSlow(self.timeout, "".join(said))
            finally:
                close = getattr(chunks, "close", None)
                if callable(close):
                    close()
                self._load.note(time.process_time() - cpu0)

    def _grammar(self, schema: dict[str, Any]) -> Any:
        import json

        from llama_cpp import LlamaGrammar

        key = json.dumps(schema, sort_keys=True)
        grammar = self._grammars.get(key)
        if grammar is None:
            try:
                grammar = LlamaGrammar.from_json_schema(key, verbose=False)
            except (ValueError, RuntimeError) as exc:
                raise BadInput(
                    f"llama.cpp cannot turn this JSON schema into a grammar: {exc}"
                ) from exc
            self._grammars[key] = grammar
        return grammar


def _strip_generation_prompt(fmt: Any, messages: list[Message], prompt: str) -> str:
    """The prompt without the trailing assistant header, so it is a prefix of longer prompts."""
    probe = fmt(messages=[*messages, {"role": "user", "content": "\x00"}]).prompt
    cut = probe.find("\x00")
    if cut < 0:
        return prompt
    # the rendering of the next user turn starts where the common part with ``prompt`` ends
    common = 0
    for a, b in zip(prompt, probe[:cut], strict=False):
        if a != b:
            break
        common += 1
    return prompt[:common]


def check_gguf(path: Path, model_id: str) -> None:
    """Raise ModelUnavailable unless ``path`` is a readable GGUF file (magic bytes checked)."""
    try:
        with path.open("rb") as fh:
            magic = fh.read(4)
    except OSError as exc:
        raise ModelUnavailable(
            "llm", model_id, f"cannot read {path} ({exc.strerror or exc})"
        ) from exc
    if magic != GGUF_MAGIC:
        raise ModelUnavailable("llm", model_id, f"{path} is not a GGUF file")
