"""The part of a long text that answers a question, and the answer span inside it.

OCR text is long and often loses its spaces ("4.1ThisAgreementrenewsautomaticallyon7October2026"),
so matching works on lower-cased substrings of the question's content words (their first five
letters, which also covers "renew"/"renews"), not on whole tokens. The window around the densest
match is what a prompt shows of an item and what the extractive answer quotes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memory.pipeline.joined import spaced
from memory.search.fts import STOPWORDS, tokens

MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_DATE = re.compile(
    rf"(?<![0-9])(\d{{1,2}})(?:st|nd|rd|th)?\s*({MONTHS})\.?,?\s*(\d{{4}})"
    rf"|({MONTHS})\.?\s*(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}})"
    r"|(?<![0-9])(\d{4}-\d{2}-\d{2})(?![0-9])",
    re.I,
)
_TIME = re.compile(r"(?<![0-9])([01]?\d|2[0-3])[:.]([0-5]\d)(?:\s*([ap]\.?m\.?))?(?![0-9])", re.I)
_NUMBER = re.compile(
    r"(?<![\w.])[€$£]?\d[\d,.]*(?:\s*(?:%|eur|usd|gbp|days?|hours?|minutes?))?", re.I
)
_CODE = re.compile(r"\b(?=[A-Z0-9-]*\d)(?=[A-Z0-9-]*[A-Z])[A-Z0-9][A-Z0-9-]{2,}\b")


@dataclass(frozen=True, slots=True)
class Passage:
    """A window of a text: ``text`` with the answer span ``span`` (offsets in ``text``) if found."""

    text: str
    score: float
    span: tuple[int, int] | None = None

    def highlighted(self, mark: str = "**") -> str:
        """The passage with the answer span wrapped in ``mark`` (markdown bold by default)."""
        if self.span is None:
            return self.text
        a, b = self.span
        return f"{self.text[:a]}{mark}{self.text[a:b]}{mark}{self.text[b:]}"

    @property
    def answer(self) -> str | None:
        """The answer span's text, with spaces put back into a glued date."""
        if self.span is None:
            return None
        return respace(self.text[self.span[0] : self.span[1]])


def stems(question: str) -> list[str]:
    """The question's content words cut to five letters (matching inflections and glued text)."""
    out: list[str] = []
    for t in tokens(question):
        if t in STOPWORDS or len(t) < 3:
            continue
        stem = t[:5]
        if stem not in out:
            out.append(stem)
    return out


def best_passage(text: str, question: str, chars: int = 320) -> Passage:
    """The ``chars``-long window of ``text`` with the most distinct question words, and the
    answer span in it when the question asks for a date, time, number or code."""
    flat = " ".join(text.split())
    words = stems(question)
    if len(flat) <= chars:
        start = 0
        score = _score(flat.lower(), words)
    else:
        start, score = _densest(flat.lower(), words, chars)
    window = flat[start : start + chars]
    if start > 0:
        cut = window.find(" ")
        if 0 <= cut < 40:
            window = window[cut + 1 :]
    span = answer_span(window, question, words)
    return Passage(window, score, span)


def _score(low: str, words: list[str]) -> float:
    return float(sum(1 for w in words if w in low))


def _densest(low: str, words: list[str], chars: int) -> tuple[int, float]:
    hits = sorted((m.start(), w) for w in words for m in re.finditer(re.escape(w), low))
    if not hits:
        return 0, 0.0
    best_start, best = 0, -1.0
    for i, (pos, _) in enumerate(hits):
        seen = {w for p, w in hits[i:] if p < pos + chars // 2}
        if len(seen) > best:
            best, best_start = float(len(seen)), max(0, pos - chars // 4)
    return best_start, best


def answer_span(window: str, question: str, words: list[str]) -> tuple[int, int] | None:
    """Where the answer to ``question`` is in ``window``: the kind of value the question asks for,
    nearest to the question's words."""
    q = question.lower()
    if re.search(r"\bwhen\b|\bwhat (date|day)\b|\bwhich (date|day)\b|\bdeadline\b|\bdue\b", q):
        patterns = [_DATE, _TIME]
    elif re.search(r"\bwhat time\b|\bwhen\b", q):
        patterns = [_TIME, _DATE]
    elif re.search(r"\bhow (many|much|long)\b|\bwhat (price|amount|number|total)\b", q):
        patterns = [_NUMBER]
    elif re.search(r"\b(number|code|id|reference|booking|flight|order|version)\b", q):
        patterns = [_CODE, _NUMBER]
    else:
        return None
    low = window.lower()
    anchors = [m.end() for w in words for m in re.finditer(re.escape(w), low)]
    for pattern in patterns:
        found = [(m.start(), m.end()) for m in pattern.finditer(window)]
        if found:
            if not anchors:
                return found[0]
            return min(found, key=lambda s: min(abs(s[0] - a) for a in anchors))
    return None


def respace(text: str) -> str:
    """Spaces between glued digits and month names: "7October2026" -> "7 October 2026"."""
    text = re.sub(rf"(\d)({MONTHS})", r"\1 \2", text, flags=re.I)
    return re.sub(rf"({MONTHS})(\d)", r"\1 \2", text, flags=re.I)


def deglue(text: str) -> str:
    """Put back the spaces OCR lost ("4.1ThisAgreementrenewson7October2026unless" -> "4.1 This
    Agreement renews on 7 October 2026 unless"), so a model reads the words and the value."""
    text = respace(spaced(text))
    loose = re.compile(
        rf"(\d{{1,2}})\s*({MONTHS})\s*(\d{{4}})(?!\d)|({MONTHS})\s*(\d{{1,2}}),?\s*(\d{{4}})(?!\d)",
        re.I,
    )
    return loose.sub(lambda m: f" {' '.join(g for g in m.groups() if g)} ", text).replace("  ", " ")
