"""BM25 bounded at scale (#16): common-term splits and time ranges give the plain results."""

from __future__ import annotations

import random

import pytest

from memory.search import common_terms, fts

W = ", ".join(str(x) for x in fts.OBS_WEIGHTS)
PLAIN = (
    f"SELECT o.id, -bm25(observations_fts, {W}) FROM observations_fts "
    "JOIN observations o ON o.id = observations_fts.rowid WHERE observations_fts MATCH ? "
    "AND o.ts_start >= ? AND o.ts_start < ? "
    f"ORDER BY bm25(observations_fts, {W}) LIMIT ?"
)
"""The query before #16: every matching row joined and scored."""


def _fill(store, texts: list[str], times: list[float] | None = None) -> None:
    times = times or [1_000.0 + i for i in range(len(texts))]

    def insert(conn):  # noqa: ANN001, ANN202
        conn.executemany(
            "INSERT INTO observations (id, kind, ts_start, app, window_title, text, status, "
            "created_at) VALUES (?, 'screen', ?, 'App', '', ?, 'indexed', 0)",
            [(i + 1, t, text) for i, (text, t) in enumerate(zip(texts, times, strict=True))],
        )

    store.write(insert)


def _plain(conn, match: str, k: int, start: float = -1e18, end: float = 1e18):
    return [(r[0], r[1]) for r in conn.execute(PLAIN, (match, start, end, k))]


@pytest.fixture
def spied(monkeypatch):
    """Common from 50 rows (tests stay small); every MATCH expression run is recorded."""
    monkeypatch.setattr(common_terms, "COMMON_ROWS", 50)
    common_terms.FREQUENCIES.clear()
    runs: list[str] = []
    real = common_terms.ranked

    def ranked(conn, table, match, k, run, kept=None, frequencies=common_terms.FREQUENCIES):  # noqa: ANN001, ANN202, PLR0913
        def spy(expr, n):  # noqa: ANN001, ANN202
            runs.append(expr)
            return run(expr, n)

        return real(conn, table, match, k, spy, kept, frequencies)

    monkeypatch.setattr(common_terms, "ranked", ranked)
    yield runs
    common_terms.FREQUENCIES.clear()


def test_split_query_finds_a_row_with_only_the_rare_term(store, spied):
    texts = [f"filler common words row{i}" for i in range(300)]
    texts[123] = "only the zanzibar entry here"  # the rare term, without the common one
    texts[200] = "common zanzibar together"
    texts[50] = texts[60] = "zanzibar and a longer line of other filler words"
    _fill(store, texts)
    conn = store.read()
    got = fts.search_observations(conn, '"common" OR "zanzibar"', 2)
    assert any(" AND " in expr for expr in spied)  # the split ran
    assert '"common" OR "zanzibar"' not in spied  # ... and the plain query did not
    assert [i for i, _ in got] == [201, 124]  # both terms first, then the rare-only row
    assert got == _plain(conn, '"common" OR "zanzibar"', 2)


def test_split_query_ranks_as_the_plain_query(store, spied):
    rnd = random.Random(5)
    vocab = [f"t{i}" for i in range(400)]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    texts = [" ".join(rnd.choices(vocab, weights, k=rnd.randint(3, 30))) for _ in range(3000)]
    _fill(store, texts)
    conn = store.read()
    split = 0
    for _ in range(120):
        terms = rnd.sample(vocab[:2] + vocab[5:60] + vocab[60::7], rnd.randint(2, 4))
        match = " OR ".join(f'"{t}"' for t in terms)
        spied.clear()
        got = fts.search_observations(conn, match, 20)
        split += any(" AND " in e for e in spied) and match not in spied
        want = _plain(conn, match, 20)
        scores = [round(s, 9) for _, s in want]
        assert [round(s, 9) for _, s in got] == scores
        # the same rows in the same order, but for rows tied on score
        assert [(i, s) for (i, _), s in zip(got, scores, strict=True) if scores.count(s) == 1] == [
            (i, s) for (i, _), s in zip(want, scores, strict=True) if scores.count(s) == 1
        ]
    assert split >= 5  # the split ran (7 of these 120 queries) and changed nothing


def test_too_few_rare_matches_fall_back_to_the_plain_query(store, spied):
    texts = ["common words"] * 200 + ["zanzibar"]
    _fill(store, texts)
    conn = store.read()
    got = fts.search_observations(conn, '"common" OR "zanzibar"', 10)
    assert spied[-1] == '"common" OR "zanzibar"'
    assert got == _plain(conn, '"common" OR "zanzibar"', 10)


def test_small_tables_run_the_plain_query_only(store, monkeypatch):
    """Below COMMON_ROWS rows nothing changes: the one plain query (LoCoMo, screens sets)."""
    common_terms.FREQUENCIES.clear()
    runs: list[str] = []
    real = fts._runner

    def runner(conn, sql, args):  # noqa: ANN001, ANN202
        run = real(conn, sql, args)
        return lambda expr, k: runs.append(expr) or run(expr, k)

    monkeypatch.setattr(fts, "_runner", runner)
    _fill(store, ["common words"] * 300 + ["zanzibar common"])
    fts.search_observations(store.read(), '"common" OR "zanzibar"', 10)
    assert runs == ['"common" OR "zanzibar"']


def test_phrases_only_of_plain_or_expressions():
    assert common_terms.phrases('"a" OR "b""c"') == ['"a"', '"b""c"']
    assert common_terms.phrases('"a" AND "b"') is None
    assert common_terms.phrases(fts.quote_fts("the Lisbon flight's gate") or "") == [
        '"lisbon"',
        '"flight"',
        '"gate"',
    ]


def test_time_range_bounds_rowids_with_the_same_results(store):
    rnd = random.Random(9)
    texts = [" ".join(rnd.choices(["alpha", "beta", "gamma", "delta"], k=6)) for _ in range(400)]
    times = [1_000.0 + i for i in range(400)]
    times[350], texts[350] = 1_050.5, "omega alpha"  # imported later, out of id order
    _fill(store, texts, times)
    conn = store.read()
    for start, end in ((1_040.0, 1_060.0), (1_000.0, 1_001.0), (1_390.0, 1_500.0)):
        got = fts.search_observations(conn, '"alpha" OR "delta"', 50, start=start, end=end)
        assert got == _plain(conn, '"alpha" OR "delta"', 50, start, end)
    got = fts.search_observations(conn, '"omega" OR "alpha"', 50, start=1_050.0, end=1_051.0)
    assert got[0][0] == 351 and {i for i, _ in got} <= {51, 351}


def test_time_range_without_rows_is_empty(store):
    _fill(store, ["alpha beta"] * 10)
    conn = store.read()
    assert fts.id_range(conn, "observations", "ts_start", 5_000.0, 6_000.0) == (0, 0, 0)
    assert fts.search_observations(conn, '"alpha"', 10, start=5_000.0, end=6_000.0) == []
    assert fts.id_range(conn, "observations", "ts_start", 1_002.0, None) == (3, 10, 8)
    assert fts.id_range(conn, "observations", "ts_start", 1_000.0, None, cap=5)[2] == 6
    assert fts.id_range(conn, "observations", "ts_start", None, None) is None
