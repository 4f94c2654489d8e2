"""Validation of managers' answers: accepted whole or rejected whole."""

from __future__ import annotations

import jsonschema
import pytest

from memory.agents.ops import InvalidOps, ops_schema, validate_answer


def _insert(**fields):
    return {"op": "insert", "fields": {"name": "Lisbon trip", "summary": "Flight TP1234", **fields}}


def test_valid_answer_becomes_operations_with_provenance():
    ops = validate_answer(
        {
            "operations": [
                _insert(),
                {"op": "update", "id": 7, "fields": {"summary": "x"}},
                {"op": "merge", "ids": [7, 9], "fields": {}},
                {"op": "delete", "id": 9},
            ]
        },
        "semantic",
        [7, 9],
        [1, 2],
        agent="semantic_manager",
    )
    assert [o.op for o in ops] == ["insert", "update", "merge", "delete"]
    assert ops[2].ids == (7, 9)
    assert all(o.source_ids == (1, 2) and o.mtype == "semantic" for o in ops)


@pytest.mark.parametrize(
    "answer, reason",
    [
        ("not json at all", "operations"),
        ({"ops": []}, "operations"),
        (
            {"operations": [{"op": "update", "id": 99, "fields": {"summary": "x"}}]},
            "not one of the items shown",
        ),
        ({"operations": [{"op": "delete", "id": True}]}, "not one of the items shown"),
        (
            {"operations": [{"op": "insert", "type": "knowledge", "fields": {}}]},
            "not this manager's type",
        ),
        ({"operations": [{"op": "drop_table", "fields": {}}]}, "unknown op"),
        ({"operations": [_insert(summary="x" * 601)]}, "at most 600"),
        ({"operations": [_insert(secret_ct="aa")]}, "unknown field"),
        ({"operations": [{"op": "insert", "fields": {"summary": "no name"}}]}, "missing"),
        ({"operations": [{"op": "merge", "ids": [7, 7], "fields": {}}]}, "two different ids"),
        ({"operations": [_insert(), {"op": "delete", "id": 8}]}, "not one of the items shown"),
        ({"operations": [{**_insert(), "tree_path": ["a"] * 9}]}, "tree_path must be"),
        # what a 0.5B model wrote as semantic names on screens-dev (bench/memorize.py)
        ({"operations": [_insert(name="id")]}, "placeholder"),
        ({"operations": [_insert(name=" None ")]}, "placeholder"),
        ({"operations": [_insert(name="Observations")]}, "placeholder"),
        ({"operations": [_insert(summary="summary")]}, "placeholder"),
        ({"operations": [_insert(name="obs 29: Calendar")]}, "names an id"),
        ({"operations": [_insert(name="[id 7] Lisbon")]}, "names an id"),
    ],
)
def test_bad_answers_are_rejected_whole(answer, reason):
    with pytest.raises(InvalidOps, match=reason):
        validate_answer(answer, "semantic", [7, 9], [1], agent="t")


def test_unknown_memory_type_is_rejected():
    with pytest.raises(InvalidOps, match="unknown memory type"):
        validate_answer({"operations": []}, "knowledge", [], [], agent="t")


def test_schema_is_valid_and_limits_ids_to_items_shown():
    schema = ops_schema("semantic", [3, 5])
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate({"operations": [{"op": "delete", "id": 3}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"operations": [{"op": "delete", "id": 4}]}, schema)
    only_inserts = ops_schema("procedural", [])
    jsonschema.Draft202012Validator.check_schema(only_inserts)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"operations": [{"op": "delete", "id": 3}]}, only_inserts)


def test_what_the_schema_allows_the_validator_accepts():
    """A constrained decoder can only produce schema-valid JSON; none of it may be rejected."""
    schema = ops_schema("procedural", [4])
    edge = {
        "operations": [
            {"op": "insert", "fields": {"summary": "s", "steps": ["a"]}, "tree_path": ["x"] * 4},
            {"op": "update", "id": 4, "fields": {}},
        ]
    }
    jsonschema.validate(edge, schema)
    validate_answer(edge, "procedural", [4], [1], agent="t")
    for bad in ({"summary": "", "steps": ["a"]}, {"summary": "s", "steps": [""]}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({"operations": [{"op": "insert", "fields": bad}]}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(
            {
                "operations": [
                    {"op": "insert", "fields": {"summary": "s", "steps": ["a"]}, "tree_path": [""]}
                ]
            },
            schema,
        )


def test_a_key_word_is_a_fine_label_and_a_placeholder_only_when_alone():
    core = {"op": "insert", "fields": {"label": "name", "value": "Alice Moreau"}}
    assert validate_answer({"operations": [core]}, "core", [], [1], agent="t")
    named = _insert(name="Summary of the Q3 budget")
    assert validate_answer({"operations": [named]}, "semantic", [], [1], agent="t")


def test_an_answer_that_echoes_the_prompt_is_not_a_memory():
    from memory.agents.managers import _copied

    # what the packaged 0.5B model wrote as procedures on screens-dev
    assert _copied({"summary": "Add one only when the observations show a"}, "procedural")
    assert _copied({"summary": "Deploy", "steps": ["hugo build", "x"]}, "procedural")
    assert not _copied({"summary": "Cook the Pad Thai", "steps": ["soak noodles"]}, "procedural")
