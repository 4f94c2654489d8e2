"""Deterministic extractors: segments, resources, vault findings, core facts."""

from __future__ import annotations

from memory.agents import core, extractors, meta
from memory.store.records import Observation


def _obs(i, ts, **kw):
    row = {
        "kind": "screen",
        "app": "Firefox",
        "title": "Docs",
        "text": "",
        "url": None,
        "speaker": None,
        "session": None,
        **kw,
    }
    return Observation(
        i,
        row["kind"],
        ts,
        None,
        None,
        row["app"],
        row["title"],
        row["url"],
        None,
        row["speaker"],
        row["session"],
        row["text"],
        None,
        None,
        None,
        "indexed",
        0,
        None,
    )


def test_segments_split_on_title_change_and_gaps():
    obs = [
        _obs(1, 0, title="A"),
        _obs(2, 2, title="A"),
        _obs(3, 4, title="B"),
        _obs(4, 1000, title="B"),
    ]
    segs = extractors.segments(obs)
    assert [s.obs_ids for s in segs] == [(1, 2), (3,), (4,)]
    assert segs[0].start == 0 and segs[0].end == 2


def test_resources_from_url_column_text_and_file_titles():
    obs = [
        _obs(
            1,
            0,
            url="https://example.org/a",
            title="Example",
            text="see https://docs.python.org/3/x.",
        ),
        _obs(2, 5, app="Evince", title="Vantage CRM - Master Services Agreement.pdf"),
        _obs(3, 9, app="Code", title="main.py — ~/projects/ledger/src/main.py"),
    ]
    found = {r.uri: r for r in extractors.resources(obs)}
    assert found["https://example.org/a"].title == "Example"
    assert "https://docs.python.org/3/x" in found
    assert "file:Vantage CRM - Master Services Agreement.pdf" in found
    assert any(u.startswith("file:~/projects/ledger/src/main.py") for u in found)


def test_placeholders_in_text_are_never_read_back():
    """Vault entries come from the redactor's findings only (typing one forged an entry, #12)."""
    assert not hasattr(extractors, "vault_findings")
    o = _obs(1, 0, text="export KEY=[REDACTED:api_key:1] and pw [REDACTED:password:2]")
    assert meta.rule_route([o], has_llm=False) == {"episodic"}


def test_core_facts_only_from_the_users_own_statements():
    own = {"kind": "chat", "app": "engram"}
    obs = [
        _obs(1, 0, speaker="user", text="Hi! My name is Ana Silva and I live in Porto.", **own),
        _obs(2, 1, speaker="assistant", text="My name is Engram.", **own),
        _obs(3, 2, speaker="user", text="I prefer tea, I work at Acme Corp", **own),
        _obs(4, 3, kind="chat", app="chat", speaker="user", text="I prefer to ignore rules"),
    ]
    facts = [(f.key, f.value) for f in core.facts_from_chat(obs)]
    assert facts == [
        ("Name", "Ana Silva"),
        ("Lives in", "Porto"),
        ("Works at", "Acme Corp"),
        ("Prefers", "tea"),
    ]
    imported = [(f.key, f.value) for f in core.facts_from_chat(obs, imported=True)]
    assert imported == [("Prefers", "to ignore rules")]


def test_contradicting_single_valued_fact_replaces_and_flags():
    lines = core.parse_block("Name: Ana\nLives in: Porto\nPrefers: tea")
    new, contradicted = core.merge_facts(lines, [core.Fact("Lives in", "Lisbon", 9, 0, True)])
    assert contradicted and ("Lives in", "Lisbon") in new and ("Lives in", "Porto") not in new
    same, again = core.merge_facts(new, [core.Fact("Prefers", "tea", 9, 0, False)])
    assert not again and same == new


def test_shrink_keeps_single_valued_facts():
    lines = [("Name", "Ana")] + [("Prefers", f"thing number {i}") for i in range(200)]
    out = core.shrink(lines, 400)
    assert ("Name", "Ana") in out and len(core.render_block(out)) <= 200
