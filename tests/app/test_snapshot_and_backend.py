"""`engram app --snapshot` and the chat pane over the service's own agent (no LLM: extractive)."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtGui import QImage

from app.views.chat_backend import ServiceChatBackend, normalise_citation
from memory.service import NO_ASSISTANT
from tests.app.seed import seed

ROOT = Path(__file__).resolve().parents[2]


def test_snapshot_writes_a_png_of_the_window(tmp_path: Path) -> None:
    service, _ids = seed(tmp_path / "home")
    service.close()
    out = tmp_path / "shot.png"
    # A fresh process, as `engram app --snapshot` runs; the fast test embedder avoids MiniLM.
    code = (
        "import sys; from pathlib import Path; from app.main import run_app;"
        "from memory.service import MemoryService; from memory.index.vectors import NumpyIndex;"
        "from models.text_embedding import HashingEmbedder;"
        "home = Path(sys.argv[1]);"
        "svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex());"
        "sys.exit(run_app(home, snapshot_path=Path(sys.argv[2]), view='memory', service=svc))"
    )
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "home"), str(out)],
        check=True,
        env=env,
        timeout=120,
        cwd=ROOT,
    )
    image = QImage(str(out))
    assert image.width() >= 1000 and image.height() >= 600
    colours = {
        image.pixel(x, y) for x in range(0, image.width(), 37) for y in range(0, image.height(), 29)
    }
    assert len(colours) > 5  # a rendered window, not a blank image


def test_app_command_parses_its_options(tmp_path: Path, monkeypatch: Any) -> None:
    import app.main
    from app.cli import cmd_app

    seen: dict[str, Any] = {}
    monkeypatch.setattr(app.main, "run_app", lambda home, **kw: seen.update(home=home, **kw) or 0)
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path)
    cmd_app.register(parser.add_subparsers())
    args = parser.parse_args(
        ["--home", str(tmp_path), "app", "--snapshot", "x.png", "--view", "chat"]
    )
    assert args.func(args) == 0
    assert seen == {
        "home": tmp_path,
        "snapshot_path": Path("x.png"),
        "view": "chat",
        "minimized": False,
    }


def test_citations_from_the_agent_are_normalised() -> None:
    cite = normalise_citation(
        {
            "n": 2,
            "id": "m:7",
            "kind": "semantic",
            "title": "Q3 budget",
            "sources": [{"observation_id": 12, "ts": "2026-02-17T09:00:00+00:00"}],
        }
    )
    assert cite["memory_id"] == 7 and cite["observation_id"] == 12
    assert cite["ts"] == 1771318800.0
    assert normalise_citation({"n": 1, "id": "o:5", "sources": []})["observation_id"] == 5


def test_service_backend_streams_a_kept_cited_answer(tmp_path: Path) -> None:
    service, _ids = seed(tmp_path / "home")
    try:
        backend = ServiceChatBackend()
        assert backend.unavailable_reason(service) == NO_ASSISTANT  # no LLM by default: extractive
        events = list(backend.stream(service, "What is the Q3 budget?", []))
        kinds = [e.kind for e in events]
        assert kinds[-1] == "done" and events[-1].session_id is not None
        assert "token" in kinds
        assert [s.id for s in service.chat_sessions()] == [events[-1].session_id]
    finally:
        service.close()


def test_backend_says_when_the_configured_assistant_model_cannot_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The backend used to probe methods the service did not have, so this reason never showed.
    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND", raising=False)  # conftest's default: none
    service, _ids = seed(tmp_path / "home")
    try:
        service.set_settings(
            {"assistant.backend": "local", "models.llm.path": str(tmp_path / "no-such-model")}
        )
        backend = ServiceChatBackend()
        assert backend.unavailable_reason(service) is None  # configured: it loads on first use
        events = list(backend.stream(service, "What is the Q3 budget?", []))
        assert events[-1].kind == "done"  # still answered, from the memories found, saying why
        text = "".join(e.text for e in events if e.kind == "token")
        assert "could not be loaded" in text and "no-such-model" in text
    finally:
        service.close()
