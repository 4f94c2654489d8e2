"""What other programs may see through MCP and the HTTP API, read from the user's settings (#14)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from memory.store.records import MEMORY_TYPES, OBSERVATION_KINDS

if TYPE_CHECKING:
    from capture.privacy import PrivacyRules

ALL_KINDS = OBSERVATION_KINDS + MEMORY_TYPES
DEFAULT_EXPOSED = tuple(k for k in ALL_KINDS if k != "vault")


class Refused(Exception):  # noqa: N818 - a refusal, not a failure of the server
    """The user's settings do not allow this operation; the message says which setting."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Exposure rules: which kinds go out, whether ask and the write tools may run."""

    mcp_enabled: bool
    api_enabled: bool
    exposed: frozenset[str]
    ask: bool
    write: bool
    rules: PrivacyRules

    @classmethod
    def from_settings(cls, settings: Mapping[str, object]) -> Policy:
        """The policy the saved settings ask for (unknown kinds in ``mcp.expose`` are ignored).

        Raises:
            ValueError: a capture exclusion pattern is malformed.
        """
        from capture.privacy import PrivacyRules
        from memory.pipeline.recorder import config_from_settings

        raw = settings.get("mcp.expose", list(DEFAULT_EXPOSED))
        exposed = (
            frozenset(str(k) for k in raw if str(k) in ALL_KINDS)
            if isinstance(raw, list)
            else frozenset()
        )
        return cls(
            mcp_enabled=bool(settings.get("mcp.enabled", True)),
            api_enabled=bool(settings.get("api.enabled", True)),
            exposed=exposed,
            ask=bool(settings.get("mcp.ask", True)),
            write=bool(settings.get("mcp.write", False)),
            rules=PrivacyRules(config_from_settings(dict(settings))[0]),
        )

    def app_hidden(self, app: str | None, title: str | None = None) -> bool:
        """True when a moment of this app/window must never go out (the capture exclusions)."""
        from capture.records import WindowInfo

        return self.rules.excluded(WindowInfo(app=app, title=title)) is not None

    def kinds_for(self, asked: tuple[str, ...]) -> tuple[str, ...]:
        """The search types to run: what was asked (all when nothing) within what is exposed.

        Raises:
            Refused: an asked kind is not exposed.
        """
        expanded: list[str] = []
        for kind in asked:
            if kind == "observation":
                expanded += [k for k in OBSERVATION_KINDS if k in self.exposed]
            elif kind == "memory":
                expanded += [k for k in MEMORY_TYPES if k in self.exposed]
            elif kind not in self.exposed:
                raise Refused(f"{kind!r} is not exposed to other programs (setting mcp.expose)")
            else:
                expanded.append(kind)
        if asked and not expanded:
            raise Refused("none of the asked kinds is exposed (setting mcp.expose)")
        chosen = expanded or [k for k in ALL_KINDS if k in self.exposed]
        if not chosen:
            raise Refused("nothing is exposed to other programs (setting mcp.expose)")
        return tuple(dict.fromkeys(chosen))

    def check_kind(self, kind: str) -> None:
        """Raises Refused when ``kind`` is not exposed."""
        if kind not in self.exposed:
            raise Refused(f"{kind!r} is not exposed to other programs (setting mcp.expose)")
