import json
from datetime import datetime

import pytest

from memory.errors import BadQuery, ImportFailed, NotFound
from memory.search.fts import quote_fts
from memory.timeutil import parse_ts
from tests.memory.conftest import write_jsonl

NOW = datetime(2026, 2, 21, 10, 0).astimezone()


@pytest.mark.parametrize(
    "query", ["NOT", '"', "*", "(", "a AND (b OR", "NEAR(x y)", "col:thing", "'; DROP"]
)
def test_fts_operators_are_quoted(service, chat_file, query):
    service.import_chat(chat_file)
    service.search(query + " lisbon", now=NOW)  # must not raise an FTS syntax error
    expr = quote_fts(query + " lisbon")
    assert expr is not None and all(part.startswith('"') for part in expr.split(" OR "))


@pytest.mark.parametrize("query", ["", "   ", "?!...", "((("])
def test_empty_or_punctuation_only_query_is_a_clear_error(service, chat_file, query):
    service.import_chat(chat_file)
    with pytest.raises(BadQuery, match="no words"):
        service.search(query)


def test_hits_carry_sources_with_message_ids(service, chat_file):
    service.import_chat(chat_file)
    hits = service.search("flight to Lisbon", now=NOW)
    assert hits[0].sources[0].message_id == "m1"
    j = hits[0].to_json()
    assert set(j) == {"id", "kind", "score", "ts", "title", "text", "spans", "sources"} | {
        "obs_kind",
        "app",
        "origin",
    }
    assert (j["obs_kind"], j["origin"]) == ("chat", "import")
    assert j["kind"] == "observation" and j["sources"][0]["message_id"] == "m1"


def test_time_phrase_ranks_its_range_first(service, chat_file):
    service.import_chat(chat_file)
    hits = service.search("what happened on Tuesday", now=NOW)
    assert hits[0].sources[0].message_id == "m3"
    assert hits[0].in_time_range


def test_hard_filters_exclude(service, chat_file):
    service.import_chat(chat_file)
    hits = service.search("flight hotel budget cat", since=parse_ts("2026-02-17T00:00:00"), now=NOW)
    assert {h.sources[0].message_id for h in hits} == {"m3", "m4"}


def test_type_filter_and_memories(service, chat_file):
    service.import_chat(chat_file)
    mid = service.add_memory(
        "semantic", {"name": "Miso", "summary": "Bo's grey cat"}, source_ids=[4]
    )
    hits = service.search("grey cat", types=("semantic",))
    assert [h.id for h in hits] == [f"m:{mid}"]
    assert hits[0].sources[0].message_id == "m4"
    with pytest.raises(BadQuery, match="unknown type"):
        service.search("cat", types=("bogus",))


def test_image_caption_is_searchable(service, chat_file):
    service.import_chat(chat_file)
    assert service.search("broken pot")[0].sources[0].message_id == "m4"


def test_reimport_adds_no_duplicates(service, chat_file):
    assert service.import_chat(chat_file).imported == 4
    again = service.import_chat(chat_file)
    assert again.imported == 0 and again.duplicates == 4
    assert service.status()["observations"] == 4


@pytest.mark.parametrize(
    "line,reason",
    [
        ("{not json", "not valid JSON"),
        ('["a list"]', "JSON object"),
        ('{"id": "x", "ts": "2026-02-16T09:00:00", "speaker": "A"}', 'missing field "text"'),
        ('{"id": "x", "ts": "yesterday-ish", "speaker": "A", "text": "t"}', "ISO 8601"),
        ('{"id": "x", "ts": "2026-02-16T09:00:00", "speaker": 5, "text": "t"}', "must be str"),
    ],
)
def test_bad_line_imports_nothing_and_names_the_line(service, tmp_path, line, reason):
    good = json.dumps({"id": "g", "ts": "2026-02-16T09:00:00", "speaker": "A", "text": "hello"})
    path = write_jsonl(tmp_path / "bad.jsonl", [good, line])
    with pytest.raises(ImportFailed) as err:
        service.import_chat(path)
    assert err.value.line == 2 and reason in str(err.value)
    assert service.status()["observations"] == 0
    report = service.import_chat(path, skip_bad=True)
    assert report.imported == 1 and report.skipped[0][0] == 2


def test_non_utf8_line(service, tmp_path):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(
        '{"id": "x", "ts": "2026-02-16T09:00:00", "speaker": "A", "text": "café"}'.encode("latin-1")
    )
    with pytest.raises(ImportFailed, match="line 1: not UTF-8"):
        service.import_chat(path)


def test_one_megabyte_message(service, tmp_path):
    text = ("word " * 200_000) + "needle"
    path = write_jsonl(
        tmp_path / "big.jsonl",
        [{"id": "big", "ts": "2026-02-16T09:00:00", "speaker": "A", "text": text}],
    )
    assert service.import_chat(path).imported == 1
    assert service.search("needle")[0].sources[0].message_id == "big"


def test_forget_cascades(service, chat_file):
    service.import_chat(chat_file)
    only = service.add_memory(
        "semantic", {"name": "TP1234", "summary": "flight number"}, source_ids=[1]
    )
    shared = service.add_memory(
        "semantic", {"name": "Trip", "summary": "Lisbon trip"}, source_ids=[1, 3]
    )
    report = service.forget(parse_ts("2026-02-16T00:00:00"), parse_ts("2026-02-17T00:00:00"))
    assert (
        report.observations == 2 and report.memories_deleted == 1 and report.memories_trimmed == 1
    )
    assert service.search("TP1234 Lisbon flight hotel", types=("observation",)) == [] or all(
        h.sources[0].message_id not in ("m1", "m2")
        for h in service.search("TP1234 Lisbon flight hotel")
    )
    assert service.get_memory(shared).source_ids == (3,)
    with pytest.raises(NotFound):
        service.get_memory(only)
    raw = (
        service.store.read()
        .execute(
            "SELECT group_concat(coalesce(before,'') || coalesce(after,'')) FROM memory_events"
        )
        .fetchone()[0]
        or ""
    )
    assert "TP1234" not in raw
    assert not any(k.startswith(("o:1:", "o:2:")) for k in service.index.all_ids())


def test_export_excludes_vault_secrets(service, chat_file, tmp_path):
    import io

    from memory.export import export_home

    service.import_chat(chat_file)
    service.add_memory("vault", {"caption": "door code", "secret_ct": b"CIPHERTEXT-XYZ"})
    buf = io.StringIO()
    export_home(service.store, buf)
    data = json.loads(buf.getvalue())
    assert len(data["observations"]) == 4 and data["memories"][0]["title"] == "door code"
    assert "CIPHERTEXT" not in buf.getvalue() and "secret_ct" not in buf.getvalue()


def test_reindex_and_reconcile(service, chat_file):
    service.import_chat(chat_file)
    n = service.index.count()
    service.index.delete(["o:2:0"])
    added, removed = service.vectors.reconcile()
    assert added == 1 and removed == 0 and service.index.count() == n
    assert service.reindex() == n


def test_sequence_question_answers_with_the_next_screen(service):
    from memory.store import NewObservation

    def screen(ts, title, text):
        return NewObservation(
            "screen", parse_ts(ts), text, app="Firefox", window_title=title, status="indexed"
        )

    rows = [
        screen(
            "2026-02-17T09:00:00",
            "Why lithium prices fell",
            "Why lithium prices fell in 2025 article",
        ),
        screen(
            "2026-02-17T09:00:04",
            "Why lithium prices fell",
            "Why lithium prices fell in 2025 article more",
        ),
        screen("2026-02-17T09:02:00", "Order confirmed", "Your Bluefin order A73409 is confirmed"),
        screen("2026-02-18T09:00:00", "Night trains", "The quiet return of night trains"),
    ]
    service.store.add_observations(rows)
    service.vectors.add_observations(service.store.observations_between(0, 2e9))
    hits = service.search(
        "What was on my screen right after I read 'Why lithium prices fell in 2025'?"
    )
    assert hits[0].title == "Order confirmed"
    before = service.search("what did I see just before I read 'Your Bluefin order'")
    assert before[0].title == "Why lithium prices fell"


def test_sequence_phrase_parsing():
    from memory.search.sequence import parse_sequence

    q = parse_sequence("What was on my screen right after I read 'A field guide'?")
    assert q.anchor == "A field guide" and q.step == 1
    assert parse_sequence("what did I see just before I opened the budget sheet").step == -1
    assert parse_sequence("when after lunch did the build fail") is None


def test_hit_refs_parse_and_format() -> None:
    from memory.search.hits import HitRef

    assert HitRef.parse("m:7") == HitRef.memory(7) and str(HitRef.memory(7)) == "m:7"
    ref = HitRef.parse("o:12:3")  # a vector key's chunk suffix
    assert ref.is_observation and ref.id == 12 and not ref.is_memory
    for bad in ("x:1", "m:", "m:seven", ""):
        with pytest.raises(BadQuery, match="hit reference"):
            HitRef.parse(bad)


def test_a_time_phrase_embeds_the_query_once(service, chat_file, monkeypatch):
    """A query with a time phrase is fused twice (inside its range, then everywhere), #16."""
    service.import_chat(chat_file)
    emb = service.embedder()
    texts: list[str] = []
    real = emb.embed_texts

    def counting(batch):  # noqa: ANN001, ANN202
        texts.extend(batch)
        return real(batch)

    monkeypatch.setattr(emb, "embed_texts", counting)
    hits = service.search("budget meeting on Tuesday", now=NOW)
    assert hits[0].sources[0].message_id == "m3"
    assert texts == ["budget meeting"]
