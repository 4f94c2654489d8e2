"""Frame storage benchmark (#16): bytes per stored frame per encoding, and what OCR reads back.

Usage:
    python bench/frame_storage.py [--set screens-dev-html ...] [--every 3] [--ocr N] [--json]

For every frame of the chosen screens sets (every Nth), plus a synthetic dense terminal-like log
(40 lines of 24 px monospace text, like bench/capture.py's Tk window), each encoding is written
the way ``memory.media.frames`` would and measured: KB per frame (mean, max), encoding CPU ms,
whether the decoded frame is pixel-exact, and, with ``--ocr N``, the word agreement of an OCR read
of the decoded frame with a read of the original (on the first N frames; OCR is slow). MB per
active hour assumes one kept frame every 2 s (the capture default) and adds the thumbnail.
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.ocr import DATA, agreement, frames_of, load, words  # noqa: E402
from memory.media.frames import FrameSettings, encode_frame, encode_webp  # noqa: E402


@dataclass(frozen=True)
class Encoding:
    """One way to store a frame."""

    name: str
    settings: FrameSettings
    grey: bool = False

    def encode(self, img: Image.Image) -> bytes:
        """The stored file's bytes."""
        return encode_frame(img.convert("L") if self.grey else img, self.settings)


ENCODINGS = (
    Encoding(
        "lossy q70 1600px (before #16)", FrameSettings(max_side=1600, lossless=False, quality=70)
    ),
    Encoding("lossy q70 full size", FrameSettings(lossless=False, quality=70)),
    Encoding("lossy q85 full size", FrameSettings(lossless=False, quality=85)),
    Encoding("lossy q70 grey full size", FrameSettings(lossless=False, quality=70), grey=True),
    Encoding("lossless full size", FrameSettings(lossy_above=10**9)),
    Encoding("lossless, lossy >150KB (default)", FrameSettings()),
)
INTERVAL_S = 2.0


def synthetic_log() -> Image.Image:
    """A dense terminal-like screen: 40 lines of 24 px monospace text."""
    img = Image.new("RGB", (1920, 1080), "white")
    draw = ImageDraw.Draw(img)
    try:
        font: ImageFont.FreeTypeFont | ImageFont.ImageFont = ImageFont.truetype(
            "DejaVuSansMono.ttf", 24
        )
    except OSError:
        font = ImageFont.load_default()
    for i in range(40):
        text = f"{i:03d} compiling module_{i} ... ok   checksum {i * 7919 % 100000:05d}"
        draw.text((4, 4 + i * 26), text, fill="black", font=font)
    return img


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", nargs="+", default=["screens-dev-html"])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--every", type=int, default=3)
    parser.add_argument("--ocr", type=int, default=0, help="OCR the first N frames per encoding")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    images: list[tuple[str, Image.Image]] = [("synthetic log", synthetic_log())]
    for name in args.set:
        folder = args.data / name
        for row in frames_of(folder)[:: max(1, args.every)]:
            images.append((f"{name}/{row['id']}", Image.open(folder / row["path"]).convert("RGB")))
    engine = None
    if args.ocr:
        from models.ocr import RapidOcrEngine

        engine = RapidOcrEngine(device="cpu")
    thumb = statistics.mean(len(encode_webp(img, 320, 60)) for _n, img in images)
    print(
        f"{len(images)} frames ({', '.join(args.set)} + a synthetic log); "
        f"thumbnail {thumb / 1024:.1f} KB  ({load()})"
    )
    print(
        f"  {'encoding':34} {'KB mean':>8} {'KB max':>7} {'log KB':>7} {'ms cpu':>7} {'exact':>6}"
        f" {'MB/h':>6} {'ocr agree':>9}"
    )
    out = []
    references: dict[str, object] = {}
    for enc in ENCODINGS:
        sizes, cpu, exact, agree = [], 0.0, 0, []
        for i, (name, img) in enumerate(images):
            started = time.process_time()
            data = enc.encode(img)
            cpu += time.process_time() - started
            sizes.append(len(data))
            with Image.open(io.BytesIO(data)) as back:
                decoded = back.convert("RGB")
            exact += decoded.size == img.size and np.array_equal(
                np.asarray(decoded), np.asarray(img)
            )
            if engine is not None and i < args.ocr:
                if name not in references:
                    references[name] = words(engine.read(img))
                agree.append(agreement(references[name], words(engine.read(decoded))))  # type: ignore[arg-type]
        row = {
            "encoding": enc.name,
            "kb_mean": round(statistics.mean(sizes) / 1024, 1),
            "kb_max": round(max(sizes) / 1024, 1),
            "kb_log": round(sizes[0] / 1024, 1),
            "ms_cpu": round(cpu / len(images) * 1000),
            "exact": f"{exact}/{len(images)}",
            "mb_per_hour": round((statistics.mean(sizes) + thumb) * 3600 / INTERVAL_S / 2**20, 1),
            "ocr_agreement": round(statistics.mean(agree), 3) if agree else None,
        }
        out.append(row)
        print(
            f"  {enc.name:34} {row['kb_mean']:8.1f} {row['kb_max']:7.1f} {row['kb_log']:7.1f}"
            f" {row['ms_cpu']:7} {row['exact']:>6} {row['mb_per_hour']:6.1f}"
            f" {row['ocr_agreement'] if agree else '-':>9}  ({load()})",
            flush=True,
        )
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
