"""Vault encryption and the key store (memory/vault/crypto.py)."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend

from memory.errors import StoreError
from memory.vault.crypto import (
    KeyStore,
    VaultKeyError,
    VaultLocked,
    choose_backend,
    decrypt_bytes,
    encrypt_bytes,
    generate_key,
)

FAST_N = 2**12  # scrypt cost for tests; the default (2**15) is used in one test below


def test_encrypt_roundtrip_and_nonce_uniqueness() -> None:
    key = generate_key()
    a = encrypt_bytes(key, b"hunter2", b"row-1")
    b = encrypt_bytes(key, b"hunter2", b"row-1")
    assert a != b and b"hunter2" not in a
    assert decrypt_bytes(key, a, b"row-1") == b"hunter2"


@pytest.mark.parametrize("mutate", ["key", "aad", "flip", "truncate", "version"])
def test_wrong_key_or_tampering_is_a_clear_error(mutate: str) -> None:
    key = generate_key()
    blob = encrypt_bytes(key, b"secret", b"aad")
    other_key, aad = key, b"aad"
    if mutate == "key":
        other_key = generate_key()
    elif mutate == "aad":
        aad = b"other"
    elif mutate == "flip":
        blob = blob[:-1] + bytes([blob[-1] ^ 1])
    elif mutate == "truncate":
        blob = blob[:10]
    else:
        blob = b"\x02" + blob[1:]
    with pytest.raises(VaultKeyError) as info:
        decrypt_bytes(other_key, blob, aad)
    assert isinstance(info.value, StoreError) and str(info.value)


def test_env_file_forces_the_passphrase_backend(tmp_path: Path) -> None:
    assert os.environ["ENGRAM_KEYRING"] == "file"  # set by the root conftest
    assert choose_backend() == "passphrase"
    assert KeyStore(tmp_path / "vault.key").backend == "passphrase"


def test_passphrase_lifecycle(tmp_path: Path) -> None:
    path = tmp_path / "data" / "vault.key"
    store = KeyStore(path, scrypt_n=FAST_N)
    assert not store.initialized and not store.is_unlocked
    with pytest.raises(VaultKeyError, match="choose a passphrase"):
        store.unlock()
    store.unlock("correct horse")
    assert store.is_unlocked and store.initialized
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    blob = store.encrypt("IBAN DE89 3704 0044 0532 0130 00")
    assert b"DE89" not in blob and b"DE89" not in path.read_bytes()
    store.lock()
    with pytest.raises(VaultLocked, match="locked"):
        store.decrypt(blob)
    with pytest.raises(VaultLocked):
        store.encrypt("x")

    reopened = KeyStore(path)  # a new process: same file, same passphrase
    with pytest.raises(VaultKeyError, match="wrong vault passphrase"):
        reopened.unlock("wrong horse")
    assert not reopened.is_unlocked
    with pytest.raises(VaultKeyError, match="needs its passphrase"):
        reopened.unlock()
    reopened.unlock("correct horse")
    assert reopened.decrypt(blob) == "IBAN DE89 3704 0044 0532 0130 00"


def test_change_passphrase_keeps_secrets_readable(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "vault.key", scrypt_n=FAST_N)
    store.unlock("old pass phrase")
    blob = store.encrypt("token-123")
    with pytest.raises(VaultKeyError, match="wrong vault passphrase"):
        store.change_passphrase("not it", "new pass phrase")
    store.change_passphrase("old pass phrase", "new pass phrase")
    again = KeyStore(tmp_path / "vault.key")
    with pytest.raises(VaultKeyError):
        again.unlock("old pass phrase")
    again.unlock("new pass phrase")
    assert again.decrypt(blob) == "token-123"


def test_lost_key_file_means_a_new_key_that_cannot_read_old_secrets(tmp_path: Path) -> None:
    path = tmp_path / "vault.key"
    store = KeyStore(path, scrypt_n=FAST_N)
    store.unlock("pw, pw and pw!")
    blob = store.encrypt("old secret")
    path.unlink()
    fresh = KeyStore(path, scrypt_n=FAST_N)
    fresh.unlock("pw, pw and pw!")  # same passphrase, new salt, new random key
    with pytest.raises(VaultKeyError, match="not the one it was written with"):
        fresh.decrypt(blob)


@pytest.mark.parametrize(
    "content", ["{not json", '{"version": 9}', '{"version": 1, "backend": "passphrase"}']
)
def test_damaged_key_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    path = tmp_path / "vault.key"
    path.write_text(content)
    with pytest.raises(VaultKeyError, match="vault key file"):
        KeyStore(path).unlock("pw")


def test_default_scrypt_cost_is_recorded_and_used(tmp_path: Path) -> None:
    store = KeyStore(tmp_path / "vault.key")
    # spaces and "!" never occur in base64, so the passphrase cannot turn up in the file by chance
    # (the old "pw" did, in about one run in forty)
    store.unlock("pass phrase!")
    meta = json.loads((tmp_path / "vault.key").read_text())
    raw = (tmp_path / "vault.key").read_text()
    assert meta["n"] == 2**17 and meta["kdf"] == "scrypt" and "pass phrase!" not in raw


class MemoryKeyring(KeyringBackend):
    """A keyring backend that keeps passwords in a dict (stands in for the OS keyring)."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.items[(service, username)]


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_keyring_backend_needs_no_passphrase(tmp_path: Path, memory_keyring: MemoryKeyring) -> None:
    path = tmp_path / "vault.key"
    store = KeyStore(path, backend="keyring")
    store.unlock()
    blob = store.encrypt("s3cret")
    assert len(memory_keyring.items) == 1
    assert "wrapped_key" not in path.read_text()  # the key is only in the keyring
    store.lock()
    again = KeyStore(path, backend="keyring")
    again.unlock()
    assert again.decrypt(blob) == "s3cret"


def test_keyring_lost_or_replaced_key_is_a_clear_error(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "vault.key"
    KeyStore(path, backend="keyring").unlock()
    (entry,) = memory_keyring.items
    memory_keyring.items[entry] = "A" * 44  # someone else's key
    with pytest.raises(VaultKeyError, match="not this vault's key"):
        KeyStore(path, backend="keyring").unlock()
    memory_keyring.items.clear()
    store = KeyStore(path, backend="keyring")
    with pytest.raises(VaultKeyError, match="missing from the OS keyring"):
        store.unlock()
    assert not store.is_unlocked


def test_keyring_vault_opened_in_passphrase_mode_reads_backend_from_file(
    tmp_path: Path, memory_keyring: MemoryKeyring
) -> None:
    path = tmp_path / "vault.key"
    KeyStore(path, backend="keyring").unlock()
    store = KeyStore(path)  # ENGRAM_KEYRING=file, but the file says keyring
    store.unlock()
    assert store.is_unlocked


def test_no_keyring_available_is_a_clear_error(tmp_path: Path) -> None:
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(VaultKeyError, match="OS keyring"):
            KeyStore(tmp_path / "vault.key", backend="keyring").unlock()
    finally:
        keyring.set_keyring(previous)


@pytest.mark.parametrize(
    "n", ['"3"', "3", "0", "-1024", "1.5", "null", "true", '"x"', str(2**40), str(2**15 + 1)]
)
def test_a_malformed_scrypt_cost_is_refused_before_scrypt_runs(tmp_path: Path, n: str) -> None:
    path = tmp_path / "vault.key"
    KeyStore(path, scrypt_n=FAST_N).unlock("correct horse")
    meta = json.loads(path.read_text())
    path.write_text(json.dumps(meta).replace(f'"n": {FAST_N}', f'"n": {n}'))
    with pytest.raises(VaultKeyError, match="damaged"):
        KeyStore(path).unlock("correct horse")


@pytest.mark.parametrize("weak", ["a", "hunter2", "aaaaaaaaaaaaaaaa", "abababababab"])
def test_weak_passphrases_are_refused_for_new_vaults_and_new_passphrases(
    tmp_path: Path, weak: str
) -> None:
    path = tmp_path / "vault.key"
    with pytest.raises(VaultKeyError, match="passphrase"):
        KeyStore(path, scrypt_n=FAST_N).unlock(weak)
    assert not path.exists()
    store = KeyStore(path, scrypt_n=FAST_N)
    store.unlock("correct horse")
    with pytest.raises(VaultKeyError, match="passphrase"):
        store.change_passphrase("correct horse", weak)
    KeyStore(path).unlock("correct horse")  # unchanged
