"""Silencing redacted words in kept audio (#12): what the transcript loses, the file loses too.

Raw audio is not kept unless the user asks (``audio.keep_raw_audio``). When it is, each finding of
the transcript's redaction is mapped to the time span of the words it covers (Whisper's word
timestamps; a segment's whole span when there are none) and those samples are set to zero.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from memory.privacy.redaction import Finding
from models.speech import SAMPLE_RATE, Transcript

if TYPE_CHECKING:
    from memory.media.frames import FrameStore

logger = logging.getLogger(__name__)

PAD_S = 0.15
"""Seconds of silence added on each side: word times from Whisper are off by tens of ms."""


def _char_spans(transcript: Transcript) -> list[tuple[int, int, float, float]]:
    """(start char, end char, start s, end s) of each word (or segment) in ``transcript.text``."""
    out: list[tuple[int, int, float, float]] = []
    offset = 0
    for seg in transcript.segments:
        if not seg.text:
            continue
        cursor = 0
        words = [w for w in seg.words if w.text.strip()]
        for w in words:
            found = seg.text.find(w.text.strip(), cursor)
            if found < 0:
                words = []  # the words do not spell the segment: fall back to its whole span
                break
            cursor = found + len(w.text.strip())
            out.append((offset + found, offset + cursor, w.start, w.end))
        if not words:
            out.append((offset, offset + len(seg.text), seg.start, seg.end))
        offset += len(seg.text) + 1
    return out


def redacted_times(
    transcript: Transcript, findings: Sequence[Finding]
) -> list[tuple[float, float]]:
    """Time spans (seconds) that hold the redacted words, padded and merged."""
    spans = _char_spans(transcript)
    times: list[tuple[float, float]] = []
    for f in findings:
        hit = [(s, e) for a, b, s, e in spans if a < f.end and f.start < b]
        if not hit:  # never leave a finding audible: silence the whole chunk
            hit = [(0.0, transcript.duration or float("inf"))]
        times.append((max(0.0, min(s for s, _ in hit) - PAD_S), max(e for _, e in hit) + PAD_S))
    times.sort()
    merged: list[tuple[float, float]] = []
    for s, e in times:
        if merged and s <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], e))
        else:
            merged.append((s, e))
    return merged


def silence_file(
    frames: FrameStore, rel: str, samples: np.ndarray, times: Sequence[tuple[float, float]]
) -> None:
    """Rewrite the audio file ``rel`` (whose decoded ``samples`` are given) with the samples in
    ``times`` set to zero (atomically; sealed again in an encrypted home)."""
    from memory.pipeline.audio import encode_audio

    samples = samples.copy()
    for start, end in times:
        a = max(0, int(start * SAMPLE_RATE))
        b = min(
            samples.size, int(np.ceil(end * SAMPLE_RATE)) if end != float("inf") else samples.size
        )
        samples[a:b] = 0.0
    data, _suffix = encode_audio(samples, SAMPLE_RATE)
    frames.write_bytes(rel, data)
    logger.info("silenced %d span(s) of redacted speech in %s", len(times), Path(rel).name)
