"""The agents end to end against a real OpenAI-compatible server (llama-cpp-python + SmolLM2)."""

from __future__ import annotations

import pytest

from memory.agents import AgentConfig
from memory.agents.llm_factory import build_llm

pytestmark = pytest.mark.llamaserver


@pytest.fixture(scope="module")
def server_url(smol_server: str) -> str:
    return smol_server


def test_memorise_and_ask_through_the_server(service, kit, server_url):
    llm = build_llm(server_url, model="smol", timeout=120)
    ids = kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Firefox",
                "Flights - TAP",
                "Booking confirmed: flight TP1234 from Berlin to Lisbon "
                "departs 10:40, passenger Ana Silva, seat 14C",
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
    kit.add_indexed(service, [kit.chat(kit.T0 + 90, "my name is Ana")])
    agents = service.agents(llm=llm, config=AgentConfig(context_tokens=2048))
    results = []
    for _ in range(agents.config.rejected_retries + 1):  # the worker's passes: a batch whose
        results += agents.memorize_pending()  # answers were rejected twice is tried again
    assert results and all(r.llm_calls > 0 for r in results)
    assert {o.status for o in service.store.get_observations(ids).values()} == {"memorized"}
    failed = (
        service.store.read()
        .execute("SELECT detail FROM agent_log WHERE outcome = 'failed'")
        .fetchall()
    )
    assert failed == []
    assert service.list_memories("episodic") and service.list_memories("core")
    answer = agents.ask("what was the flight number to Lisbon?", keep=False)
    assert answer.text and answer.model == llm.model_id and answer.retrieved
