"""AES-GCM sealed files of an encrypted home (frames, thumbnails, audio), at the bytes level (#12).

A sealed file is ``MAGIC`` + the vault's ciphertext layout (version, nonce, ciphertext and tag).
The magic tells a sealed file from a plain one, so a home being converted file by file (``engram
encrypt``) is readable at every moment, and re-running the conversion skips what is done. The
name of a file does not change (``.webp`` stays ``.webp``): the database's paths stay valid.
"""

from __future__ import annotations

from memory.errors import EngramLocked
from memory.vault.crypto import decrypt_bytes, encrypt_bytes

MAGIC = b"ENGRAM-SEALED-1\n"
_AAD = b"engram-file-v1"


def is_sealed(data: bytes) -> bool:
    """Whether ``data`` is a sealed file's content."""
    return data[: len(MAGIC)] == MAGIC


def seal(key: bytes, data: bytes) -> bytes:
    """Encrypt a file's content under the home's file key."""
    return MAGIC + encrypt_bytes(key, data, _AAD)


def unseal(key: bytes | None, data: bytes, name: str = "file") -> bytes:
    """The plain content of a file: sealed content decrypted, plain content as it is.

    Raises:
        EngramLocked: the file is sealed and no key was given.
        VaultKeyError: wrong key, or the file was changed.
    """
    if not is_sealed(data):
        return data
    if key is None:
        raise EngramLocked(
            f"Engram is locked: {name} is encrypted and the home's key is not loaded"
        )
    return decrypt_bytes(key, data[len(MAGIC) :], _AAD)
