"""The app opens an encrypted home by asking for its passphrase (#12), and its tray can lock it."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.main import open_service
from memory.atrest import keys
from memory.errors import EngramLocked

PASS = "Walrus-Lantern-Quilt-7"


@pytest.fixture
def encrypted_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from memory.service import MemoryService

    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text("[privacy]\nencrypt_at_rest = true\n")
    monkeypatch.setenv("ENGRAM_VAULT_PASSPHRASE", PASS)
    MemoryService(home).close()
    monkeypatch.delenv("ENGRAM_VAULT_PASSPHRASE")
    keys.drop(home)
    assert keys.is_encrypted(home)
    return home


def test_asks_until_the_passphrase_is_right(encrypted_home: Path) -> None:
    asked: list[str] = []
    answers = iter(["Wrong-Lantern-Quilt-7", PASS])

    def ask(problem: str) -> str | None:
        asked.append(problem)
        return next(answers)

    service = open_service(encrypted_home, ask)
    try:
        assert service.status()["observations"] is not None
    finally:
        service.close()
        keys.drop(encrypted_home)
    assert "no passphrase was given" in asked[0]
    assert "wrong passphrase" in asked[1]


def test_cancel_and_lock(encrypted_home: Path) -> None:
    with pytest.raises(EngramLocked, match="no passphrase was given"):
        open_service(encrypted_home, lambda problem: None)
    keys.lock(encrypted_home)
    seen: list[str] = []
    service = open_service(encrypted_home, lambda problem: seen.append(problem) or PASS)
    service.close()
    keys.drop(encrypted_home)
    assert "engram lock" in seen[0] and not keys.is_locked(encrypted_home)


def test_thumbnails_and_viewer_decode_sealed_frames(
    encrypted_home: Path, monkeypatch: pytest.MonkeyPatch, qapp: object
) -> None:
    from PIL import Image

    from app.widgets.thumbs import decode_file
    from memory.media.frames import FrameStore
    from memory.media.sealed import is_sealed
    from memory.service import MemoryService

    monkeypatch.setenv("ENGRAM_VAULT_PASSPHRASE", PASS)
    service = MemoryService(encrypted_home)
    try:
        frames = FrameStore(encrypted_home, key=service.home.file_key)
        saved = frames.save(Image.new("RGB", (800, 500), (200, 40, 40)), 1_770_000_000.0)
        full = encrypted_home / saved.frame
        assert is_sealed(full.read_bytes())
        image = decode_file(service, full, None)
        assert (image.width(), image.height()) == (800, 500)
        assert image.pixelColor(10, 10).red() > 150
        assert decode_file(service, encrypted_home / "frames" / "gone.webp", None).isNull()
    finally:
        service.close()
        keys.drop(encrypted_home)
