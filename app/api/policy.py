"""What other programs may see through MCP and the HTTP API, read from the user's settings (#14)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from memory.store.records import MEMORY_TYPES, OBSERVATION_KINDS

if TYPE_CHECKING:
    from capture.privacy import PrivacyRules
    from memory.settings.model import Settings

ALL_KINDS = OBSERVATION_KINDS + MEMORY_TYPES


class Refused(Exception):  # noqa: N818 - a refusal, not a failure of the server
    """The user's settings do not allow this operation; the message says which setting."""


def expand_kinds(names: list[str]) -> frozenset[str]:
    """``mcp.exposed_kinds`` as concrete kinds: "memory" is every memory type but the vault."""
    out: set[str] = set()
    for name in names:
        if name == "memory":
            out.update(t for t in MEMORY_TYPES if t != "vault")
        elif name in ALL_KINDS:
            out.add(name)
    return frozenset(out)


@dataclass(frozen=True, slots=True)
class Policy:
    """Exposure rules: which kinds go out, whether ask and the write tools may run."""

    enabled: bool
    exposed: frozenset[str]
    ask: bool
    write: bool
    rules: PrivacyRules

    @classmethod
    def from_settings(cls, settings: Settings, face: str) -> Policy:
        """The policy of the settings for ``face`` ("mcp" or "api": each has its write switch).

        Raises:
            ValueError: a capture exclusion pattern is malformed.
        """
        from capture.privacy import PrivacyRules
        from memory.pipeline.recorder import capture_config

        return cls(
            enabled=settings.mcp.enabled if face == "mcp" else True,
            exposed=expand_kinds(settings.mcp.exposed_kinds),
            ask=settings.mcp.ask_tool,
            write=settings.mcp.write_tools if face == "mcp" else settings.api.write_tools,
            rules=PrivacyRules(capture_config(settings)),
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
            else:
                self.check_kind(kind)
                expanded.append(kind)
        if asked and not expanded:
            raise Refused("none of the asked kinds is exposed (setting mcp.exposed_kinds)")
        chosen = expanded or [k for k in ALL_KINDS if k in self.exposed]
        if not chosen:
            raise Refused("nothing is exposed to other programs (setting mcp.exposed_kinds)")
        return tuple(dict.fromkeys(chosen))

    def check_kind(self, kind: str) -> None:
        """Raises Refused when ``kind`` is not exposed."""
        if kind not in self.exposed:
            raise Refused(f"{kind!r} is not exposed to other programs (setting mcp.exposed_kinds)")
