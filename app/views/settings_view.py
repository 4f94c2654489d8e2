"""Settings, persisted in the home's ``settings`` table: capture, audio, privacy, retention, models,
LLM backend and vault lock."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDoubleSpinBox, QFormLayout, QGroupBox,
                               QHBoxLayout, QLabel, QLineEdit, QPushButton, QScrollArea, QSpinBox,
                               QVBoxLayout, QWidget)

from app import ops
from app.bridge import CoreBridge
from app.ops import StoreOp
from app.widgets.capture_control import CaptureControl

DEVICES = ("auto", "cuda", "mps", "cpu")
# Settings the running recorder is built from: saving a change to one restarts it.
CAPTURE_PREFIXES = ("capture.", "audio.", "retention.")
BACKENDS = ("local", "openai-compatible", "none")
# (group, key, label, kind, extra): kind is bool | float | int | text | list | choice
FORM: tuple[tuple[str, str, str, str, Any], ...] = (
    ("Capture", "capture.enabled", "Capture the screen", "bool", None),
    ("Capture", "capture.interval_s", "Interval (seconds)", "float", (0.5, 60.0)),
    ("Capture", "capture.monitors", "Monitors (all, or 1,2…)", "text", None),
    ("Capture", "audio.enabled", "Record the microphone", "bool", None),
    ("Capture", "audio.device", "Input device", "text", None),
    ("Privacy", "capture.excluded_apps", "Never capture these apps (comma separated)", "list", None),
    ("Privacy", "capture.excluded_titles", "…or windows whose title matches", "list", None),
    ("Privacy", "vault.locked", "Keep the vault locked", "bool", None),
    ("Storage", "retention.days", "Keep frames for (days)", "int", (1, 36500)),
    ("Storage", "retention.quota_gb", "Disk quota (GB)", "float", (0.5, 10000.0)),
    ("Models", "models.text_embedding", "Text embedding", "text", None),
    ("Models", "models.image_embedding", "Image embedding", "text", None),
    ("Models", "models.ocr", "OCR", "text", None),
    ("Models", "models.speech", "Speech to text", "text", None),
    ("Models", "models.llm", "Language model", "text", None),
    ("Models", "models.device", "Device", "choice", DEVICES),
    ("Assistant", "llm.backend", "Backend", "choice", BACKENDS),
    ("Assistant", "llm.endpoint", "Server (OpenAI-compatible)", "text", None),
)


def _editor(kind: str, extra: Any) -> QWidget:
    if kind == "bool":
        return QCheckBox()
    if kind == "float":
        box = QDoubleSpinBox(decimals=1)
        box.setRange(*extra)
        return box
    if kind == "int":
        box = QSpinBox()
        box.setRange(*extra)
        return box
    if kind == "choice":
        combo = QComboBox()
        combo.addItems(list(extra))
        return combo
    return QLineEdit()


def set_value(widget: QWidget, kind: str, value: Any) -> None:
    """Show a setting's value in its editor."""
    if kind == "bool":
        widget.setChecked(bool(value))
    elif kind in ("float", "int"):
        widget.setValue(value)
    elif kind == "choice":
        widget.setCurrentText(str(value))
    elif kind == "list":
        widget.setText(", ".join(value))
    else:
        widget.setText(str(value))


def get_value(widget: QWidget, kind: str) -> Any:
    """Read a setting's value from its editor."""
    if kind == "bool":
        return widget.isChecked()
    if kind in ("float", "int"):
        return widget.value()
    if kind == "choice":
        return widget.currentText()
    if kind == "list":
        return [p.strip() for p in widget.text().split(",") if p.strip()]
    return widget.text().strip()


class SettingsView(QWidget):
    """The settings form.

    Signals:
        settings_loaded(dict): values read from the home are on screen.
        settings_saved(): a save finished.
    """

    settings_loaded = Signal(dict)
    settings_saved = Signal()

    def __init__(self, bridge: CoreBridge, capture: CaptureControl, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._capture = capture
        self.editors: dict[str, tuple[QWidget, str]] = {}
        self._loaded: dict[str, Any] = {}
        self._build()
        self.reload()

    def _build(self) -> None:
        body = QWidget()
        body_lay = QVBoxLayout(body)
        groups: dict[str, QFormLayout] = {}
        for group, key, label, kind, extra in FORM:
            if group not in groups:
                box = QGroupBox(group)
                groups[group] = QFormLayout(box)
                body_lay.addWidget(box)
            editor = _editor(kind, extra)
            self.editors[key] = (editor, kind)
            groups[group].addRow(label, editor)
        body_lay.addStretch(1)
        scroll = QScrollArea(widgetResizable=True)
        scroll.setWidget(body)
        self.status = QLabel(objectName="muted")
        save = QPushButton("Save settings", objectName="primary")
        save.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addWidget(self.status, 1)
        row.addWidget(save)
        lay = QVBoxLayout(self)
        lay.addWidget(scroll, 1)
        lay.addLayout(row)

    def reload(self) -> None:
        """Read the settings (off the GUI thread)."""
        StoreOp(self._bridge, lambda s: s.get_settings()).success(self._on_settings_ready).run()

    def _on_settings_ready(self, values: dict[str, Any]) -> None:
        for key, (editor, kind) in self.editors.items():
            set_value(editor, kind, values.get(key))
        self._loaded = dict(values)
        self.settings_loaded.emit(values)

    def values(self) -> dict[str, Any]:
        """What the form holds now."""
        return {key: get_value(editor, kind) for key, (editor, kind) in self.editors.items()}

    def save(self) -> None:
        """Store the form (off the GUI thread)."""
        self.status.setText("Saving…")
        values = self.values()
        restart = any(key.startswith(CAPTURE_PREFIXES) and value != self._loaded.get(key)
                      for key, value in values.items())
        ops.set_settings(bridge=self._bridge, values=values,
                         on_done=lambda changes: self._on_saved(changes, values, restart))

    def _on_saved(self, _changes: Any, values: dict[str, Any], restart: bool) -> None:
        self._loaded.update(values)
        if restart:
            self.status.setText("Saved. Capture restarted with the new settings.")
            self._capture.restart()
        else:
            self.status.setText("Saved.")
            self._capture.refresh()
        self.settings_saved.emit()
