"""The desktop app's own HTTP API: on when ``api.enabled``, switched from Settings (#14)."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from app.api.http import ApiServer
from app.api.operations import Operations

if TYPE_CHECKING:
    from memory.service import MemoryService

logger = logging.getLogger(__name__)


class AppApi:
    """Serves the app's service over the local HTTP API on a background thread."""

    def __init__(self, service: MemoryService) -> None:
        self._service = service
        self.ops = Operations(service.paths.root, face="api", service_factory=lambda: service)
        self._server: ApiServer | None = None
        self._lock = threading.Lock()
        self.error: str | None = None

    @property
    def port(self) -> int | None:
        """The port while serving, else None."""
        return self._server.port if self._server is not None else None

    def apply(self, enabled: bool) -> None:
        """Start (on any free port) or stop serving; a failure to listen is kept in ``error``."""
        with self._lock:
            if enabled and self._server is None:
                port = self._service.settings.current.api.port
                try:
                    self._server = ApiServer(self.ops, port)
                except OSError as exc:  # taken: any free port (api-server.json says which)
                    logger.warning("port %d: %s; serving on a free port", port, exc.strerror)
                    try:
                        self._server = ApiServer(self.ops, 0)
                    except OSError as again:
                        self.error = f"cannot listen on 127.0.0.1: {again.strerror}"
                        logger.warning("%s", self.error)
                        return
                self.error = None
                self._server.start()
            elif not enabled and self._server is not None:
                self._server.stop()
                self._server = None

    def stop(self) -> None:
        """Stop serving (joins the server thread)."""
        self.apply(False)
