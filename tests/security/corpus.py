"""The secret corpus (#12): over 40 shapes of secrets as people see, type and say them.

Every value is generated from a seed at run time (valid Luhn, valid IBAN check digits, random
tokens), so no scanner mistakes this file for a leak and every value is unique to one shape.
``Shape.line`` is how the secret appears (a form field, a config line, prose); ``Shape.secrets``
are the strings that must never be found anywhere under the home, nor their first 8 characters.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass

from memory.privacy.redaction import luhn_ok

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"


@dataclass(frozen=True, slots=True)
class Shape:
    """One secret shape: its name, how it appears, the secret values and a spoken form."""

    name: str
    line: str
    secrets: tuple[str, ...]
    spoken: str | None = None

    def needles(self) -> list[str]:
        """Strings that must not be found: each secret and its first 8 characters."""
        out: list[str] = []
        for s in self.secrets:
            out.append(s)
            if len(s) > 8:
                out.append(s[:8])
        return out


def _rand(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    while True:
        value = "".join(rng.choice(alphabet) for _ in range(n))
        if all(any(c in value for c in group) for group in (string.ascii_lowercase, string.digits)):
            if any(c in value for c in string.ascii_uppercase) or alphabet == _HEXL:
                return value


_HEXL = "0123456789abcdef"


def _luhn_complete(rng: random.Random, prefix: str, length: int) -> str:
    body = prefix + "".join(rng.choice(string.digits) for _ in range(length - len(prefix) - 1))
    return next(body + c for c in string.digits if luhn_ok(body + c))


def _iban(rng: random.Random, country: str, bban_len: int, letters: int = 0) -> str:
    bban = "".join(rng.choice(string.ascii_uppercase) for _ in range(letters))
    bban += "".join(rng.choice(string.digits) for _ in range(bban_len - letters))
    number = int("".join(str(int(c, 36)) for c in bban + country + "00"))
    return f"{country}{98 - number % 97:02d}{bban}"


def _group(value: str, size: int = 4, sep: str = " ") -> str:
    return sep.join(value[i : i + size] for i in range(0, len(value), size))


def _b64url(rng: random.Random, n: int) -> str:
    return _rand(rng, n, ALNUM + "-_")


def _jwt(rng: random.Random) -> str:
    header = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    return f"{header}.eyJ{_b64url(rng, 40)}.{_b64url(rng, 43)}"


def _pem(rng: random.Random, label: str, lines: int = 4, dashes: int = 5) -> tuple[str, str]:
    body = [_rand(rng, 64, B64) for _ in range(lines)]
    d = "-" * dashes
    block = f"{d}BEGIN {label}{d}\n" + "\n".join(body) + f"\n-----END {label}-----"
    return block, "\n".join(body)


def build(seed: int = 12) -> list[Shape]:
    """The corpus: one ``Shape`` per secret shape (deterministic for a seed)."""
    rng = random.Random(seed)
    return _cloud(rng) + _tokens(rng) + _keys(rng) + _cards(rng) + _passwords(rng)


def _cloud(rng: random.Random) -> list[Shape]:
    s: list[Shape] = []
    aws_id = "AKIA" + "".join(rng.choice(string.ascii_uppercase + "234567") for _ in range(16))
    aws_secret = _rand(rng, 40, B64)
    s.append(Shape("aws access key id", f"aws_access_key_id = {aws_id}", (aws_id,)))
    s.append(Shape("aws secret env", f"AWS_SECRET_ACCESS_KEY={aws_secret}", (aws_secret,)))
    ini = _rand(rng, 40, B64)
    s.append(Shape("aws secret ini", f"aws_secret_access_key = {ini}", (ini,)))
    return s


def _tokens(rng: random.Random) -> list[Shape]:
    s: list[Shape] = []
    for name, value in (
        ("github classic", "ghp_" + _rand(rng, 36)),
        ("github oauth", "gho_" + _rand(rng, 36)),
        ("github fine-grained", "github_pat_11" + _rand(rng, 20) + "_" + _rand(rng, 59)),
        ("gitlab", "glpat-" + _rand(rng, 20)),
        ("openai project", "sk-proj-" + _rand(rng, 48)),
        ("anthropic", "sk-ant-api03-" + _b64url(rng, 80)),
        ("stripe live", "sk_live_" + _rand(rng, 24)),
        ("stripe restricted", "rk_live_" + _rand(rng, 24)),
        ("slack bot", f"xoxb-{rng.randrange(10**11, 10**12)}-{_rand(rng, 24)}"),
        ("google api", "AIza" + _b64url(rng, 35)),
        ("sendgrid", "SG." + _b64url(rng, 22) + "." + _b64url(rng, 43)),
        ("npm", "npm_" + _rand(rng, 36)),
        ("hugging face", "hf_" + _rand(rng, 34)),
    ):
        s.append(Shape(name, f"token {value} (do not share)", (value,)))
    hook = f"T{_rand(rng, 8).upper()}/B{_rand(rng, 10).upper()}/{_rand(rng, 24)}"
    s.append(
        Shape("slack webhook", f"webhook https://hooks.slack.com/services/{hook}", (hook[-24:],))
    )
    twilio = "SK" + _rand(rng, 32, _HEXL)
    s.append(Shape("twilio key", f"twilio sid {twilio}", (twilio,)))
    tele = f"{rng.randrange(10**8, 10**9)}:AA{_b64url(rng, 33)}"
    s.append(Shape("telegram bot", f"bot token {tele}", (tele.split(":")[1],)))
    jwt1 = _jwt(rng)
    s.append(Shape("jwt", f"Cookie: session={jwt1}", (jwt1.split(".", 1)[1],)))
    jwt2 = _jwt(rng)
    cut = jwt2.index(".", 40) + 20
    s.append(Shape("jwt split over lines", f"id_token:\n{jwt2[:cut]}\n{jwt2[cut:]}", (jwt2[40:],)))
    jwt3 = _jwt(rng)
    spaced = jwt3[:60] + " " + jwt3[60:]
    s.append(Shape("jwt with a space", f"jwt {spaced}", (jwt3[40:60], jwt3[60:])))
    bearer = _rand(rng, 32)
    s.append(Shape("bearer header", f"Authorization: Bearer {bearer}", (bearer,)))
    api = _rand(rng, 32)
    s.append(Shape("api key env", f"export API_KEY={api}", (api,)))
    dbpw = _rand(rng, 20)
    s.append(Shape("db password env", f"DATABASE_PASSWORD={dbpw}", (dbpw,)))
    dsn = _rand(rng, 14)
    s.append(Shape("dsn password", f"postgres://app:{dsn}@db.internal:5432/prod", (dsn,)))
    azure = _rand(rng, 86, B64) + "=="
    s.append(Shape("azure storage", f"DefaultEndpointsProtocol=https;AccountKey={azure}", (azure,)))
    sas = _rand(rng, 40, B64)
    s.append(Shape("url signature", f"https://x.blob.example/f.pdf?sv=2024&sig={sas}", (sas,)))
    acc = _rand(rng, 30)
    s.append(Shape("url access token", f"https://api.example.com/v1/me?access_token={acc}", (acc,)))
    return s


def _keys(rng: random.Random) -> list[Shape]:
    s: list[Shape] = []
    rsa, rsa_body = _pem(rng, "RSA PRIVATE KEY")
    s.append(Shape("rsa private key", rsa, tuple(rsa_body.split("\n"))))
    ossh, ossh_body = _pem(rng, "OPENSSH PRIVATE KEY", dashes=4)
    s.append(Shape("ssh key, 4 dashes", ossh, tuple(ossh_body.split("\n"))))
    pgp, pgp_body = _pem(rng, "PGP PRIVATE KEY BLOCK", lines=3)
    s.append(Shape("pgp private key", pgp, tuple(pgp_body.split("\n"))))
    ec, ec_body = _pem(rng, "EC PRIVATE KEY", lines=3)
    cut_off = ec.split("\n-----END")[0]  # the footer scrolled off the screen
    s.append(Shape("ec key, cut off", cut_off, tuple(ec_body.split("\n"))))
    return s


def _cards(rng: random.Random) -> list[Shape]:
    s: list[Shape] = []
    visa = _luhn_complete(rng, "4", 16)
    s.append(Shape("visa, spaces", f"Card number {_group(visa)}", (_group(visa), visa)))
    mc = _luhn_complete(rng, "53", 16)
    s.append(Shape("mastercard, dashes", f"card: {_group(mc, sep='-')}", (_group(mc, sep="-"), mc)))
    amex = _luhn_complete(rng, "37", 15)
    amex_text = f"{amex[:4]} {amex[4:10]} {amex[10:]}"
    s.append(Shape("amex 4-6-5", f"Amex {amex_text} exp 04/29", (amex_text, amex)))
    commas = _luhn_complete(rng, "4", 16)
    said = _group(commas, sep=", ")
    s.append(
        Shape("card, commas", f"the card is {said}", (said, commas), spoken=f"my card is {said}")
    )
    solid = _luhn_complete(rng, "51", 16)
    s.append(Shape("card, one block", f"pay with {solid} today", (solid,)))
    de = _iban(rng, "DE", 18)
    s.append(Shape("iban de, spaces", f"IBAN: {_group(de)}", (_group(de), de)))
    gb = _iban(rng, "GB", 18, letters=4)
    s.append(Shape("iban gb, solid", f"Send it to {gb} please", (gb,)))
    fr = _iban(rng, "FR", 23)
    s.append(Shape("iban fr, spaces", f"RIB / IBAN {_group(fr)}", (_group(fr), fr)))
    return s


def _passwords(rng: random.Random) -> list[Shape]:
    s: list[Shape] = []
    pw1 = _rand(rng, 12) + "!"
    s.append(Shape("password form", f"Password: {pw1}", (pw1,)))
    pw2 = "Blue" + str(rng.randrange(100, 999)) + "Sky!"
    s.append(Shape("password prose", f"fyi my wifi password is {pw2} for guests", (pw2,)))
    pw3 = "hunter" + str(rng.randrange(10, 99))
    s.append(
        Shape(
            "spoken password",
            f"the password is {pw3}",
            (pw3,),
            spoken=f"the password is {pw3}",
        )
    )
    pw4 = rng.choice(["swordfish", "marmalade", "tangerine", "porcupine"]) + "blue"
    s.append(Shape("password words", f"my email password is {pw4}", (pw4,)))
    pw5 = _rand(rng, 10)
    s.append(Shape("pwd config", f"pwd={pw5}", (pw5,)))
    passphrase = _rand(rng, 14)
    s.append(Shape("passphrase", f"passphrase: {passphrase}", (passphrase,)))
    pin = "".join(rng.choice("123456789") for _ in range(4))
    spaced_pin = " ".join(pin)
    s.append(
        Shape("spoken pin", f"my PIN is {spaced_pin}", (pin, spaced_pin), spoken=f"my PIN is {pin}")
    )
    otp = "".join(rng.choice("123456789") for _ in range(6))
    s.append(Shape("verification code", f"Your verification code is {otp}", (otp,)))
    cvv = "".join(rng.choice("123456789") for _ in range(4))
    s.append(Shape("security code", f"security code: {cvv}", (cvv,)))
    opaque = _rand(rng, 40)
    s.append(Shape("bare high-entropy", f"here you go: {opaque}", (opaque,)))
    return s


CORPUS = build()
SPOKEN = [x for x in CORPUS if x.spoken]
