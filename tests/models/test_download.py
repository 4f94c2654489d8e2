"""Downloads against a local http.server: progress, Range resume, sha256 verify, offline message."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from models import registry
from models.download import download, pull, sha256_file
from models.errors import ChecksumMismatch, DownloadError, ModelUnavailable

PAYLOAD = os.urandom(3 * (1 << 20) + 12345)
DIGEST = hashlib.sha256(PAYLOAD).hexdigest()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.ranges.append(self.headers.get("Range"))
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        if match and self.server.honour_range:
            start = int(match.group(1))
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(PAYLOAD) - 1}/{len(PAYLOAD)}")
        else:
            self.send_response(200 if self.path != "/missing" else 404)
        body = PAYLOAD[start:]
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.path == "/cut":  # promise everything, send a third, hang up
            self.wfile.write(body[: len(body) // 3])
            return
        self.wfile.write(body)


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[QuietServer]:
    srv = QuietServer(("127.0.0.1", 0), Handler)
    srv.ranges, srv.honour_range = [], True
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join()


def _url(srv: QuietServer, path: str = "/model.bin") -> str:
    return f"http://127.0.0.1:{srv.server_port}{path}"


def test_download_reports_progress_and_verifies(server, tmp_path):
    seen: list[tuple[int, int | None]] = []
    out = download(
        _url(server),
        tmp_path / "m.bin",
        model_id="m",
        sha256=DIGEST,
        progress=lambda done, total: seen.append((done, total)),
    )
    assert out.read_bytes() == PAYLOAD and sha256_file(out) == DIGEST
    assert seen[-1] == (len(PAYLOAD), len(PAYLOAD))
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) >= 3
    assert not (tmp_path / "m.bin.part").exists()


def test_resume_sends_range_and_completes(server, tmp_path):
    (tmp_path / "m.bin.part").write_bytes(PAYLOAD[:1_000_000])
    seen: list[int] = []
    download(
        _url(server),
        tmp_path / "m.bin",
        model_id="m",
        sha256=DIGEST,
        progress=lambda done, total: seen.append(done),
    )
    assert server.ranges == ["bytes=1000000-"]
    assert seen[0] > 1_000_000 and (tmp_path / "m.bin").read_bytes() == PAYLOAD


def test_server_without_range_support_restarts(server, tmp_path):
    server.honour_range = False
    (tmp_path / "m.bin.part").write_bytes(b"stale bytes")
    download(_url(server), tmp_path / "m.bin", model_id="m", sha256=DIGEST)
    assert (tmp_path / "m.bin").read_bytes() == PAYLOAD


def test_interrupted_transfer_keeps_part_then_resumes(server, tmp_path):
    with pytest.raises(DownloadError, match="resume"):
        download(_url(server, "/cut"), tmp_path / "m.bin", model_id="m", sha256=DIGEST)
    part = tmp_path / "m.bin.part"
    assert 0 < part.stat().st_size < len(PAYLOAD) and not (tmp_path / "m.bin").exists()
    download(_url(server), tmp_path / "m.bin", model_id="m", sha256=DIGEST)
    assert (tmp_path / "m.bin").read_bytes() == PAYLOAD


def test_hash_mismatch_deletes_and_raises(server, tmp_path):
    with pytest.raises(ChecksumMismatch, match="expected"):
        download(_url(server), tmp_path / "m.bin", model_id="m", sha256="0" * 64)
    assert not (tmp_path / "m.bin").exists() and not (tmp_path / "m.bin.part").exists()


def test_http_error(server, tmp_path):
    with pytest.raises(DownloadError, match="HTTP 404"):
        download(_url(server, "/missing"), tmp_path / "m.bin", model_id="m")


def test_offline_message_names_model_and_command(tmp_path, monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    entry = registry.CatalogueEntry(
        "test-clip", "clip", "t", url=f"http://127.0.0.1:{port}/x.bin", filename="x.bin"
    )
    monkeypatch.setitem(registry.CATALOGUE, "test-clip", entry)
    with pytest.raises(ModelUnavailable) as info:
        pull("test-clip", cache_dir=tmp_path)
    assert "test-clip" in str(info.value)
    assert "engram models pull test-clip" in info.value.reason and "local path" in info.value.reason


def test_pull_of_packaged_or_unknown_model_explains(tmp_path):
    with pytest.raises(ModelUnavailable, match="PyPI package"):
        pull("whisper-tiny.en", cache_dir=tmp_path)
    with pytest.raises(ModelUnavailable, match="not in the catalogue"):
        pull("no-such-model", cache_dir=tmp_path)


def test_pull_into_cache_then_found(server, tmp_path, monkeypatch):
    entry = registry.CatalogueEntry(
        "test-clip", "clip", "t", url=_url(server), sha256=DIGEST, filename="tc.bin"
    )
    monkeypatch.setitem(registry.CATALOGUE, "test-clip", entry)
    path = pull("test-clip", cache_dir=tmp_path)
    assert registry.cached_path(entry, tmp_path) == path
    assert pull("test-clip", cache_dir=tmp_path) == path and len(server.ranges) == 1
