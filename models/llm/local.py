"""A local chat model run with transformers (safetensors folder or GGUF file), xgrammar for JSON."""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from models.device import is_out_of_memory, pick_device, pick_dtype
from models.errors import InvalidModelOutput, ModelUnavailable
from models.llm.base import Message, check_messages, check_schema, parse_and_validate

logger = logging.getLogger(__name__)


class TransformersLLM:
    """A causal LM in-process. Generation calls are serialised by a lock (one model, one call).

    Args:
        path: a folder saved with ``save_pretrained``, a ``.gguf`` file, or a folder holding
            the file named by ``gguf_file``.
        model_id: a label for logs and the doctor.
        gguf_file: the GGUF file name inside ``path``.
        device: "auto", "cuda", "mps" or "cpu".
    """

    def __init__(
        self, path: str | Path, model_id: str, gguf_file: str | None = None, device: str = "auto"
    ) -> None:
        self.model_id = model_id
        folder, gguf = _split_gguf(Path(path), gguf_file)
        self.device = pick_device(device)
        self._lock = threading.Lock()
        self.tokenizer, self.model = _load(folder, gguf, self.device, model_id)
        self._compiler: Any = None

    def chat(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> str:
        """Return the assistant's reply. Blocks; run it off the GUI thread."""
        return self._decode(self._generate(messages, max_tokens, temperature))

    def stream(
        self, messages: Sequence[Message], *, max_tokens: int = 256, temperature: float = 0.0
    ) -> Iterator[str]:
        """Yield decoded text pieces while a worker thread generates."""
        from transformers import TextIteratorStreamer

        streamer = TextIteratorStreamer(self.tokenizer, skip_prompt=True, skip_special_tokens=True)
        errors: list[BaseException] = []

        def work() -> None:
            try:
                self._generate(messages, max_tokens, temperature, streamer=streamer)
            except BaseException as exc:  # re-raised in the consuming thread below
                errors.append(exc)
                streamer.end()

        worker = threading.Thread(target=work, name="llm-stream", daemon=True)
        worker.start()
        try:
            for piece in streamer:
                if piece:
                    yield piece
        finally:
            worker.join()
        if errors:
            raise errors[0]

    def json(
        self,
        messages: Sequence[Message],
        schema: dict[str, Any],
        *,
        max_tokens: int = 256,
        temperature: float = 0.0,
    ) -> dict[str, Any]:
        """Return a JSON object valid against ``schema``; decoding is constrained by xgrammar.

        Raises:
            BadInput: the schema is invalid.
            InvalidModelOutput: generation stopped (``max_tokens``) before the JSON was complete.
        """
        import xgrammar.contrib.hf as xgr_hf

        check_schema(schema)
        # Compact JSON: no free whitespace, so a weak model cannot pad forever.
        compiled = self._grammar_compiler().compile_json_schema(
            json.dumps(schema), any_whitespace=False
        )
        processor = xgr_hf.LogitsProcessor(compiled)
        tokens = self._generate(messages, max_tokens, temperature, logits_processor=[processor])
        raw = self._decode(tokens)
        try:
            return parse_and_validate(raw, schema)
        except InvalidModelOutput as exc:
            if len(tokens) < max_tokens:
                raise
            raise InvalidModelOutput(
                f"the reply was cut at max_tokens={max_tokens} before the JSON was complete; "
                "raise max_tokens or bound the schema (maxLength, maximum)",
                raw,
            ) from exc

    def unload(self) -> None:
        """Drop the weights (the registry frees device memory afterwards)."""
        self.model = None
        self._compiler = None

    def _grammar_compiler(self) -> Any:
        import xgrammar as xgr

        if self._compiler is None:
            info = xgr.TokenizerInfo.from_huggingface(
                self.tokenizer, vocab_size=int(self.model.config.vocab_size)
            )
            self._compiler = xgr.GrammarCompiler(info)
        return self._compiler

    def _decode(self, tokens: Any) -> str:
        return self.tokenizer.decode(tokens, skip_special_tokens=True).strip()

    def _generate(
        self, messages: Sequence[Message], max_tokens: int, temperature: float, **extra: Any
    ) -> Any:
        """Run ``generate`` and return the new token ids; on GPU OOM retry this call on cpu."""
        prompt = self.tokenizer.apply_chat_template(
            check_messages(messages), tokenize=False, add_generation_prompt=True
        )
        inputs = self.tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_tokens,
            "do_sample": temperature > 0,
            "pad_token_id": self.tokenizer.pad_token_id or self.tokenizer.eos_token_id,
            **extra,
        }
        if temperature > 0:
            kwargs["temperature"] = temperature
        with self._lock:
            try:
                out = self._run(inputs, self.device, kwargs)
            except RuntimeError as exc:
                if self.device == "cpu" or not is_out_of_memory(exc):
                    raise
                logger.warning("LLM ran out of %s memory; running this call on cpu", self.device)
                try:
                    out = self._run(inputs, "cpu", kwargs)
                finally:
                    self.model.to(self.device)
        return out[0, inputs["input_ids"].shape[1] :]

    def _run(self, inputs: Any, device: str, kwargs: dict[str, Any]) -> Any:
        import torch

        if device != self.device:
            self.model.to(device)
        with torch.inference_mode():
            return self.model.generate(**{k: v.to(device) for k, v in inputs.items()}, **kwargs)


def _split_gguf(path: Path, gguf_file: str | None) -> tuple[Path, str | None]:
    if path.is_file() and path.suffix == ".gguf":
        return path.parent, path.name
    if gguf_file is None and path.is_dir():
        found = sorted(path.glob("*.gguf"))
        if found and not (path / "config.json").exists():
            return path, found[0].name
    return path, gguf_file


def _converted_dir(folder: Path, gguf: str) -> Path:
    """Where the transformers copy of a GGUF file is kept (keyed by the file's size and mtime)."""
    from models.registry import default_cache_dir

    st = (folder / gguf).stat()
    return default_cache_dir() / "transformers" / f"{Path(gguf).stem}-{st.st_size}-{st.st_mtime_ns}"


def _load(folder: Path, gguf: str | None, device: str, model_id: str) -> tuple[Any, Any]:
    """Load a model; a GGUF file is dequantised once and the result kept as safetensors, so
    later starts load it directly instead of dequantising again."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a progress bar must never end up in an answer
    dtype = getattr(torch, pick_dtype(device))
    converted: Path | None = None
    if gguf is not None:
        dtype = torch.float32 if device == "cpu" else dtype
        try:
            converted = _converted_dir(folder, gguf)
        except OSError:
            converted = None
        if converted is not None and (converted / "config.json").is_file():
            folder, gguf = converted, None
            converted = None
    logger.info("loading LLM %s from %s (gguf=%s) on %s", model_id, folder, gguf, device)
    try:
        tok = AutoTokenizer.from_pretrained(str(folder), gguf_file=gguf, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            str(folder), gguf_file=gguf, dtype=dtype, local_files_only=True
        )
    except Exception as exc:  # safetensors, gguf and tokenizers raise their own error types
        raise ModelUnavailable(
            "llm", model_id, f"cannot load {folder / (gguf or '')}: {exc}"
        ) from exc
    if converted is not None:
        _keep_converted(model, tok, converted)
    model.to(device)
    model.eval()
    if tok.chat_template is None:
        raise ModelUnavailable("llm", model_id, "the tokenizer has no chat template")
    return tok, model


def _keep_converted(model: Any, tok: Any, dest: Path) -> None:
    """Save the dequantised model once (atomically: a temp folder renamed into place)."""
    import shutil

    tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
    # The GGUF "quantizer" only marks where the weights came from: they are plain tensors now.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    try:
        model.save_pretrained(str(tmp), safe_serialization=True)
        tok.save_pretrained(str(tmp))
        os.replace(tmp, dest)
        logger.info("kept the dequantised model in %s for later starts", dest)
    except (OSError, ValueError) as exc:  # it only costs the next start a re-dequantisation
        logger.warning("could not keep the dequantised model in %s: %s", dest, exc)
        shutil.rmtree(tmp, ignore_errors=True)
