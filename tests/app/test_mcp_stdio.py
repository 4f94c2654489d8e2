"""`engram mcp` driven by the MCP SDK's own stdio client in a subprocess, on a seeded home (#14).

One session runs every call once (starting the server costs seconds on a loaded machine); the
tests below assert on its transcript. Every text that came back is searched for the vault secret
and the excluded app's text.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from tests.app.api_home import EXCLUDED_TEXT, SECRET, Seeded, seed_api_home

ROOT = Path(__file__).resolve().parents[2]


def server_env() -> dict[str, str]:
    """The environment of the server subprocess: this tree first on the path, offline."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["HF_HUB_OFFLINE"] = "1"
    # module-scoped servers start before the autouse fixture sets these for a test
    env.setdefault("ENGRAM_ASSISTANT__BACKEND", "none")
    env.setdefault("ENGRAM_KEYRING", "file")
    return env


def server_params(home: Path) -> StdioServerParameters:
    """How the SDK client starts `engram mcp` on ``home``."""
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "app.cli.main", "--home", str(home), "mcp"],
        env=server_env(),
        cwd=str(ROOT),
    )


Step = Callable[[ClientSession], Awaitable[Any]]


def run_session(home: Path, steps: dict[str, Step], timeout: float = 240) -> dict[str, Any]:
    """Start `engram mcp`, initialize, run ``steps`` in order; returns each step's result."""

    async def main() -> dict[str, Any]:
        out: dict[str, Any] = {}
        async with stdio_client(server_params(home)) as (read, write):
            async with ClientSession(read, write) as session:
                out["initialize"] = await session.initialize()
                for name, step in steps.items():
                    out[name] = await step(session)
        return out

    return asyncio.run(asyncio.wait_for(main(), timeout))


def texts(result: Any) -> str:
    """Every text of a result, as one string (for leak checks)."""
    return json.dumps(result.model_dump(mode="json"), ensure_ascii=False)


def call(name: str, args: dict[str, Any]) -> Step:
    return lambda s: s.call_tool(name, args)


def read(uri: str) -> Step:
    async def _read(s: ClientSession) -> Any:
        try:
            return await s.read_resource(uri)  # type: ignore[arg-type]
        except Exception as exc:  # an McpError: the server said why
            return exc

    return _read


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    return seed_api_home(tmp_path_factory.mktemp("mcp") / "home")


@pytest.fixture(scope="module")
def transcript(seeded: Seeded) -> dict[str, Any]:
    day = "2026-02-17"
    steps: dict[str, Step] = {
        "tools": lambda s: s.list_tools(),
        "templates": lambda s: s.list_resource_templates(),
        "resources": lambda s: s.list_resources(),
        "search": call("search_memory", {"query": "Lisbon", "k": 20}),
        "search_token": call("search_memory", {"query": "GitHub token deploy", "k": 20}),
        "search_vault": call("search_memory", {"query": "token", "kinds": ["vault"]}),
        "search_app": call("search_memory", {"query": "budget", "apps": ["Slack"]}),
        "search_long": call("search_memory", {"query": "lisbon " * 1700}),
        "search_huge": call("search_memory", {"query": "x", "apps": ["a" * 100] * 5000}),
        "ask": call("ask_memory", {"question": "When does the Lisbon flight depart?"}),
        "ask_secret": call("ask_memory", {"question": "what is my github token?"}),
        "moment": call("get_moment", {"id": seeded.screens[1]}),
        "moment_excluded": call("get_moment", {"id": seeded.excluded}),
        "moment_missing": call("get_moment", {"id": 999_999}),
        "timeline": call("timeline", {"day": day}),
        "timeline_bad": call("timeline", {"day": "yesterday-ish"}),
        "memories": call("list_memories", {}),
        "memories_vault": call("list_memories", {"type": "vault"}),
        "memory": call("get_memory", {"id": seeded.episode}),
        "memory_vault": call("get_memory", {"id": seeded.vault}),
        "forget": call("forget", {"since": f"{day}T00:00:00", "until": f"{day}T23:59:59"}),
        "add": call("add_memory", {"type": "semantic", "title": "x", "summary": "y"}),
        "unknown": call("no_such_tool", {}),
        "now": read("engram://context/now"),
        "core": read("engram://memory/core"),
        "moment_res": read(f"engram://moment/{seeded.screens[0]}"),
        "moment_res_excluded": read(f"engram://moment/{seeded.excluded}"),
        "after_errors": call("search_memory", {"query": "budget"}),
    }
    return run_session(seeded.home, steps)


def structured(result: Any) -> dict[str, Any]:
    assert not result.isError, result.content
    assert result.structuredContent is not None
    return result.structuredContent  # type: ignore[no-any-return]


def error_text(result: Any) -> str:
    assert result.isError
    return " ".join(c.text for c in result.content)


def test_initialize_and_tools(transcript: dict[str, Any]) -> None:
    init = transcript["initialize"]
    assert init.serverInfo.name == "engram"
    assert init.capabilities.tools is not None and init.capabilities.resources is not None
    tools = {t.name: t for t in transcript["tools"].tools}
    assert set(tools) == {
        "search_memory",
        "ask_memory",
        "get_moment",
        "similar_moments",
        "timeline",
        "list_memories",
        "get_memory",
    }  # write tools are off: not listed
    for tool in tools.values():
        assert tool.annotations is not None and tool.annotations.readOnlyHint is True
        assert tool.annotations.destructiveHint is False
        assert tool.outputSchema is not None and tool.outputSchema["type"] == "object"
    assert "hits" in tools["search_memory"].outputSchema["properties"]


def test_resources_listed(transcript: dict[str, Any]) -> None:
    uris = {str(r.uri) for r in transcript["resources"].resources}
    assert {"engram://context/now", "engram://memory/core"} <= uris
    assert [t.uriTemplate for t in transcript["templates"].resourceTemplates] == [
        "engram://moment/{id}"
    ]


def test_search_hits_link_to_moments(transcript: dict[str, Any], seeded: Seeded) -> None:
    hits = structured(transcript["search"])["hits"]
    assert hits, "Lisbon is on several screens"
    first = hits[0]
    assert first["link"].startswith("engram://moment/") and first["app"] and first["time"]
    assert "Lisbon" in " ".join(h["snippet"] + h["title"] for h in hits)
    ids = {h["id"] for h in hits}
    assert f"o:{seeded.excluded}" not in ids  # KeePassXC also says Lisbon
    assert all(h["app"] != "KeePassXC" for h in hits)
    slack = structured(transcript["search_app"])["hits"]
    assert slack and all(h["app"] == "Slack" for h in slack)


def test_vault_and_excluded_app_never_come_back(transcript: dict[str, Any]) -> None:
    for name, result in transcript.items():
        if name == "initialize":
            continue
        blob = texts(result) if hasattr(result, "model_dump") else str(result)
        assert SECRET not in blob, name
        assert EXCLUDED_TEXT not in blob, name
        assert "KeePassXC" not in blob, name
    token_hits = structured(transcript["search_token"])["hits"]
    assert token_hits and all(h["kind"] != "vault" for h in token_hits)
    assert "not exposed" in error_text(transcript["search_vault"])
    assert "not exposed" in error_text(transcript["memories_vault"])
    assert "no memory" in error_text(transcript["memory_vault"])


def test_ask_cites_and_refuses_secrets(transcript: dict[str, Any]) -> None:
    answer = structured(transcript["ask"])
    assert answer["answer"] and answer["citations"]
    assert answer["citations"][0]["sources"][0]["link"].startswith("engram://moment/")
    assert "secrets" in error_text(transcript["ask_secret"])


def test_moment_with_neighbours(transcript: dict[str, Any], seeded: Seeded) -> None:
    moment = structured(transcript["moment"])
    assert moment["id"] == seeded.screens[1] and "TP1361" in moment["text"]
    assert moment["app"] == "Firefox" and moment["url"].startswith("https://")
    assert [n["id"] for n in moment["before"]] == [seeded.screens[0]]
    assert [n["id"] for n in moment["after"]] == seeded.screens[2:4]
    assert "no moment" in error_text(transcript["moment_excluded"])
    assert "no moment" in error_text(transcript["moment_missing"])


def test_timeline_episodes_and_apps(transcript: dict[str, Any]) -> None:
    tl = structured(transcript["timeline"])
    apps = {a["app"]: a["seconds"] for a in tl["apps"]}
    assert {"Firefox", "Slack", "Code", "Terminal"} <= set(apps) and "KeePassXC" not in apps
    assert apps["Firefox"] >= 180
    episodes = tl["episodes"]
    assert [e["title"] for e in episodes] == ["Booking the Lisbon trip"]
    assert episodes[0]["seconds"] == 300 and "Firefox" in episodes[0]["apps"]
    assert "YYYY-MM-DD" in error_text(transcript["timeline_bad"])


def test_memories_with_sources(transcript: dict[str, Any], seeded: Seeded) -> None:
    listed = structured(transcript["memories"])["memories"]
    assert {m["type"] for m in listed} == {"episodic", "semantic", "core"}
    memory = structured(transcript["memory"])
    assert memory["id"] == seeded.episode
    assert [s["observation_id"] for s in memory["sources"]] == seeded.screens[:3]


def test_write_tools_refused_when_off(transcript: dict[str, Any]) -> None:
    assert "write tools are turned off" in error_text(transcript["forget"])
    assert "write tools are turned off" in error_text(transcript["add"])


def test_resources_read(transcript: dict[str, Any], seeded: Seeded) -> None:
    now = json.loads(transcript["now"].contents[0].text)
    assert now["now"] and now["time_zone"] and now["recording"] in ("capturing", "unknown", "off")
    core = json.loads(transcript["core"].contents[0].text)
    assert "Lisbon" in core["blocks"][0]["details"]
    moment = json.loads(transcript["moment_res"].contents[0].text)
    assert moment["id"] == seeded.screens[0]
    assert "no moment" in str(transcript["moment_res_excluded"])


def test_bad_input_answered_and_server_keeps_running(transcript: dict[str, Any]) -> None:
    assert "limit is 2000" in error_text(transcript["search_long"])
    assert "at most 50" in error_text(transcript["search_huge"])
    assert "Unknown tool" in error_text(transcript["unknown"])
    assert structured(transcript["after_errors"])["hits"]
