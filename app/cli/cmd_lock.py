"""`engram lock`, `engram unlock` and `engram encrypt`: the encrypted home (#12)."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path

from app.cli.common import print_json
from app.errors import EXIT_USAGE


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    sub.add_parser(
        "lock",
        help="lock an encrypted home: the key is dropped, capture stops, every command "
        "refuses until `engram unlock`",
    ).set_defaults(func=cmd_lock)
    unlock = sub.add_parser("unlock", help="unlock an encrypted home (asks for its passphrase)")
    unlock.set_defaults(func=cmd_unlock)
    enc = sub.add_parser(
        "encrypt",
        help="encrypt this home in place (database, frames, audio, vector metadata); safe to "
        "interrupt and run again",
    )
    enc.add_argument("--json", action="store_true")
    enc.set_defaults(func=cmd_encrypt)


def _root(args: argparse.Namespace) -> Path:
    from memory.paths import HomePaths, default_home

    paths = HomePaths(Path(args.home or default_home()))
    paths.create()
    return paths.root


def ask_passphrase(*, confirm: bool = False, prompt: str = "Engram passphrase: ") -> str | None:
    """ENGRAM_VAULT_PASSPHRASE, else the passphrase asked on the terminal; None when neither."""
    from memory.atrest.keys import PASSPHRASE_ENV

    env = os.environ.get(PASSPHRASE_ENV)
    if env:
        return env
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass(prompt)
    if confirm and getpass.getpass("again: ") != first:
        print("engram: the passphrases differ; nothing was changed", file=sys.stderr)
        return None
    return first


def _needs_passphrase(root: Path) -> bool:
    from memory.atrest.keys import key_file
    from memory.vault.crypto import choose_backend

    if key_file(root).is_file():
        return '"passphrase"' in key_file(root).read_text(encoding="utf-8")
    return choose_backend() == "passphrase"


def cmd_lock(args: argparse.Namespace) -> int:
    """Lock the home."""
    from memory.atrest import keys

    root = _root(args)
    if not keys.is_encrypted(root):
        print(
            "engram: error: this home is not encrypted, so there is nothing to lock; run "
            "`engram encrypt` first",
            file=sys.stderr,
        )
        return EXIT_USAGE
    keys.lock(root)
    print("Engram is locked: a running recorder stops capturing and closes the store; "
          "`engram unlock` opens it again")  # fmt: skip
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    """Unlock the home (checks the passphrase or the keyring key, clears the lock)."""
    from memory.atrest import keys

    root = _root(args)
    if not keys.is_encrypted(root):
        print("this home is not encrypted; nothing to unlock")
        return 0
    secret = ask_passphrase() if _needs_passphrase(root) else None
    keys.unlock(root, secret)
    print("Engram is unlocked")
    return 0


def cmd_encrypt(args: argparse.Namespace) -> int:
    """Encrypt the home in place, resumably, with progress."""
    from app.cli.progress import PhaseProgress
    from memory.atrest import keys
    from memory.atrest.convert import encrypt_home

    root = _root(args)
    new_key = not keys.is_encrypted(root)
    secret = ask_passphrase(confirm=new_key) if _needs_passphrase(root) else None
    with PhaseProgress() as progress:
        report = encrypt_home(root, secret, progress)
    if args.json:
        print_json(
            {
                "database": report.database,
                "files_sealed": report.files,
                "files_already": report.files_already,
                "vectors": report.vectors,
            }
        )
        return 0
    print(
        f"the home is encrypted: database {'converted' if report.database else 'already done'}, "
        f"{report.files} files sealed ({report.files_already} already), {report.vectors} vectors "
        "copied with keyed app names; privacy.encrypt_at_rest is on"
    )
    return 0
