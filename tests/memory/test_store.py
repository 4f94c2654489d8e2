import sqlite3
import threading

import pytest

from memory.errors import NotFound, SchemaTooNewError
from memory.store import MemoryStore, NewObservation
from memory.store.db import schema_version
from memory.store.memories import InvalidMemory


def test_new_database_gets_schema_and_pragmas(store):
    conn = store.read()
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version()
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for t in (
        "observations",
        "memories",
        "core_memory",
        "episodic_memory",
        "semantic_memory",
        "procedural_memory",
        "resource_memory",
        "vault_memory",
        "memory_events",
        "chat_sessions",
        "chat_messages",
        "meta",
        "observations_fts",
        "memories_fts",
    ):
        assert t in tables


def test_newer_database_is_refused_and_untouched(tmp_path):
    path = tmp_path / "mem.db"
    MemoryStore(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 5}")
    conn.close()
    before = path.read_bytes()
    with pytest.raises(SchemaTooNewError, match="upgrade Engram"):
        MemoryStore(path)
    assert path.read_bytes() == before


def test_ext_id_is_unique_per_kind(store):
    ids = store.add_observations(
        [
            NewObservation("chat", 1.0, "a", ext_id="x"),
            NewObservation("chat", 2.0, "b", ext_id="x"),
            NewObservation("screen", 3.0, "c", ext_id="x"),
        ]
    )
    assert ids[0] is not None and ids[1] is None and ids[2] is not None


def test_fts_follows_updates_and_deletes(store):
    (oid,) = store.add_observations([NewObservation("chat", 1.0, "lisbon flight")])
    match = lambda q: [  # noqa: E731 - a one-line query helper
        r[0]
        for r in store.read().execute(
            "SELECT rowid FROM observations_fts WHERE observations_fts MATCH ?", (q,)
        )
    ]
    assert match('"lisbon"') == [oid]
    store.update_observation(oid, text="porto train")
    assert match('"lisbon"') == [] and match('"porto"') == [oid]
    store.write(lambda c: c.execute("DELETE FROM observations WHERE id = ?", (oid,)))
    assert match('"porto"') == []


def test_memory_edit_keeps_history_and_delete_is_soft(store):
    mid = store.add_memory("semantic", {"name": "Miso", "summary": "Bo's cat"}, source_ids=[7])
    store.edit_memory(mid, {"summary": "Bo's grey cat"})
    m = store.get_memory(mid)
    assert m.version == 2 and m.summary == "Bo's grey cat" and m.source_ids == (7,)
    ops = [e["op"] for e in store.history(mid)]
    assert ops == ["insert", "update"]
    assert "Bo's cat" in store.history(mid)[1]["before"]
    store.delete_memory(mid)
    assert store.list_memories("semantic") == []
    assert store.list_memories("semantic", include_inactive=True)[0].deleted_at is not None
    with pytest.raises(NotFound):
        store.edit_memory(mid, {"summary": "x"})


def test_supersede_keeps_the_old_fact(store):
    old = store.add_memory("semantic", {"name": "Ana's city", "summary": "Ana lives in Porto"})
    new = store.supersede_memory(
        old, "semantic", {"name": "Ana's city", "summary": "Ana lives in Lisbon"}, agent="semantic"
    )
    assert store.get_memory(old).superseded_by == new
    assert [m.id for m in store.list_memories("semantic")] == [new]
    assert store.history(old)[-1]["op"] == "supersede"


@pytest.mark.parametrize(
    "mtype,data,msg",
    [
        ("nope", {"summary": "x"}, "unknown memory type"),
        ("semantic", {"summary": "no name"}, "needs a name"),
        ("semantic", {"name": "x", "colour": "red"}, "unknown field"),
        ("semantic", {"name": "x", "summary": "y" * 5000}, "limit"),
        ("procedural", {"summary": "x", "entry_type": "poem"}, "entry_type"),
        ("procedural", {"summary": "x", "steps": "not a list"}, "list of strings"),
        ("core", {"label": "human", "value": "x" * 50, "char_limit": 10}, "limit"),
        ("vault", {"caption": "x", "sensitivity": "extreme"}, "sensitivity"),
    ],
)
def test_invalid_memories_are_rejected_whole(store, mtype, data, msg):
    with pytest.raises(InvalidMemory, match=msg):
        store.add_memory(mtype, data)
    assert store.counts()["memories"] == dict.fromkeys(
        ("core", "episodic", "semantic", "procedural", "resource", "vault"), 0
    )
    assert store.read().execute("SELECT COUNT(*) FROM memory_events").fetchone()[0] == 0


def test_all_six_types_round_trip(store):
    data = {
        "core": {"label": "human", "value": "Name: Ana"},
        "episodic": {
            "occurred_at": 100.0,
            "ended_at": 200.0,
            "event_type": "meeting",
            "summary": "Budget sync",
        },
        "semantic": {"name": "TP1234", "summary": "Ana's flight", "source": "chat"},
        "procedural": {"entry_type": "guide", "summary": "deploy", "steps": ["build", "push"]},
        "resource": {
            "title": "spec.pdf",
            "resource_type": "doc",
            "content": "text",
            "uri": "file:///spec.pdf",
        },
        "vault": {"caption": "AWS key", "entry_type": "api_key", "secret_ct": b"\x01\x02"},
    }
    for mtype, fields in data.items():
        m = store.get_memory(store.add_memory(mtype, fields))
        for key, value in fields.items():
            got = m.fields.get(key, getattr(m, key, None))
            assert got == value, (mtype, key)


def test_store_writes_from_many_threads(store):
    def work(n):
        store.add_observations([NewObservation("chat", float(i), f"t{n} {i}") for i in range(50)])

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert store.counts()["observations"] == 200


def test_failed_write_rolls_back(store):
    def bad(conn):
        conn.execute("INSERT INTO meta (key, value) VALUES ('a', 'b')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        store.write(bad)
    assert store.get_meta("a") is None


def test_neighbour_walks_the_timeline(store):
    ids = store.add_observations([NewObservation("screen", float(t), str(t)) for t in (10, 30, 20)])
    assert store.neighbour(ids[0], 1).id == ids[2]
    assert store.neighbour(ids[2], 1).id == ids[1]
    assert store.neighbour(ids[1], 1) is None
    assert store.neighbour(ids[1], -1).id == ids[2]


def test_a_dropped_read_connection_is_replaced_by_a_working_one(tmp_path):
    """After a database error a loop drops its read connection; the next read opens a new one."""
    store = MemoryStore(tmp_path / "engram.db")
    try:
        first = store.read()
        first.execute("SELECT 1").fetchone()
        store.drop_reader()
        second = store.read()
        assert second is not first
        assert second.execute("SELECT 1").fetchone()[0] == 1
        with pytest.raises(Exception, match="closed"):
            first.execute("SELECT 1")
    finally:
        store.close()
