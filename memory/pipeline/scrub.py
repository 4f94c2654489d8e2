"""Taking secrets out of OCR lines before the text is stored (uses ``memory.privacy.redaction``)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from memory.privacy.redaction import Finding, redact, redact_boxes
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

    Secrets split over two lines ("Password" / "hunter2") are caught by ``redact_boxes``; such a
    line is replaced whole when the text redaction alone left it intact.
    """
    texts = [ln.text for ln in lines]
    result = redact("\n".join(texts))
    hits = redact_boxes([(ln.text, ln.box) for ln in lines])
    out_lines = result.text.split("\n")
    findings = list(result.findings)
    if len(out_lines) == len(texts):
        for hit in hits:
            original = texts[hit.index]
            if out_lines[hit.index] == original:  # the joined-text pass missed it
                kind = hit.kinds[0] if hit.kinds else "secret"
                placeholder = f"[REDACTED:{kind}:line{hit.index + 1}]"
                out_lines[hit.index] = placeholder
                findings.append(Finding(kind, original, 0, len(original), placeholder))
    else:  # a placeholder never holds a newline; be conservative if that ever changes
        out_lines = [
            ln if i not in {h.index for h in hits} else "[REDACTED]"
            for i, ln in enumerate(out_lines)
        ]
    blur = {h.box for h in hits}
    for f in result.findings:  # boxes of lines that hold part of a finding
        blur.update(_boxes_of_span(lines, f.start, f.end))
    return Scrubbed("\n".join(out_lines), tuple(sorted(blur)), tuple(findings))


def _boxes_of_span(lines: list[OcrLine], start: int, end: int) -> list[Box]:
    out = []
    pos = 0
    for ln in lines:
        line_end = pos + len(ln.text)
        if pos < end and start < line_end:
            out.append(ln.box)
        pos = line_end + 1
    return out
