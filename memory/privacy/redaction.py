"""Find secrets in captured text and replace them with placeholders (pure, storage-free).

``redact(text)`` returns the text with every detected secret replaced by a placeholder
such as ``[REDACTED:api_key:1]`` plus the findings (kind, value, span, placeholder), so
the indexer can move the values to the vault before text reaches FTS, vectors or an LLM.
The same value gets the same placeholder within one call.

Detectors favour precision on ordinary prose: provider keys by their fixed prefixes,
cards by the Luhn check and a known issuer prefix, IBANs by the mod-97 check and country
length, and generic tokens and passwords only right after a label ("api_key:",
"password="), with an entropy test for tokens. E-mail and phone masking are off by
default.
"""

from __future__ import annotations

import logging
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

logger = logging.getLogger(__name__)

Box = tuple[int, int, int, int]


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


# -- validators ---------------------------------------------------------------------------


def shannon_entropy(value: str) -> float:
    """Shannon entropy of ``value`` in bits per character."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def luhn_ok(digits: str) -> bool:
    """Whether a digit string passes the Luhn checksum."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


_CARD_PREFIX = re.compile(r"^(?:4|5[1-5]|2[2-7]|3[47]|3[068]|35|6(?:011|5|4[4-9]|2))")


def card_ok(raw: str) -> bool:
    """A plausible payment card: 13-19 digits, known issuer prefix, Luhn-valid."""
    digits = re.sub(r"[ -]", "", raw)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2:
        return False
    return bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


_IBAN_LENGTHS = {
    "AD": 24,
    "AT": 20,
    "BE": 16,
    "BG": 22,
    "CH": 21,
    "CY": 28,
    "CZ": 24,
    "DE": 22,
    "DK": 18,
    "EE": 20,
    "ES": 24,
    "FI": 18,
    "FR": 27,
    "GB": 22,
    "GR": 27,
    "HR": 21,
    "HU": 28,
    "IE": 22,
    "IS": 26,
    "IT": 27,
    "LI": 21,
    "LT": 20,
    "LU": 20,
    "LV": 21,
    "MC": 27,
    "MT": 31,
    "NL": 18,
    "NO": 15,
    "PL": 28,
    "PT": 25,
    "RO": 24,
    "SE": 24,
    "SI": 19,
    "SK": 24,
    "SM": 27,
    "TR": 26,
    "UA": 29,
    "BR": 29,
    "SA": 24,
    "AE": 23,
    "IL": 23,
    "QA": 29,
}


def iban_ok(raw: str) -> bool:
    """An IBAN with a known country length (when known) and a valid mod-97 check."""
    iban = raw.replace(" ", "").upper()
    expected = _IBAN_LENGTHS.get(iban[:2])
    if (expected and len(iban) != expected) or not 15 <= len(iban) <= 34:
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def _token_like(value: str) -> bool:
    """A labelled value that looks generated: long, varied and high in entropy."""
    if len(value) < 16 or value.isalpha():
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) >= 32 and shannon_entropy(value) >= 3.0
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[+/=_\-.]"))
    return classes >= 2 and shannon_entropy(value) >= 3.5


_UI_WORDS = frozenset(
    {
        "forgot",
        "required",
        "incorrect",
        "reset",
        "none",
        "hidden",
        "change",
        "show",
        "protected",
        "manager",
        "field",
        "strength",
        "changed",
        "expired",
        "invalid",
    }
)


def _password_ok(value: str, separator: str) -> bool:
    value = value.strip("\"'`.,;")
    if len(value) < 4 or set(value) <= set("*•●·x"):
        return False
    if value.lower().rstrip("?!:") in _UI_WORDS:
        return False
    if separator.strip().lower() == "is":  # prose: "the password is incorrect"
        return bool(re.search(r"[\d\W_]", value)) and not value.isdigit()
    return True


# -- detectors ----------------------------------------------------------------------------

_Rule = tuple[str, re.Pattern[str], int, Callable[[str], bool] | None, int]
"""kind, pattern, group holding the secret, validator, priority (lower wins overlaps)."""

_LABEL_TOKEN = (  # a label may follow an underscore prefix: AWS_SECRET_ACCESS_KEY
    r"(?i:(?<![A-Za-z0-9])(?:api[_ -]?key|apikey|access[_ -]?key(?:[_ -]?id)?"
    r"|secret(?:[_ -]?(?:access[_ -])?key)?"
    r"|client[_ -]?secret|auth(?:orization)?[_ -]?token|access[_ -]?token|refresh[_ -]?token"
    r"|token|bearer|private[_ -]?key)(?![A-Za-z0-9]))"
)
_RULES: list[_Rule] = [
    (
        "private_key",
        re.compile(
            r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY-----[\s\S]+?-----END (?:[A-Z]+ )*PRIVATE KEY-----"
        ),
        0,
        None,
        0,
    ),
    ("api_key", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), 0, None, 1),
    ("api_key", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}"), 0, None, 1),
    ("api_key", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), 0, None, 1),
    ("api_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}"), 0, None, 1),
    ("api_key", re.compile(r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{16,}"), 0, None, 1),
    ("api_key", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0, None, 1),
    ("api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), 0, None, 1),
    (
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]{8,}"),
        0,
        None,
        1,
    ),
    (
        "token",
        re.compile(_LABEL_TOKEN + r"[\"']?\s*(?:[:=]|=>|\s)\s*[\"']?([A-Za-z0-9+/=_\-.~]{16,})"),
        1,
        _token_like,
        2,
    ),
    (
        "password",
        re.compile(
            r"(?i:\b(?:password|passwd|pwd|passphrase|passcode|pin)\b)"
            r"(\s*[:=]\s*|\s+is:?\s+)[\"']?(\S{1,128})"
        ),
        2,
        None,
        3,
    ),
    ("credit_card", re.compile(r"(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])"), 0, card_ok, 4),
    (
        "iban",
        re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b"),
        0,
        iban_ok,
        4,
    ),
]
_EMAIL = ("email", re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"), 0, None, 5)
_PHONE = (
    "phone",
    re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?\d{2,4}(?:[ .\-]\d{2,4}){2,4}(?![\w])"
    ),
    0,
    None,
    6,
)


def _phone_ok(raw: str) -> bool:
    digits = re.sub(r"\D", "", raw)
    if not 9 <= len(digits) <= 15:
        return False
    if re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}.*|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}", raw):
        return False  # dates
    return raw.startswith(("+", "(")) or bool(re.search(r"[ .\-]", raw))


def _spans(text: str, rules: Iterable[_Rule]) -> list[_Span]:
    spans = []
    for kind, pattern, group, validator, priority in rules:
        for match in pattern.finditer(text):
            value = match.group(group)
            if kind == "password":
                if not _password_ok(value, match.group(1)):
                    continue
                value = value.strip("\"'`,;")
                start = match.start(group) + match.group(group).index(value)
                spans.append(_Span(start, start + len(value), kind, priority))
                continue
            if validator is not None and not validator(value):
                continue
            spans.append(_Span(match.start(group), match.end(group), kind, priority))
    return spans


def _resolve(spans: list[_Span]) -> list[_Span]:
    """Keep non-overlapping spans, preferring lower priority numbers, then longer spans."""
    chosen: list[_Span] = []
    for span in sorted(spans, key=lambda s: (s.priority, -(s.end - s.start), s.start)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def find_secrets(
    text: str, *, mask_emails: bool = False, mask_phones: bool = False
) -> list[tuple[int, int, str]]:
    """Return the (start, end, kind) spans of secrets in ``text``, in order."""
    rules = list(_RULES)
    if mask_emails:
        rules.append(_EMAIL)
    if mask_phones:
        rules.append((*_PHONE[:3], _phone_ok, _PHONE[4]))
    return [(s.start, s.end, s.kind) for s in _resolve(_spans(text, rules))]


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
