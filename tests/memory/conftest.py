import json
from pathlib import Path

import pytest

from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from memory.store import MemoryStore
from models.text_embedding import HashingEmbedder


@pytest.fixture
def store(tmp_path):
    s = MemoryStore(tmp_path / "mem.db")
    yield s
    s.close()


@pytest.fixture
def service(tmp_path):
    s = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    yield s
    s.close()


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text(
        "\n".join(r if isinstance(r, str) else json.dumps(r) for r in rows) + "\n", encoding="utf-8"
    )
    return path


@pytest.fixture
def chat_file(tmp_path):
    rows = [
        {
            "id": "m1",
            "ts": "2026-02-16T09:00:00",
            "speaker": "Ana",
            "text": "The flight to Lisbon is TP1234 on Friday",
            "session": "s1",
        },
        {
            "id": "m2",
            "ts": "2026-02-16T09:01:00",
            "speaker": "Bo",
            "text": "Great, I booked the hotel near the river",
            "session": "s1",
        },
        {
            "id": "m3",
            "ts": "2026-02-17T15:00:00",
            "speaker": "Ana",
            "text": "The budget meeting moved to Thursday",
            "session": "s2",
        },
        {
            "id": "m4",
            "ts": "2026-02-18T11:00:00",
            "speaker": "Bo",
            "text": "My cat Miso knocked over the plant",
            "session": "s3",
            "image_caption": "a grey cat next to a broken pot",
        },
    ]
    return write_jsonl(tmp_path / "chat.jsonl", rows)
