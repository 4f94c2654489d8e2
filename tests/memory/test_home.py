"""The Home the subsystems share: configured models, live rebuilds on saved settings (#10)."""

from __future__ import annotations

from pathlib import Path

import pytest

from memory.index.vectors import NumpyIndex
from memory.service import MemoryService
from models.text_embedding import HashingEmbedder


def _service(tmp_path: Path) -> MemoryService:
    return MemoryService(tmp_path / "home", embedder=HashingEmbedder(), index=NumpyIndex())


def test_the_pipeline_reads_with_the_configured_ocr_model(tmp_path: Path) -> None:
    # pipeline/core.py looked up ``modelhub.get_ocr``, which never existed, and fell back to a
    # default RapidOCR: the configured OCR model was ignored.
    svc = _service(tmp_path)
    try:
        svc.set_settings({"models.ocr.max_side": 640})
        engine = svc.pipeline().reader().engine
        assert engine is svc.models.ocr() and engine.max_side == 640
    finally:
        svc.close()


def test_saved_model_and_assistant_settings_apply_without_a_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ENGRAM_ASSISTANT__BACKEND", raising=False)  # conftest's default: none
    svc = _service(tmp_path)
    try:
        hub = svc.models
        agents = svc.agents()
        svc.set_settings({"assistant.backend": "none"})
        agents = svc.agents()
        assert agents.llm is None
        svc.start_memorizing()
        svc.set_settings({"models.ocr.max_side": 800})
        assert svc.models is not hub and svc.models.config.ocr.max_side == 800
        svc.set_settings(
            {"assistant.backend": "server", "assistant.server_url": "http://127.0.0.1:9/v1"}
        )
        rebuilt = svc.agents()
        assert rebuilt is not agents and rebuilt.llm is not None
        assert rebuilt.worker.state().running  # the memorising worker goes on with the new LLM
        assert not agents.worker.state().running
        pinned = svc.agents(llm=None)  # `engram ask --llm none`: kept until asked again
        svc.set_settings({"assistant.model": "other"})
        assert svc.agents() is pinned and pinned.llm is None
    finally:
        svc.close()
