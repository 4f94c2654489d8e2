"""Real processes for the crash, forget and damage tests (#12): the CLI and scripted services."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from models.text_embedding import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(ROOT), "ANONYMIZED_TELEMETRY": "False"}


def engram(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run the `engram` CLI on ``home`` to completion."""
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *args],
        cwd=ROOT,
        env={**os.environ, **ENV},
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=300,
    )


def script(code: str, *args: str) -> subprocess.Popen[bytes]:
    """Start ``python -c code args...`` with the repository on the path (killable)."""
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        cwd=ROOT,
        env={**os.environ, **ENV},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> str:
    """Wait for a script; assert it succeeded; return its stdout."""
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-3000:]
    return out.decode()


def hashing_home(tmp_path: Path) -> Path:
    """A new home whose text embedder is the model-free hashing one (fast, deterministic)."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    return home


class SlowEmbedder(HashingEmbedder):
    """The hashing embedder, ``delay`` seconds a call: kills land while vectors are written."""

    def __init__(self, delay: float) -> None:
        super().__init__()
        self.delay = delay

    def embed_texts(self, texts: Sequence[str]) -> np.ndarray:
        time.sleep(self.delay)
        return super().embed_texts(texts)
