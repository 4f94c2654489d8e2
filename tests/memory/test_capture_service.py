"""MemoryService.start/pause/resume/stop_capture: the app's recorder, on a real Xvfb screen."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PIL import Image

from memory.index.vectors import NumpyIndex
from memory.pipeline.core import PipelineOptions
from memory.pipeline.recorder import config_from_settings
from memory.service import MemoryService
from memory.settings import Settings, SettingsKeyError, set_keys
from models.ocr import OcrLine
from models.text_embedding import HashingEmbedder

# A window whose text changes every 300 ms, so every capture tick sees a new frame.
CHANGING_WINDOW = """
import tkinter, itertools
root = tkinter.Tk(className="ledger")
root.title("ledger build")
root.geometry("640x400+0+0")
label = tkinter.Label(root, font=("DejaVu Sans", 40), bg="white", justify="left")
label.pack(fill="both", expand=True)
counter = itertools.count(1)
def tick():
    n = next(counter)
    label.config(text=f"step {n}\\n" + "#" * (n % 17), bg=("white", "yellow", "cyan")[n % 3])
    root.after(300, tick)
tick()
root.mainloop()
"""


class WordOcr:
    """A fake OCR engine (no model): every frame reads as one word."""

    def read(self, source: Image.Image) -> list[OcrLine]:
        return [OcrLine("pelican ledger", (0, 0, 10, 10), 0.9)]


def _service(home: Path) -> MemoryService:
    svc = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    svc.pipeline(PipelineOptions(ocr=WordOcr(), backoff_s=0.0))
    svc.set_settings({"capture.interval_s": 0.5, "audio.enabled": False})
    return svc


@pytest.fixture
def xvfb(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A private Xvfb with a changing Tk window on it; DISPLAY points at it."""
    if shutil.which("Xvfb") is None:
        pytest.skip("the Xvfb binary is not installed (apt-get install xvfb)")
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "800x600x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        name = ":" + pipe.readline().strip()
    monkeypatch.setenv("DISPLAY", name)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    window = subprocess.Popen([sys.executable, "-c", CHANGING_WINDOW])
    time.sleep(1.5)
    yield name
    window.kill()
    window.wait(5)
    server.terminate()
    server.wait(5)


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _screens(svc: MemoryService) -> int:
    return len(svc.store.observations_between(0, 4e9, kinds=("screen",), limit=10_000))


def test_capture_records_pauses_resumes_and_stop_joins_every_thread(
    tmp_path: Path, xvfb: str
) -> None:
    before = threading.active_count()
    svc = _service(tmp_path / "home")
    try:
        status = svc.start_capture()
        assert status["state"] == "capturing", status
        assert _wait(lambda: _screens(svc) >= 2), svc.capture_status()
        assert svc.start_capture()["state"] == "capturing"  # a second start is a no-op

        paused = svc.pause_capture()
        assert paused["state"] == "paused" and paused["reason"] == "user"
        time.sleep(1.0)  # a tick in flight when pausing may still deliver its frame
        frozen = _screens(svc)
        time.sleep(2.5)  # five intervals: a running recorder would keep several changing frames
        assert _screens(svc) == frozen

        assert svc.resume_capture()["state"] == "capturing"
        assert _wait(lambda: _screens(svc) >= frozen + 2), svc.capture_status()
        assert _wait(lambda: svc.capture_status()["indexed"] >= 2)
        status = svc.capture_status()
        assert status["frames_kept"] >= frozen + 2 and status["audio"] == "off"
        assert {"frames_skipped", "pending", "errors", "reason"} <= status.keys()

        svc.stop_capture()
        assert svc.capture_status()["state"] == "stopped"
        assert svc.store.counts()["by_status"].get("pending", 0) == 0  # stop flushed the backlog
        assert [h.obs_kind for h in svc.search("pelican ledger", k=3)][:1] == ["screen"]
    finally:
        svc.close()
    assert _wait(lambda: threading.active_count() == before, 5.0), threading.enumerate()


def test_without_a_display_status_says_unavailable_and_close_joins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    before = threading.active_count()
    svc = _service(tmp_path / "home")
    assert svc.capture_status()["state"] == "stopped"
    status = svc.start_capture()
    assert status["state"] == "unavailable" and "no X display" in status["reason"]
    assert svc.pause_capture()["state"] == "paused"
    resumed = svc.resume_capture()
    assert resumed["state"] == "unavailable" and resumed["frames_kept"] == 0
    svc.close()  # stops capture too
    assert threading.active_count() == before, threading.enumerate()


def test_capture_resumes_frames_left_pending_by_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from memory.pipeline.inbox import FrameMeta

    monkeypatch.delenv("DISPLAY", raising=False)
    svc = _service(tmp_path / "home")
    try:
        obs_id = svc.pipeline().inbox.add(
            Image.new("RGB", (320, 200), "white"),
            FrameMeta("screen", time.time(), "Editor", "notes", None),
        )
        assert svc.observation(obs_id).status == "pending"
        svc.start_capture()
        assert _wait(lambda: svc.observation(obs_id).status == "indexed", 20.0)
    finally:
        svc.close()


def test_settings_become_the_capture_config() -> None:
    settings = set_keys(
        Settings(),
        {
            "capture.interval_s": 4.0,
            "capture.monitors": "2, 1",
            "audio.enabled": True,
            "audio.device": "3",
            "retention.keep_full_days": 7,
            "retention.quota_gb": 1.5,
        },
    )
    config, policy = config_from_settings(settings)
    assert config.interval_s == 4.0 and config.monitors == [2, 1]
    assert config.audio_enabled and config.audio_device == 3
    assert "keepassxc" in [a.lower() for a in config.excluded_apps]
    assert "engram" in config.excluded_apps  # capture.exclude_engram_windows is on by default
    import re

    assert any(re.search(p, "Incognito - Chrome", re.I) for p in config.excluded_title_patterns)
    assert not any(re.search(p, "Invoice 7731", re.I) for p in config.excluded_title_patterns)
    assert policy.keep_full_days == 7 and policy.quota_bytes == int(1.5 * (1 << 30))
    assert config_from_settings(Settings())[0].audio_device is None
    with pytest.raises(SettingsKeyError, match="capture.monitors"):
        set_keys(Settings(), {"capture.monitors": "0"})
