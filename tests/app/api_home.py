"""A seeded home for the MCP and HTTP API tests: moments, memories, a secret, an excluded app."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from memory.store import NewObservation
from models.text_embedding import HashingEmbedder
from tests.app.seed import DAY, add_screens, write_chat

# A token-shaped secret that must never leave through MCP or the API.
SECRET = "ghp_Zq8vR2mN4kT7wY1pL5sX9cB3dF6hJ0aQeUiO"
SECRET_PLACEHOLDER = "[REDACTED:api_key:1]"
EXCLUDED_TEXT = "kdbx master database Lisbon passwords unlocked"
PASSPHRASE = "correct horse battery staple"
EMBEDDER = "hashing-256"


@dataclass(frozen=True, slots=True)
class Seeded:
    """Ids the tests use."""

    home: Path
    screens: list[int]
    excluded: int
    with_secret: int
    episode: int
    semantic: int
    vault: int


def seed_api_home(home: Path) -> Seeded:
    """Build the home on disk (the subprocess under test opens it with a hashing embedder)."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "config.toml").write_text(f'[models.text_embedding]\nmodel_id = "{EMBEDDER}"\n')
    service = MemoryService(home, embedder=HashingEmbedder(256), index=NumpyIndex())
    try:
        screens = add_screens(service, DAY.replace(hour=9), 12)
        service.import_chat(write_chat(home.parent / "chat.jsonl", DAY.replace(hour=13)))
        t = DAY.replace(hour=10).timestamp()
        excluded, with_secret = (
            i
            for i in service.store.add_observations(
                [
                    NewObservation(
                        kind="screen",
                        ts_start=t,
                        ts_end=t + 60,
                        app="KeePassXC",
                        window_title="Passwords.kdbx - KeePassXC",
                        text=EXCLUDED_TEXT,
                        status="indexed",
                    ),
                    NewObservation(
                        kind="screen",
                        ts_start=t + 120,
                        ts_end=t + 180,
                        app="Terminal",
                        window_title="Terminal - deploy",
                        status="indexed",
                        text=f"export GITHUB_TOKEN={SECRET_PLACEHOLDER} deploy Lisbon release",
                    ),
                ]
            )
            if i is not None
        )
        vault = service.vault()
        vault.unlock(PASSPHRASE)
        vault_id = vault.add_secret(
            "api_key",
            SECRET,
            placeholder=SECRET_PLACEHOLDER,
            caption="GitHub token seen in Terminal",
            source="Terminal",
            source_id=with_secret,
            ts=t + 120,
        )
        vault.lock()
        episode = service.add_memory(
            "episodic",
            {
                "summary": "Booked the Lisbon flight TP1361",
                "title": "Booking the Lisbon trip",
                "occurred_at": DAY.replace(hour=9).timestamp(),
                "ended_at": (DAY.replace(hour=9) + timedelta(minutes=5)).timestamp(),
            },
            source_ids=screens[:3],
            tree_path=["travel", "lisbon"],
        )
        semantic = service.add_memory(
            "semantic",
            {"name": "Q3 budget", "summary": "42,000 EUR; marketing 12,000"},
            source_ids=[screens[3]],
            tree_path=["work", "budget"],
        )
        service.add_memory(
            "core", {"label": "human", "value": "Name: Ana. Works on Engram. Flies to Lisbon."}
        )
    finally:
        service.close()
    return Seeded(home, screens, excluded, with_secret, episode, semantic, vault_id or 0)
