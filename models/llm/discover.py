"""Find OpenAI-compatible LLM servers on this machine's loopback, with the models they serve.

Known local servers and their default ports: Ollama (11434; ``/api/tags`` lists its models and it
speaks OpenAI at ``/v1``), LM Studio (1234), llama.cpp's server (8080) and vLLM (8000), which list
models at ``/v1/models``. Probes are short and run in parallel, and only ever go to 127.0.0.1.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KnownServer:
    """A kind of local server: its name, default port and how it lists models."""

    name: str
    port: int
    ollama: bool = False


KNOWN: tuple[KnownServer, ...] = (
    KnownServer("Ollama", 11434, ollama=True),
    KnownServer("LM Studio", 1234),
    KnownServer("llama.cpp", 8080),
    KnownServer("vLLM", 8000),
)


@dataclass(frozen=True, slots=True)
class FoundServer:
    """A server that answered, with the base URL to configure and the models it offered."""

    name: str
    base_url: str
    models: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, object]:
        """For ``engram models servers --json`` and the settings view."""
        return {"name": self.name, "base_url": self.base_url, "models": list(self.models)}


def probe(server: KnownServer, host: str = "127.0.0.1", timeout: float = 0.8) -> FoundServer | None:
    """The server on ``host:port`` if it answers like ``server`` does, else None."""
    root = f"http://{host}:{server.port}"
    try:
        with httpx.Client(timeout=timeout) as client:
            if server.ollama:
                response = client.get(f"{root}/api/tags")
                if response.status_code == 200:
                    names = [m.get("name") or m.get("model") for m in response.json()["models"]]
                    return FoundServer(server.name, f"{root}/v1", _clean(names))
            response = client.get(f"{root}/v1/models")
            if response.status_code == 200:
                names = [m.get("id") for m in response.json()["data"]]
                return FoundServer(server.name, f"{root}/v1", _clean(names))
    except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.debug("no %s server on %s: %s", server.name, root, exc)
    return None


def _clean(names: list[object]) -> tuple[str, ...]:
    return tuple(str(n) for n in names if isinstance(n, str) and n)


def discover(
    servers: tuple[KnownServer, ...] | None = None, host: str = "127.0.0.1", timeout: float = 0.8
) -> list[FoundServer]:
    """Every known server (default: ``KNOWN``) that answers on loopback, in their order."""
    servers = KNOWN if servers is None else servers
    with ThreadPoolExecutor(max_workers=len(servers) or 1) as pool:
        found = list(pool.map(lambda s: probe(s, host, timeout), servers))
    return [f for f in found if f is not None]
