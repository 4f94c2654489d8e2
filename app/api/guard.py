"""The HTTP API's gate: a Bearer token on every request, loopback Host and Origin only (#14).

An ASGI middleware in front of everything (JSON routes and MCP's streamable-HTTP transport alike),
so no path answers without the token. A foreign ``Host`` or ``Origin`` is refused: a web page that
rebinds its DNS name to 127.0.0.1 still sends its own name. No CORS headers are ever sent.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def loopback_hosts(port: int) -> frozenset[str]:
    """Host header values a loopback client sends for ``port``."""
    return frozenset({f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"})


class Guard:
    """Refuses requests without the token (401) or from a foreign Host/Origin (403)."""

    def __init__(self, app: ASGIApp, token: str, port: int) -> None:
        self.app = app
        self._token = token.encode()
        self._hosts = loopback_hosts(port)
        self._origins = frozenset(f"http://{h}" for h in self._hosts)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":  # not served: close before anything is read
            await send({"type": "websocket.close", "code": 1008})
            return
        if scope["type"] != "http":  # lifespan
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        auth = headers.get("authorization", b"")
        scheme, _, given = auth.partition(b" ")
        if scheme.lower() != b"bearer" or not hmac.compare_digest(given.strip(), self._token):
            await _deny(send, 401, "a valid token is required (Authorization: Bearer <api-token>)")
            return
        host = headers.get("host", b"").decode("latin-1")
        if host not in self._hosts:
            await _deny(send, 403, "requests must address 127.0.0.1 or localhost (Host header)")
            return
        origin = headers.get("origin")
        if origin is not None and origin.decode("latin-1") not in self._origins:
            await _deny(send, 403, "cross-origin requests are refused (Origin header)")
            return
        await self.app(scope, receive, send)


async def _deny(send: Send, status: int, message: str) -> None:
    body = json.dumps({"error": message}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if status == 401:
        headers.append((b"www-authenticate", b'Bearer realm="engram"'))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
