"""`engram serve`: the local HTTP API (JSON routes + MCP streamable HTTP) on 127.0.0.1 only (#14).

Routes (all need ``Authorization: Bearer <token>``; README documents the shapes):
``POST /v1/search``, ``POST /v1/ask``, ``GET /v1/moments/{id}``, ``GET /v1/moments/{id}/similar``
(``?k=``, #17), ``GET /v1/timeline``,
``GET /v1/memories``, ``GET /v1/memories/{id}``, ``GET /v1/context``, ``GET /v1/core``,
``POST /v1/memories`` and ``POST /v1/forget`` (write tools, off by default), ``GET /v1/status``,
and MCP's streamable-HTTP transport at ``/mcp``.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from app.api.clients import record_client
from app.api.files import clear_server_info, ensure_token, write_server_info
from app.api.guard import Guard, loopback_hosts
from app.api.policy import Refused
from app.api.schemas import SearchRequest, StatusOut
from memory.errors import BadQuery, NotFound, StoreError

if TYPE_CHECKING:
    import uvicorn

    from app.api.operations import Operations

logger = logging.getLogger(__name__)

MAX_BODY = 1_000_000  # bytes of a JSON request body


class AskIn(BaseModel):
    """Body of POST /v1/ask."""

    model_config = ConfigDict(extra="forbid")

    question: str
    keep: bool = Field(False, description="store the turn in Engram's chat log (the CLI does)")


class AddIn(BaseModel):
    """Body of POST /v1/memories."""

    model_config = ConfigDict(extra="forbid")

    type: str
    title: str
    summary: str
    details: str = ""
    tree_path: list[str] = []


class ForgetIn(BaseModel):
    """Body of POST /v1/forget."""

    model_config = ConfigDict(extra="forbid")

    since: str
    until: str


B = TypeVar("B", bound=BaseModel)


def _status_of(exc: Exception) -> int:
    from memory.store.memories import InvalidMemory

    if isinstance(exc, BadQuery | InvalidMemory | ValidationError | ValueError):
        return 400
    if isinstance(exc, NotFound):
        return 404
    if isinstance(exc, Refused):
        return 403
    return 500


async def _answer(request: Request, fn: Callable[[], BaseModel]) -> Response:
    """Run ``fn`` on a worker thread; errors become ``{"error": ...}`` with a fitting status."""
    record_client(request.app.state.home, request.headers.get("user-agent", "unknown"), "http")
    try:
        out = await run_in_threadpool(fn)
    except (StoreError, Refused, ValidationError, ValueError) as exc:
        return JSONResponse({"error": str(exc)}, status_code=_status_of(exc))
    except Exception as exc:  # the server keeps running; the client learns what failed
        logger.exception("API request failed")
        return JSONResponse({"error": f"internal error: {type(exc).__name__}"}, status_code=500)
    return Response(out.model_dump_json(), media_type="application/json")


async def _body(request: Request, model: type[B]) -> B:
    """The validated JSON body.

    Raises:
        BadQuery: too large or not JSON. ValidationError: not the model's shape.
    """
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise BadQuery(f"the request body has {len(raw)} bytes; the limit is {MAX_BODY}")
    try:
        return model.model_validate(json.loads(raw or b"{}"))
    except json.JSONDecodeError as exc:
        raise BadQuery(f"the body is not JSON: {exc}") from exc


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    try:
        return default if raw is None else int(raw)
    except ValueError as exc:
        raise BadQuery(f"{name} must be a whole number") from exc


class _Handlers:
    """One endpoint per operation; each runs the operation on a worker thread."""

    def __init__(self, ops: Operations) -> None:
        self.ops = ops

    async def _post(
        self, request: Request, model: type[B], fn: Callable[[B], BaseModel]
    ) -> Response:
        try:
            body = await _body(request, model)
        except (BadQuery, ValidationError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return await _answer(request, lambda: fn(body))

    async def search(self, request: Request) -> Response:
        return await self._post(request, SearchRequest, self.ops.search)

    async def ask(self, request: Request) -> Response:
        return await self._post(request, AskIn, lambda b: self.ops.ask(b.question, keep=b.keep))

    async def add(self, request: Request) -> Response:
        def run(b: AddIn) -> BaseModel:
            return self.ops.add_memory(
                b.type, title=b.title, summary=b.summary, details=b.details, tree_path=b.tree_path
            )

        return await self._post(request, AddIn, run)

    async def forget(self, request: Request) -> Response:
        return await self._post(request, ForgetIn, lambda b: self.ops.forget(b.since, b.until))

    async def moment(self, request: Request) -> Response:
        return await _answer(request, lambda: self.ops.moment(request.path_params["id"]))

    async def similar(self, request: Request) -> Response:
        k = _int_param(request, "k", 10)
        return await _answer(request, lambda: self.ops.similar(request.path_params["id"], k))

    async def timeline(self, request: Request) -> Response:
        q = request.query_params
        return await _answer(
            request,
            lambda: self.ops.timeline(day=q.get("day"), since=q.get("since"), until=q.get("until")),
        )

    async def memories(self, request: Request) -> Response:
        def run() -> BaseModel:
            return self.ops.list_memories(
                request.query_params.get("type"),
                limit=_int_param(request, "limit", 20),
                offset=_int_param(request, "offset", 0),
            )

        return await _answer(request, run)

    async def memory(self, request: Request) -> Response:
        return await _answer(request, lambda: self.ops.get_memory(request.path_params["id"]))

    async def context(self, request: Request) -> Response:
        return await _answer(request, self.ops.context_now)

    async def core(self, request: Request) -> Response:
        return await _answer(request, self.ops.core)

    async def status(self, request: Request) -> Response:
        return await _answer(request, lambda: StatusOut(service="engram", pid=os.getpid()))

    def routes(self) -> list[Route]:
        """The JSON routes."""
        return [
            Route("/v1/search", self.search, methods=["POST"]),
            Route("/v1/ask", self.ask, methods=["POST"]),
            Route("/v1/moments/{id:int}", self.moment, methods=["GET"]),
            Route("/v1/moments/{id:int}/similar", self.similar, methods=["GET"]),
            Route("/v1/timeline", self.timeline, methods=["GET"]),
            Route("/v1/memories", self.memories, methods=["GET"]),
            Route("/v1/memories", self.add, methods=["POST"]),
            Route("/v1/memories/{id:int}", self.memory, methods=["GET"]),
            Route("/v1/forget", self.forget, methods=["POST"]),
            Route("/v1/context", self.context, methods=["GET"]),
            Route("/v1/core", self.core, methods=["GET"]),
            Route("/v1/status", self.status, methods=["GET"]),
        ]


def build_app(ops: Operations, token: str, port: int) -> Guard:
    """The ASGI app: the guard in front of the JSON routes and the MCP transport at /mcp."""
    from mcp.server.transport_security import TransportSecuritySettings

    from app.mcp.server import build_server

    hosts = sorted(loopback_hosts(port))
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"http://{h}" for h in hosts],
    )
    mcp_app = build_server(ops, transport="mcp-http", security=security).streamable_http_app()
    mcp_app.router.routes.extend(_Handlers(ops).routes())
    mcp_app.state.home = ops.home
    return Guard(mcp_app, token, port)


def bind_loopback(port: int = 0) -> socket.socket:
    """A listening TCP socket on 127.0.0.1 (``port`` 0: any free port).

    Raises:
        OSError: the port is taken.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(False)
    return sock


class ApiServer:
    """The HTTP API of one home: ``run()`` blocks (`engram serve`), ``start()`` runs a thread."""

    def __init__(self, ops: Operations, port: int = 0) -> None:
        self.ops = ops
        self.home = Path(ops.home)
        self.sock = bind_loopback(port)
        self.port: int = self.sock.getsockname()[1]
        self.token = ensure_token(self.home)
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def _uvicorn(self) -> uvicorn.Server:
        import uvicorn

        config = uvicorn.Config(
            build_app(self.ops, self.token, self.port),
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        self._server = uvicorn.Server(config)
        return self._server

    def run(self) -> None:
        """Serve until interrupted; the port is written to the home while serving."""
        server = self._uvicorn()
        write_server_info(self.home, self.port)
        try:
            server.run(sockets=[self.sock])
        finally:
            clear_server_info(self.home)
            self.sock.close()

    def start(self) -> None:
        """Serve on a background thread (the desktop app)."""
        self._thread = threading.Thread(target=self.run, name="engram-api", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving and join the thread."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
