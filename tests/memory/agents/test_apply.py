"""Applying operations: one transaction, audit events, guarded deletes, proposals."""

from __future__ import annotations

import pytest

from memory.agents.apply import apply_ops, pending_proposals, resolve_proposal
from memory.agents.ops import Op
from memory.errors import NotFound


def _sem(service, name):
    return service.store.add_memory(
        "semantic", {"name": name, "summary": f"about {name}"}, agent="t"
    )


def _events(service):
    return (
        service.store.read()
        .execute("SELECT memory_id, op, agent FROM memory_events ORDER BY id")
        .fetchall()
    )


def test_ops_apply_in_one_transaction_with_provenance_and_audit(service):
    a, b = _sem(service, "alpha"), _sem(service, "beta")
    ops = [
        Op("insert", "semantic", {"name": "gamma", "summary": "g"}, (), (5, 6), ("work",), "m"),
        Op("update", "semantic", {"summary": "alpha v2"}, (a,), (7,), None, "m"),
        Op("merge", "semantic", {"summary": "alpha and beta"}, (a, b), (8,), None, "m"),
    ]
    report = apply_ops(service.store, ops)
    new = [m for m in service.list_memories("semantic") if m.title == "gamma"][0]
    assert new.source_ids == (5, 6) and new.tree_path == ("work",)
    merged = service.get_memory(a)
    assert merged.summary == "alpha and beta" and set(merged.source_ids) == {7, 8}
    assert service.get_memory(b).superseded_by == a
    assert b in report.removed and a in report.changed
    ops_logged = [(mid, op) for mid, op, agent in _events(service) if agent == "m"]
    assert (
        (new.id, "insert") in ops_logged
        and (a, "update") in ops_logged
        and (b, "merge") in ops_logged
    )


def test_a_failing_operation_rolls_back_the_whole_batch(service):
    a = _sem(service, "alpha")
    before = len(_events(service))
    ops = [
        Op("insert", "semantic", {"name": "gamma", "summary": "g"}, (), (), None, "m"),
        Op("update", "semantic", {"summary": "x"}, (a + 100,), (), None, "m"),
    ]
    with pytest.raises(NotFound):
        apply_ops(service.store, ops, allow_delete=True)
    assert [m.title for m in service.list_memories("semantic")] == ["alpha"]
    assert len(_events(service)) == before


def test_deletes_not_requested_by_the_user_become_a_proposal(service):
    a = _sem(service, "alpha")
    report = apply_ops(
        service.store, [Op("delete", "semantic", {}, (a,), (1,), None, "m")], allow_delete=False
    )
    assert service.get_memory(a).live and report.proposal_id is not None
    assert [p["id"] for p in pending_proposals(service.store)] == [report.proposal_id]


def test_more_than_the_delete_limit_becomes_a_proposal_and_the_user_can_apply_it(service):
    ids = [_sem(service, f"n{i}") for i in range(5)]
    ops = [Op("delete", "semantic", {}, (i,), (), None, "m") for i in ids]
    report = apply_ops(service.store, ops, allow_delete=True, delete_limit=3)
    assert all(service.get_memory(i).live for i in ids)
    resolve_proposal(service.store, report.proposal_id, accept=True)
    assert not any(service.get_memory(i).live for i in ids)
    assert pending_proposals(service.store) == []
    with pytest.raises(NotFound):
        resolve_proposal(service.store, report.proposal_id, accept=False)


def test_few_deletes_requested_by_the_user_apply(service):
    a = _sem(service, "alpha")
    apply_ops(service.store, [Op("delete", "semantic", {}, (a,), (), None, "m")], allow_delete=True)
    assert service.get_memory(a).deleted_at is not None
    assert service.memory_history(a)[-1]["op"] == "delete"
