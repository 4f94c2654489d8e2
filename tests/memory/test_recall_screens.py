"""Activity words, near-duplicate moments and lunch phrases (issue #15)."""

from datetime import datetime

import pytest

from memory.pipeline.activity import activity
from memory.search.timeparse import parse_time
from memory.store import NewObservation
from memory.timeutil import iso, parse_ts

NOW = datetime(2026, 3, 7, 10, 0).astimezone()  # a Saturday


@pytest.mark.parametrize(
    "app,title,url,word",
    [
        ("Slack", "#backend - Slack", None, "chatting"),
        ("Thunderbird", "Inbox - Mail", None, "email"),
        ("Visual Studio Code", "retry.py - app", None, "code"),
        ("Terminal", "sam@box: ~/src", None, "terminal"),
        ("Zoom", "Zoom Meeting", None, "call"),
        ("Document Viewer", "invoice-2291.pdf", None, "document"),
        ("Chromium", "Octopus memory | Review", "https://news.example/2026/03/octopus", "article"),
        ("Firefox", "Cart", "https://shop.example/cart", "shopping"),
        ("Chromium", "Results", "https://search.example/search?q=x", "search"),
        ("Chromium", "Meet", "https://meet.example/abc-defg", "call"),
    ],
)
def test_activity_from_window_facts(app, title, url, word):
    assert word in activity(app, title, url)


def test_activity_is_empty_without_window_facts():
    assert activity(None, None, None) == ""
    assert activity("SomeUnknownTool", "whatever", None) == ""


def test_activity_ignores_the_screen_text():
    # a page that talks about terminals is still a page
    assert "terminal" not in activity("Firefox", "Terminal tips", "https://blog.example/terminal")


@pytest.mark.parametrize(
    "query,start,end,rest",
    [
        (
            "Who was I chatting with on Tuesday after lunch?",
            "2026-03-03T13:00",
            "2026-03-03T18:00",
            "Who was I chatting with ?",
        ),
        (
            "What did I read during Tuesday's lunch break?",
            "2026-03-03T11:00",
            "2026-03-03T14:00",
            "What did I read during ?",
        ),
        ("mail yesterday before lunch", "2026-03-06T08:00", "2026-03-06T12:00", "mail"),
        (
            "what did I see yesterday at lunch",
            "2026-03-06T11:00",
            "2026-03-06T14:00",
            "what did I see",
        ),
    ],
)
def test_lunch_phrases(query, start, end, rest):
    rng, remaining = parse_time(query, NOW)
    assert rng is not None
    assert rng.start.strftime("%Y-%m-%dT%H:%M") == start
    assert rng.end.strftime("%Y-%m-%dT%H:%M") == end
    assert remaining == rest


def test_a_possessive_day_names_an_event_not_the_capture_time():
    rng, rest = parse_time("When does Thursday's interview panel begin?", NOW)
    assert rng is None and rest == "When does Thursday's interview panel begin?"
    rng, _ = parse_time("What did I read during Tuesday's lunch break?", NOW)
    assert rng is not None  # with a part of the day it is still when the user was there


def _screen(ts, title, text, app="Chromium"):
    return NewObservation(
        "screen", parse_ts(ts), text, app=app, window_title=title, status="indexed"
    )


def test_scrolled_copy_is_folded_into_one_moment(service):
    article = "Octopuses remember faces and solve puzzles; arms hold neurons that learn " * 3
    rows = [
        _screen("2026-03-03T12:10:00", "Octopus memory", article + "first part of the page"),
        _screen("2026-03-03T12:10:20", "Octopus memory", article + "scrolled further down"),
        _screen("2026-03-03T12:30:00", "Octopus farming", "Farms for octopuses raise concerns"),
    ]
    service.store.add_observations(rows)
    service.vectors.add_observations(service.store.observations_between(0, 2e9))
    hits = service.search("octopuses remember faces", k=5, now=NOW)
    titles = [h.title for h in hits]
    assert titles.count("Octopus memory") == 1  # one moment, not two
    moment = hits[titles.index("Octopus memory")]
    assert len(moment.sources) == 2
    j = moment.to_json()
    assert j["span"] == [iso(parse_ts(t)) for t in ("2026-03-03T12:10:00", "2026-03-03T12:10:20")]
    assert "Octopus farming" in titles


def test_different_windows_or_far_apart_stay_separate(service):
    text = "Quarterly budget review with the finance team and the numbers for March"
    rows = [
        _screen("2026-03-02T09:00:00", "Budget", text, app="Thunderbird"),
        _screen("2026-03-02T09:01:00", "Budget", text, app="Chromium"),  # another app
        _screen("2026-03-04T09:00:00", "Budget", text, app="Thunderbird"),  # two days later
    ]
    service.store.add_observations(rows)
    service.vectors.add_observations(service.store.observations_between(0, 2e9))
    hits = service.search("quarterly budget review", k=5, now=NOW)
    assert len(hits) == 3 and all(len(h.sources) == 1 for h in hits)


def test_words_ocr_ran_together_are_split_for_search():
    from memory.pipeline.joined import split_joined

    words = split_joined("NoahAcheampong09:42 can someone look at this\nCourtyardRoomsRiga PyIndex")
    assert words.split() == [
        *("Noah", "Acheampong", "09"),
        *("Courtyard", "Rooms", "Riga"),
        *("Py", "Index"),
    ]
    assert split_joined("plain words only, 2026-03-04 and v2.9.2") == ""
    assert split_joined("snake_case_name") == ""  # identifiers stay whole


def test_framing_words_are_not_searched():
    from memory.search.framing import lexical_words
    from memory.search.fts import quote_fts

    assert quote_fts(lexical_words("Which article did I have open?")) == '"article"'
    assert "open" in lexical_words("which tickets are open")  # a state, not the screen
    assert quote_fts(lexical_words("open source licence")) == '"open" OR "source" OR "licence"'
