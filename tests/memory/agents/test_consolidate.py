"""Consolidation: near-duplicates merge, nothing is silently lost."""

from __future__ import annotations

import json


def test_sweep_merges_near_duplicates_and_keeps_them_in_history(service):
    a = service.add_memory("semantic", {"name": "Maria", "summary": "Finance lead"}, source_ids=[1])
    b = service.add_memory(
        "semantic", {"name": "maria", "summary": "Finance lead at Acme"}, source_ids=[2]
    )
    c = service.add_memory("semantic", {"name": "Lisbon", "summary": "Offsite city"})
    assert service.agents().consolidate() == 1
    live = [m for m in service.list_memories("semantic") if m.title.lower() == "maria"]
    assert len(live) == 1 and set(live[0].source_ids) == {1, 2}
    gone = a if live[0].id == b else b
    assert service.get_memory(gone).superseded_by == live[0].id
    assert service.memory_history(gone)[-1]["op"] == "merge"
    assert service.get_memory(c).live


def test_an_llm_insert_that_repeats_an_item_updates_it(service, kit):
    old = service.add_memory("semantic", {"name": "Maria", "summary": "Finance lead"})

    def script(messages, schema):
        if "semantic memory" in messages[0]["content"]:
            return {
                "operations": [
                    {
                        "op": "insert",
                        "fields": {"name": "Maria", "summary": "Finance lead, likes tea"},
                    }
                ]
            }
        return {"operations": []} if "operations" in json.dumps(schema) else {"types": ["semantic"]}

    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Mail",
                "Maria",
                "Maria the finance lead says she likes tea and approved the offsite budget",
            )
        ],
    )
    service.agents(llm=kit.ScriptedLLM(script)).memorize_pending()
    [sem] = service.list_memories("semantic")
    assert sem.id == old and sem.summary == "Finance lead, likes tea"
    assert set(ids) <= set(sem.source_ids) and sem.version == 2


def test_operations_on_an_item_merged_away_earlier_in_the_batch_are_dropped(service, kit):
    a = service.add_memory("semantic", {"name": "Maria", "summary": "Finance lead"})
    b = service.add_memory("semantic", {"name": "Maria F", "summary": "Finance lead at Acme"})

    def script(messages, schema):
        if "semantic memory" in messages[0]["content"]:
            return {
                "operations": [
                    {"op": "merge", "ids": [a, b], "fields": {"summary": "Finance lead at Acme"}},
                    {"op": "update", "id": b, "fields": {"summary": "Maria F again"}},
                ]
            }
        return {"operations": []} if "operations" in json.dumps(schema) else {"types": ["semantic"]}

    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Mail",
                "Maria",
                "Maria finance lead Acme budget approved offsite Lisbon team dinner tonight",
            )
        ],
    )
    service.agents(llm=kit.ScriptedLLM(script)).memorize_pending()
    assert {o.status for o in service.store.get_observations(ids).values()} == {"memorized"}
    assert service.get_memory(b).superseded_by == a
    assert service.get_memory(a).summary == "Finance lead at Acme"
