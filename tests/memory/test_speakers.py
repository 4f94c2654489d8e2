"""A question that names a chat speaker ranks that speaker's own turns first (#15)."""

from memory.search.speakers import named_speakers

from .conftest import write_jsonl

SPEAKERS = frozenset({"Caroline", "Melanie", "Dario Hartmann", "Dario Conti", "me"})


def test_a_first_name_names_the_one_speaker_who_has_it():
    found = named_speakers("What did Caroline's group research?", SPEAKERS)
    assert found.names == {"Caroline"}
    assert "caroline" not in found.words.split()
    assert "research" in found.words.split()


def test_a_shared_first_name_needs_the_full_name():
    assert not named_speakers("What did Dario say about the move?", SPEAKERS)
    found = named_speakers("What did Dario Conti say about the move?", SPEAKERS)
    assert found.names == {"Dario Conti"}
    assert found.words.split() == ["what", "did", "say", "about", "the", "move"]


def test_both_speakers_and_stop_word_names():
    found = named_speakers("What have Caroline and Melanie both painted?", SPEAKERS)
    assert found.names == {"Caroline", "Melanie"}
    assert not named_speakers("what did me say", SPEAKERS)  # "me" is no name


def test_a_query_of_names_only_keeps_its_words():
    found = named_speakers("Melanie?", SPEAKERS)
    assert found.names == {"Melanie"}
    assert found.words == "Melanie?"


def _conversation(tmp_path):
    turns = [
        ("Ana", "Hey Bo, how was the weekend?"),
        ("Bo", "Hi Ana! I went climbing at the quarry with my sister."),
        ("Ana", "Bo, that sounds fun. I stayed in and baked bread."),
        ("Bo", "Nice one, Ana. Bread is hard to get right."),
        ("Ana", "Bo, my sourdough finally rose after three tries."),
        ("Bo", "Ana, you should sell it at the market."),
    ]
    rows = [
        {
            "id": f"t{i}",
            "ts": f"2026-02-16T09:0{i}:00",
            "speaker": who,
            "text": text,
            "session": "s1",
        }
        for i, (who, text) in enumerate(turns)
    ]
    return write_jsonl(tmp_path / "chat.jsonl", rows)


def _speakers(service, query):
    return [h.title.split(" ")[0] for h in service.search(query, k=6)]


def test_a_named_speakers_own_turns_come_first(service, tmp_path):
    service.import_chat(_conversation(tmp_path))
    # "Bo" is written in every turn of Ana's (and in the context of Ana's neighbours), so by
    # words alone Ana's turns would come first
    service.searcher.speaker_boost = 0.0
    before = _speakers(service, "What did Bo do at the weekend?")
    service.searcher.speaker_boost = 0.5
    after = _speakers(service, "What did Bo do at the weekend?")
    assert before[0] == "Ana"
    assert after[0] == "Bo"
    assert service.search("What did Bo do at the weekend?", k=1)[0].sources[0].message_id == "t1"


def test_new_speakers_are_seen_after_an_import(service, tmp_path):
    assert service.searcher.speakers.names() == frozenset()
    service.import_chat(_conversation(tmp_path))
    assert service.searcher.speakers.names() == {"Ana", "Bo"}
