"""`engram mcp --print-config claude|cursor|vscode`: the JSON each client expects (#14)."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

CLIENTS = ("claude", "cursor", "vscode")
WHERE = {
    "claude": "Claude Desktop: Settings > Developer > Edit Config (claude_desktop_config.json)",
    "cursor": "Cursor: ~/.cursor/mcp.json (all projects) or .cursor/mcp.json (one project)",
    "vscode": "VS Code: .vscode/mcp.json in the workspace (or 'MCP: Open User Configuration')",
}


def launch_command(home: Path | None) -> tuple[str, list[str], dict[str, str]]:
    """How a client starts this Engram's MCP server: (command, args, env)."""
    script = shutil.which("engram")
    if script is not None and _is_this_engram(Path(script)):
        command, args, env = str(Path(script).resolve()), [], {}
    else:  # run from a source tree: the client needs this interpreter and the tree on its path
        root = Path(__file__).resolve().parents[2]
        command, args, env = sys.executable, ["-m", "app.cli.main"], {"PYTHONPATH": str(root)}
    if home is not None:
        args += ["--home", str(Path(home).expanduser().resolve())]
    return command, args + ["mcp"], env


def _is_this_engram(script: Path) -> bool:
    """The `engram` on PATH runs this interpreter (not another install)."""
    try:
        first = script.read_text(encoding="utf-8", errors="replace").splitlines()[0]
    except (OSError, IndexError):
        return False
    return (
        first.startswith("#!")
        and Path(first[2:].strip()).resolve() == Path(sys.executable).resolve()
    )


def client_config(client: str, home: Path | None) -> dict[str, object]:
    """The config snippet of ``client`` (one of CLIENTS).

    Raises:
        ValueError: an unknown client.
    """
    command, args, env = launch_command(home)
    entry: dict[str, object] = {"command": command, "args": args}
    if env:
        entry["env"] = env
    if client in ("claude", "cursor"):
        return {"mcpServers": {"engram": entry}}
    if client == "vscode":
        return {"servers": {"engram": {"type": "stdio", **entry}}}
    raise ValueError(f"unknown client {client!r}: one of {', '.join(CLIENTS)}")


def print_config(client: str, home: Path | None) -> None:
    """Print the snippet on stdout and where it goes on stderr."""
    sys.stdout.write(json.dumps(client_config(client, home), indent=2) + "\n")
    sys.stderr.write(f"paste into {WHERE[client]}\n")
