"""A screenshot is a screen whichever way it arrived: the origin is its own field (#13)."""

from __future__ import annotations

import sqlite3
import time
from importlib import resources
from pathlib import Path

import pytest

from memory.errors import BadQuery
from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from memory.store import MemoryStore
from memory.timeline import load_summary
from models.text_embedding import HashingEmbedder


def old_home(root: Path) -> Path:
    """A home whose database stopped at schema 3: an imported frame stored as kind 'import'."""
    root.mkdir(parents=True)
    conn = sqlite3.connect(root / "engram.db")
    folder = resources.files("memory.store.migrations")
    for name in ("0001_init.sql", "0002_agents.sql", "0003_frames.sql"):
        conn.executescript(folder.joinpath(name).read_text(encoding="utf-8"))
    now = time.time()
    rows = [
        ("import", "f1", "Terminal", "pip show numpy 2.12.3", "frames/f1.png", now - 60),
        ("screen", None, "Firefox", "the numpy release notes", "frames/2026/s1.webp", now - 30),
        ("chat", "m1", "chat", "numpy is pinned", None, now - 10),
    ]
    conn.executemany(
        "INSERT INTO observations (kind, ext_id, app, text, frame_path, ts_start, status, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, 'indexed', ?)",
        [(*r, now) for r in rows],
    )
    conn.execute("PRAGMA user_version = 3")
    conn.commit()
    conn.close()
    return root


def test_migration_keeps_the_origin_and_makes_imports_screens(tmp_path: Path) -> None:
    home = old_home(tmp_path / "home")
    store = MemoryStore(home / "engram.db")
    rows = store.read().execute("SELECT kind, origin, ext_id FROM observations ORDER BY id")
    assert [tuple(r) for r in rows] == [
        ("screen", "import", "f1"),
        ("screen", "capture", None),
        ("chat", "import", "m1"),
    ]
    assert store.counts()["by_kind"] == {"screen": 2, "chat": 1}
    store.close()


def test_type_screen_finds_imported_frames_in_search_and_timeline(tmp_path: Path) -> None:
    home = old_home(tmp_path / "home")
    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    try:
        svc.reindex()
        hits = svc.search("numpy", types=("screen",))
        assert {(h.title, h.origin) for h in hits} == {
            ("Terminal", "import"),
            ("Firefox", "capture"),
        }
        assert all(h.obs_kind == "screen" for h in hits)
        with pytest.raises(BadQuery, match="use --type screen"):
            svc.search("numpy", types=("import",))
        summary = load_summary(svc.store.read(), time.time() - 3600, time.time() + 1, 60.0)
        assert summary is not None
        near = svc.nearest_observation(time.time() - 60, ("screen",))
        assert near is not None and near.origin == "import"
        # an import's frame_path is the user's original: never served or deleted as the home's
        assert svc.frame_file(near) is None
    finally:
        svc.close()


def test_legacy_import_vectors_still_match_the_screen_filter(tmp_path: Path) -> None:
    """Vectors written before the migration say kind "import": the screen filter finds them."""
    home = old_home(tmp_path / "home")
    index = NumpyIndex()
    svc = MemoryService(home, embedder=HashingEmbedder(), index=index, reconcile=False)
    try:
        vec = HashingEmbedder().embed_texts(["pip show numpy 2.12.3"])
        index.add(["o:1:0"], vec, [{"src": "o", "kind": "import", "ts": 0.0, "app": "Terminal"}])
        found = svc.searcher._nearest(vec[0], 5, "o", None, None, ("screen",), ())
        assert found == ["o:1"]
    finally:
        svc.close()
