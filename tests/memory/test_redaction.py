"""Secret detection and placeholders (memory/privacy/redaction.py)."""

from __future__ import annotations

import pytest

from memory.privacy.redaction import (
    card_ok,
    iban_ok,
    luhn_ok,
    redact,
    redact_boxes,
    shannon_entropy,
)

# Test values are assembled at run time so no scanner mistakes this file for a leak.
AWS = "AKIA" + "IOSFODNN7EXAMPLE"
GHP = "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"
GH_PAT = (
    "github_pat_"
    + "11ABCDEFG0123456789_"
    + "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456"
)
OPENAI = "sk-" + "proj-Zx9Qw8Er7Ty6Ui5Op4As3Df2Gh1Jk0Lz"
SLACK = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
GOOGLE = "AIza" + "SyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q"
STRIPE = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
    "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0."
    "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
VISA = "4111 1111 1111 1111"
IBAN_DE = "DE89 3704 0044 0532 0130 00"
IBAN_GB = "GB82WEST12345698765432"


@pytest.mark.parametrize(
    ("secret", "kind"),
    [
        (AWS, "api_key"),
        (GHP, "api_key"),
        (GH_PAT, "api_key"),
        (OPENAI, "api_key"),
        (SLACK, "api_key"),
        (GOOGLE, "api_key"),
        (STRIPE, "api_key"),
        (JWT, "jwt"),
        (VISA, "credit_card"),
        ("5500-0000-0000-0004", "credit_card"),
        ("378282246310005", "credit_card"),
        (IBAN_DE, "iban"),
        (IBAN_GB, "iban"),
        ("FR1420041010050500013M02606", "iban"),
    ],
)
def test_detects_and_replaces_known_secrets(secret: str, kind: str) -> None:
    text = f"see {secret} here."
    result = redact(text)
    assert [(f.kind, f.value) for f in result.findings] == [(kind, secret)]
    assert result.text == f"see [REDACTED:{kind}:1] here."
    finding = result.findings[0]
    assert text[finding.start : finding.end] == secret
    assert finding.placeholder == f"[REDACTED:{kind}:1]"


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("api_key = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=='", "Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="),
        ("SECRET_KEY=8f14e45fceea167a5a36dedd4bea2543", "8f14e45fceea167a5a36dedd4bea2543"),
        ('"client_secret": "q8Zr-3kLm_Vt9XwPz2Ny"', "q8Zr-3kLm_Vt9XwPz2Ny"),
        ("Authorization: Bearer a8Fk29dLq0Zx7Pm3Vn5Rt1", "a8Fk29dLq0Zx7Pm3Vn5Rt1"),
        (
            "aws_secret_access_key: wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ],
)
def test_labelled_high_entropy_tokens(text: str, value: str) -> None:
    result = redact(text)
    assert [(f.kind, f.value) for f in result.findings] == [("token", value)]
    assert value not in result.text and "[REDACTED:token:1]" in result.text


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("password: hunter2!", "hunter2!"),
        ("Password=Tr0ub4dor&3", "Tr0ub4dor&3"),
        ("db passwd: 'c0rrect-horse'", "c0rrect-horse"),
        ("pwd=s3cr3t", "s3cr3t"),
        ("my wifi password is Blue42Sky!", "Blue42Sky!"),
    ],
)
def test_passwords_after_a_label(text: str, value: str) -> None:
    result = redact(text)
    assert [(f.kind, f.value) for f in result.findings] == [("password", value)]
    assert value not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "The password is incorrect, please try again.",
        "Password: ********",
        "Forgot password? Reset it from the settings page.",
        "Password: required",
        "Meeting moved to 2024-03-15 at 14:30; room 4111, budget 1,250,000 EUR.",
        "Fixed in commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f, see the changelog.",
        "git checkout 9fceb02 && make test",
        "The token bucket algorithm limits requests; set the api key in settings.",
        "Order 1234 5678 9012 3456 shipped",  # not Luhn-valid
        "Call me at 555 0100 about the DE44 proposal; version 1.2.3.4 works.",
        "sku-1234567890, tracking number 9400111899223856478412",
        "The secret ingredient is cinnamon, and the token of appreciation was lovely.",
        "UUID 123e4567-e89b-12d3-a456-426614174000 in the log",
        "Timestamp 1700000000000 and ISBN 978-3-16-148410-0",
        "Use sk-learn? No: scikit-learn. Skip to the task-list.",
        "A long word like internationalization is not a secret.",
        # ordinary words, numbers, dates and versions survive the OCR-tolerant rules (#12)
        "Successfully installed numpy-2.12.3 pandas-3.0.1",
        "Renews on 7 October 2026, 60 days notice; total 1,250,000.00 EUR on 2026-02-16 14:30",
        "Version 10.0.19045.3803 build 22631; flight TP1234 departs 09:45 from gate 12",
        "The PIN code must be reset by IT; your password is required to continue",
        "my password is incorrect, the password was changed yesterday; PIN: ****",
        "Invoice INV-2026-00042 total 4,111.11; ref 4111 1111 1111 1112 is not Luhn-valid",
        "see https://github.com/acme/ledger/pull/1234#discussion_r987654321",
        "ThisIsAVeryLongCamelCaseIdentifierName and https://youtu.be/dQw4w9WgXcQ?t=42",
        "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        # words OCR ran together (found on bench-data screens by bench/redaction.py)
        "1ThisAgreementrenewsautomaticallyon2October2026 and PLAT-4898istheflakyupload",
        "InvoiceINV-28015fromFernhillCatering-MozillaThunderbird",
        "https://shop.example/account/orders/M196400251",
        # all-caps headings that begin like an AWS key id prefix
        "ASIA PACIFIC REGIONAL SALES REPORT 2026",
        "AKIAN IS A NAME IN THIS SENTENCE",
        "spinning 1234 times; pinned 2026 items; the opinion 1234",
    ],
)
def test_no_false_positives_on_ordinary_text(text: str) -> None:
    result = redact(text)
    assert result.findings == [], result.findings
    assert result.text == text and not result.redacted


@pytest.mark.parametrize(
    ("text", "value"),
    [
        (f"awsaccesskeyid{AWS}Notesfromthe", AWS),  # OCR dropped the separators
        ("aws_access_key_id = AKlA" + AWS[4:].replace("O", "o", 1), "AKlA"),  # l for I, o for O
        (f"key {AWS[:9]} {AWS[9:]} end", f"{AWS[:9]} {AWS[9:]}"),  # a space OCR inserted
    ],
)
def test_aws_key_ids_as_ocr_damages_them(text: str, value: str) -> None:
    """#12: the corpus test found a key id blurred nowhere because OCR glued or misread it."""
    result = redact(text)
    assert [f.kind for f in result.findings] == ["api_key"]
    assert value in result.findings[0].value
    assert AWS[-8:] not in result.text


@pytest.mark.parametrize(
    "text",
    [
        "Yourverificationcodeis634635",  # OCR ran the words together
        "Your verificationcode is 634 635",
        "Your verification code ls 634635",  # "is" read as "ls"
    ],
)
def test_one_time_codes_as_ocr_damages_them(text: str) -> None:
    """#12: the corpus test found a verification code readable in a stored frame."""
    result = redact(text)
    assert [f.kind for f in result.findings] == ["pin"]
    assert "634" not in result.text


def test_same_value_same_placeholder_and_per_kind_numbers() -> None:
    text = f"a {AWS} b {GHP} c {AWS} d {VISA}"
    result = redact(text)
    assert result.text == (
        "a [REDACTED:api_key:1] b [REDACTED:api_key:2] c [REDACTED:api_key:1] "
        "d [REDACTED:credit_card:1]"
    )
    assert [f.start for f in result.findings] == sorted(f.start for f in result.findings)


def test_private_key_block() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabc\n-----END RSA PRIVATE KEY-----"
    result = redact(f"key:\n{key}\ndone")
    assert result.text == "key:\n[REDACTED:private_key:1]\ndone"


def test_emails_and_phones_are_masked_only_when_asked() -> None:
    text = "Write to maria.silva@example.pt or call +351 912 345 678 before 2024-05-01."
    assert redact(text).findings == []
    result = redact(text, mask_emails=True, mask_phones=True)
    assert [(f.kind, f.value) for f in result.findings] == [
        ("email", "maria.silva@example.pt"),
        ("phone", "+351 912 345 678"),
    ]
    assert "2024-05-01" in result.text


def test_validators() -> None:
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")
    assert card_ok("4111-1111-1111-1111") and not card_ok("4111111111111112")
    assert not card_ok("1234567812345670")  # Luhn-valid, no issuer prefix
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    assert not iban_ok("DE8937040044053201300")  # wrong length for DE
    assert shannon_entropy("aaaa") == 0.0 and shannon_entropy("abcd") == 2.0


def test_redact_boxes_flags_only_lines_with_secrets() -> None:
    lines = [
        ("Settings", (0, 0, 100, 20)),
        (f"OPENAI_API_KEY={OPENAI}", (0, 30, 600, 20)),
        ("Password", (0, 60, 120, 20)),
        ("Monday standup notes", (0, 90, 300, 20)),
        (f"card {VISA}", (0, 120, 300, 20)),
    ]
    hits = redact_boxes(lines)
    assert [(h.index, h.box) for h in hits] == [(1, (0, 30, 600, 20)), (4, (0, 120, 300, 20))]
    assert hits[0].kinds == ("api_key",) and hits[1].kinds == ("credit_card",)


def test_redact_boxes_catches_a_value_on_the_line_after_its_label() -> None:
    lines = [
        ("password:", (0, 0, 90, 20)),
        ("Blue42Sky!", (0, 25, 90, 20)),
        ("ok", (0, 50, 20, 20)),
    ]
    hits = redact_boxes(lines)
    assert [h.index for h in hits] == [1] and hits[0].kinds == ("password",)
