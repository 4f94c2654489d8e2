"""The API's files in the home: the token (0600) and where a running server listens (#14)."""

from __future__ import annotations

import json
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from app.api.clients import write_private

TOKEN_FILE = "api-token"
SERVER_FILE = "api-server.json"


def ensure_token(home: Path) -> str:
    """The API token of this home, created (random, 256 bits, mode 0600) on first use."""
    path = Path(home) / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
        if len(token) >= 32:
            if path.stat().st_mode & 0o077:
                os.chmod(path, 0o600)
            return token
    except FileNotFoundError:
        pass
    token = secrets.token_urlsafe(32)
    write_private(path, token + "\n")
    return token


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """A server that said it listens: its port and process."""

    port: int
    pid: int

    @property
    def url(self) -> str:
        """The base URL (loopback only)."""
        return f"http://127.0.0.1:{self.port}"


def write_server_info(home: Path, port: int) -> None:
    """Record that this process serves the API on ``port``."""
    write_private(Path(home) / SERVER_FILE, json.dumps({"port": port, "pid": os.getpid()}))


def clear_server_info(home: Path) -> None:
    """Remove the record if it is this process's."""
    info = read_server_info(home, check_alive=False)
    if info is not None and info.pid == os.getpid():
        (Path(home) / SERVER_FILE).unlink(missing_ok=True)


def read_server_info(home: Path, *, check_alive: bool = True) -> ServerInfo | None:
    """The running server of this home, or None (no file, a bad file, or its process is gone)."""
    try:
        raw = json.loads((Path(home) / SERVER_FILE).read_text(encoding="utf-8"))
        info = ServerInfo(int(raw["port"]), int(raw["pid"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if check_alive:
        try:
            os.kill(info.pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # alive, someone else's: the token check decides
    return info
