"""The agents of one home, built on first use from the assistant settings and rebuilt live.

A saved change to the ``assistant`` section (or to the local model, ``models.llm``) rebuilds the
agents with the new LLM at once; a memorising worker that was running goes on with the new one. An
LLM pinned by the caller (``engram ask --llm URL``, tests) is kept until ``get`` is called again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from memory.agents.config import AgentConfig
from memory.agents.llm_factory import configured_llm
from memory.agents.llm_protocol import AgentLLM
from memory.agents.runtime import Agents, VaultLike

if TYPE_CHECKING:
    from memory.home import Home
    from memory.settings import Settings

logger = logging.getLogger(__name__)


class FromSettings:
    """Marker: the LLM named by the assistant settings."""

    def __repr__(self) -> str:
        return "FROM_SETTINGS"


FROM_SETTINGS = FromSettings()


class AgentsHandle:
    """Owns the ``Agents`` of a home; safe from any thread.

    Args:
        home: the home the agents read and write.
        vault: returns the home's vault (chat may reveal a secret from it when unlocked).
    """

    def __init__(self, home: Home, vault: Callable[[], VaultLike | None]) -> None:
        self._home = home
        self._vault = vault
        self._lock = threading.RLock()
        self._agents: Agents | None = None
        self._pinned = False
        self._config: AgentConfig | None = None
        home.settings.changed.connect(self._on_settings_changed)

    def get(
        self,
        llm: AgentLLM | None | FromSettings = FROM_SETTINGS,
        config: AgentConfig | None = None,
    ) -> Agents:
        """The agents; passing ``llm`` (None: no LLM) or ``config`` rebuilds them with it."""
        with self._lock:
            if self._agents is None or not isinstance(llm, FromSettings) or config is not None:
                self._pinned = not isinstance(llm, FromSettings)
                self._config = config or self._config
                self._replace(None if isinstance(llm, FromSettings) else llm, self._pinned)
            assert self._agents is not None
            return self._agents

    def follow_settings(self) -> None:
        """Drop a pinned LLM: the agents use the assistant of the settings again (rebuilt now)."""
        with self._lock:
            was_pinned, self._pinned = self._pinned, False
            if self._agents is not None and was_pinned:
                self._replace(None, False)

    @property
    def built(self) -> Agents | None:
        """The agents if they were built, else None (nothing is loaded)."""
        return self._agents

    def _replace(self, llm: AgentLLM | None, pinned: bool) -> None:
        if not pinned:
            llm = self._settings_llm()
        old = self._agents
        running = old is not None and old.worker.state().running
        if old is not None:
            old.worker.stop()
        self._agents = Agents(self._home, llm, self._config, self._vault)
        if running:
            self._agents.worker.start()

    def _settings_llm(self) -> AgentLLM | None:
        """The configured assistant, loaded on its first question (a model that cannot load
        gives an extractive answer that says why)."""
        return configured_llm(self._home)

    def _on_settings_changed(self, new: Settings, old: Settings) -> None:
        if new.assistant == old.assistant and new.models.llm == old.models.llm:
            return
        with self._lock:
            if self._agents is not None and not self._pinned:
                self._replace(None, False)
                logger.info("assistant settings applied (%s)", new.assistant.backend)

    # -- the recorder's hooks -----------------------------------------------------------------

    def start_memorizing(self) -> None:
        """Start the background memorising worker."""
        self.get().worker.start()

    def notify_indexed(self, n: int = 0) -> None:
        """New observations were indexed: the worker batches them."""
        agents = self._agents
        if agents is not None:
            agents.worker.notify()

    def stop_memorizing(self) -> None:
        """Stop the background memorising worker (joins its thread)."""
        agents = self._agents
        if agents is not None:
            agents.worker.stop()

    def close(self) -> None:
        """Stop the worker and stop following the settings."""
        self._home.settings.changed.disconnect(self._on_settings_changed)
        self.stop_memorizing()
