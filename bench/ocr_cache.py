"""An OCR cache for benchmark tuning runs: RapidOCR results stored per image hash.

``install(folder)`` wraps ``RapidOcrEngine.read`` so that an image read before (same pixels) is
answered from ``folder/<sha256>.json`` instead of running OCR again. Only the benchmarks use it
(bench/screens.py passes ENGRAM_BENCH_OCR_CACHE to its CLI subprocesses); keep the folder outside
the repository. Final figures come from runs without it.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

from PIL import Image

from models.ocr import ImageInput, OcrLine, RapidOcrEngine, open_image


def image_key(img: Image.Image) -> str:
    """A hash of the decoded pixels, size and mode."""
    h = hashlib.sha256(f"{img.mode}:{img.size}".encode())
    h.update(img.tobytes())
    return h.hexdigest()


def install(folder: str | Path) -> None:
    """Serve ``RapidOcrEngine.read`` from (and fill) the cache in ``folder``."""
    cache = Path(folder)
    cache.mkdir(parents=True, exist_ok=True, mode=0o700)
    original = RapidOcrEngine.read

    def read(self: RapidOcrEngine, source: ImageInput) -> list[OcrLine]:
        img = open_image(source)
        path = cache / f"{image_key(img)}.json"
        if path.exists():
            rows = json.loads(path.read_text(encoding="utf-8"))
            return [OcrLine(r["text"], tuple(r["box"]), r["confidence"]) for r in rows]  # type: ignore[arg-type]
        lines = original(self, img)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(
            json.dumps([{"text": x.text, "box": x.box, "confidence": x.confidence} for x in lines]),
            encoding="utf-8",
        )
        tmp.replace(path)
        return lines

    RapidOcrEngine.read = read  # type: ignore[method-assign]
