"""The secret corpus end to end (#12): no byte of any secret survives anywhere under the home.

Every shape of ``corpus.py`` is rendered into screenshots (three sizes, light and dark themes,
three fonts; several secrets a screenshot, long lines wrapped as a terminal would), typed into an
imported chat, and put in window titles and URLs of imported frames; a subset is spoken through
espeak-ng and transcribed by Whisper (``audio.keep_raw_audio`` on, so the kept files are checked
too). Then, through the real CLI: ``import chat``, ``import frames``, ``export``, ``search`` and
``ask``. Nothing may hold any secret or its first 8 characters: any file under the home (the
database with its WAL, the vectors, frames, logs, config), the OCR of the stored frames, the
export, search results or answers. Every file is 0600 and every folder 0700 after the run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

ROOT = Path(__file__).resolve().parents[2]
corpus = sys.modules["engram_secret_corpus"]  # loaded by tests/security/conftest.py
FONTS = "/usr/share/fonts/truetype/dejavu/"
# (size, theme (bg, fg), font file, font px)
VARIANTS = [
    ((1280, 800), ("white", "black"), "DejaVuSans.ttf", 20),
    ((1440, 900), ("#1e1e1e", "#d4d4d4"), "DejaVuSansMono.ttf", 17),
    ((1920, 1080), ("#fdf6e3", "#333333"), "DejaVuSerif.ttf", 26),
]
PER_SHOT = 9
ENV = {**os.environ, "ENGRAM_VAULT_PASSPHRASE": "Corpus-Horse-Battery-42"}


def _font(name: str, px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = Path(FONTS) / name
    return ImageFont.truetype(str(path), px) if path.is_file() else ImageFont.load_default(px)


def _wrapped(
    text: str, font: ImageFont.FreeTypeFont | ImageFont.ImageFont, width: int
) -> list[str]:
    out: list[str] = []
    for line in text.split("\n"):
        while line and font.getlength(line) > width:
            n = len(line)
            while n > 1 and font.getlength(line[:n]) > width:
                n -= 1
            out.append(line[:n])
            line = line[n:]
        out.append(line)
    return out


def render(shapes: list, variant: tuple) -> Image.Image:
    """One screenshot holding the lines of ``shapes``, separated by ordinary text."""
    size, (bg, fg), font_name, px = variant
    img = Image.new("RGB", size, bg)
    draw = ImageDraw.Draw(img)
    font = _font(font_name, px)
    y = 30
    for shape in shapes:
        for line in ["Notes from the release checklist", *_wrapped(shape.line, font, size[0] - 80)]:
            draw.text((40, y), line, fill=fg, font=font)
            y += int(px * 1.6)
    return img


def _blank(i: int) -> Image.Image:
    rng = random.Random(i)
    img = Image.new("RGB", (96, 64), "white")  # small: OCR finds nothing fast
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = rng.randrange(86), rng.randrange(54)
        draw.rectangle((x, y, x + 10, y + 10), fill=tuple(rng.randrange(256) for _ in range(3)))
    return img


def _url_secret(shape: object) -> str | None:
    return next((s for s in shape.secrets if not re.search(r"\s", s)), None)  # type: ignore[attr-defined]


def build_inputs(tmp: Path) -> tuple[Path, Path]:
    """The chat JSONL and the frames manifest of the corpus."""
    shapes = corpus.CORPUS
    chat = [
        {"id": f"c{i}", "ts": f"2026-02-16T09:{i // 60:02d}:{i % 60:02d}",
         "speaker": ("Ana", "Bo")[i % 2], "text": s.line, "session": "s1"}
        for i, s in enumerate(shapes)
    ]  # fmt: skip
    chat_path = tmp / "chat.jsonl"
    chat_path.write_text("\n".join(json.dumps(r) for r in chat))
    (tmp / "frames").mkdir()
    rows = []
    t0 = datetime(2026, 2, 17, 9, 0)
    for v, variant in enumerate(VARIANTS):
        rotated = shapes[v * 3 :] + shapes[: v * 3]  # each variant mixes different neighbours
        for k in range(0, len(rotated), PER_SHOT):
            name = f"frames/shot{v}_{k}.png"
            render(rotated[k : k + PER_SHOT], variant).save(tmp / name)
            ts = t0 + timedelta(minutes=len(rows))
            rows.append({"id": name, "path": name, "ts": ts.isoformat(), "app": "Terminal",
                         "title": "Terminal — ~/deploy", "url": None})  # fmt: skip
    labels = ("token", "access_token", "api_key", "secret", "password", "sig")
    for i, shape in enumerate(shapes):
        name = f"frames/title{i}.png"
        _blank(i).save(tmp / name)
        secret = _url_secret(shape)
        url = f"https://app.example/cb?{labels[i % len(labels)]}={secret}" if secret else None
        title = shape.line.split("\n")[0] + " — Notes"
        ts = t0 + timedelta(hours=2, minutes=i)
        rows.append({"id": name, "path": name, "ts": ts.isoformat(), "app": "Firefox",
                     "title": title, "url": url})  # fmt: skip
    manifest = tmp / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    return chat_path, manifest


def engram(home: Path, *argv: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *argv],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=3000,
        check=False,
    )
    assert done.returncode == 0, f"engram {argv}: {done.stderr[-2000:]}"
    return done.stdout + done.stderr


def speak_into(home: Path, tmp: Path) -> int:
    """The spoken shapes through espeak-ng, Whisper and the pipeline (raw audio kept)."""
    from capture.records import AudioChunk
    from memory.pipeline.audio import AudioSink
    from memory.pipeline.core import PipelineOptions
    from memory.service import MemoryService
    from models.speech import load_audio

    if not shutil.which("espeak-ng"):
        pytest.fail("espeak-ng is required (apt-get install espeak-ng)")
    service = MemoryService(home)
    try:
        service.pipeline(PipelineOptions(keep_audio=True))
        sink = AudioSink(service.store, service.pipeline().frames)
        start = datetime(2026, 2, 18, 10, 0, tzinfo=UTC)
        for i, shape in enumerate(corpus.SPOKEN):
            wav = tmp / f"spoken{i}.wav"
            subprocess.run(["espeak-ng", "-s", "140", "-w", str(wav), shape.spoken], check=True)
            samples = load_audio(wav).astype(np.float32)
            when = start + timedelta(minutes=i)
            end = when + timedelta(seconds=samples.size / 16000)
            sink(AudioChunk(when, end, samples.tobytes(), 16000, "espeak"))
        return int(service.index_frames())
    finally:
        service.close()


def ocr_of_frames(home: Path) -> str:
    from models.ocr import RapidOcrEngine

    engine = RapidOcrEngine()
    texts = []
    for path in sorted((home / "frames").rglob("*.webp")):
        texts += [ln.text for ln in engine.read(path)]
    return "\n".join(texts)


def heard_in_kept_audio(home: Path) -> str:
    from memory.modelhub import ModelHub

    speech = ModelHub().speech()
    kept = [p for p in (home / "frames").rglob("*") if p.suffix in (".flac", ".wav")]
    return "\n".join(speech.transcribe(p).text for p in kept)


def _strong(needle: str) -> bool:
    return len(needle) >= 8


def find_leaks(haystacks: dict[str, str], raw_files: dict[str, bytes]) -> list[str]:
    """``where: shape: needle`` for every needle found."""
    leaks = []
    for shape in corpus.CORPUS:
        for needle in shape.needles():
            pattern = re.compile(rf"(?<![0-9A-Za-z]){re.escape(needle)}(?![0-9A-Za-z])")
            for where, text in haystacks.items():
                if (needle in text) if _strong(needle) else pattern.search(text):
                    leaks.append(f"{where}: {shape.name}: {needle!r}")
            if _strong(needle):
                raw = needle.encode()
                leaks += [
                    f"{p}: {shape.name}: {needle!r}" for p, b in raw_files.items() if raw in b
                ]
    return leaks


@pytest.mark.models
def test_no_secret_of_the_corpus_survives_anywhere(tmp_path: Path) -> None:
    assert len(corpus.CORPUS) >= 40
    home = tmp_path / "home"
    chat_path, manifest = build_inputs(tmp_path)
    engram(home, "import", "chat", str(chat_path))
    engram(home, "import", "frames", str(manifest))
    spoken = speak_into(home, tmp_path)
    assert spoken == len(corpus.SPOKEN)
    export = tmp_path / "export.json"
    engram(home, "export", "--out", str(export))
    queries = [
        "password", "aws secret access key", "private key", "card number", "IBAN", "token",
        "PIN", "verification code", "api key", "jwt id_token", "bearer", "webhook",
    ]  # fmt: skip
    qfile = tmp_path / "q.jsonl"
    qfile.write_text("\n".join(json.dumps({"id": q, "query": q}) for q in queries))
    searched = engram(home, "search", "--queries", str(qfile), "--k", "10", "--json")
    asked = "\n".join(
        engram(home, "ask", q, "--llm", "none", "--json")
        for q in ("what is my password?", "what was the aws secret key?", "what is my card number?")
    )
    haystacks = {
        "export": export.read_text(),
        "search": searched,
        "ask": asked,
        "ocr of stored frames": ocr_of_frames(home),
        "kept audio": heard_in_kept_audio(home),
    }
    raw_files = {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}
    raw_files["export"] = export.read_bytes()
    import sqlite3

    conn = sqlite3.connect(home / "engram.db")
    haystacks["database text"] = "\n".join(
        str(v)
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        for row in conn.execute(f'SELECT * FROM "{table}"')
        for v in row
        if isinstance(v, str)
    )
    conn.close()
    leaks = find_leaks(haystacks, raw_files)
    assert not leaks, "\n".join(leaks)
    assert "[REDACTED:" in haystacks["export"]
    bad_modes = [
        f"{p.relative_to(home)} {oct(p.stat().st_mode & 0o777)}"
        for p in [home, *home.rglob("*")]
        if not p.is_symlink() and p.stat().st_mode & 0o777 != (0o700 if p.is_dir() else 0o600)
    ]
    assert not bad_modes, bad_modes
    assert export.stat().st_mode & 0o777 == 0o600
