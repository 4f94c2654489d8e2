"""`engram mcp`: Engram's memory as a Model Context Protocol server (official `mcp` SDK, #14).

Tools and resources call ``Operations`` (the policy-checked operations the HTTP API shares) on a
worker thread, so the event loop keeps answering while a search or an answer runs. Nothing here
loads a model: the service opens when the client first lists tools, and stays warm.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import anyio.to_thread
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream
from mcp.server.fastmcp import FastMCP
from mcp.shared.message import SessionMessage
from mcp.types import JSONRPCMessage, JSONRPCNotification, ToolAnnotations
from mcp.types import Tool as MCPTool
from pydantic import Field

from app.api.clients import record_client
from app.api.policy import Refused
from app.api.schemas import (
    AddedOut,
    AnswerOut,
    ContextOut,
    CoreOut,
    ForgotOut,
    MemoryListOut,
    MemoryOut,
    MomentOut,
    SearchOut,
    SearchRequest,
    TimelineOut,
)

if TYPE_CHECKING:
    from mcp.server.transport_security import TransportSecuritySettings

    from app.api.operations import Operations

logger = logging.getLogger(__name__)
T = TypeVar("T")

WRITE_TOOLS = ("add_memory", "forget")
READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)
INSTRUCTIONS = (
    "Engram is the user's private memory of their computer: screens they saw (OCR text), speech, "
    "chats, and memories distilled from them. Use search_memory to find moments, get_moment to "
    "read one, timeline for what happened on a day, ask_memory for a cited answer. Cite moments "
    "with their engram://moment/<id> links."
)


class EngramMCP(FastMCP):  # type: ignore[type-arg]
    """FastMCP that hides write tools while they are off and starts warming up on first listing."""

    def __init__(self, ops: Operations, transport: str, **kwargs: object) -> None:
        super().__init__("engram", instructions=INSTRUCTIONS, **kwargs)  # type: ignore[arg-type]
        self.ops = ops
        self.transport = transport
        self._warming = False

    async def list_tools(self) -> list[MCPTool]:
        """The tools the policy allows now (write tools only when turned on)."""
        self._note_client()
        if not self._warming:  # the client is connected: open the home and load the embedder
            self._warming = True
            self.ops.warm_up_in_background()
        tools = await super().list_tools()
        policy = await anyio.to_thread.run_sync(self.ops.policy)
        return [t for t in tools if policy.write or t.name not in WRITE_TOOLS]

    def _note_client(self) -> None:
        try:
            params = self.get_context().session.client_params
        except (LookupError, ValueError, AttributeError):
            return
        if params is not None:
            info = params.clientInfo
            record_client(self.ops.home, f"{info.name} {info.version}".strip(), self.transport)


async def _run(ops: Operations, fn: Callable[[], T]) -> T:
    """Run a blocking operation on a worker thread; refusals and bad input keep their message.

    A call the client cancels returns at once (the thread's late result is dropped): waiting for
    it made the SDK (1.30) answer the request twice, an AssertionError that ended the session.
    """
    try:
        return await anyio.to_thread.run_sync(fn, abandon_on_cancel=True)
    except Refused as exc:
        raise ValueError(f"refused: {exc}") from exc


def build_server(
    ops: Operations,
    *,
    transport: str = "stdio",
    security: TransportSecuritySettings | None = None,
) -> EngramMCP:
    """An MCP server over ``ops`` with Engram's tools and resources."""
    mcp = EngramMCP(ops, transport, transport_security=security, log_level="WARNING")
    _read_tools(mcp, ops)
    _write_tools(mcp, ops)
    _resources(mcp, ops)
    return mcp


Query = Annotated[str, Field(description="what to look for; phrases like 'yesterday' count")]
Since = Annotated[str | None, Field(description="only at or after this ISO 8601 time")]
Until = Annotated[str | None, Field(description="only before this ISO 8601 time")]
KINDS_HELP = "screen, audio, chat, import, observation, memory or a memory type"


def _read_tools(mcp: EngramMCP, ops: Operations) -> None:
    @mcp.tool(annotations=READ, structured_output=True)
    async def search_memory(  # noqa: PLR0913 - one parameter per search field: the input schema
        query: Query,
        since: Since = None,
        until: Until = None,
        kinds: Annotated[list[str], Field(description=KINDS_HELP)] = [],  # noqa: B006
        apps: Annotated[list[str], Field(description="only moments of these apps")] = [],  # noqa: B006
        k: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> SearchOut:
        """Search the user's memory (screens, speech, chats, memories); hits link to moments."""
        req = SearchRequest(query=query, since=since, until=until, kinds=kinds, apps=apps, k=k)
        return await _run(ops, lambda: ops.search(req))

    @mcp.tool(annotations=READ, structured_output=True)
    async def ask_memory(question: Annotated[str, Field(description="a question")]) -> AnswerOut:
        """Answer a question from the user's memory with [n] citations, using their assistant."""
        return await _run(ops, lambda: ops.ask(question))

    @mcp.tool(annotations=READ, structured_output=True)
    async def get_moment(id: Annotated[int, Field(description="the moment id")]) -> MomentOut:  # noqa: A002
        """One moment: its OCR text, transcript or message, app, title, URL and its neighbours."""
        return await _run(ops, lambda: ops.moment(id))

    @mcp.tool(annotations=READ, structured_output=True)
    async def similar_moments(
        id: Annotated[int, Field(description="the moment id")],  # noqa: A002
        k: Annotated[int, Field(ge=1, le=100)] = 10,
    ) -> SearchOut:
        """Moments whose screen looked like this one (needs the image model), one per minute."""
        return await _run(ops, lambda: ops.similar(id, k))

    @mcp.tool(annotations=READ, structured_output=True)
    async def timeline(
        day: Annotated[str | None, Field(description="YYYY-MM-DD (default today)")] = None,
        since: Since = None,
        until: Until = None,
    ) -> TimelineOut:
        """What happened on a day or in a range: apps with durations, activity runs, episodes."""
        return await _run(ops, lambda: ops.timeline(day=day, since=since, until=until))

    @mcp.tool(annotations=READ, structured_output=True)
    async def list_memories(
        type: Annotated[  # noqa: A002
            str | None,
            Field(description="core, episodic, semantic, procedural, resource or vault"),
        ] = None,
        limit: Annotated[int, Field(ge=1, le=100)] = 20,
        offset: Annotated[int, Field(ge=0)] = 0,
    ) -> MemoryListOut:
        """Memories newest first, with their sources."""
        return await _run(ops, lambda: ops.list_memories(type, limit=limit, offset=offset))

    @mcp.tool(annotations=READ, structured_output=True)
    async def get_memory(id: Annotated[int, Field(description="the memory id")]) -> MemoryOut:  # noqa: A002
        """One memory with its fields and the moments it came from."""
        return await _run(ops, lambda: ops.get_memory(id))


def _write_tools(mcp: EngramMCP, ops: Operations) -> None:
    @mcp.tool(
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=False, openWorldHint=False),
        structured_output=True,
    )
    async def add_memory(
        type: Annotated[str, Field(description="episodic, semantic, procedural or resource")],  # noqa: A002
        title: str,
        summary: str,
        details: str = "",
        tree_path: list[str] = [],  # noqa: B006
    ) -> AddedOut:
        """Add a memory (only when the user turned write tools on)."""
        return await _run(
            ops,
            lambda: ops.add_memory(
                type, title=title, summary=summary, details=details, tree_path=tree_path
            ),
        )

    @mcp.tool(
        annotations=ToolAnnotations(readOnlyHint=False, destructiveHint=True, openWorldHint=False),
        structured_output=True,
    )
    async def forget(
        since: Annotated[str, Field(description="first instant to delete (ISO 8601)")],
        until: Annotated[str, Field(description="delete up to, not including, this instant")],
    ) -> ForgotOut:
        """Delete for good every moment in [since, until) and what derives only from them."""
        return await _run(ops, lambda: ops.forget(since, until))


def _resources(mcp: EngramMCP, ops: Operations) -> None:
    @mcp.resource("engram://context/now", mime_type="application/json")
    async def context_now() -> str:
        """Current time, time zone and whether Engram is recording."""
        out: ContextOut = await _run(ops, ops.context_now)
        return out.model_dump_json()

    @mcp.resource("engram://memory/core", mime_type="application/json")
    async def core_memory() -> str:
        """The core memory blocks (who the user is, what they care about)."""
        out: CoreOut = await _run(ops, ops.core)
        return out.model_dump_json()

    @mcp.resource("engram://moment/{id}", mime_type="application/json")
    async def moment(id: str) -> str:  # noqa: A002
        """One moment of the timeline."""
        if not id.isdigit():
            raise ValueError(f"a moment id is a number, not {id[:40]!r}")
        out: MomentOut = await _run(ops, lambda: ops.moment(int(id)))
        return out.model_dump_json()


def run_stdio(ops: Operations) -> None:
    """Serve MCP on stdin/stdout until the client closes stdin.

    File descriptor 1 is kept for protocol messages only: the process's own stdout (fd 1 for C
    libraries, ``sys.stdout`` for Python) is pointed at stderr first, so a stray print or a native
    library's banner can never corrupt the stream.
    """
    import os
    import sys
    from io import TextIOWrapper

    from mcp.server.stdio import stdio_server

    sys.stdout.flush()
    protocol_fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    out = TextIOWrapper(
        os.fdopen(protocol_fd, "wb", buffering=0), encoding="utf-8", write_through=True
    )
    server = build_server(ops)

    async def main() -> None:
        async with stdio_server(stdout=anyio.wrap_file(out)) as (read, write):
            clean_send, clean_read = anyio.create_memory_object_stream[SessionMessage | Exception](
                0
            )
            async with anyio.create_task_group() as tg:
                tg.start_soon(_drop_malformed, read, clean_send, write)
                await server._mcp_server.run(
                    clean_read, write, server._mcp_server.create_initialization_options()
                )

    anyio.run(main)


async def _drop_malformed(
    read: MemoryObjectReceiveStream[SessionMessage | Exception],
    forward: MemoryObjectSendStream[SessionMessage | Exception],
    write: MemoryObjectSendStream[SessionMessage],
) -> None:
    """Forward good messages; tell the client why a malformed line was ignored (the SDK says only
    "Internal Server Error"). JSON-RPC's parse-error response needs ``id: null``, which the SDK's
    types cannot carry, so the reason goes out as an error-level log notification."""
    async with forward:
        async for item in read:
            if not isinstance(item, Exception):
                await forward.send(item)
                continue
            reason = _reason(item)
            logger.warning("ignored a malformed message: %s", reason)
            note = JSONRPCNotification(
                jsonrpc="2.0",
                method="notifications/message",
                params={"level": "error", "logger": "engram", "data": f"ignored: {reason}"},
            )
            await write.send(SessionMessage(JSONRPCMessage(note)))


def _reason(exc: Exception) -> str:
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        first = exc.errors()[0]
        if first.get("type") == "json_invalid":
            return f"not JSON ({first.get('msg')})"
        return "not a JSON-RPC request, notification or response"
    return f"unreadable message ({type(exc).__name__})"
