"""The exposure settings behind MCP and the HTTP API, and `engram mcp --print-config` (#14)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from app.api.operations import Operations
from app.api.policy import Refused
from app.api.schemas import SearchRequest
from app.cli.main import main
from memory.errors import BadQuery
from tests.app.api_home import SECRET, Seeded, seed_api_home
from tests.app.test_mcp_stdio import server_env


@pytest.fixture
def seeded(tmp_path: Path) -> Seeded:
    return seed_api_home(tmp_path / "home")


@pytest.fixture
def ops(seeded: Seeded) -> Iterator[Operations]:
    o = Operations(seeded.home, face="mcp")
    yield o
    o.close()


def test_vault_exposed_shows_captions_never_secrets(ops: Operations, seeded: Seeded) -> None:
    ops.service().set_settings({"mcp.exposed_kinds": ["screen", "vault"]})
    vault = ops.list_memories("vault").memories
    assert [m.id for m in vault] == [seeded.vault]
    assert vault[0].title == "GitHub token seen in Terminal"
    assert "secret_ct" not in vault[0].fields
    hits = ops.search(SearchRequest(query="GitHub token", kinds=["vault"])).hits
    assert [h.id for h in hits] == [f"m:{seeded.vault}"]
    dumped = vault[0].model_dump_json() + ops.get_memory(seeded.vault).model_dump_json()
    assert SECRET not in dumped
    with pytest.raises(Refused, match="not exposed"):
        ops.list_memories("episodic")


def test_switches_refuse_with_the_setting_named(ops: Operations) -> None:
    service = ops.service()
    with pytest.raises(BadQuery, match="unknown kinds"):
        service.set_settings({"mcp.exposed_kinds": ["screen", "passwords"]})
    service.set_settings({"mcp.ask_tool": False})
    with pytest.raises(Refused, match="mcp.ask_tool"):
        ops.ask("When is the Lisbon flight?")
    service.set_settings({"mcp.enabled": False})
    with pytest.raises(Refused, match="mcp.enabled"):
        ops.search(SearchRequest(query="Lisbon"))
    # `engram serve` is started on purpose: mcp.enabled is MCP's switch; writes have their own
    api = Operations(ops.home, face="api", service_factory=lambda: service)
    assert api.search(SearchRequest(query="Lisbon")).hits
    service.set_settings({"mcp.write_tools": True})
    with pytest.raises(Refused, match="api.write_tools"):
        api.forget("2026-02-17T00:00:00", "2026-02-18T00:00:00")


def test_write_tools_when_turned_on(ops: Operations, seeded: Seeded) -> None:
    ops.service().set_settings({"mcp.write_tools": True})
    added = ops.add_memory(
        "semantic", title="Deploy token", summary=f"the token is {SECRET}", details=""
    )
    stored = ops.get_memory(added.id)
    assert SECRET not in stored.summary and "[REDACTED:" in stored.summary
    with pytest.raises(BadQuery):
        ops.add_memory("vault", title="x", summary="y")
    with pytest.raises(BadQuery, match="since < until"):
        ops.forget("2026-02-18T00:00:00", "2026-02-17T00:00:00")
    gone = ops.forget("2026-02-17T09:00:00", "2026-02-17T09:02:00")
    assert gone.observations == 2 and gone.since.startswith("2026-02-17T09:00:00")
    with pytest.raises(Exception, match="no moment"):
        ops.moment(seeded.screens[0])
    assert ops.moment(seeded.screens[2]).id == seeded.screens[2]


def test_print_config_for_each_client(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shapes = {}
    for client in ("claude", "cursor", "vscode"):
        assert main(["--home", str(tmp_path / "h"), "mcp", "--print-config", client]) == 0
        out, err = capsys.readouterr()
        shapes[client] = json.loads(out)
        assert "paste into" in err
    entry = shapes["claude"]["mcpServers"]["engram"]
    assert entry["args"][-3:] == ["--home", str((tmp_path / "h").resolve()), "mcp"]
    assert shapes["cursor"] == shapes["claude"]
    assert shapes["vscode"]["servers"]["engram"]["type"] == "stdio"
    assert shapes["vscode"]["servers"]["engram"]["command"] == entry["command"]


def test_printed_claude_config_starts_a_working_server(
    seeded: Seeded, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a new user does: paste the snippet; the client starts the command it names."""
    assert main(["--home", str(seeded.home), "mcp", "--print-config", "claude"]) == 0
    entry = json.loads(capsys.readouterr().out)["mcpServers"]["engram"]
    env = {**server_env(), **entry.get("env", {})}
    params = StdioServerParameters(command=entry["command"], args=entry["args"], env=env, cwd="/")

    async def run() -> str:
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("search_memory", {"query": "budget"})
                return json.dumps(result.structuredContent)

    assert "budget" in asyncio.run(asyncio.wait_for(run(), 180))
