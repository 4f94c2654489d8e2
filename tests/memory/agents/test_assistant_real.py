"""The assistant with real models and real processes: the packaged Qwen GGUF in-process and behind
a llama.cpp server; the server killed mid-answer."""

from __future__ import annotations

import importlib.util
import signal
import threading
from datetime import UTC, datetime

import pytest

from memory.agents import AgentConfig

pytestmark = pytest.mark.models

VANTAGE = (
    "Vantage CRM Master Subscription Agreement 3.2 Fees are invoiced annually in advance "
    "4.1 This Agreement renews automatically on 7 October 2026 unless either party gives notice "
    "4.2 Either party may cancel with 60 days notice before renewal"
)
NOW = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)


def _seed(service, kit):
    return kit.add_indexed(
        service,
        [
            kit.screen(kit.T0, "Evince", "vantage_crm_msa.pdf — Document Viewer", VANTAGE),
            kit.screen(
                kit.T0 + 600, "Mail", "Inbox", "Maria: lunch on Friday at 12:30 at Cantina Lisboa"
            ),
        ],
    )


@pytest.fixture(scope="module")
def qwen_local(packaged_gguf):
    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (scripts/test.sh builds it)")
    from models.config import LLMConfig
    from models.llm import load_llm

    llm = load_llm(LLMConfig(path=str(packaged_gguf), model_id="qwen-packaged", timeout=900))
    yield llm
    llm.unload()


def test_the_packaged_model_answers_short_and_cited(service, kit, qwen_local):
    ids = _seed(service, kit)
    agents = service.agents(llm=qwen_local, config=AgentConfig(answer_max_tokens=48))
    answer = agents.ask("When does the Vantage CRM contract renew?", now=NOW, keep=False)
    assert "7 october 2026" in answer.text.lower() or "october 7" in answer.text.lower()
    assert answer.citations, answer.text
    assert answer.citations[0]["sources"][0]["observation_id"] == ids[0], "[n] opens that moment"
    assert len(answer.text) < 200, "short and direct"
    missing = agents.ask("What is the name of my dentist?", now=NOW, keep=False)
    assert "don't have that" in missing.text.lower() or not missing.citations


@pytest.mark.llamaserver
def test_a_server_killed_mid_answer_keeps_the_partial_answer(
    service, kit, packaged_gguf, tmp_path, llama_server_factory
):
    from memory.agents.llm_factory import build_llm

    _seed(service, kit)
    proc, url = llama_server_factory(packaged_gguf, tmp_path / "server.log", alias="dying")
    try:
        llm = build_llm(url, model="dying", timeout=120)
        killed = threading.Event()
        model_stream = llm.stream

        def watched(*args, **kwargs):
            # the answer shown is held back a little (redaction), so the kill follows the model's
            # own tokens: the server dies for real after its third one, mid-answer
            for n, token in enumerate(model_stream(*args, **kwargs), start=1):
                yield token
                if n == 3 and not killed.is_set():
                    proc.send_signal(signal.SIGKILL)  # a real crash of the server process
                    killed.set()

        llm.stream = watched  # type: ignore[method-assign]
        agents = service.agents(llm=llm, config=AgentConfig(answer_max_tokens=200))
        stream = agents.ask_stream(
            "Describe the Vantage CRM agreement in detail, clause by clause.", now=NOW
        )
        pieces = list(stream)
        text = "".join(pieces)
        assert killed.is_set(), "the server streamed at least three tokens"
        assert "stopped answering" in text and stream.error, text
        said = text[: text.index("[the assistant")].strip()
        assert said, "what the model said before it died is shown"
        kept = service.chat_messages(stream.result.session_id)[-1].content
        assert kept.startswith(said), "the partial answer is kept"
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(30)
