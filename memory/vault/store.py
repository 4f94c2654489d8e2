"""The vault store: secrets found in captured text, kept only as AES-GCM ciphertext.

A vault memory holds a caption ("api_key seen in Terminal — ~/deploy"), where it came from and
``secret_ct``; the caption is what search, FTS and vectors ever see. The key lives in the OS
keyring or behind a passphrase (``memory.vault.crypto.KeyStore``, key file ``vault.key`` in the
home). ``lock`` is persistent (a meta flag): a locked vault is not unlocked from the keyring
automatically, so ``show`` prints captions only until ``unlock``.

When a secret is found while the key is not in memory (a passphrase vault in a headless run), its
value cannot be encrypted; it is dropped, and the entry keeps the caption and the placeholder so
the user knows what was seen and where.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memory.index.sync import VectorSync
from memory.store import MemoryStore
from memory.vault.crypto import KeyStore, VaultKeyError, VaultLocked

logger = logging.getLogger(__name__)

KEY_FILE = "vault.key"
LOCK_META = "vault_locked"
PASSPHRASE_ENV = "ENGRAM_VAULT_PASSPHRASE"
_ENTRY_TYPES = {
    "api_key": "api_key",
    "private_key": "credential",
    "token": "credential",
    "jwt": "credential",
    "password": "credential",
    "credit_card": "card",
    "iban": "bank_account",
    "email": "contact",
    "phone": "contact",
}


@dataclass(frozen=True, slots=True)
class VaultItem:
    """A vault entry as the CLI and GUI show it; ``secret`` is None unless unlocked."""

    id: int
    caption: str
    entry_type: str
    source: str
    sensitivity: str
    ts: float
    source_ids: tuple[int, ...]
    has_secret: bool
    secret: str | None = None


class Vault:
    """Adds, lists and reveals vault entries. Thread-safe (the key store has its own lock)."""

    def __init__(
        self,
        store: MemoryStore,
        vectors: VectorSync,
        home: Path,
        *,
        backend: str | None = None,
        passphrase: str | None = None,
    ) -> None:
        self._store = store
        self._vectors = vectors
        self.keys = KeyStore(Path(home) / KEY_FILE, backend=backend)
        self._passphrase = passphrase

    # -- lock state -----------------------------------------------------------------------------

    @property
    def locked_by_user(self) -> bool:
        """Whether the user locked the vault (persists across runs)."""
        return self._store.get_meta(LOCK_META) == "1"

    def lock(self) -> None:
        """Forget the key and keep the vault locked until :meth:`unlock`."""
        self.keys.lock()
        self._store.set_meta(LOCK_META, "1")

    def unlock(self, passphrase: str | None = None) -> None:
        """Load the key (creating it on first use) and clear the lock flag.

        Raises:
            VaultKeyError: wrong or missing passphrase, or the key is gone from the keyring.
        """
        self.keys.unlock(passphrase or self._passphrase or os.environ.get(PASSPHRASE_ENV))
        self._store.set_meta(LOCK_META, "0")

    def try_unlock(self, passphrase: str | None = None) -> str | None:
        """Unlock without asking anyone (keyring, ``passphrase``, the one given at construction
        or ``ENGRAM_VAULT_PASSPHRASE``); None, or why not. A user's lock is kept."""
        if self.keys.is_unlocked:
            return None
        if self.locked_by_user:
            return "the vault is locked; run `engram vault unlock`"
        try:
            self.keys.unlock(passphrase or self._passphrase or os.environ.get(PASSPHRASE_ENV))
        except VaultKeyError as exc:
            return str(exc)
        return None

    # -- entries --------------------------------------------------------------------------------

    def add_secret(
        self,
        kind: str,
        value: str,
        *,
        placeholder: str,
        caption: str,
        source: str,
        source_id: int | None,
        ts: float,
    ) -> int | None:
        """Store one secret (encrypted when the key is available); returns the memory id.

        Idempotent per (observation, placeholder): indexing an observation twice after a crash
        adds nothing the second time (returns None).
        """
        if source_id is not None and self._exists(source_id, placeholder):
            return None
        problem = self.try_unlock()
        data: dict[str, Any] = {
            "caption": caption,
            "entry_type": _ENTRY_TYPES.get(kind, kind),
            "source": source,
            "sensitivity": "high",
            "details": placeholder,
            "ts": ts,
        }
        if problem is None:
            data["secret_ct"] = self.keys.encrypt(value, aad=placeholder.encode())
        else:
            data["summary"] = "value not kept: the vault was locked when it was seen"
            logger.warning("a %s was seen while the vault was locked; its value was dropped", kind)
        mid = self._store.add_memory(
            "vault", data, source_ids=[source_id] if source_id else [], agent="indexer"
        )
        self._vectors.add_memories([self._store.get_memory(mid)])
        return mid

    def _exists(self, source_id: int, placeholder: str) -> bool:
        row = (
            self._store.read()
            .execute(
                "SELECT 1 FROM memories m JOIN memory_sources s ON s.memory_id = m.id "
                "WHERE m.type = 'vault' AND s.observation_id = ? AND m.details = ? LIMIT 1",
                (source_id, placeholder),
            )
            .fetchone()
        )
        return row is not None

    def items(self, limit: int = 200, offset: int = 0) -> list[VaultItem]:
        """Vault entries newest first, captions only."""
        return [
            self._item(m) for m in self._store.list_memories("vault", limit=limit, offset=offset)
        ]

    def show(self, mid: int, passphrase: str | None = None) -> tuple[VaultItem, str | None]:
        """One entry, with its secret when the vault can be unlocked (with ``passphrase`` if
        given); else (item, why not).

        Raises:
            NotFound: no vault entry has that id.
        """
        m = self._store.get_memory(mid)
        if m.type != "vault":
            from memory.errors import NotFound

            raise NotFound(f"memory {mid} is not a vault entry")
        item = self._item(m)
        blob = m.fields.get("secret_ct")
        if not blob:
            return item, "this entry has no stored value"
        problem = self.try_unlock(passphrase)
        if problem is not None:
            return item, problem
        try:
            secret = self.keys.decrypt(bytes(blob), aad=m.details.encode())
        except (VaultKeyError, VaultLocked) as exc:
            return item, str(exc)
        return VaultItem(**{**_asdict(item), "secret": secret}), None

    @staticmethod
    def _item(m: Any) -> VaultItem:
        f = m.fields
        return VaultItem(
            m.id,
            m.title,
            str(f.get("entry_type", "")),
            str(f.get("source", "")),
            str(f.get("sensitivity", "high")),
            m.ts,
            tuple(m.source_ids),
            bool(f.get("secret_ct")),
        )


def _asdict(item: VaultItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in item.__slots__}
