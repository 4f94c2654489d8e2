"""One redaction step on every path into the store (#12): a test per path.

Each test sends secrets down one path (chat import, frame import title/URL, screen OCR with a
multi-line key, audio transcript, the assistant's turns, memories written by agents and by the
user, the GUI's chat log) and then reads every text the database holds.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from memory.agents.apply import apply_ops
from memory.agents.ops import Op
from memory.index.vectors import NumpyIndex
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from models.ocr import OcrLine
from models.text_embedding import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]
# Assembled at run time so no scanner mistakes this file for a leak.
AWS = "AKIA" + "Q7WZ3JX5TRB2MNCK"
GHP = "ghp_" + "Zq8Xw7Vb6Nm5Lk4Jh3Gf2Ds1Ap0Oi9Uy8Tr7E"
PASSWORD = "Tr0ub4dor-Xq9z"
ACCESS = "a8Fk29dLq0Zx7Pm3Vn5Rt1Yu6"
SECRETS = (AWS, GHP, PASSWORD, ACCESS)
T0 = 1_771_236_000.0


def db_text(home: Path) -> str:
    """Every text value of every table of the home's database, one per line."""
    conn = sqlite3.connect(home / "engram.db")
    out: list[str] = []
    tables = [
        r[0]
        for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        if not r[0].startswith("sqlite_")
    ]
    for table in tables:
        for row in conn.execute(f'SELECT * FROM "{table}"'):
            out += [v for v in row if isinstance(v, str)]
    conn.close()
    return "\n".join(out)


def assert_clean(home: Path, *secrets: str) -> str:
    text = db_text(home)
    for s in secrets or SECRETS:
        assert s not in text and s[:8] not in text, s
    return text


def svc(home: Path, **opts: object) -> MemoryService:
    service = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    service.pipeline(
        PipelineOptions(
            backoff_s=0.0,
            vault_backend="passphrase",
            vault_passphrase="Correct-Horse-Battery-42",
            **opts,
        )
    )  # type: ignore[arg-type]
    return service


def test_chat_import(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "ts": "2026-02-16T09:00:00", "speaker": "Bo", "text": f"key {AWS} ok"},
        {"id": "b", "ts": "2026-02-16T09:01:00", "speaker": "Ana", "text": f"password: {PASSWORD}"},
        {"id": "c", "ts": "2026-02-16T09:02:00", "speaker": "Bo", "text": f"use {GHP} for CI"},
    ]
    path = tmp_path / "chat.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with svc(tmp_path / "home") as service:
        service.import_chat(path)
        hits = service.search("password key CI", k=5)
        assert hits and all(s not in h.text + h.title for h in hits for s in SECRETS)
    text = assert_clean(tmp_path / "home")
    assert "[REDACTED:api_key:1]" in text and "[REDACTED:password:1]" in text


class LinesOcr:
    """A fake OCR engine that reads the given lines, one box each, 40 px apart."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def read(self, source: Image.Image) -> list[OcrLine]:
        return [OcrLine(t, (20, 20 + 40 * i, 860, 30), 0.9) for i, t in enumerate(self.lines)]


def _manifest(tmp_path: Path, title: str, url: str) -> Path:
    img = Image.new("RGB", (900, 400), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=24)
    for i in range(8):
        draw.text((24, 24 + 40 * i), "x" * 60, fill="black", font=font)
    img.save(tmp_path / "f1.png")
    row = {"id": "f1", "path": "f1.png", "ts": "2026-02-16T09:00:00", "app": "Firefox"}
    path = tmp_path / "manifest.jsonl"
    path.write_text(json.dumps(row | {"title": title, "url": url}) + "\n")
    return path


def test_frame_import_title_and_url(tmp_path: Path) -> None:
    manifest = _manifest(
        tmp_path, f"deploy {GHP} — Terminal", f"https://x.example/cb?access_token={ACCESS}&a=1"
    )
    with svc(tmp_path / "home", ocr=LinesOcr(["nothing here"])) as service:
        service.import_frames(manifest)
        (o,) = service.store.observations_between(0, 4e9)
        assert GHP not in o.window_title and ACCESS not in (o.url or "")
        assert o.url.startswith("https://x.example/cb?access_token=[REDACTED:token:")
    assert_clean(tmp_path / "home", GHP, ACCESS)


def test_screen_ocr_blurs_every_line_of_a_multi_line_finding(tmp_path: Path) -> None:
    body = ["MIIEowIBAAKCAQEA7v" + "Qz9x" * 10, "Hk3Lm8Pq2Rs7Tv1Wx5" + "Yb4z" * 10]
    lines = [
        "notes",
        "----BEGIN OPENSSH PRIVATE KEY----",
        *body,
        "-----END OPENSSH PRIVATE KEY-----",
    ]
    with svc(tmp_path / "home", ocr=LinesOcr(lines)) as service:
        service.import_frames(_manifest(tmp_path, "id_ed25519 — gedit", ""))
        (o,) = service.store.observations_between(0, 4e9)
        assert "[REDACTED:private_key:1]" in o.text and "notes" in o.text
        stored = np.asarray(Image.open(service.frame_file(o)).convert("L"), dtype=float)
    original = np.asarray(Image.open(tmp_path / "f1.png").convert("L"), dtype=float)
    scale = stored.shape[1] / original.shape[1]
    for i in range(len(lines)):
        y = int((20 + 40 * i + 15) * scale)
        changed = np.abs(stored[y, : int(800 * scale)] - _resize_row(original, y, stored)).mean()
        if i == 0:
            assert changed < 30, "the line without a secret stays sharp"
        else:
            assert changed > 30, f"line {i} of the key is not blurred"
    assert_clean(tmp_path / "home", body[0][:20], body[1][:20])


def _resize_row(original: np.ndarray, y: int, stored: np.ndarray) -> np.ndarray:
    img = Image.fromarray(original.astype(np.uint8)).resize((stored.shape[1], stored.shape[0]))
    return np.asarray(img, dtype=float)[y, : int(800 * stored.shape[1] / original.shape[1])]


def test_audio_transcript(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from capture.records import AudioChunk
    from memory.pipeline.audio import AudioSink
    from models.speech import Segment, Transcript

    class Speech:
        def transcribe(self, source: Path, word_timestamps: bool = False) -> Transcript:
            return Transcript((Segment(0.0, 1.0, f"the password is {PASSWORD}"),), "en", 1.0)

    with svc(tmp_path / "home", speech=Speech()) as service:
        t = np.arange(16000) / 16000
        samples = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
        start = datetime(2026, 3, 2, tzinfo=UTC)
        chunk = AudioChunk(start, start + timedelta(seconds=1), samples.tobytes(), 16000, "mic")
        AudioSink(service.store, service.pipeline().frames)(chunk)
        assert service.index_frames() == 1
    assert "[REDACTED:password:1]" in assert_clean(tmp_path / "home", PASSWORD)


def test_assistant_turns_and_the_gui_chat_log(tmp_path: Path, echo_llm: type) -> None:
    with svc(tmp_path / "home") as service:
        answer = service.agents(
            llm=echo_llm(f"Your key is {AWS} and the password is {PASSWORD}.")
        ).ask(f"what did I do with {GHP} yesterday?")
        assert AWS not in answer.text and PASSWORD not in answer.text
        service.save_chat_turn(None, f"note {ACCESS} please", f"ok, {GHP}", [])
    assert_clean(tmp_path / "home")


def test_memories_written_by_agents_and_proposals(tmp_path: Path) -> None:
    with svc(tmp_path / "home") as service:
        ops = [
            Op("insert", "semantic", {"name": "deploy", "summary": f"uses {AWS}"}, agent="x"),
            Op("insert", "procedural", {"summary": "login", "steps": [f"password: {PASSWORD}"]}),
            Op(
                "insert",
                "resource",
                {"title": "t", "summary": "s", "uri": f"https://h/?token={ACCESS}"},
            ),
        ]
        apply_ops(service.store, ops)
        (mid,) = [m.id for m in service.list_memories("semantic")]
        apply_ops(service.store, [Op("delete", "semantic", ids=(mid,), fields={"why": GHP})])
        assert service.agents().proposals()
    assert_clean(tmp_path / "home")


def cli(home: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_memory_add_and_edit_by_the_user_through_the_cli(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = cli(
        home, "memory", "add", "--type", "semantic", "-f", "name=aws", "-f", f"summary=key {AWS}"
    )
    assert done.returncode == 0, done.stderr
    mid = json.loads(cli(home, "memory", "list", "--json").stdout)[0]["id"]
    done = cli(home, "memory", "edit", str(mid), "-f", f"details=password: {PASSWORD}")
    assert done.returncode == 0, done.stderr
    shown = cli(home, "memory", "show", str(mid)).stdout
    assert "[REDACTED:api_key:1]" in shown and AWS not in shown and PASSWORD not in shown
    assert_clean(home, AWS, PASSWORD)


@pytest.mark.parametrize("typed", ["[REDACTED:api_key:1]", "[REDACTED:password:7]"])
def test_redacting_twice_changes_nothing(typed: str) -> None:
    from memory.privacy.redaction import redact, scrub

    once = scrub(f"password: {PASSWORD} and {AWS} and {typed}")
    assert scrub(once) == once and not redact(once).findings
