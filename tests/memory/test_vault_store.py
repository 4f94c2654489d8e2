"""Secrets seen on screen end up only in the vault, encrypted; never in plaintext anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from memory.index.vectors import NumpyIndex
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from memory.vault.crypto import VaultKeyError
from models.ocr import RapidOcrEngine
from models.text_embedding import HashingEmbedder

MONO = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"
AWS_KEY = "AKIAQ7XK2M4P9TZR3WBN"
PASSWORD = "hunter2-xyz"


@pytest.fixture(scope="module")
def ocr() -> RapidOcrEngine:
    return RapidOcrEngine(device="cpu")


def screenshot(path: Path) -> None:
    img = Image.new("RGB", (1000, 320), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.truetype(MONO, 26)
    for i, line in enumerate(
        [
            "deploy notes for the staging cluster",
            f"aws_access_key_id = {AWS_KEY}",
            f"password: {PASSWORD}",
            "remember to rotate keys on Friday",
        ]
    ):
        draw.text((30, 30 + 60 * i), line, fill="black", font=font)
    img.save(path)


def plain_hits(home: Path, needle: str) -> list[str]:
    found = []
    for file in home.rglob("*"):
        if file.is_file() and needle.encode() in file.read_bytes():
            found.append(str(file.relative_to(home)))
    return found


def import_secret_frame(tmp_path: Path, ocr: RapidOcrEngine) -> tuple[MemoryService, Path]:
    (tmp_path / "set").mkdir()
    screenshot(tmp_path / "set" / "shot.png")
    (tmp_path / "set" / "m.jsonl").write_text(
        json.dumps(
            {
                "id": "s1",
                "path": "shot.png",
                "ts": "2026-02-18T14:00:00",
                "app": "Terminal",
                "title": "deploy",
            }
        )
        + "\n"
    )
    assert AWS_KEY in " ".join(ln.text for ln in ocr.read(tmp_path / "set" / "shot.png"))
    home = tmp_path / "home"
    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(ocr=ocr, vault_passphrase="correct horse"))
    report = svc.import_frames(tmp_path / "set" / "m.jsonl")
    assert report.indexed == 1
    return svc, home


def test_planted_secret_is_nowhere_in_plaintext(tmp_path: Path, ocr: RapidOcrEngine) -> None:
    svc, home = import_secret_frame(tmp_path, ocr)
    (obs,) = svc.store.observations_between(0, 2e9)
    assert "rotate keys on Friday" in obs.text and "[REDACTED:" in obs.text
    for secret in (AWS_KEY, PASSWORD):
        assert secret not in obs.text
        assert plain_hits(home, secret) == []  # db, wal, frames, logs, key file
        for hit in svc.search(secret, k=20):
            assert secret not in json.dumps(hit.to_json())
    stored = home / obs.thumb_path.replace(".thumb.webp", ".webp")
    text_in_stored_frame = " ".join(ln.text for ln in ocr.read(stored))
    assert "rotate keys" in text_in_stored_frame
    assert AWS_KEY not in text_in_stored_frame and PASSWORD not in text_in_stored_frame

    vault = svc.vault()
    items = vault.items()
    assert {i.entry_type for i in items} >= {"api_key", "credential"}
    assert all(i.has_secret and obs.id in i.source_ids for i in items)
    secrets = {vault.show(i.id)[0].secret for i in items}
    assert AWS_KEY in secrets and any(PASSWORD in (s or "") for s in secrets)
    svc.close()
    for secret in (AWS_KEY, PASSWORD):
        assert plain_hits(home, secret) == []


def test_lock_hides_secrets_and_a_lost_key_gives_a_clear_message(
    tmp_path: Path, ocr: RapidOcrEngine
) -> None:
    svc, home = import_secret_frame(tmp_path, ocr)
    vault = svc.vault()
    first = vault.items()[0]
    vault.lock()
    item, problem = vault.show(first.id)
    assert item.secret is None and "locked" in (problem or "")
    assert item.caption == first.caption
    svc.close()

    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    vault = svc.vault()
    assert vault.show(first.id)[0].secret is None  # the lock survives a restart
    with pytest.raises(VaultKeyError, match="passphrase"):
        vault.unlock("wrong passphrase")
    vault.unlock("correct horse")
    assert vault.show(first.id)[0].secret is not None
    vault.keys.lock()
    (home / "vault.key").unlink()  # the key is lost
    vault._passphrase = "a new passphrase"
    item, problem = vault.show(first.id)
    assert item.secret is None and problem and "key" in problem
    svc.close()
