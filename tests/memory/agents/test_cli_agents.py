"""The agents' CLI handlers, called directly (the lead registers them in app/cli/main.py)."""

from __future__ import annotations

import argparse
import io
import json

from app.cli import cmd_agents


def _run(service, argv, monkeypatch, capsys, stdin=None):
    parser = argparse.ArgumentParser()
    cmd_agents.register(parser.add_subparsers())
    args = parser.parse_args(argv)
    args.home = None
    args._service = service
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = args.func(args)
    return code, capsys.readouterr().out


def test_memorize_then_ask_json(service, kit, monkeypatch, capsys):
    kit.add_indexed(
        service,
        [
            kit.screen(
                kit.T0,
                "Firefox",
                "Flights - TAP",
                "flight TP1234 to Lisbon",
                "https://flytap.com/b",
            )
        ],
    )
    code, out = _run(service, ["memorize", "--json", "--llm", "none"], monkeypatch, capsys)
    assert code == 0 and json.loads(out)["observations"] == 1
    code, out = _run(
        service,
        ["ask", "flight to Lisbon", "--json", "--now", "2026-02-21T10:00", "--llm", "none"],
        monkeypatch,
        capsys,
    )
    data = json.loads(out)
    assert code == 0 and "TP1234" in data["answer"]
    assert data["citations"][0]["sources"] and data["retrieved"]


def test_chat_reads_piped_questions_and_keeps_one_session(service, kit, monkeypatch, capsys):
    kit.add_indexed(service, [kit.screen(kit.T0, "Mail", "Budget", "offsite budget 42,000 EUR")])
    code, out = _run(
        service, ["chat", "--llm", "none"], monkeypatch, capsys, stdin="budget?\nand the offsite?\n"
    )
    assert code == 0 and out.count("engram> ") == 2 and "42,000" in out
    sessions = service.chat_sessions()
    assert len(sessions) == 1 and len(service.chat_messages(sessions[0].id)) == 4


def test_proposals_can_be_listed_and_rejected(service, kit, monkeypatch, capsys):
    from memory.agents.apply import apply_ops
    from memory.agents.ops import Op

    mid = service.add_memory("semantic", {"name": "x", "summary": "y"})
    report = apply_ops(service.store, [Op("delete", "semantic", {}, (mid,), (), None, "m")])
    _, out = _run(service, ["proposals"], monkeypatch, capsys)
    assert f"{report.proposal_id}:" in out
    _run(service, ["proposals", "--reject", str(report.proposal_id)], monkeypatch, capsys)
    assert service.get_memory(mid).live and service.agents().proposals() == []


def test_assistant_use_and_list_keep_the_choice_in_the_settings(service, monkeypatch, capsys):
    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND")  # the test session's "no assistant" override
    code, out = _run(
        service,
        ["assistant", "use", "http://127.0.0.1:11434/v1", "--model", "qwen2.5:1.5b"],
        monkeypatch,
        capsys,
    )
    assert code == 0 and "server http://127.0.0.1:11434/v1 (model qwen2.5:1.5b)" in out
    assert service.settings.current.assistant.backend == "server"
    assert service.agents().llm.model_id == "qwen2.5:1.5b"  # the agents follow the choice
    code, out = _run(service, ["assistant", "list", "--no-detect", "--json"], monkeypatch, capsys)
    data = json.loads(out)
    assert data["current"]["backend"] == "server" and data["choices"][-1]["kind"] == "none"
    code, out = _run(service, ["assistant", "use", "none"], monkeypatch, capsys)
    assert code == 0 and service.agents().llm is None
    code, _ = _run(service, ["assistant", "use", "no-such-model"], monkeypatch, capsys)
    assert code == 2
