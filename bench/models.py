"""Benchmark every model role on this machine: load time and a throughput figure per role.

Usage: python bench/models.py [--server http://127.0.0.1:8080/v1] [--skip-llm]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memory.modelhub import ModelHub  # noqa: E402
from models.config import ModelConfig  # noqa: E402
from models.errors import ModelUnavailable  # noqa: E402

logger = logging.getLogger(__name__)
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def timed(fn: Callable[[], Any], repeat: int = 1) -> tuple[float, Any]:
    """Return (mean seconds per call, last result)."""
    start = time.perf_counter()
    for _ in range(repeat):
        result = fn()
    return (time.perf_counter() - start) / repeat, result


def screenshot() -> Image.Image:
    """A 1920x1080 frame with 30 lines of text in two themes."""
    img = Image.new("RGB", (1920, 1080), (245, 245, 245))
    draw = ImageDraw.Draw(img)
    draw.rectangle((960, 0, 1920, 1080), fill=(30, 30, 36))
    for i in range(15):
        font = ImageFont.truetype(FONT, 18 + (i % 4) * 6) if Path(FONT).exists() else None
        draw.text(
            (40, 30 + i * 68),
            f"Line {i}: meeting notes about project {i * 7}",
            fill=(20, 20, 20),
            font=font,
        )
        draw.text(
            (1000, 30 + i * 68), f"$ make test  # run {i} passed", fill=(220, 220, 220), font=font
        )
    return img


def bench_ocr(hub: ModelHub) -> dict[str, Any]:
    """OCR seconds per 1080p frame."""
    load, engine = timed(hub.ocr)
    frame = screenshot()
    engine.read(frame)  # warm-up
    per_frame, lines = timed(lambda: engine.read(frame), repeat=3)
    return {
        "device": engine.device,
        "load_s": load,
        "s_per_1080p_frame": per_frame,
        "lines": len(lines),
    }


def bench_speech(hub: ModelHub) -> dict[str, Any]:
    """Speech-to-text real-time factor on ~30 s of espeak-ng speech."""
    load, stt = timed(hub.speech)
    if shutil.which("espeak-ng") is None:
        return {"device": stt.device, "load_s": load, "note": "espeak-ng missing: no RTF"}
    with tempfile.TemporaryDirectory() as tmp:
        # varied sentences: a text repeated three times makes Whisper fall back to higher
        # temperatures (compression-ratio check) and measures that, not transcription
        text = (
            "Please remember to send the quarterly report to the finance team before Friday "
            "afternoon. The meeting moved to room four on the second floor. Maria asked whether "
            "the budget for the Lisbon office includes the new laptops, and Tom said he would "
            "check with procurement tomorrow morning. After lunch we reviewed the hiring plan, "
            "the release schedule for version two, and the customer survey results."
        )
        wav = Path(tmp) / "s.wav"
        subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), text], check=True)
        from models.speech import load_audio

        samples = load_audio(wav)
        stt.transcribe(samples[: 16000 * 3])  # warm-up
        seconds, result = timed(lambda: stt.transcribe(samples))
    return {
        "device": stt.device,
        "load_s": load,
        "audio_s": result.duration,
        "real_time_factor": seconds / result.duration,
    }


def bench_embeddings(hub: ModelHub) -> dict[str, Any]:
    """Text embeddings per second, batch of 256 short sentences."""
    load, emb = timed(hub.text_embedder)
    texts = [f"sentence {i} about the timeline, a meeting and a document" for i in range(256)]
    emb.embed_texts(texts[:8])
    seconds, _ = timed(lambda: emb.embed_texts(texts))
    device = emb._model.device.type if emb._model is not None else "?"
    return {"device": device, "load_s": load, "sentences_per_s": len(texts) / seconds}


def bench_clip(hub: ModelHub) -> dict[str, Any]:
    """CLIP images per second; a random ViT-B-32 (same compute, no weights) when offline."""
    load, clip = timed(hub.clip)
    note = "real weights"
    if clip is None:
        clip, load, note = _random_vit_b32()
    images = [Image.new("RGB", (640, 400), (i * 20 % 255, 90, 140)) for i in range(16)]
    clip.embed_images(images[:2])
    seconds, _ = timed(lambda: clip.embed_images(images))
    return {
        "device": clip.device,
        "load_s": load,
        "images_per_s": len(images) / seconds,
        "note": note,
    }


def _random_vit_b32() -> tuple[Any, float, str]:
    import open_clip

    from models.clip import ClipEmbedder

    start = time.perf_counter()
    model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
    emb = ClipEmbedder(
        model.eval(), preprocess, open_clip.get_tokenizer("ViT-B-32"), "ViT-B-32-random", "cpu"
    )
    return (
        emb,
        time.perf_counter() - start,
        "no weights offline: random-init ViT-B-32 (same compute)",
    )


def bench_llm(hub: ModelHub, label: str) -> dict[str, Any]:
    """LLM time to first token and streamed tokens per second (128 new tokens)."""
    load, llm = timed(hub.llm)
    msgs = [{"role": "user", "content": "Write a short paragraph about keeping notes."}]
    llm.chat(msgs, max_tokens=4)  # warm-up
    start, first, pieces = time.perf_counter(), None, 0
    for _ in llm.stream(msgs, max_tokens=128):
        first = first if first is not None else time.perf_counter() - start
        pieces += 1
    total = time.perf_counter() - start
    return {
        "backend": label,
        "device": getattr(llm, "device", "server"),
        "load_s": load,
        "time_to_first_token_s": first,
        "tokens_per_s": pieces / total,
        "note": "tokens counted as streamed pieces",
    }


def main(argv: list[str] | None = None) -> int:
    """Run every bench and print one line per role, then JSON."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--server", help="also bench an OpenAI-compatible server at this URL")
    parser.add_argument("--skip-llm", action="store_true")
    args = parser.parse_args(argv)
    hub = ModelHub(ModelConfig())
    results: dict[str, Any] = {"cpu_count": os.cpu_count(), "loadavg_at_start": os.getloadavg()}
    benches: list[tuple[str, Callable[[], dict[str, Any]]]] = [
        ("ocr", lambda: bench_ocr(hub)),
        ("speech", lambda: bench_speech(hub)),
        ("text_embedding", lambda: bench_embeddings(hub)),
        ("clip", lambda: bench_clip(hub)),
    ]
    if not args.skip_llm:
        benches.append(("llm_transformers", lambda: bench_llm(hub, "transformers SmolLM2 GGUF")))
    if args.server:
        server_hub = ModelHub(ModelConfig(llm={"backend": "openai", "base_url": args.server}))
        benches.append(("llm_server", lambda: bench_llm(server_hub, f"openai {args.server}")))
    for name, fn in benches:
        try:
            results[name] = fn()
        except ModelUnavailable as exc:
            results[name] = {"unavailable": exc.reason}
        print(
            f"{name:17} " + "  ".join(f"{k}={_fmt(v)}" for k, v in results[name].items()),
            flush=True,
        )
        hub.unload_all()
    results["loadavg_at_end"] = os.getloadavg()
    print(json.dumps(results, default=str))
    return 0


def _fmt(value: Any) -> str:
    return f"{value:.3f}" if isinstance(value, float) else str(value)


if __name__ == "__main__":
    sys.exit(main())
