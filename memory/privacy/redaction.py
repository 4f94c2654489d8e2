"""Find secrets in captured text and replace them with placeholders (pure, storage-free).

``redact(text)`` returns the text with every detected secret replaced by a placeholder
such as ``[REDACTED:api_key:1]`` plus the findings (kind, value, span, placeholder), so
the indexer can move the values to the vault before text reaches FTS, vectors or an LLM.
The same value gets the same placeholder within one call.

Every path into the store passes ``scrub``/``scrub_data`` (memory/store/ calls them on every
text column it writes, #12), so a secret in a chat import, a window title, a URL, the assistant's
answer or a memory field never reaches FTS, vectors, an LLM or a file. Re-redacting text is a no-op:
placeholders already in it are left alone (and never parsed back into anything).

The detectors (``memory.privacy.detectors``) favour precision on ordinary prose: provider keys by
their fixed prefixes (ours and detect-secrets' plugins), cards by the Luhn check, an issuer prefix
and a card grouping, IBANs by the mod-97 check, generic tokens after a label or as high-entropy
``KEY=value`` shapes, passwords and PINs after a label or in prose. They tolerate OCR damage. E-mail
and phone masking are off by default.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar, cast

from memory.privacy.detectors import (
    EMAIL,
    PHONE,
    RULES,
    Rule,
    card_ok,
    detect_secrets_rules,
    iban_ok,
    luhn_ok,
    password_ok,
    shannon_entropy,
)

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]
JSONish = TypeVar("JSONish")


@dataclass(frozen=True, slots=True)
class Finding:
    """One detected secret: its kind, the original value, its span and its placeholder."""

    kind: str
    value: str
    start: int
    end: int
    placeholder: str


@dataclass(frozen=True, slots=True)
class RedactionResult:
    """The redacted text and what was taken out of it."""

    text: str
    findings: list[Finding]

    @property
    def redacted(self) -> bool:
        """Whether anything was replaced."""
        return bool(self.findings)


@dataclass(frozen=True, slots=True)
class BoxHit:
    """An OCR line box that contains at least one finding."""

    index: int
    box: Box
    kinds: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    kind: str
    priority: int


_PLACEHOLDER = re.compile(r"\[REDACTED(?::[a-z_]+:[A-Za-z0-9]+)?\]")
"""What the redactor writes. Only the redactor makes these; nothing parses them back (#12)."""


def _spans(text: str, rules: Iterable[Rule]) -> list[_Span]:
    spans = []
    for kind, pattern, group, validator, priority in rules:
        for match in pattern.finditer(text):
            raw = match.group(group)
            if not raw:
                continue
            if kind == "password" and match.re.groups >= 2:  # "password: value" form
                if not password_ok(raw, match.group(1)):
                    continue
            elif validator is not None and not validator(raw):
                continue
            value = raw.strip(_PASSWORD_EDGE if kind == "password" else _EDGE)
            if len(value) < 3:
                continue
            start = match.start(group) + raw.index(value)
            spans.append(_Span(start, start + len(value), kind, priority))
    return spans


_EDGE = " \t\n\"'`,;:.!?()[]{}<>"  # punctuation around a value is not part of the secret
_PASSWORD_EDGE = " \t\n\"'`,;"  # "hunter2!" keeps its "!"


def _resolve(spans: list[_Span], taken: list[tuple[int, int]]) -> list[_Span]:
    """Keep non-overlapping spans, preferring lower priority numbers, then longer spans.

    ``taken``: placeholders already in the text, so redacting twice changes nothing.
    """
    chosen: list[_Span] = []
    blocked = [_Span(s, e, "", -1) for s, e in taken]
    for span in sorted(spans, key=lambda s: (s.priority, -(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen + blocked):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def find_secrets(
    text: str, *, mask_emails: bool = False, mask_phones: bool = False
) -> list[tuple[int, int, str]]:
    """Return the (start, end, kind) spans of secrets in ``text``, in order.

    A span may cover several lines (a private key, a wrapped JWT).
    """
    rules: list[Rule] = [*RULES, *detect_secrets_rules()]
    if mask_emails:
        rules.append(EMAIL)
    if mask_phones:
        rules.append(PHONE)
    taken = [m.span() for m in _PLACEHOLDER.finditer(text)]
    return [(s.start, s.end, s.kind) for s in _resolve(_spans(text, rules), taken)]


def redact(text: str, *, mask_emails: bool = False, mask_phones: bool = False) -> RedactionResult:
    """Replace secrets in ``text`` with placeholders like ``[REDACTED:api_key:1]``.

    Args:
        text: OCR text, a transcript or a chat message.
        mask_emails: also replace e-mail addresses (kind ``email``).
        mask_phones: also replace phone numbers (kind ``phone``).

    Returns:
        The redacted text and one ``Finding`` per replaced span (same value, same
        placeholder; numbers count distinct values per kind from 1).
    """
    numbers: dict[tuple[str, str], int] = {}
    per_kind: Counter[str] = Counter()
    for m in _PLACEHOLDER.finditer(text):  # text redacted before keeps its numbers
        parts = m.group(0)[1:-1].split(":")
        if len(parts) == 3 and parts[2].isdigit():
            per_kind[parts[1]] = max(per_kind[parts[1]], int(parts[2]))
    findings: list[Finding] = []
    pieces: list[str] = []
    last = 0
    spans = find_secrets(text, mask_emails=mask_emails, mask_phones=mask_phones)
    for start, end, kind in spans:
        value = text[start:end]
        if (kind, value) not in numbers:
            per_kind[kind] += 1
            numbers[(kind, value)] = per_kind[kind]
        placeholder = f"[REDACTED:{kind}:{numbers[(kind, value)]}]"
        findings.append(Finding(kind, value, start, end, placeholder))
        pieces.extend((text[last:start], placeholder))
        last = end
    pieces.append(text[last:])
    if findings:
        logger.debug("redacted %d secrets (%s)", len(findings), dict(per_kind))
    return RedactionResult("".join(pieces), findings)


def redact_boxes(
    lines: Sequence[tuple[str, Box]], *, mask_emails: bool = False, mask_phones: bool = False
) -> list[BoxHit]:
    """Say which OCR line boxes contain a secret, so the stored frame can blur them.

    A label on one line and its value on the next ("Password" / "hunter2!") is caught by
    also scanning each pair of adjacent lines joined by a space.

    Args:
        lines: OCR lines as ``(text, (x, y, w, h))``.
        mask_emails: also flag e-mail addresses.
        mask_phones: also flag phone numbers.
    """
    kinds: dict[int, set[str]] = {}
    options = {"mask_emails": mask_emails, "mask_phones": mask_phones}
    for index, (text, _box) in enumerate(lines):
        for _s, _e, kind in find_secrets(text, **options):
            kinds.setdefault(index, set()).add(kind)
    for index in range(len(lines) - 1):
        first = lines[index][0]
        joined = f"{first} {lines[index + 1][0]}"
        for start, end, kind in find_secrets(joined, **options):
            if start > len(first):  # the secret lies on the second line
                kinds.setdefault(index + 1, set()).add(kind)
            elif end <= len(first):
                kinds.setdefault(index, set()).add(kind)
            else:
                kinds.setdefault(index, set()).add(kind)
                kinds.setdefault(index + 1, set()).add(kind)
    return [BoxHit(i, lines[i][1], tuple(sorted(kinds[i]))) for i in sorted(kinds)]


def scrub(text: str) -> str:
    """``text`` with every secret replaced by its placeholder (the store's entry point, #12)."""
    return redact(text).text if text else text


def scrub_optional(text: str | None) -> str | None:
    """``scrub`` for a nullable column."""
    return scrub(text) if text else text


def scrub_data(value: JSONish) -> JSONish:
    """Every string inside a field value (strings, lists and dicts of them) scrubbed."""
    return cast(JSONish, _scrub_any(value))


def _scrub_any(value: object) -> object:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, list | tuple):
        return type(value)(_scrub_any(v) for v in value)
    if isinstance(value, dict):
        return {k: _scrub_any(v) for k, v in value.items()}
    return value


def finding_lines(texts: Sequence[str], start: int, end: int) -> list[int]:
    """Indexes of the lines (joined by newlines) that hold part of ``text[start:end]``."""
    out = []
    pos = 0
    for i, line in enumerate(texts):
        line_end = pos + len(line)
        if pos < end and start < line_end:
            out.append(i)
        pos = line_end + 1
    return out


__all__ = [
    "BoxHit",
    "Finding",
    "RedactionResult",
    "card_ok",
    "find_secrets",
    "finding_lines",
    "iban_ok",
    "luhn_ok",
    "redact",
    "redact_boxes",
    "scrub",
    "scrub_data",
    "scrub_optional",
    "shannon_entropy",
]
