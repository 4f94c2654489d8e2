"""Hostile input through the real CLI (#12): one clear message naming each bad line or file,
the rest importable with --skip-bad, and no decompression bomb decoded."""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

from PIL import Image

from tests.memory.procs import ROOT, engram, hashing_home

DEEP = "[" * 200_000 + "]" * 200_000


def refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    text = proc.stderr.strip()
    # one message: its first line says what failed, then one line per bad line (#13)
    assert text.startswith("engram: error:") and all(w in text for w in words), text
    assert all(
        ln.startswith(("engram: error:", "    line ", "  line ")) for ln in text.splitlines()
    )


def chat_line(n: int) -> str:
    return json.dumps(
        {"id": f"m{n}", "ts": "2026-02-16T09:00:00", "speaker": "Ana", "text": f"hello {n}"}
    )


def test_deeply_nested_and_lone_surrogate_lines_are_clear_per_line_errors(tmp_path: Path) -> None:
    home = hashing_home(tmp_path)
    chat = tmp_path / "chat.jsonl"
    bad_escape = '{"id": "m9", "ts": "2026-02-16T09:00:00", "speaker": "A", "text": "\\udcff"}'
    chat.write_text("\n".join([chat_line(1), DEEP, chat_line(3), bad_escape]) + "\n")
    refused(engram(home, "import", "chat", str(chat)), "line 2", "nested too deeply")
    out = engram(home, "import", "chat", str(chat), "--skip-bad")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "imported 2 messages" in out.stdout
    assert "Traceback" not in out.stderr and "lone surrogate" in out.stdout + out.stderr

    frames = tmp_path / "set"
    frames.mkdir()
    Image.new("RGB", (32, 32), "white").save(frames / "a.png")
    ok = json.dumps({"id": "a", "path": "a.png", "ts": "2026-02-16T09:00:00"})
    (frames / "m.jsonl").write_text(ok + "\n" + DEEP + "\n")
    refused(engram(home, "import", "frames", str(frames / "m.jsonl")), "line 2", "nested")


def test_a_file_named_with_non_utf8_bytes_does_not_block_a_folder_import(tmp_path: Path) -> None:
    home = hashing_home(tmp_path)
    folder = tmp_path / "shots"
    folder.mkdir()
    Image.new("RGB", (40, 30), (200, 10, 10)).save(folder / "good.png")
    bad = os.path.join(os.fsencode(folder), b"caf\xe9-\xff.png")
    Image.new("RGB", (40, 30), (10, 200, 10)).save(bad, format="PNG")
    refused(engram(home, "import", "frames", str(folder)), "not valid UTF-8", "\\xff")
    out = engram(home, "import", "frames", str(folder), "--skip-bad")
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr
    status = json.loads(engram(home, "status", "--json").stdout)
    assert status["observations"] == 1


def bomb_png(path: Path, side: int = 13_000) -> None:
    """A valid greyscale PNG of side x side zero pixels, a few hundred KB on disk."""
    packer = zlib.compressobj(9)
    row = b"\x00" * (side + 1)  # filter byte + pixels
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")
    )


def test_a_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    big = tmp_path / "shots" / "big.png"
    big.parent.mkdir()
    bomb_png(big)
    assert big.stat().st_size < 1_000_000
    probe = (
        "import resource, sys\n"
        "from models.ocr import open_image\n"
        "from models.errors import BadInput\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "try:\n"
        "    open_image(sys.argv[1])\n"
        "except BadInput as exc:\n"
        "    print('refused:', exc)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, str(big)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    before_kb, refusal, after_kb = out.stdout.strip().splitlines()
    assert refusal.startswith("refused:") and "too large" in refusal
    # decoding would take 169 MB for the pixels alone (2.6 GB through the whole import)
    assert int(after_kb) - int(before_kb) < 30_000
    home = hashing_home(tmp_path)
    refused(engram(home, "import", "frames", str(big.parent)), "big.png", "too large")
