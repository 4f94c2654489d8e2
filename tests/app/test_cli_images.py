"""`engram models use clip DIR`, `reindex --images`, `search --image` and `--like` in real
processes (#17), on frames imported before any image model was there."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from tests.memory.procs import engram, hashing_home
from tests.tiny_clip import save_tiny_clip


def scene(seed: int) -> Image.Image:
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", (320, 200), tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x, y = int(rng.integers(0, 280)), int(rng.integers(0, 160))
        draw.ellipse((x, y, x + 50, y + 40), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return img


def test_image_memory_from_the_command_line(tmp_path: Path) -> None:
    home = hashing_home(tmp_path)
    frames = tmp_path / "set"
    frames.mkdir()
    for n in range(3):
        scene(n).save(frames / f"f{n}.png")
    lines = [
        json.dumps(
            {
                "id": f"f{n}",
                "path": f"f{n}.png",
                "ts": f"2026-02-16T09:0{2 * n}:00+00:00",
                "app": "Viewer",
                "title": f"picture {n}",
                "url": None,
            }
        )
        for n in range(3)
    ]
    (frames / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    done = engram(home, "import", "frames", str(frames / "manifest.jsonl"), "--json")
    assert done.returncode == 0, done.stderr

    doctor = engram(home, "doctor", "--no-load")
    assert "image memory is off" in doctor.stdout
    refused = engram(home, "search", "--image", str(frames / "f1.png"))
    assert refused.returncode == 4 and "models pull" in refused.stderr

    tiny = save_tiny_clip(tmp_path / "tiny-clip")
    assert engram(home, "models", "use", "clip", str(tiny)).returncode == 0
    filled = engram(home, "reindex", "--images", "--json")
    assert filled.returncode == 0, filled.stderr
    assert json.loads(filled.stdout) == {"images": 3}

    found = engram(home, "search", "--image", str(frames / "f1.png"), "--json", "--k", "2")
    assert found.returncode == 0, found.stderr
    hits = json.loads(found.stdout)
    assert hits[0]["title"] == "picture 1" and hits[0]["matched"] == ["picture"]
    first = hits[0]["id"]
    like = engram(home, "search", "--like", first, "--json")
    assert like.returncode == 0, like.stderr
    assert first not in [h["id"] for h in json.loads(like.stdout)]
    shown = engram(home, "search", "--like", first)
    assert "matched by picture" in shown.stdout

    assert engram(home, "search", "--image", str(tmp_path / "nope.png")).returncode == 2
    assert engram(home, "search", "--like", "m:3").returncode == 2
