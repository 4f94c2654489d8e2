"""The chat agent: retrieval, prompt, citations with sources, vault, stored turns."""

from __future__ import annotations

from datetime import UTC, datetime

from memory.agents.chat import NOT_FOUND, citations, topic_keywords


def _seed(service, kit):
    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Firefox",
                "Flights - TAP",
                "Booking confirmed: flight TP1234 to Lisbon, seat 14C",
            ),
            kit.screen(
                kit.T0 + 86_400, "Mail", "Budget", "Maria: the offsite budget is 42,000 EUR"
            ),
        ],
    )
    service.agents().memorize_pending()
    return ids


def test_ask_without_llm_answers_extractively_with_cited_sources(service, kit):
    ids = _seed(service, kit)
    answer = service.ask("what was my flight number to Lisbon?", keep=False)
    assert "TP1234" in answer.text and answer.model.startswith("none")
    assert "Extractive mode" in answer.text and "Settings" in answer.text
    assert "**TP1234**" in answer.text  # the answer span is highlighted in the passage
    assert answer.citations, "the extractive answer cites its items"
    sources = {s["observation_id"] for c in answer.citations for s in c["sources"]}
    assert ids[0] in sources
    first = answer.citations[0]
    assert first["sources"][0]["ts"].startswith("2026-02-16")


def test_prompt_has_date_core_memory_and_numbered_items_and_citations_map(service, kit):
    _seed(service, kit)
    kit.add_indexed(service, [kit.chat(kit.T0 + 5, "my name is Ana")])
    service.agents().memorize_pending()
    llm = kit.ScriptedLLM(answer="Your flight was TP1234 [1], see also [9].")
    agents = service.agents(llm=llm)
    now = datetime(2026, 2, 21, 10, 0, tzinfo=UTC)
    answer = agents.ask("what was my flight number to Lisbon?", now=now, keep=False)
    system = llm.calls[-1][1][0]["content"]
    prompt = llm.calls[-1][1][-1]["content"]
    assert "Saturday 21 February 2026" in prompt and "Saturday" not in system
    assert "Name: Ana" in system and "[1]" in prompt and "Lisbon?" in prompt
    assert [c["n"] for c in answer.citations] == [1]  # [9] names no item: dropped
    assert "TP1234" in answer.retrieved[0].text or any(
        "TP1234" in h.text for h in answer.retrieved[:3]
    )


def test_time_expressions_rank_the_right_day_first(service, kit):
    kit.add_indexed(
        service,
        [
            kit.screen(kit.T0, "Mail", "Budget", "budget draft 30,000 EUR"),
            kit.screen(kit.T0 + 86_400, "Mail", "Budget", "budget final 42,000 EUR"),
        ],
    )
    now = datetime(2026, 2, 21, 10, 0, tzinfo=UTC).astimezone()
    answer = service.ask("budget on Tuesday", now=now, keep=False)
    assert "42,000" in answer.retrieved[0].text


def test_nothing_found_says_so(service, kit):
    answer = service.ask("zebra xylophone quantum", keep=False)
    assert answer.text == NOT_FOUND and answer.citations == []


def test_turns_stay_in_their_conversation_and_only_stated_facts_are_memorised(service, kit):
    _seed(service, kit)
    before = service.store.read().execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    plain = service.ask("What was my flight?")
    assert [m.role for m in service.chat_messages(plain.session_id)] == ["user", "assistant"]
    after = service.store.read().execute("SELECT COUNT(*) FROM observations").fetchone()[0]
    assert after == before, "a question is not an episode of the user's day"
    answer = service.ask("I live in Lisbon. What was my flight?", session_id=plain.session_id)
    msgs = service.chat_messages(answer.session_id)
    assert [m.role for m in msgs] == ["user", "assistant"] * 2
    links = (
        service.store.read()
        .execute(
            "SELECT observation_id FROM chat_messages WHERE session_id = ? AND "
            "observation_id IS NOT NULL",
            (answer.session_id,),
        )
        .fetchall()
    )
    obs = service.store.get_observations([r[0] for r in links])
    assert [o.speaker for o in obs.values()] == ["user"], "answers are never memorised"
    service.agents().memorize_pending()
    assert "Lives in: Lisbon" in service.list_memories("core")[0].details


def test_streaming_yields_pieces_then_the_answer(service, kit):
    _seed(service, kit)
    # longer than the hold-back of the answer's secret guard (memory/agents/runtime.py)
    answer = "TP1234 it was [1], the morning flight to Lisbon that you looked up on Monday."
    service.agents(llm=kit.ScriptedLLM(answer=answer))
    stream = service.ask_stream("flight number?", keep=False)
    pieces = list(stream)
    assert len(pieces) > 1 and stream.result is not None and stream.result.citations[0]["n"] == 1


def test_vault_entries_stay_out_of_the_prompt_while_locked(service, kit):
    service.add_memory(
        "vault",
        {
            "caption": "api key for deploy server",
            "entry_type": "api_key",
            "summary": "api key seen in Terminal",
            "sensitivity": "high",
        },
    )
    llm = kit.ScriptedLLM(answer="no")
    agents = service.agents(llm=llm)
    answer = agents.ask("what is the api key for the deploy server?", keep=False)
    assert all(h.kind != "vault" for h in answer.retrieved)
    assert "deploy server" not in llm.calls[-1][1][0]["content"]
    agents.chat.vault_unlocked = lambda: True
    answer = agents.ask("what is the api key for the deploy server?", keep=False)
    assert any(h.kind == "vault" for h in answer.retrieved)
    agents.ask("what did I do with the deploy server?", keep=False)  # not asking for a secret
    assert "api key for deploy" not in llm.calls[-1][1][0]["content"]


def test_recent_turns_add_topic_keywords():
    history = [
        {"role": "user", "content": "Tell me about the Lisbon offsite"},
        {"role": "assistant", "content": "Sure"},
    ]
    assert "lisbon" in topic_keywords("and the budget?", history)


def test_citations_ignore_numbers_out_of_range(service, kit):
    assert citations("see [0] and [5]", []) == []


def test_an_empty_llm_answer_falls_back_to_the_cited_items(service, kit):
    _seed(service, kit)
    service.agents(llm=kit.ScriptedLLM(answer=""))
    answer = service.ask("flight number to Lisbon?", keep=False)
    assert answer.text.startswith("(the model gave no answer)") and answer.citations


def test_an_assistant_that_cannot_load_answers_extractively_and_says_why(service, kit):
    from memory.agents.assistant import LazyAssistant
    from models.errors import ModelUnavailable

    _seed(service, kit)

    def loader():
        raise ModelUnavailable("llm", "auto", "no packaged LLM is installed")

    agents = service.agents(llm=LazyAssistant(loader, "auto"))
    answer = agents.ask("what was my flight number to Lisbon?", keep=False)
    assert "could not be loaded: no packaged LLM is installed" in answer.text
    assert "TP1234" in answer.text and answer.model == "none (extractive)"


def test_a_model_failing_mid_answer_keeps_the_partial_text_and_says_so(service, kit):
    from models.errors import LLMServerError

    _seed(service, kit)

    class Dying(kit.ScriptedLLM):
        def stream(self, messages, **kw):
            yield "Your flight was "
            raise LLMServerError("http://127.0.0.1:9/v1", "unreachable (connection reset)")

    service.agents(llm=Dying())
    stream = service.ask_stream("flight number to Lisbon?")
    text = "".join(stream)
    assert text.startswith("Your flight was ") and "stopped answering" in text
    assert stream.error and stream.result is not None
    kept = service.chat_messages(stream.result.session_id)
    assert kept[-1].content.startswith("Your flight was "), "the partial answer is kept"


def test_the_prompt_starts_with_the_cached_prefix_and_a_worked_example(service, kit):
    """#11: the answer's form is shown, once, in the prefix the runtime caches (``prime``)."""
    _seed(service, kit)
    primed: list[list[dict[str, str]]] = []

    class Priming(kit.ScriptedLLM):
        def prime(self, messages):
            primed.append(list(messages))
            return 0.0

    llm = Priming(answer="TP1234 [1].")
    agents = service.agents(llm=llm)
    agents.chat.prime()
    agents.ask("what was my flight number to Lisbon?", keep=False)
    sent = llm.calls[-1][1]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[:-1] == primed[0]  # everything but the question's own message is the prefix
    assert "Question:" in sent[1]["content"] and "[1]" in sent[2]["content"]
    assert "TP1234" in sent[-1]["content"] and "TP1234" not in sent[1]["content"]


def test_an_item_header_the_model_copies_is_dropped_and_the_item_cited(service, kit):
    """#11: a small model that starts by copying "[1] (seen ...; screen; ...)" is cleaned up."""
    _seed(service, kit)
    copied = "[1] (seen Mon 16 Feb 2026 10:00; screen; Flights - TAP (Firefox)) flight TP1234"
    service.agents(llm=kit.ScriptedLLM(answer=copied))
    stream = service.ask_stream("what was my flight number to Lisbon?", keep=False)
    text = "".join(stream)
    assert text.strip() == "flight TP1234 [1]"
    assert stream.result is not None and [c["n"] for c in stream.result.citations] == [1]


def test_an_answer_that_starts_with_a_citation_is_kept_as_it_is():
    from memory.agents.chat import drop_echo

    assert "".join(drop_echo(["[2", "] Maria said ", "42,000 EUR"])) == "[2] Maria said 42,000 EUR"
    assert "".join(drop_echo(["On 7 October 2026 [1]."])) == "On 7 October 2026 [1]."
    assert "".join(drop_echo([])) == ""
