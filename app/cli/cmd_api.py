"""`engram mcp` (MCP over stdio, or ``--print-config``) and `engram serve` (the HTTP API), #14."""

from __future__ import annotations

import argparse
import signal
import sys

CLIENT_CHOICES = ("claude", "cursor", "vscode")  # app.mcp.client_config.CLIENTS; no mcp import here


def register(sub: argparse._SubParsersAction) -> None:
    """Add the commands of this module."""
    p = sub.add_parser(
        "mcp",
        help="serve your memory to AI assistants over MCP (stdio)",
        description="A Model Context Protocol server on stdin/stdout for Claude Desktop, Cursor, "
        "VS Code and other MCP clients. Read-only unless write tools are turned on.",
    )
    p.add_argument(
        "--print-config",
        choices=CLIENT_CHOICES,
        metavar="CLIENT",
        help="print the JSON snippet for claude, cursor or vscode and exit",
    )
    p.set_defaults(func=cmd_mcp)

    s = sub.add_parser(
        "serve",
        help="serve the local HTTP API (and MCP over HTTP) on 127.0.0.1",
        description="A local HTTP API on 127.0.0.1 only; every request needs the token in "
        "<home>/api-token (Authorization: Bearer ...). The port is written to "
        "<home>/api-server.json.",
    )
    s.add_argument(
        "--port", type=int, default=None, help="port (default: api.port, 8765; 0: any free port)"
    )
    s.set_defaults(func=cmd_serve)


def _home(args: argparse.Namespace) -> object:
    from memory.paths import default_home

    return args.home or default_home()


def cmd_mcp(args: argparse.Namespace) -> int:
    """Serve MCP on stdio until the client closes it, or print a client config."""
    from pathlib import Path

    if args.print_config:
        from app.mcp.client_config import print_config

        print_config(args.print_config, args.home)
        return 0
    from app.api.operations import Operations
    from app.mcp.server import run_stdio

    ops = Operations(Path(str(_home(args))), face="mcp")
    try:
        run_stdio(ops)
    finally:
        ops.close()
    return _leave(0)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the HTTP API until interrupted."""
    from pathlib import Path

    from app.api.http import ApiServer
    from app.api.operations import Operations
    from memory.errors import BadQuery

    if args.port is not None and not 0 <= args.port <= 65535:
        raise BadQuery("--port must be between 0 and 65535")
    ops = Operations(Path(str(_home(args))), face="api")
    warm = None
    code = 1
    try:
        port = ops.service().settings.current.api.port if args.port is None else args.port
        try:
            server = ApiServer(ops, port)
        except OSError as exc:
            raise BadQuery(
                f"cannot listen on 127.0.0.1:{port}: {exc.strerror} (--port 0 takes a free one)"
            ) from exc
        # uvicorn re-raises SIGTERM once shut down; exit cleanly so the port file is removed
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
        warm = ops.warm_up_in_background()
        print(
            f"engram: serving on http://127.0.0.1:{server.port} (token in {server.home}/api-token;"
            " MCP at /mcp); Ctrl+C stops",
            file=sys.stderr,
            flush=True,
        )
        try:
            server.run()
        except KeyboardInterrupt:  # uvicorn re-raises Ctrl+C once it has shut down
            code = 130
        except SystemExit as exc:
            code = int(exc.code or 0)
        else:
            code = 0
    finally:
        if warm is not None and warm.is_alive():
            # closing the store under a thread still loading models crashed in native code
            # (SIGSEGV on a SIGTERM during warm-up); committed data is safe in SQLite's WAL
            _exit_now(code)
        ops.close()
    return _leave(code)


def _leave(code: int) -> int:
    """Return ``code``, or end the process now when a worker thread is still busy.

    A tool call the client abandoned may still be loading a model in a thread nothing can
    interrupt; waiting for it would keep a stopped server alive for minutes.
    """
    import logging
    import threading

    busy = [
        t.name for t in threading.enumerate() if not t.daemon and t is not threading.main_thread()
    ]
    if not busy:
        return code
    logging.getLogger(__name__).warning("stopping with busy threads: %s", ", ".join(busy))
    _exit_now(code)
    return code  # not reached


def _exit_now(code: int) -> None:
    """End the process at once with ``code`` (logs and standard streams flushed first)."""
    import logging
    import os

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
