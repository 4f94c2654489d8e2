"""AES-GCM encryption of vault secrets and the key store that holds the vault key.

The vault key is a random 256-bit data key. It lives either in the OS keyring (via
``keyring``, when a real backend exists) or, wrapped with AES-GCM under a key derived from
the user's passphrase with scrypt, in a small JSON key file next to the database. Either
way the key file records which backend holds the key, so a vault whose key went missing
fails with a clear ``VaultKeyError`` instead of silently starting a new, empty key.

``ENGRAM_KEYRING=file`` forces the passphrase backend (tests, headless servers);
``ENGRAM_KEYRING=os`` forces the OS keyring.

Ciphertext layout: ``b"\\x01" + nonce(12) + ciphertext_and_tag``.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from memory.errors import StoreError

logger = logging.getLogger(__name__)

KEY_BYTES = 32
NONCE_BYTES = 12
_VERSION = b"\x01"
_WRAP_AAD = b"engram-vault-key-v1"
# scrypt cost of new key files: 2**17 takes 128 MiB and four times the work of the former 2**15
# per guess (measured 4.0x in one run); a key file may record any power of two in
# [SCRYPT_N_MIN, SCRYPT_N_MAX]: anything else is a damaged or hostile file, refused before scrypt
# runs (a huge n would exhaust memory) (#12).
DEFAULT_SCRYPT_N = 2**17
SCRYPT_N_MIN = 2**10
SCRYPT_N_MAX = 2**20
# The passphrase floor: an offline guesser tries a one-character passphrase in well under a second.
PASSPHRASE_MIN_CHARS = 10
PASSPHRASE_MIN_DISTINCT = 5


class VaultLocked(StoreError):
    """The vault is locked: unlock it (passphrase or OS keyring) before reading secrets."""

    def __init__(self, message: str = "the vault is locked; unlock it to read secrets") -> None:
        super().__init__(message)


class VaultKeyError(StoreError):
    """The vault key is missing or wrong (wrong passphrase, lost keyring entry, bad data)."""


def generate_key() -> bytes:
    """Return a new random 256-bit key."""
    return secrets.token_bytes(KEY_BYTES)


def encrypt_bytes(key: bytes, plaintext: bytes, aad: bytes = b"") -> bytes:
    """Encrypt ``plaintext`` with AES-256-GCM under ``key``; ``aad`` is authenticated too."""
    if len(key) != KEY_BYTES:
        raise VaultKeyError(f"vault keys are {KEY_BYTES} bytes, got {len(key)}")
    nonce = secrets.token_bytes(NONCE_BYTES)
    return _VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def subkey(key: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose (``"db"``, ``"files"``, ...) derived from a data key (HKDF).

    One data key wrapped once, separate keys per use: the database key never encrypts a file.
    """
    return HKDF(
        algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=purpose.encode()
    ).derive(key)


def decrypt_bytes(key: bytes, blob: bytes, aad: bytes = b"") -> bytes:
    """Decrypt a blob from :func:`encrypt_bytes`.

    Raises:
        VaultKeyError: wrong key, tampered or truncated data, or not a vault ciphertext.
    """
    if len(key) != KEY_BYTES:
        raise VaultKeyError(f"vault keys are {KEY_BYTES} bytes, got {len(key)}")
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != _VERSION:
        raise VaultKeyError("not an Engram vault ciphertext (unknown version or truncated)")
    nonce, body = blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag as exc:
        raise VaultKeyError(
            "cannot decrypt this secret: the vault key is not the one it was written with, "
            "or the data was changed"
        ) from exc


def _derive(passphrase: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=KEY_BYTES, n=n, r=8, p=1).derive(passphrase.encode("utf-8"))


def check_passphrase(passphrase: str) -> None:
    """Refuse a passphrase below the strength floor (new vaults and new passphrases only).

    Raises:
        VaultKeyError: shorter than ``PASSPHRASE_MIN_CHARS`` characters, or made of fewer than
            ``PASSPHRASE_MIN_DISTINCT`` different characters.
    """
    if len(passphrase) < PASSPHRASE_MIN_CHARS:
        raise VaultKeyError(
            f"the vault passphrase must have at least {PASSPHRASE_MIN_CHARS} characters "
            "(a few words work well); nothing was changed"
        )
    if len(set(passphrase)) < PASSPHRASE_MIN_DISTINCT:
        raise VaultKeyError(
            "the vault passphrase repeats too few characters to resist guessing; choose a "
            "few different words; nothing was changed"
        )


def _scrypt_n(value: object) -> int:
    """The cost a key file records, checked before scrypt runs.

    Raises:
        ValueError: not a power of two within the accepted range.
    """
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError("n is not a number")
    n = int(value)
    if n < SCRYPT_N_MIN or n > SCRYPT_N_MAX or n & (n - 1):
        raise ValueError(f"n={n} is not a power of two from {SCRYPT_N_MIN} to {SCRYPT_N_MAX}")
    return n


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def os_keyring_usable() -> bool:
    """Whether ``keyring`` has a real backend here (not the fail/null/plaintext ones)."""
    try:
        import keyring
        from keyring.backends import fail
    except ImportError:
        return False
    try:
        backend = keyring.get_keyring()
    except Exception:  # a broken keyring configuration must not crash the vault
        logger.warning("keyring backend lookup failed", exc_info=True)
        return False
    if isinstance(backend, fail.Keyring):
        return False
    backends = getattr(backend, "backends", None)  # ChainerBackend
    if backends is not None and not backends:
        return False
    module = type(backend).__module__
    return "null" not in module and "fail" not in module


def choose_backend() -> str:
    """Return ``"keyring"`` or ``"passphrase"`` from ``ENGRAM_KEYRING`` and the platform."""
    choice = os.environ.get("ENGRAM_KEYRING", "").strip().lower()
    if choice in {"file", "passphrase"}:
        return "passphrase"
    if choice in {"os", "keyring"}:
        return "keyring"
    return "keyring" if os_keyring_usable() else "passphrase"


class KeyStore:
    """Holds the vault key in memory while unlocked. Thread-safe.

    Args:
        key_file: JSON file with the backend, scrypt salt and wrapped key (created 0600).
        backend: ``"keyring"`` or ``"passphrase"``; ``None`` reads ``ENGRAM_KEYRING`` and
            falls back to the passphrase when no real OS keyring exists.
        service: keyring service name.
        scrypt_n: scrypt cost for new key files (a power of two).
    """

    def __init__(
        self,
        key_file: str | os.PathLike[str],
        *,
        backend: str | None = None,
        service: str = "engram-vault",
        scrypt_n: int = DEFAULT_SCRYPT_N,
    ) -> None:
        self.key_file = Path(key_file)
        self.backend = backend or choose_backend()
        if self.backend not in {"keyring", "passphrase"}:
            raise ValueError(f"unknown vault key backend {self.backend!r}")
        self.service = service
        self.scrypt_n = scrypt_n
        self._key: bytes | None = None
        self._lock = threading.Lock()

    @property
    def is_unlocked(self) -> bool:
        """Whether the key is in memory."""
        return self._key is not None

    @property
    def initialized(self) -> bool:
        """Whether a vault key was ever created (the key file exists)."""
        return self.key_file.exists()

    def lock(self) -> None:
        """Forget the key (secrets cannot be read until :meth:`unlock`)."""
        with self._lock:
            self._key = None

    def unlock(self, passphrase: str | None = None) -> None:
        """Load the key; the first unlock creates it (and sets the passphrase).

        Raises:
            VaultKeyError: wrong passphrase, no passphrase given, the key is missing from
                the OS keyring, or the key file is damaged or from another backend.
        """
        with self._lock:
            meta = self._read_meta()
            if meta is None:
                self._key = self._create(passphrase)
            elif meta.get("backend") == "keyring":
                self._key = self._from_keyring(meta)
            else:
                self._key = self._unwrap(meta, passphrase)

    def change_passphrase(self, old: str, new: str) -> None:
        """Re-wrap the key under a new passphrase (secrets need no re-encryption).

        Raises:
            VaultKeyError: ``old`` is wrong or this vault keeps its key in the OS keyring.
        """
        with self._lock:
            meta = self._read_meta()
            if meta is None or meta.get("backend") != "passphrase":
                raise VaultKeyError("this vault has no passphrase to change")
            check_passphrase(new)
            key = self._unwrap(meta, old)
            self._write_meta(self._wrap(key, new))
            self._key = key

    def key(self) -> bytes:
        """The data key while unlocked (the home's store key derives its subkeys from it).

        Raises:
            VaultLocked: the key is not in memory.
        """
        return self._require_key()

    def encrypt(self, plaintext: str, aad: bytes = b"") -> bytes:
        """Encrypt a secret value.

        Raises:
            VaultLocked: the vault is locked.
        """
        return encrypt_bytes(self._require_key(), plaintext.encode("utf-8"), aad)

    def decrypt(self, blob: bytes, aad: bytes = b"") -> str:
        """Decrypt a secret value.

        Raises:
            VaultLocked: the vault is locked.
            VaultKeyError: the blob was written under another key or was tampered with.
        """
        return decrypt_bytes(self._require_key(), blob, aad).decode("utf-8")

    # -- internals -----------------------------------------------------------------------

    def _require_key(self) -> bytes:
        key = self._key
        if key is None:
            raise VaultLocked()
        return key

    def _read_meta(self) -> dict[str, object] | None:
        try:
            text = self.key_file.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise VaultKeyError(f"cannot read the vault key file {self.key_file}: {exc}") from exc
        try:
            meta = json.loads(text)
        except json.JSONDecodeError as exc:
            raise VaultKeyError(f"the vault key file {self.key_file} is damaged") from exc
        if not isinstance(meta, dict) or meta.get("version") != 1:
            raise VaultKeyError(f"the vault key file {self.key_file} has an unknown format")
        return meta

    def _write_meta(self, meta: dict[str, object]) -> None:
        self.key_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.key_file.with_suffix(self.key_file.suffix + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(meta, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.key_file)

    def _create(self, passphrase: str | None) -> bytes:
        key = generate_key()
        if self.backend == "keyring":
            self._keyring_set(key)
            check = encrypt_bytes(key, b"engram", _WRAP_AAD)
            self._write_meta({"version": 1, "backend": "keyring", "check": _b64(check)})
        else:
            if not passphrase:
                raise VaultKeyError("choose a passphrase to create the vault")
            check_passphrase(passphrase)
            self._write_meta(self._wrap(key, passphrase))
        logger.info("created a new vault key (%s backend)", self.backend)
        return key

    def _wrap(self, key: bytes, passphrase: str) -> dict[str, object]:
        salt = secrets.token_bytes(16)
        kek = _derive(passphrase, salt, self.scrypt_n)
        wrapped = encrypt_bytes(kek, key, _WRAP_AAD)
        return {
            "version": 1,
            "backend": "passphrase",
            "kdf": "scrypt",
            "n": self.scrypt_n,
            "r": 8,
            "p": 1,
            "salt": _b64(salt),
            "wrapped_key": _b64(wrapped),
        }

    def _unwrap(self, meta: dict[str, object], passphrase: str | None) -> bytes:
        if not passphrase:
            raise VaultKeyError("the vault needs its passphrase to unlock")
        try:
            salt, wrapped = _unb64(str(meta["salt"])), _unb64(str(meta["wrapped_key"]))
            n = _scrypt_n(meta["n"])
        except (KeyError, ValueError) as exc:
            raise VaultKeyError(
                f"the vault key file {self.key_file} is damaged ({exc}); restore it from a "
                "backup: without it the stored secrets cannot be decrypted"
            ) from exc
        try:
            return decrypt_bytes(_derive(passphrase, salt, n), wrapped, _WRAP_AAD)
        except VaultKeyError as exc:
            raise VaultKeyError("wrong vault passphrase") from exc

    def _from_keyring(self, meta: dict[str, object]) -> bytes:
        encoded = self._keyring_get()
        if encoded is None:
            raise VaultKeyError(
                "the vault key is missing from the OS keyring (deleted, or another user or "
                "machine); secrets already stored cannot be decrypted without it"
            )
        try:
            key = _unb64(encoded)
            decrypt_bytes(key, _unb64(str(meta.get("check", ""))), _WRAP_AAD)
        except (ValueError, VaultKeyError) as exc:
            raise VaultKeyError(
                "the key in the OS keyring is not this vault's key; secrets already stored "
                "cannot be decrypted with it"
            ) from exc
        return key

    def _keyring_get(self) -> str | None:
        import keyring
        from keyring.errors import KeyringError

        try:
            return keyring.get_password(self.service, str(self.key_file.resolve()))
        except KeyringError as exc:
            raise VaultKeyError(f"the OS keyring is not available: {exc}") from exc

    def _keyring_set(self, key: bytes) -> None:
        import keyring
        from keyring.errors import KeyringError

        try:
            keyring.set_password(self.service, str(self.key_file.resolve()), _b64(key))
        except KeyringError as exc:
            raise VaultKeyError(f"cannot store the vault key in the OS keyring: {exc}") from exc
