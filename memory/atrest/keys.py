"""The key of an encrypted home, who may unlock it, and the lock (#12).

One random data key per home, kept like the vault's (``memory.vault.crypto.KeyStore``, the same
code): wrapped by the user's passphrase (scrypt) in ``store.key``, or in the OS keyring. Subkeys
derived from it (HKDF) key SQLCipher, the AES-GCM frame and audio files, and the keyed tags that
stand for app names in the vector index. The vault keeps its own key (``vault.key``): opening
the home does not reveal the vault's secrets.

The lock is a flag file (``locked``) in the home. While it is there no process unlocks the home
on its own (not from the keyring, not from ``ENGRAM_VAULT_PASSPHRASE``): every command refuses
with "Engram is locked: ..." until ``engram unlock``. A running recorder sees the flag, stops
capturing and closes the store; the key is then only in the user's head or keyring.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from memory.errors import EngramLocked
from memory.store.db import STORE_KEY_FILE, is_plain_sqlite
from memory.vault.crypto import KeyStore, VaultKeyError, check_passphrase, subkey

logger = logging.getLogger(__name__)

LOCK_FLAG = "locked"
PASSPHRASE_ENV = "ENGRAM_VAULT_PASSPHRASE"
KEYRING_SERVICE = "engram-store"
HOW_TO_UNLOCK = (
    "run `engram unlock` (headless: set ENGRAM_VAULT_PASSPHRASE for commands after the unlock)"
)


@dataclass(frozen=True, slots=True)
class HomeKeys:
    """The subkeys of one unlocked home (never written anywhere)."""

    db: bytes
    files: bytes
    tags: bytes

    @classmethod
    def from_data_key(cls, key: bytes) -> HomeKeys:
        """Derive the three subkeys from the home's data key."""
        return cls(subkey(key, "engram-db"), subkey(key, "engram-files"), subkey(key, "tags"))

    def tag(self, value: str) -> str:
        """A keyed, stable stand-in for a short value (app names in vector metadata)."""
        if not value:
            return ""
        return "t:" + hmac.new(self.tags, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


_stores: dict[Path, KeyStore] = {}
_stores_lock = threading.Lock()


def key_file(root: Path) -> Path:
    """The wrapped data key of the home (or the keyring's check value)."""
    return Path(root) / STORE_KEY_FILE


def is_encrypted(root: Path) -> bool:
    """Whether the home has a data key (it is encrypted, or being converted by `engram encrypt`)."""
    return key_file(root).is_file()


def is_locked(root: Path) -> bool:
    """Whether the user locked the home (``engram lock``)."""
    return (Path(root) / LOCK_FLAG).exists()


def _keystore(root: Path, backend: str | None = None) -> KeyStore:
    where = Path(root).resolve()
    with _stores_lock:
        ks = _stores.get(where)
        if ks is None:
            ks = KeyStore(key_file(where), backend=backend, service=KEYRING_SERVICE)
            _stores[where] = ks
        return ks


def _locked_error(reason: str) -> EngramLocked:
    return EngramLocked(f"Engram is locked: {reason}; {HOW_TO_UNLOCK}")


def unlock(
    root: Path, passphrase: str | None = None, *, backend: str | None = None, create: bool = False
) -> HomeKeys:
    """Load the home's key into this process and clear the lock flag (``engram unlock``).

    ``create`` makes the key when the home has none (a new encrypted home, ``engram encrypt``);
    a new passphrase must pass the vault's strength floor.

    Raises:
        EngramLocked: wrong or missing passphrase, no key, or the key is gone from the keyring.
    """
    ks = _keystore(root, backend)
    if not ks.initialized and not create:
        raise EngramLocked(
            f"Engram is locked: {root} is not an encrypted home (no {STORE_KEY_FILE})"
        )
    if not ks.initialized and ks.backend == "passphrase":
        if not passphrase:
            raise _locked_error("choose a passphrase for the new key")
        try:
            check_passphrase(passphrase)
        except VaultKeyError as exc:
            raise EngramLocked(f"Engram is locked: {exc}") from exc
    try:
        ks.unlock(passphrase)
    except VaultKeyError as exc:
        reason = "wrong passphrase" if "wrong" in str(exc) else str(exc)
        if not passphrase and ks.backend == "passphrase":
            reason = "this home is encrypted and no passphrase was given"
        raise _locked_error(reason) from exc
    os.chmod(ks.key_file, 0o600)
    (Path(root) / LOCK_FLAG).unlink(missing_ok=True)
    return HomeKeys.from_data_key(ks.key())


def lock(root: Path) -> None:
    """Lock the home: set the flag every process obeys and drop this process's key."""
    flag = Path(root) / LOCK_FLAG
    fd = os.open(flag, os.O_WRONLY | os.O_CREAT, 0o600)
    os.close(fd)
    drop(root)


def drop(root: Path) -> None:
    """Forget this process's copy of the key (the flag is left as it is)."""
    with _stores_lock:
        ks = _stores.pop(Path(root).resolve(), None)
    if ks is not None:
        ks.lock()


def keys_for(root: Path, *, new_home_encrypted: bool = False) -> HomeKeys | None:
    """The keys to open a home with, without asking anyone; None for a plain home.

    A home with no database yet gets a key when ``new_home_encrypted`` (the setting). An
    encrypted home unlocks from this process's memory, the OS keyring, or
    ``ENGRAM_VAULT_PASSPHRASE``, unless the user locked it.

    Raises:
        EngramLocked: locked by the user, or no usable key or passphrase.
    """
    root = Path(root)
    if not is_encrypted(root):
        db = root / "engram.db"
        if not new_home_encrypted or (db.is_file() and db.stat().st_size > 0):
            return None
        return unlock(root, os.environ.get(PASSPHRASE_ENV), create=True)
    if is_locked(root):
        raise _locked_error("it was locked with `engram lock`")
    ks = _keystore(root)
    if ks.is_unlocked:
        return HomeKeys.from_data_key(ks.key())
    return unlock(root, os.environ.get(PASSPHRASE_ENV))


def db_key(db: Path, keys: HomeKeys | None) -> bytes | None:
    """The SQLCipher key for ``engram.db``: none for a plain home, or for a database still plain
    while ``engram encrypt`` converts the home."""
    if keys is None or is_plain_sqlite(db):
        return None
    return keys.db
