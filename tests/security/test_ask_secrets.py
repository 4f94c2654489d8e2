"""`engram ask` shows a secret only when the vault is unlocked and the question asks (#12)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from memory.index.vectors import NumpyIndex
from memory.pipeline.core import PipelineOptions
from memory.service import MemoryService
from models.text_embedding import HashingEmbedder

ROOT = Path(__file__).resolve().parents[2]
BODY = [
    "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW",
    "QyNTUxOQAAACBqH7Zx9Kp2Lm4Rt8Vw3Yb6Nc1Qs5Ud0Fg7Hj2Kl9MzAAAAmJk3Xq1pZ",
]
KEY = "----BEGIN OPENSSH PRIVATE KEY----\n" + "\n".join(BODY) + "\n----END OPENSSH PRIVATE KEY----"


def test_ask_prints_no_stored_private_key(tmp_path: Path) -> None:
    """The review's case: a key pasted in a chat, its header read with four dashes."""
    home = tmp_path / "home"
    rows = [
        {"id": "k", "ts": "2026-02-16T09:00:00", "speaker": "me", "text": f"my ssh key:\n{KEY}"}
    ]
    (tmp_path / "c.jsonl").write_text(json.dumps(rows[0]))
    env = {**os.environ, "ENGRAM_VAULT_PASSPHRASE": "Horse-Battery-42"}
    cmd = [sys.executable, "-m", "app.cli.main", "--home", str(home)]
    done = subprocess.run([*cmd, "import", "chat", str(tmp_path / "c.jsonl")], cwd=ROOT, env=env)
    assert done.returncode == 0
    for question in ("what is my ssh private key?", "show the key from my chat"):
        out = subprocess.run(
            [*cmd, "ask", question], cwd=ROOT, env=env, capture_output=True, text=True, check=True
        ).stdout
        assert "REDACTED" in out or "don't have" in out
        assert all(line[:8] not in out for line in BODY), out


def _service(home: Path) -> MemoryService:
    service = MemoryService(home, embedder=HashingEmbedder(), index=NumpyIndex())
    service.pipeline(
        PipelineOptions(vault_backend="passphrase", vault_passphrase="Horse-Battery-42")
    )
    return service


def test_answers_reveal_a_secret_only_unlocked_and_asked(tmp_path: Path, echo_llm: type) -> None:
    secret = "Zq8Xw7Vb6Nm5Lk4Jh3Gf2Ds1Ap0Oi9Uy8Tr7E"
    with _service(tmp_path / "home") as service:
        vault = service.vault()
        vault.unlock("Horse-Battery-42")
        mid = vault.add_secret(
            "token",
            secret,
            placeholder="[REDACTED:token:1]",
            caption="deploy token seen in CI",
            source="CI",
            source_id=None,
            ts=1.0,
        )
        llm = echo_llm(f"The deploy token is {secret} [1].")
        agents = service.agents(llm=llm)
        vault.lock()
        locked = agents.ask("what is the deploy token?", keep=False)
        assert secret not in locked.text and secret not in json.dumps(llm.prompts)
        vault.unlock("Horse-Battery-42")
        not_asked = agents.ask("what happened in CI today?", keep=False)
        assert secret not in not_asked.text
        llm.prompts.clear()
        asked = agents.ask("what is the deploy token?")
        assert secret in asked.text and secret in json.dumps(llm.prompts)
        assert vault.show(mid)[0].secret == secret
        messages = service.chat_messages(asked.session_id)
        assert all(secret not in m.content for m in messages), "the kept turn is redacted"
