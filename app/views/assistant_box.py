"""Choosing the assistant: detected local servers with their models, models on disk, downloads.

Shown in Settings and at the first run. Detection, downloads and saving run off the GUI thread;
the choice is saved in the settings and the agents switch to it at once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.bridge import CoreBridge
from app.ops import StoreOp


class AssistantBox(QGroupBox):
    """Pick the assistant in one click.

    Signals:
        choices_loaded(int): the list is on screen (how many choices).
        assistant_changed(str): a choice was saved (its label).
        assistant_failed(str): detection, download or saving failed (the message).
    """

    choices_loaded = Signal(int)
    assistant_changed = Signal(str)
    assistant_failed = Signal(str)
    _progress = Signal(object, object)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__("Assistant", parent)
        self._bridge = bridge
        self.choices: list[Any] = []
        self.combo = QComboBox()
        self.combo.setMinimumWidth(420)
        self.detect_b = QPushButton("Detect local servers")
        self.detect_b.clicked.connect(self.reload)
        self.use_b = QPushButton("Use this assistant", objectName="primary")
        self.use_b.clicked.connect(self.use_selected)
        self.status = QLabel(objectName="muted", wordWrap=True)
        self.current = QLabel(wordWrap=True)
        row = QHBoxLayout()
        row.addWidget(self.combo, 1)
        row.addWidget(self.detect_b)
        row.addWidget(self.use_b)
        lay = QVBoxLayout(self)
        lay.addWidget(self.current)
        lay.addLayout(row)
        lay.addWidget(self.status)
        self._progress.connect(self._on_progress)
        self.reload()

    def reload(self) -> None:
        """Detect servers and list every choice (off the GUI thread)."""
        self.status.setText("Looking for assistants on this machine…")
        self.detect_b.setEnabled(False)
        StoreOp(self._bridge, _load).success(self._on_loaded).failure(self._on_failed).run()

    def _on_loaded(self, result: tuple[list[Any], str]) -> None:
        self.choices, current = result
        previous = self.selected()
        self.combo.clear()
        for choice in self.choices:
            size = f" ({choice.size_bytes / 1e9:.1f} GB)" if choice.size_bytes else ""
            self.combo.addItem(f"{choice.label}{size}")
        if previous is not None and previous in self.choices:
            self.combo.setCurrentIndex(self.choices.index(previous))
        else:  # offer a running server first, else the model recommended for this machine
            self.select_kind("server") or self._select_recommended()
        servers = sum(1 for c in self.choices if c.kind == "server")
        self.current.setText(f"Now: {current}")
        self.status.setText(
            f"Found {servers} model(s) on local servers." if servers else "No local server found."
        )
        self.detect_b.setEnabled(True)
        self.choices_loaded.emit(len(self.choices))

    def selected(self) -> Any | None:
        """The choice under the cursor."""
        i = self.combo.currentIndex()
        return self.choices[i] if 0 <= i < len(self.choices) else None

    def select_kind(self, kind: str) -> bool:
        """Put the cursor on the first choice of a kind ("server", "local", ...)."""
        for i, choice in enumerate(self.choices):
            if choice.kind == kind:
                self.combo.setCurrentIndex(i)
                return True
        return False

    def _select_recommended(self) -> None:
        for i, choice in enumerate(self.choices):
            if "recommended for this machine" in choice.label:
                self.combo.setCurrentIndex(i)
                return

    def use_selected(self) -> None:
        """Save the selected choice (downloading it first if needed), off the GUI thread."""
        choice = self.selected()
        if choice is None:
            return
        self.use_b.setEnabled(False)
        self.status.setText(
            "Downloading…" if choice.kind == "download" else f"Switching to {choice.label}…"
        )

        def work(service: Any) -> str:
            service.use_assistant(choice, progress=lambda d, t: self._progress.emit(d, t))
            return _describe(service)

        StoreOp(self._bridge, work).success(self._on_used).failure(self._on_failed).run()

    def _on_progress(self, done: int, total: int | None) -> None:
        if total:
            self.status.setText(f"Downloading… {done / total:.0%} of {total / 1e9:.1f} GB")

    def _on_used(self, current: str) -> None:
        self.use_b.setEnabled(True)
        self.current.setText(f"Now: {current}")
        self.status.setText("Saved: questions and memorising use this assistant now.")
        self.assistant_changed.emit(current)

    def _on_failed(self, exc: Exception) -> None:
        self.use_b.setEnabled(True)
        self.detect_b.setEnabled(True)
        self.status.setText(f"Could not do that: {exc}")
        self.assistant_failed.emit(str(exc))


def _load(service: Any) -> tuple[list[Any], str]:
    return service.assistant_choices(), _describe(service)


def _describe(service: Any) -> str:
    settings = service.settings.current
    a = settings.assistant
    if a.backend == "server":
        return f"the server at {a.server_url} (model {a.model})"
    if a.backend == "local":
        model = settings.models.llm.model_id
        return "the packaged model that suits this machine" if model == "auto" else model
    return "no assistant: answers quote the best matching passage"
