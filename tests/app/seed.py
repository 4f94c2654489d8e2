"""A seeded Engram home for the app's tests: screen moments with small PNG frames, chat, memory."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from memory.store import NewObservation
from models.text_embedding import HashingEmbedder

DAY = datetime(2026, 2, 17)
SCREENS = (
    (
        "Firefox",
        "Lisbon flights — TAP Air Portugal",
        "https://www.flytap.com/booking",
        "Flight TP1361 Lisbon departs 14:35 gate 12 booking reference QX7P2L",
    ),
    (
        "Slack",
        "#budget — Engram team",
        None,
        "Maria: the Q3 budget is 42,000 EUR, marketing gets 12,000 and hiring waits until October",
    ),
    (
        "Code",
        "service.py — engram",
        None,
        "def search(self, text): hybrid search over memories and observations fused by rank",
    ),
    (
        "Terminal",
        "Terminal — ~/projects/ledger",
        None,
        "$ pytest tests/ -q  128 passed in 4.12s  coverage 91%",
    ),
)


def make_frame(
    path: Path, app: str, title: str, text: str, size: tuple[int, int] = (480, 270)
) -> None:
    """Draw a small fake screenshot of a window."""
    img = Image.new("RGB", size, (245, 246, 248))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, size[0], 26), fill=(60, 64, 80))
    draw.text((8, 7), f"{app} — {title}", fill=(255, 255, 255))
    for i, start in enumerate(range(0, len(text), 48)):
        draw.text((14, 44 + 18 * i), text[start : start + 48], fill=(30, 30, 30))
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path)


def add_screens(
    service: MemoryService, start: datetime, count: int, step_s: float = 60.0
) -> list[int]:
    """Add ``count`` screen moments from ``start`` cycling through SCREENS; returns their ids."""
    items = []
    for i in range(count):
        app, title, url, text = SCREENS[(i // 3) % len(SCREENS)]
        ts = start + timedelta(seconds=i * step_s)
        rel = f"frames/{ts:%Y/%m/%d}/s{i:05d}.png"
        make_frame(service.paths.root / rel, app, title, text)
        items.append(
            NewObservation(
                kind="screen",
                ts_start=ts.timestamp(),
                ts_end=ts.timestamp() + step_s,
                app=app,
                window_title=title,
                url=url,
                text=text,
                frame_path=rel,
                status="indexed",
            )
        )
    ids = [i for i in service.store.add_observations(items) if i is not None]
    service.vectors.add_observations(list(service.store.get_observations(ids).values()), {})
    return ids


def write_chat(path: Path, start: datetime) -> Path:
    """A short chat JSONL file."""
    lines = [
        ("Maria", "Did you see the budget? Marketing gets 12,000 this quarter."),
        ("me", "Yes, and hiring waits until October, right?"),
        ("Maria", "Right. Let's book the Lisbon offsite on flight TP1361."),
    ]
    with path.open("w") as fh:
        for i, (who, text) in enumerate(lines):
            ts = (start + timedelta(minutes=i)).isoformat()
            fh.write(
                json.dumps({"id": f"c{i}", "ts": ts, "speaker": who, "text": text, "session": "s1"})
                + "\n"
            )
    return path


def seed(home: Path, screens: int = 24) -> tuple[MemoryService, dict[str, Any]]:
    """Build a seeded service; returns it and the ids the tests use."""
    service = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    ids = add_screens(service, DAY.replace(hour=9), screens)
    service.import_chat(write_chat(home.parent / "chat.jsonl", DAY.replace(hour=13)))
    epi = service.add_memory(
        "episodic",
        {
            "summary": "Booked the Lisbon flight TP1361",
            "title": "Booking the Lisbon trip",
            "occurred_at": DAY.replace(hour=9).timestamp(),
            "ended_at": DAY.replace(hour=9, minute=3).timestamp(),
        },
        source_ids=ids[:3],
        tree_path=["travel", "lisbon"],
    )
    sem = service.add_memory(
        "semantic",
        {"name": "Q3 budget", "summary": "42,000 EUR; marketing 12,000"},
        source_ids=[ids[3]],
        tree_path=["work", "budget"],
    )
    return service, {"screens": ids, "episode": epi, "semantic": sem}
