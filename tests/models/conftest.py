"""Shared fixtures for the models tests: rendered speech and fonts, built once per session."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
SENTENCE = (
    "Please remember to send the quarterly report to the finance team before Friday afternoon"
)


def words(text: str) -> list[str]:
    """Lower-cased word tokens without punctuation."""
    return re.findall(r"[a-z0-9']+", text.lower())


def word_recall(reference: str, hypothesis: str) -> float:
    """Fraction of the reference's words found in the hypothesis (each used at most once)."""
    hyp = words(hypothesis)
    hits = 0
    for word in words(reference):
        if word in hyp:
            hyp.remove(word)
            hits += 1
    return hits / max(1, len(words(reference)))


@pytest.fixture(scope="session")
def dejavu() -> Path:
    """Folder of the DejaVu fonts (apt-get install fonts-dejavu-core)."""
    if not (DEJAVU / "DejaVuSans.ttf").is_file():
        pytest.skip("fonts-dejavu-core is not installed (apt-get install fonts-dejavu-core)")
    return DEJAVU


@pytest.fixture(scope="session")
def speech_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 22.05 kHz mono WAV of ``SENTENCE`` spoken by espeak-ng."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    out = tmp_path_factory.mktemp("speech") / "sentence.wav"
    subprocess.run(["espeak-ng", "-s", "140", "-w", str(out), SENTENCE], check=True)
    return out
