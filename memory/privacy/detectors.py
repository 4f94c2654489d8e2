"""The secret detectors: the project's rules, tolerant of OCR damage, and detect-secrets' plugins.

Each rule is ``(kind, pattern, group, validator, priority)``; the redactor keeps non-overlapping
matches, lower priority numbers first. Rules tolerate what OCR and speech-to-text do to secrets
(#12): a private key header read with four dashes or ``BEGlN``, a key or JWT wrapped over lines or
cut by an inserted space, card digits grouped by spaces, dashes or commas, spoken forms ("my
password is hunter two", "PIN is 4 8 2 7").

detect-secrets (pinned in pyproject.toml) contributes its regex plugins for provider tokens; its
entropy and keyword plugins flag ordinary words when run on prose, so the high-entropy and
``KEY=value`` rules here replace them.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable
from functools import cache

Validator = Callable[[str], bool]
Rule = tuple[str, re.Pattern[str], int, Validator | None, int]
"""kind, pattern, group holding the secret, validator, priority (lower wins overlaps)."""


# -- validators ---------------------------------------------------------------------------


def _aws_key_id(value: str) -> bool:
    """16 characters after the prefix, at least one a digit (a random base-32 id almost always
    has one; an all-caps "ASIA PACIFIC" heading has none)."""
    body = value[4:].replace(" ", "")
    return len(body) == 16 and any(c.isdigit() for c in body)


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
    """A plausible payment card: 13-19 digits, known issuer prefix, Luhn-valid, card grouping.

    Groups may be split by spaces, dashes, dots or commas (a spoken card number comes back from
    speech-to-text as "4111, 1111, ..."), as one block, in fours, Amex's 4-6-5 or digit by digit.
    """
    groups = [g for g in re.split(r"[\s,\uff0c.\-]+", raw) if g]
    digits = "".join(groups)
    if not 13 <= len(digits) <= 19 or len(set(digits)) < 2 or not digits.isdigit():
        return False
    sizes = [len(g) for g in groups]
    shaped = (
        len(sizes) == 1
        or all(s == 4 for s in sizes[:-1])
        and 1 <= sizes[-1] <= 4
        or sizes in ([4, 6, 5], [4, 6, 4])
        or all(s == 1 for s in sizes)
    )
    return shaped and bool(_CARD_PREFIX.match(digits)) and luhn_ok(digits)


_IBAN_LENGTHS = dict(
    AD=24, AT=20, BE=16, BG=22, CH=21, CY=28, CZ=24, DE=22, DK=18, EE=20, ES=24, FI=18, FR=27,
    GB=22, GR=27, HR=21, HU=28, IE=22, IS=26, IT=27, LI=21, LT=20, LU=20, LV=21, MC=27, MT=31,
    NL=18, NO=15, PL=28, PT=25, RO=24, SE=24, SI=19, SK=24, SM=27, TR=26, UA=29, BR=29, SA=24,
    AE=23, IL=23, QA=29,
)  # fmt: skip


def iban_ok(raw: str) -> bool:
    """An IBAN with a known country length (when known) and a valid mod-97 check."""
    iban = re.sub(r"[\s\-]", "", raw).upper()
    expected = _IBAN_LENGTHS.get(iban[:2])
    if (expected and len(iban) != expected) or not 15 <= len(iban) <= 34 or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    number = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(number) % 97 == 1


def token_like(value: str) -> bool:
    """A labelled value that looks generated: long, varied and high in entropy."""
    value = re.sub(r"\s", "", value)
    if len(value) < 16 or value.isalpha():
        return False
    if re.fullmatch(r"[0-9a-fA-F]+", value):
        return len(value) >= 32 and shannon_entropy(value) >= 3.0
    classes = sum(bool(re.search(p, value)) for p in (r"[a-z]", r"[A-Z]", r"\d", r"[+/=_\-.]"))
    return classes >= 2 and shannon_entropy(value) >= 3.5


def opaque(value: str) -> bool:
    """An unlabelled machine-made string: 24+ chars of upper, lower and digits, high entropy.

    Ordinary identifiers fail it: hashes and UUIDs have no upper case, CamelCase names no digits,
    and words OCR ran together ("renewsautomaticallyon2October2026", "example/account/orders")
    are mostly long lower-case runs, which random tokens rarely have.
    """
    core = value.strip("=")
    if len(core) < 24 or shannon_entropy(core) < 4.0:
        return False
    if sum(len(run) for run in re.findall(r"[a-z]{4,}", core)) > 0.4 * len(core):
        return False
    return all(re.search(p, core) for p in (r"[a-z]", r"[A-Z]", r"\d"))


_NOT_PASSWORDS = frozenset(
    """forgot required incorrect reset none hidden change show protected manager field strength
    changed expired invalid wrong correct too not the a an long short weak strong case sensitive
    set saved stored empty missing same different needed optional mandatory updated also still
    only just being here there this that what where when why how on off ok valid secure safe
    easy hard simple great good bad new old visible masked""".split()
)


def password_ok(value: str, separator: str) -> bool:
    """A value after a password label that is not UI text ("Password: required")."""
    value = value.strip("\"'`.,;!?")
    if len(value) < 4 or set(value) <= set("*•●·x"):
        return False
    if value.lower().rstrip("?!:") in _NOT_PASSWORDS or value.startswith("[REDACTED"):
        return False
    if separator.strip().lower() == "is":  # prose: "the password is incorrect"
        return bool(re.search(r"[\d\W_]", value)) and not value.isdigit()
    return True


def spoken_password_ok(value: str) -> bool:
    """After "my password is": anything but an adjective or UI word."""
    first = value.split()[0].strip("\"'`.,;!?").lower() if value.split() else ""
    return len(first) >= 3 and first not in _NOT_PASSWORDS and not first.startswith("[redacted")


def pin_ok(value: str) -> bool:
    """4 to 8 digits, however spaced or punctuated."""
    digits = re.sub(r"\D", "", value)
    return 4 <= len(digits) <= 8


# -- the project's rules ------------------------------------------------------------------

B64 = r"[A-Za-z0-9+/=]"
_BREAK = r"(?:[ \t]?\n?[ \t]?|[ \t])"  # OCR's inserted space or a line wrap
_LOOKS_B64 = r"(?=[A-Za-z0-9_\-]{0,60}(?:\d|[_\-]|[a-z][A-Z]))"  # a continuation, not a word
_URLSAFE_PART = rf"[A-Za-z0-9_\-]{{4,}}(?:{_BREAK}{_LOOKS_B64}[A-Za-z0-9_\-]{{3,}}){{0,3}}"
_KEY_HEADER = r"-{2,6}\s?BEG[I1l|]N\s?(?:[A-Z0-9]+\s)*?PR[I1l|]VATE\s?KEY(?:\s?BLOCK)?\s?-{2,6}"
_KEY_FOOTER = r"-{2,6}\s?END\s?(?:[A-Z0-9]+\s)*?PR[I1l|]VATE\s?KEY(?:\s?BLOCK)?\s?-{0,6}"
_KEY_BODY_LINE = r"(?:[A-Za-z0-9+/=:\- ]{0,100}\n?)"
_LABEL_TOKEN = (  # a label may follow an underscore prefix: AWS_SECRET_ACCESS_KEY
    r"(?i:(?<![A-Za-z0-9])(?:api[_ -]?key|apikey|access[_ -]?key(?:[_ -]?id)?"
    r"|secret(?:[_ -]?(?:access[_ -])?key)?"
    r"|client[_ -]?secret|auth(?:orization)?[_ -]?token|access[_ -]?token|refresh[_ -]?token"
    r"|session[_ -]?token|token|bearer|private[_ -]?key|sig(?:nature)?)(?![A-Za-z0-9]))"
)
_TOKEN_VALUE = (
    r"([A-Za-z0-9+/=_\-.~]{8,}(?:[ \t]?\n?(?=[A-Za-z0-9+/=_\-.~]*\d)[A-Za-z0-9+/=_\-.~]{4,}){0,3})"
)
_ENV_NAME = (
    r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9_]{0,40}"
    r"(?i:key|secret|token|pass(?:word)?|pwd|credentials?|auth|dsn|conn(?:ection)?_?string)"
    r"[A-Za-z0-9_]{0,20}"
)
# OCR may read a comma as the fullwidth "\uff0c"
_DIGIT_RUN = r"(?<![\d\-.,\uff0c])\d(?:(?:[ ,\uff0c.\-]|[,\uff0c] ){0,2}\d){12,18}(?![\d])"

RULES: list[Rule] = [
    (
        "private_key",  # a block to its footer, or (cut off or wrapped away) to the last body line
        re.compile(
            _KEY_HEADER
            + r"(?:[\s\S]{0,6000}?"
            + _KEY_FOOTER
            + r"|(?:\s*"
            + B64
            + r"{16,}[ \t]*)*)",
            re.I,
        ),
        0,
        None,
        0,
    ),
    (  # an AWS key id as OCR reads it: glued to its label, I read as 1/l, a case slip, a space
        "api_key",
        re.compile(
            r"(?<![A-Z0-9])(?:AK[I1l|]A|AS[I1l|]A|A3T[A-Z0-9]|ABIA|ACCA)"
            r"(?:[0-9A-Za-z]{16}|"
            + "|".join(f"[0-9A-Za-z]{{{k}}} [0-9A-Za-z]{{{16 - k}}}" for k in range(2, 15))
            + ")"
        ),
        0,
        _aws_key_id,
        1,
    ),
    ("api_key", re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}"), 0, None, 1),
    ("api_key", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b"), 0, None, 1),
    ("api_key", re.compile(r"\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9_\-]{20,}"), 0, None, 1),
    ("api_key", re.compile(r"\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}"), 0, None, 1),
    ("api_key", re.compile(r"\bxox[abposr]-[A-Za-z0-9\-]{10,}"), 0, None, 1),
    ("api_key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}"), 0, None, 1),
    ("api_key", re.compile(r"\b(?:glpat|npm|hf|pypi)[-_][A-Za-z0-9_\-]{20,}"), 0, None, 1),
    ("api_key", re.compile(r"\bSG\.[A-Za-z0-9_\-]{16,}\.[A-Za-z0-9_\-]{16,}"), 0, None, 1),
    (
        "jwt",  # header.payload.signature, each part possibly cut by OCR's space or a wrap
        re.compile(
            r"\beyJ"
            + _URLSAFE_PART
            + rf"{_BREAK}?\.{_BREAK}?eyJ"
            + _URLSAFE_PART
            + rf"{_BREAK}?\.{_BREAK}?"
            + _URLSAFE_PART
        ),
        0,
        None,
        1,
    ),
    (
        "token",
        re.compile(_LABEL_TOKEN + r"[\"']?\s*(?:[:=]|=>|\s)\s*[\"']?" + _TOKEN_VALUE),
        1,
        token_like,
        2,
    ),
    (
        "token",  # KEY=value shapes: a secret-sounding name and a high-entropy value
        re.compile(_ENV_NAME + r"[\"']?\s*(?:[:=]|=>)\s*[\"']?" + _TOKEN_VALUE),
        1,
        token_like,
        2,
    ),
    ("token", re.compile(r"://[^\s:/?#@]{1,64}:([^\s:/?#@]{3,128})@"), 1, None, 2),
    (
        "token",  # a URL parameter named like a secret: any value is one (no entropy test)
        re.compile(
            r"[?&;](?i:[a-z_]*(?:token|key|secret|password|passwd|pwd|pass|sig|signature|auth"
            r"|session|sid|code|pin|otp)[a-z_]*)=([^&#\s\"'<>]{4,512})"
        ),
        1,
        None,
        2,
    ),
    (
        "password",
        re.compile(
            r"(?i:\b(?:password|passwd|pwd|passphrase|passcode|pass)\b)"
            r"(\s*[:=]\s*|\s+is:?\s+)[\"']?(\S{1,128})"
        ),
        2,
        None,
        3,
    ),
    (
        "password",  # OCR ran the words together: "mywifipasswordisBlue42Sky!forguests"
        re.compile(r"(?i:password|passphrase|passcode)(\s*is|\s*was|:|=)[\"']?(\S{4,128})"),
        2,
        None,
        3,
    ),
    (
        "password",  # spoken or written prose: "my password is hunter two"
        re.compile(
            r"(?i:\b(?:my|our|your|the|his|her|their)\s+(?:\w+\s+){0,2}"
            r"(?:password|passphrase|passcode|pass\s?word)\s+(?:is|was|will be)[:,]?\s+)"
            r"[\"']?(\S{3,64}(?:\s(?:\d{1,4}|[A-Za-z]{1,5}\d\S*))?)"
        ),
        1,
        spoken_password_ok,
        3,
    ),
    (
        "pin",
        re.compile(
            # OCR runs words together ("Yourverificationcodeis634635") and reads "is" as "ls"
            r"(?i:(?:\b(?:pin(?:\s?(?:code|number))?|cvv|cvc|otp)"
            r"|(?:security|verification|one[- ]?time|2fa)\s?code)"
            r"\s*(?:is|ls|1s|was|:|=|number\s?is)?[:,]?\s*)"
            r"((?:\d(?:[\s,.\-]{1,2})?){3,7}\d)(?!\d)"
        ),
        1,
        pin_ok,
        3,
    ),
    ("credit_card", re.compile(_DIGIT_RUN), 0, card_ok, 4),
    (
        "iban",
        re.compile(  # OCR may run the label into it: "IBANFR76..."
            r"(?<![A-Z0-9])(?:[A-Z]{2,6}(?=[A-Z]{2}\d{2}))?([A-Z]{2}\d{2}(?:[ \-]?[A-Z0-9]{4}){2,7}"
            r"(?:[ \-]?[A-Z0-9]{1,3})?)(?![0-9])"
        ),
        1,
        iban_ok,
        4,
    ),
    ("token", re.compile(r"(?<![A-Za-z0-9+/_\-])[A-Za-z0-9+/_\-]{24,}={0,2}"), 0, opaque, 5),
]

EMAIL: Rule = (
    "email",
    re.compile(r"\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}\b"),
    0,
    None,
    6,
)


def phone_ok(raw: str) -> bool:
    """A phone number: 9-15 digits, grouped or international, not a date."""
    digits = re.sub(r"\D", "", raw)
    if not 9 <= len(digits) <= 15:
        return False
    if re.fullmatch(r"\d{4}[-./]\d{1,2}[-./]\d{1,2}.*|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}", raw):
        return False  # dates
    return raw.startswith(("+", "(")) or bool(re.search(r"[ .\-]", raw))


PHONE: Rule = (
    "phone",
    re.compile(
        r"(?<![\w+])(?:\+\d{1,3}[ .\-]?)?(?:\(\d{1,4}\)[ .\-]?)?"
        r"\d{2,4}(?:[ .\-]\d{2,4}){2,4}(?![\w])"
    ),
    0,
    phone_ok,
    7,
)


# -- detect-secrets' regex plugins --------------------------------------------------------

# Plugins whose patterns flag prose or duplicate a rule above: IP addresses are not secrets,
# Artifactory's "AP..." matches words, private keys need the whole block (above).
_SKIP_PLUGINS = frozenset({"IPPublicDetector", "ArtifactoryDetector", "PrivateKeyDetector"})
_WHOLE_MATCH = frozenset({"GitHubTokenDetector", "GitLabTokenDetector"})  # group 1 is the prefix


@cache
def detect_secrets_rules() -> tuple[Rule, ...]:
    """detect-secrets' regex plugins as rules (kind ``api_key``), loaded once."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class
    from detect_secrets.plugins.base import RegexBasedDetector

    rules: list[Rule] = []
    cls: type
    for cls in get_mapping_from_secret_type_to_class().values():
        if not issubclass(cls, RegexBasedDetector) or cls.__name__ in _SKIP_PLUGINS:
            continue
        for pattern in cls().denylist:
            group = 0 if cls.__name__ in _WHOLE_MATCH or not pattern.groups else 1
            rules.append(("api_key", pattern, group, _plugin_value_ok, 1))
    return tuple(rules)


def _plugin_value_ok(value: str) -> bool:
    return len(value.strip()) >= 8
