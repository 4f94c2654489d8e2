"""Snippets show the passage that matched, not the top of the screen (#13)."""

from __future__ import annotations

from memory.index.vectors import NumpyIndex
from memory.search.snippets import ELLIPSIS, build_snippet, query_terms
from memory.service import MemoryService
from memory.store import NewObservation
from models.text_embedding import HashingEmbedder

SCREEN = (
    "Activities  Tue 10:42\nTerminal — ~/ledger\nFile Edit View Search Terminal Help\n"
    + "collecting packages and building wheels for the project requirements " * 6
    + "\n$ pip show numpy\nName: numpy\nVersion: 2.12.3\nSummary: array computing\n"
    + "Location: /usr/lib/python3/site-packages " * 4
)


def marked(s):
    return [s.text[a:b] for a, b in s.spans]


def test_the_passage_around_the_best_match_with_terms_marked() -> None:
    s = build_snippet(SCREEN, "numpy version 2.12.3", 120)
    assert s.matched and "Version: 2.12.3" in s.text
    assert "Activities" not in s.text and s.text.startswith(ELLIPSIS)
    assert set(marked(s)) == {"numpy", "Version", "2.12.3"}
    assert len(s.text) <= 122


def test_the_window_with_most_distinct_terms_wins_over_the_first_match() -> None:
    text = "numpy " + "filler words here " * 30 + "later numpy 2.12.3 version line"
    s = build_snippet(text, "numpy 2.12.3", 60)
    assert "2.12.3" in s.text and s.text.startswith(ELLIPSIS)


def test_stems_stopwords_and_no_match() -> None:
    s = build_snippet("The flights to Lisbon are booked", "what flight to lisbon")
    assert marked(s) == ["flights", "Lisbon"] and s.text == "The flights to Lisbon are booked"
    assert query_terms("what is the flight") == ["flight"]
    none = build_snippet("a b c " * 100, "zebra", 40)
    assert not none.matched and none.spans == () and none.text.endswith(ELLIPSIS)
    assert build_snippet("", "x").text == ""


def test_search_hits_carry_the_matched_passage(tmp_path) -> None:
    svc = MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())
    try:
        svc.store.add_observations(
            [NewObservation("screen", 1.7e9, SCREEN, app="Terminal", status="indexed")]
        )
        svc.reindex()
        hit = svc.search("numpy 2.12.3")[0]
        assert "2.12.3" in hit.text and not hit.text.startswith("Activities")
        assert "2.12.3" in [hit.text[a:b] for a, b in hit.spans]
        assert hit.to_json()["spans"]
    finally:
        svc.close()
