"""The only place that configures log handlers: stderr for warnings, a rotating file in the home."""

from __future__ import annotations

import logging
import logging.handlers
import os
from pathlib import Path

from memory.paths import private_umask


def configure_logging(home: Path | None, verbose: bool = False) -> None:
    """Send warnings (or everything with ``verbose``) to stderr and INFO+ to ``home/logs``."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    root = logging.getLogger()
    if getattr(root, "_engram_configured", False):
        return
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    err = logging.StreamHandler()
    err.setLevel(logging.DEBUG if verbose else logging.WARNING)
    err.setFormatter(logging.Formatter("engram: %(levelname)s: %(message)s"))
    root.addHandler(err)
    if home is not None:
        private_umask()  # the log folder and file are created before the home is opened
        try:
            (home / "logs").mkdir(parents=True, exist_ok=True)
            fh = logging.handlers.RotatingFileHandler(
                home / "logs" / "engram.log", maxBytes=5_000_000, backupCount=3
            )
            fh.setLevel(logging.INFO)
            fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
            root.addHandler(fh)
        except OSError:
            root.warning("cannot write logs to %s", home / "logs")
    for noisy in ("chromadb", "httpx", "urllib3", "sentence_transformers", "onnxruntime"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    root._engram_configured = True  # type: ignore[attr-defined]
