"""Image search benchmark (#17): screens whose answer is how they looked, text-only vs fused.

Usage:
    python bench/image_search.py [--clip DIR] [--weights 0.25,0.5,1,2] [--keep HOME] [--json]

Draws a set of frames procedurally (charts of different colours and shapes, photo-like scenes,
dark and light interfaces), each with a few generic words on it that never describe its look,
imports them through the real pipeline (RapidOCR, MiniLM, the image model) into a fresh home, and
asks questions that describe the look and never the words. Scores hit@1/5 of text-only search
(image weight 0) and of fused search at each weight, in the same run, and reports images/s
embedded, the indexing time each frame costs with and without its image vector, the image model
used and the load average.

The image model is ``--clip DIR`` (any open_clip folder: open_clip_config.json + weights), else
the home's configured one (the catalogue default once downloaded). With neither, a random-init
ViT-B-32 is saved and loaded through the same loader: its timings are real, its hits are noise.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw, ImageFont

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from memory.service import MemoryService  # noqa: E402

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
W, H = 800, 500
Draw = Callable[[ImageDraw.ImageDraw, np.random.Generator], None]


def _bars(colour: str) -> Draw:
    def draw(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
        d.line((80, 420, 720, 420), fill="black", width=3)
        for i in range(6):
            top = int(rng.integers(120, 380))
            d.rectangle((110 + i * 100, top, 170 + i * 100, 420), fill=colour)

    return draw


def _pie(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    start = 0
    for colour in ("#e74c3c", "#3498db", "#f1c40f", "#2ecc71", "#9b59b6"):
        end = start + int(rng.integers(40, 100))
        d.pieslice((230, 110, 570, 450), start, end, fill=colour)
        start = end
    d.pieslice((230, 110, 570, 450), start, 360, fill="#95a5a6")


def _line(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.line((80, 420, 720, 420), fill="black", width=2)
    d.line((80, 100, 80, 420), fill="black", width=2)
    pts = [(80 + i * 64, int(rng.integers(140, 400))) for i in range(11)]
    d.line(pts, fill="#1e9e3e", width=6)


def _scatter(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.line((80, 420, 720, 420), fill="black", width=2)
    for _ in range(70):
        x, y = int(rng.integers(100, 700)), int(rng.integers(120, 400))
        d.ellipse((x - 7, y - 7, x + 7, y + 7), fill="#f39c12")


def _beach(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, 200), fill="#7ec8f0")
    d.rectangle((0, 200, W, 320), fill="#1aa5b8")
    d.rectangle((0, 320, W, H), fill="#f3dca0")
    d.ellipse((600, 40, 680, 120), fill="#ffe14d")


def _forest(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#cfe8c8")
    for i in range(9):
        x = 40 + i * 85 + int(rng.integers(-10, 10))
        d.rectangle((x + 25, 380, x + 45, 470), fill="#6b4226")
        d.polygon([(x - 10, 390), (x + 35, 120), (x + 80, 390)], fill="#1f6b2a")


def _night_city(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#0b1030")
    for i in range(12):
        x, top = i * 68, int(rng.integers(150, 350))
        d.rectangle((x, top, x + 60, H), fill="#1b1b2b")
        for wy in range(top + 10, H - 10, 24):
            for wx in range(x + 8, x + 52, 16):
                if rng.random() < 0.5:
                    d.rectangle((wx, wy, wx + 7, wy + 10), fill="#ffd34d")


def _sunset(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    for y in range(300):
        t = y / 300
        d.line((0, y, W, y), fill=(255, int(120 + 80 * t), int(60 + 100 * t)))
    d.ellipse((330, 220, 470, 360), fill="#ff7b2e")
    d.rectangle((0, 300, W, H), fill="#2a1f4a")


def _mountains(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#9fb8d6")
    for x in (0, 250, 500):
        d.polygon([(x - 60, H), (x + 150, 110), (x + 360, H)], fill="#5d6d7e")
        d.polygon([(x + 100, 170), (x + 150, 110), (x + 200, 170)], fill="white")


def _desert(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, 220), fill="#f7d9a0")
    for i in range(4):
        y = 220 + i * 70
        d.ellipse((-200 + i * 150, y, 700 + i * 150, y + 300), fill=("#e59a4f", "#d9853b")[i % 2])


def _dark_map(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#15181e")
    d.rectangle((0, 60, 180, H), fill="#1e222a")
    d.rectangle((200, 80, 780, 480), fill="#24303a")
    for _ in range(6):
        x, y = int(rng.integers(210, 700)), int(rng.integers(90, 420))
        d.ellipse((x, y, x + 90, y + 60), fill="#2e5a3a")
    for _ in range(8):
        d.line(
            [
                tuple(int(v) for v in (rng.integers(200, 780), rng.integers(80, 480)))
                for _ in range(3)
            ],
            fill="#8a8f99",
            width=3,
        )


def _light_doc(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#e9ecef")
    d.rectangle((160, 40, 640, H), fill="white")
    for y in range(140, 480, 22):
        d.line((200, y, 200 + int(rng.integers(250, 400)), y), fill="#b0b0b0", width=6)


def _dark_code(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#1e1e1e")
    for y in range(130, 480, 20):
        x = 60 + 24 * int(rng.integers(0, 4))
        for colour in ("#569cd6", "#ce9178", "#dcdcaa"):
            n = int(rng.integers(30, 140))
            d.line((x, y, x + n, y), fill=colour, width=8)
            x += n + 12


def _video_call(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="#202124")
    for i, (x, y) in enumerate(((20, 90), (410, 90), (20, 300), (410, 300))):
        d.rectangle((x, y, x + 370, y + 195), fill=("#3c4043", "#5f6368")[i % 2])
        d.ellipse((x + 150, y + 40, x + 220, y + 110), fill="#e0ac69")
        d.rectangle((x + 130, y + 115, x + 240, y + 195), fill="#4a6fa5")


def _spreadsheet(d: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    d.rectangle((0, 0, W, H), fill="white")
    d.rectangle((0, 90, W, 115), fill="#d9ead3")
    for x in range(0, W, 90):
        d.line((x, 90, x, H), fill="#c0c0c0", width=1)
    for y in range(90, H, 25):
        d.line((0, y, W, y), fill="#c0c0c0", width=1)


SCENES: dict[str, tuple[Draw, str]] = {
    "red-bars": (_bars("#d62728"), "the slide with the red bar chart"),
    "blue-bars": (_bars("#1f77b4"), "a chart with blue bars"),
    "pie": (_pie, "a pie chart"),
    "line": (_line, "a green line graph"),
    "scatter": (_scatter, "a scatter plot with orange dots"),
    "beach": (_beach, "that photo of a beach with the sea"),
    "forest": (_forest, "a forest with tall trees"),
    "night-city": (_night_city, "a city skyline at night"),
    "sunset": (_sunset, "a sunset over the ocean"),
    "mountains": (_mountains, "snowy mountains"),
    "desert": (_desert, "sand dunes in the desert"),
    "dark-map": (_dark_map, "the dark dashboard with the map"),
    "dark-code": (_dark_code, "a dark code editor"),
    "video-call": (_video_call, "a video call with four people"),
    "spreadsheet": (_spreadsheet, "a spreadsheet grid"),
}
DISTRACTORS = 9  # light documents with the same kind of generic words
WORDS = ("Untitled", "Notes", "Draft", "Page", "Window", "Item", "Version", "Review", "Week")


def draw_set(folder: Path) -> tuple[Path, dict[str, str]]:
    """Draw the frames and their manifest; returns (manifest, frame path -> scene name)."""
    rng = np.random.default_rng(17)
    font = ImageFont.truetype(FONT, 22)
    folder.mkdir(parents=True, exist_ok=True)
    names = list(SCENES) + [f"doc-{i}" for i in range(DISTRACTORS)]
    lines, gold = [], {}
    for n, name in enumerate(names):
        img = Image.new("RGB", (W, H), "white")
        d = ImageDraw.Draw(img)
        (SCENES[name][0] if name in SCENES else _light_doc)(d, rng)
        label = f"{WORDS[n % len(WORDS)]} {int(rng.integers(2, 99))}"
        d.rectangle((0, 0, W, 40), fill="#f0f0f0")
        d.text((16, 8), label, fill="black", font=font)
        rel = f"{name}.png"
        img.save(folder / rel)
        gold[rel] = name
        ts = f"2026-03-02T{9 + n // 30:02d}:{(n * 2) % 60:02d}:00+00:00"
        lines.append({"id": name, "path": rel, "ts": ts, "app": "Viewer", "title": label})
    manifest = folder / "manifest.jsonl"
    manifest.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return manifest, gold


def random_vit_b32(folder: Path) -> Path:
    """Save a random-init ViT-B-32 as an open_clip folder (timings are real, hits are noise)."""
    import open_clip
    import torch

    cfg = open_clip.get_model_config("ViT-B-32")
    model = open_clip.create_model("ViT-B-32", pretrained=None)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "open_clip_config.json").write_text(json.dumps({"model_cfg": cfg}))
    torch.save(model.state_dict(), folder / "open_clip_pytorch_model.bin")
    return folder


def score(svc: MemoryService, gold: dict[str, str], weight: float) -> dict[str, float]:
    """hit@1 and hit@5 of the questions at one image weight."""
    svc.searcher.weights = replace(svc.searcher.weights, obs_image=weight)
    by_name = {v: k for k, v in gold.items()}
    hits1 = hits5 = 0
    for name, (_, question) in SCENES.items():
        found = svc.search(question, k=5)
        ranked = [s.frame_path for h in found for s in h.sources[:1]]
        hits1 += bool(ranked[:1] == [by_name[name]])
        hits5 += by_name[name] in ranked[:5]
    n = len(SCENES)
    return {"hit@1": hits1 / n, "hit@5": hits5 / n}


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", type=Path, help="an open_clip folder to use as the image model")
    parser.add_argument("--weights", default="0.25,0.5,1,2", help="image weights to score")
    parser.add_argument("--keep", type=Path, help="build the home here and keep it")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    with tempfile.TemporaryDirectory(prefix="engram-images-") as tmp:
        home = args.keep or Path(tmp) / "home"
        manifest, gold = draw_set(Path(tmp) / "set")
        svc = MemoryService(home)
        note = _choose_model(svc, args.clip, Path(tmp))
        result = run(svc, manifest, gold, weights)
        svc.close()
    result |= {"model": note, "load_average": os.getloadavg()}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print_result(result)
    return 0


def _choose_model(svc: MemoryService, clip: Path | None, tmp: Path) -> str:
    if clip is None and svc.models.clip() is not None:
        return f"{svc.models.config.clip.model_id} (configured)"
    if clip is None:
        clip = random_vit_b32(tmp / "vit-b32-random")
        label = "random-init ViT-B-32 (no weights here: timings real, hits noise)"
    else:
        label = str(clip)
    svc.models.use("clip", str(clip))
    svc.save_model_config(svc.models.config)
    return label


def run(
    svc: MemoryService, manifest: Path, gold: dict[str, str], weights: list[float]
) -> dict[str, Any]:
    """Import, time and score."""
    start = time.perf_counter()
    report = svc.import_frames(manifest)
    import_s = time.perf_counter() - start
    pipe = svc.pipeline()
    ocr_s, images = pipe.indexer.stats.ocr_seconds, pipe.images.stats
    clip = svc.home.clip()
    frames = [Image.open(p) for p in sorted(manifest.parent.glob("*.png"))[:16]]
    rate = 0.0
    if clip is not None:
        clip.embed_images(frames[:2])
        t0 = time.perf_counter()
        clip.embed_images(frames)
        rate = len(frames) / (time.perf_counter() - t0)
    return {
        "frames": report.imported,
        "import_s": round(import_s, 1),
        "ocr_s_per_frame": round(ocr_s / max(report.imported, 1), 3),
        "image_s_per_frame": round(images.seconds / max(images.embedded, 1), 3),
        "images_embedded": images.embedded,
        "images_per_s": round(rate, 1),
        "text_only": score(svc, gold, 0.0),
        "fused": {w: score(svc, gold, w) for w in weights},
    }


def print_result(r: dict[str, Any]) -> None:
    """The figures, one per line."""
    print(f"image model: {r['model']}")
    print(f"load average: {' '.join(f'{x:.2f}' for x in r['load_average'])}")
    print(
        f"{r['frames']} frames imported in {r['import_s']} s; OCR {r['ocr_s_per_frame']} s/frame, "
        f"image vector +{r['image_s_per_frame']} s/frame ({r['images_embedded']} embedded); "
        f"CLIP {r['images_per_s']} images/s (batch of 16)"
    )
    t = r["text_only"]
    print(f"  text only          hit@1 {t['hit@1']:.2f}  hit@5 {t['hit@5']:.2f}")
    for w, s in r["fused"].items():
        print(f"  fused, weight {w:<4} hit@1 {s['hit@1']:.2f}  hit@5 {s['hit@5']:.2f}")


if __name__ == "__main__":
    sys.exit(main())
