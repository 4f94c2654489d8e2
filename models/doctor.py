"""``engram doctor`` for models: devices, where each role's weights come from, load and speed."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from models.config import ROLES, ModelConfig
from models.device import onnx_providers, pick_device
from models.errors import ModelError, ModelUnavailable
from models.registry import LazyModel, make_lazy, resolve_source

logger = logging.getLogger(__name__)


def devices() -> dict[str, Any]:
    """Report torch cuda/mps, onnxruntime providers and CTranslate2 cuda devices."""
    out: dict[str, Any] = {
        "torch": None,
        "cuda": False,
        "mps": False,
        "onnxruntime_providers": onnx_providers(),
        "ctranslate2_cuda_devices": 0,
    }
    try:
        import torch

        out["torch"] = torch.__version__
        out["cuda"] = bool(torch.cuda.is_available())
        out["cuda_name"] = torch.cuda.get_device_name(0) if out["cuda"] else None
        mps = getattr(torch.backends, "mps", None)
        out["mps"] = bool(mps is not None and mps.is_available())
    except ImportError:
        pass
    try:
        import ctranslate2

        out["ctranslate2_cuda_devices"] = int(ctranslate2.get_cuda_device_count())
    except ImportError:
        pass
    return out


def find_source(role: str, config: ModelConfig) -> str:
    """Say where a role's weights come from, without loading them.

    Raises:
        ModelUnavailable: nothing local holds them.
    """
    sub = config.role(role)
    if role == "llm" and config.llm.backend == "openai":
        return f"server {config.llm.base_url} (model {config.llm.model})"
    if role == "ocr":
        from models.registry import CATALOGUE, packaged_path

        entry = CATALOGUE["rapidocr-ppocrv4"]
        if packaged_path(entry) is None:
            raise ModelUnavailable("ocr", sub.model_id, "install rapidocr-onnxruntime==1.4.4")
        return f"pypi package {entry.package}"
    if role == "clip":
        from models.clip import find_weights

        return find_weights(config.clip, config.cache_dir)[2]
    return resolve_source(role, sub.model_id, sub.path, config.cache_dir)[1]


def check_role(
    role: str, config: ModelConfig, lazy: LazyModel[Any] | None, quick_check: bool
) -> dict[str, Any]:
    """Report one role: id, source, availability, device, load seconds and a speed figure."""
    sub = config.role(role)
    report: dict[str, Any] = {
        "model_id": sub.model_id,
        "device_pref": sub.device,
        "device": pick_device(sub.device),
        "source": None,
        "available": False,
        "reason": None,
        "load_seconds": None,
        "speed": None,
    }
    try:
        report["source"] = find_source(role, config)
        if quick_check:
            lazy = lazy or make_lazy(role, config)
            model = lazy.get()
            report["load_seconds"] = _round(lazy.load_seconds)
            report["device"] = getattr(model, "device", report["device"])
            report["speed"] = SPEED_CHECKS[role](model)
        report["available"] = True
    except ModelUnavailable as exc:
        report["reason"] = exc.reason
        report["source"] = report["source"] or "download needed"
    except ModelError as exc:
        report["reason"] = str(exc)
    return report


def run_doctor(
    config: ModelConfig,
    quick_check: bool = True,
    models: Mapping[str, LazyModel[Any]] | None = None,
) -> dict[str, Any]:
    """Return a JSON-ready report of devices and every role.

    Args:
        quick_check: load each available model and time a small call (can take a minute).
        models: already-built LazyModels to reuse (``ModelHub`` passes its own).
    """
    models = models or {}
    return {
        "devices": devices(),
        "roles": {role: check_role(role, config, models.get(role), quick_check) for role in ROLES},
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _speed_text_embedding(model: Any) -> dict[str, Any]:
    texts = [f"doctor sentence number {i} about a quick check" for i in range(64)]
    seconds, _ = _timed(lambda: model.embed_texts(texts))
    return {"sentences_per_s": round(len(texts) / seconds, 1)}


def _speed_ocr(model: Any) -> dict[str, Any]:
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (960, 240), "white")
    ImageDraw.Draw(img).text(
        (20, 80),
        "Engram doctor OCR check 12345",
        fill="black",
        font=ImageFont.load_default(size=40),
    )
    seconds, lines = _timed(lambda: model.read(img))
    return {"seconds_per_960x240_image": round(seconds, 3), "text": " ".join(x.text for x in lines)}


def _speed_speech(model: Any) -> dict[str, Any]:
    t = np.arange(5 * 16000) / 16000
    tone = (0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 3 * t) > 0)).astype(np.float32)
    seconds, _ = _timed(lambda: model.transcribe(tone))
    return {"real_time_factor_on_5s_synthetic_tone": round(seconds / 5.0, 3)}


def _speed_clip(model: Any) -> dict[str, Any]:
    from PIL import Image

    images = [Image.new("RGB", (224, 224), (i * 60, 80, 120)) for i in range(4)]
    seconds, _ = _timed(lambda: model.embed_images(images))
    return {"images_per_s": round(len(images) / seconds, 2)}


def _speed_llm(model: Any) -> dict[str, Any]:
    msgs = [{"role": "user", "content": "Say hello in five words."}]
    start = time.perf_counter()
    first, pieces = None, 0
    for _piece in model.stream(msgs, max_tokens=16):
        first = first if first is not None else time.perf_counter() - start
        pieces += 1
    total = time.perf_counter() - start
    return {"time_to_first_token_s": _round(first), "pieces_per_s": round(pieces / total, 1)}


SPEED_CHECKS: dict[str, Callable[[Any], dict[str, Any]]] = {
    "text_embedding": _speed_text_embedding,
    "ocr": _speed_ocr,
    "speech": _speed_speech,
    "clip": _speed_clip,
    "llm": _speed_llm,
}


def format_report(report: dict[str, Any]) -> str:
    """Render a doctor report as human-readable lines."""
    dev = report["devices"]
    lines = [
        f"torch {dev['torch']}  cuda={dev['cuda']}  mps={dev['mps']}  "
        f"onnxruntime={','.join(dev['onnxruntime_providers']) or 'missing'}"
    ]
    for role, r in report["roles"].items():
        state = "ok" if r["available"] else "UNAVAILABLE"
        line = f"{role:15} {state:11} {r['model_id']}  [{r['source']}] on {r['device']}"
        if r["load_seconds"] is not None:
            line += f"  load {r['load_seconds']:.2f}s"
        if r["speed"]:
            line += "  " + ", ".join(f"{k}={v}" for k, v in r["speed"].items() if k != "text")
        if r["reason"]:
            line += f"\n{'':15} {r['reason']}"
        if role == "clip" and not r["available"]:  # what the user loses without it (#17)
            line += (
                f"\n{'':15} image memory is off: screens are found by their words and text "
                "only; `engram search --image`, similar moments and 'Looks like this' need it"
            )
        lines.append(line)
    return "\n".join(lines)


__all__ = ["devices", "format_report", "run_doctor"]
