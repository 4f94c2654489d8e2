"""Detection on the corpus as text, and after the damage OCR does to it (#12)."""

from __future__ import annotations

import sys

import pytest

from memory.privacy.redaction import redact

corpus = sys.modules["engram_secret_corpus"]  # loaded by tests/security/conftest.py


def _left(text: str, shape: object) -> list[str]:
    out = redact(text).text
    return [n for n in shape.needles() if n in out]  # type: ignore[attr-defined]


@pytest.mark.parametrize("shape", corpus.CORPUS, ids=lambda s: s.name)
def test_every_shape_is_redacted(shape: object) -> None:
    assert not _left(shape.line, shape)  # type: ignore[attr-defined]
    assert not _left(f"Notes\n{shape.line}\nmore notes after it", shape)  # type: ignore[attr-defined]


def _wrap(line: str, width: int) -> str:
    return "\n".join(
        "\n".join(part[i : i + width] for i in range(0, len(part), width))
        for part in line.split("\n")
    )


@pytest.mark.parametrize("width", [40, 57])
@pytest.mark.parametrize(
    "shape", [s for s in corpus.CORPUS if "key" in s.name or "jwt" in s.name], ids=lambda s: s.name
)
def test_keys_and_tokens_wrapped_over_lines(shape: object, width: int) -> None:
    """A terminal or an editor wraps long lines; OCR reads each piece as its own line."""
    text = _wrap(shape.line, width)  # type: ignore[attr-defined]
    out = redact(text).text
    pieces = [p for s in shape.secrets for p in _wrap(s, width).split("\n") if len(p) >= 8]  # type: ignore[attr-defined]
    assert not [p for p in pieces if p in out], out


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        (
            "----BEGIN RSA PRIVATE KEY----\nMIIEowIBAAKCAQEAq1Zx9Kp2Lm4Rt8Vw3Yb6Nc1Qs5Ud0Fg",
            "MIIEowIBAAKCAQEAq1Z",
        ),
        (
            "-----BEGlN OPENSSH PRlVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9u",
            "b3BlbnNzaC1rZXkt",
        ),
        (
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3 ODkwIiwibmFtZSI6IkpvaG4ifQ"
            ".Sfl KxwRJSMeKKF2QT4fwpMeJf36POk6y",
            "ODkwIiwibmFtZSI6",
        ),
        ("AWS_SECRET_ACCESS_KEY = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI"),
        ("Card: 4111,1111,1111,1111 exp 04/29", "4111,1111"),
        ("the card number is 4 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1", "4 1 1 1 1 1 1 1"),
        ("my PIN is 4, 8, 2, 7", "4, 8, 2, 7"),
        ("The password is hunter2.", "hunter2"),
        ("and my bank password is marmalade", "marmalade"),
        ("STRIPE_WEBHOOK_SECRET=whsec_9xK2mQ7vL4pR8tY1", "whsec_9xK2mQ7vL4pR8tY1"),
        ("IBAN DE89-3704-0044-0532-0130-00", "3704-0044"),
        # OCR of the corpus screenshots ran words together; URL parameters named like secrets
        ("RIB/IBANFR0616619475907596525115498", "FR061661"),
        ("fyimywifipasswordisBlue668Sky!forguests", "Blue668S"),
        ("https://app.example/cb?access_token=hIGIcjWmI56db5", "hIGIcjWm"),
        ("https://app.example/cb?api_key=tangerineblue&x=1", "tangerin"),
        ("https://app.example/cb?secret=sWsxhOs4TD", "sWsxhOs4"),
    ],
)
def test_ocr_and_speech_damage(text: str, secret: str) -> None:
    out = redact(text).text
    assert secret not in out, out
