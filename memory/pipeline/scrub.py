"""Taking secrets out of OCR lines before the text is stored (uses ``memory.privacy.redaction``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from memory.privacy.redaction import Finding, finding_lines, redact
from models.ocr import OcrLine

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


@dataclass(frozen=True, slots=True)
class Scrubbed:
    """The text to store, the boxes to blur in the frame and the secrets for the vault."""

    text: str
    blur: tuple[Box, ...]
    findings: tuple[Finding, ...]


def scrub_lines(lines: list[OcrLine]) -> Scrubbed:
    """Join OCR lines into text with every secret replaced by a placeholder.

    The lines are redacted as one text, so a secret OCR cut over several lines (a private key, a
    wrapped JWT, a label on one line and its value on the next) is one finding. Every finding is
    blurred: the box of every line that holds any part of it (#12).
    """
    texts = [ln.text for ln in lines]
    result = redact("\n".join(texts))
    blur: set[Box] = set()
    for f in result.findings:
        blur.update(lines[i].box for i in finding_lines(texts, f.start, f.end))
    return Scrubbed(result.text, tuple(sorted(blur)), tuple(result.findings))
