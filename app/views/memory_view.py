"""The memory browser: six tabs with counts and a line on what each holds, an empty state that says
how memories get there, list or tree (by ``tree_path``) views, edit and delete with history, "show
sources", and vault values masked until unlocked."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import ops
from app.bridge import CoreBridge
from app.ops import StoreOp
from app.views.memory_types import DESCRIPTIONS, EMPTY, TYPES, first_with_memories, tab_label
from memory.changes import Changes

DATE_FMT = "%a %d %b %Y, %H:%M"
TITLE_KEY = {"core": "label", "semantic": "name", "vault": "caption"}
DETAILS_KEY = {"core": "value", "resource": "content"}
MASK = "•••••••• (vault locked)"


def edit_payload(mtype: str, title: str, summary: str, details: str) -> dict[str, Any]:
    """The fields an edit sends, under the type's own names (vault secrets are never edited)."""
    data: dict[str, Any] = {TITLE_KEY.get(mtype, "title"): title, "summary": summary}
    if mtype != "vault":
        data[DETAILS_KEY.get(mtype, "details")] = details
    return data


def _fmt(key: str, value: Any) -> str:
    if key.endswith("_at") and isinstance(value, int | float):
        return datetime.fromtimestamp(value).strftime(DATE_FMT)
    return str(value)


class MemoryView(QWidget):
    """Browse and edit memories.

    Signals:
        moment_requested(int): "show sources" asked to open an observation.
        memories_loaded(int): a tab's list is on screen (how many).
    """

    moment_requested = Signal(int)
    memories_loaded = Signal(int)
    counts_loaded = Signal(dict)
    vault_state_changed = Signal(bool)
    vault_error = Signal(str)
    secret_revealed = Signal(int)

    def __init__(self, bridge: CoreBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.memories: list[Any] = []
        self.current: Any = None
        self._pending_select: int | None = None
        self.vault_unlocked = False
        self.message_box: QMessageBox | None = None
        self.counts: dict[str, int] = {}
        self._user_chose_tab = False
        self._build()
        bridge.changes_applied.connect(self._on_changes_applied)
        self.reload_counts()
        self.reload()

    def _build(self) -> None:
        self.type_bar = QTabBar()
        for t in TYPES:
            self.type_bar.addTab(t.capitalize())
        self.type_bar.currentChanged.connect(self._on_tab_changed)
        self.type_bar.tabBarClicked.connect(lambda _i: setattr(self, "_user_chose_tab", True))
        self.description = QLabel(DESCRIPTIONS[TYPES[0]], objectName="muted", wordWrap=True)
        self.tree_mode = QCheckBox("Group by category")
        self.tree_mode.toggled.connect(lambda _on: self._fill())
        self.tree = QTreeWidget(headerHidden=True)
        self.tree.itemSelectionChanged.connect(self._on_tree_selection_changed)
        self.empty = QLabel(objectName="emptyState", wordWrap=True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setMargin(24)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.tree)
        self.list_stack.addWidget(self.empty)
        left = QWidget()
        left_lay = QVBoxLayout(left)
        left_lay.setContentsMargins(0, 0, 0, 0)
        self.type_bar.setExpanding(False)
        left_lay.addWidget(self.tree_mode)
        left_lay.addWidget(self._vault_bar())
        left_lay.addWidget(self.list_stack)
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(left)
        split.addWidget(self._detail())
        split.setSizes([560, 560])
        lay = QVBoxLayout(self)
        lay.addWidget(self.type_bar)  # across the whole view: all six tabs and counts fit
        lay.addWidget(self.description)
        lay.addWidget(split, 1)

    def _vault_bar(self) -> QWidget:
        """Unlock / Lock / Reveal, shown on the vault tab only."""
        self.vault_box = QWidget()
        row = QHBoxLayout(self.vault_box)
        row.setContentsMargins(0, 0, 0, 0)
        self.vault_status = QLabel("Vault locked", objectName="muted")
        self.unlock_b = QPushButton("Unlock")
        self.lock_b = QPushButton("Lock")
        self.reveal_b = QPushButton("Reveal")
        self.unlock_b.clicked.connect(self.unlock_vault)
        self.lock_b.clicked.connect(self.lock_vault)
        self.reveal_b.clicked.connect(self.reveal_current)
        row.addWidget(self.vault_status, 1)
        for b in (self.unlock_b, self.lock_b, self.reveal_b):
            row.addWidget(b)
        self.vault_box.setVisible(False)
        self._update_vault_buttons()
        return self.vault_box

    def _detail(self) -> QWidget:
        box = QWidget()
        lay = QVBoxLayout(box)
        self.info = QLabel(objectName="muted", wordWrap=True)
        self.title_edit = QLineEdit(placeholderText="Title")
        self.summary_edit = QPlainTextEdit(placeholderText="Summary")
        self.summary_edit.setFixedHeight(80)
        self.details_edit = QPlainTextEdit(placeholderText="Details")
        self.history = QListWidget()
        self.history.setFixedHeight(110)
        self.save_b = QPushButton("Save", objectName="primary")
        self.delete_b = QPushButton("Delete", objectName="danger")
        self.sources_b = QPushButton("Show sources")
        self.save_b.clicked.connect(self.save_current)
        self.delete_b.clicked.connect(self.confirm_delete)
        self.sources_b.clicked.connect(self._on_sources_clicked)
        row = QHBoxLayout()
        for b in (self.sources_b, self.delete_b, self.save_b):
            row.addWidget(b)
        for w in (
            self.info,
            self.title_edit,
            self.summary_edit,
            self.details_edit,
            QLabel("History", objectName="muted"),
            self.history,
        ):
            lay.addWidget(w)
        lay.addLayout(row)
        self._set_editable(False)
        return box

    @property
    def mtype(self) -> str:
        """The type of the open tab."""
        return TYPES[self.type_bar.currentIndex()]

    # -- loading ---------------------------------------------------------------------------------

    def _on_tab_changed(self, _index: int) -> None:
        self.description.setText(DESCRIPTIONS[self.mtype])
        self.reload()

    def reload_counts(self) -> None:
        """Count live memories per type (off the GUI thread) for the tab labels."""
        StoreOp(self._bridge, lambda s: dict(s.status()["memories"])).success(
            self._on_counts_loaded
        ).run()

    def set_counts(self, counts: dict[str, int]) -> None:
        """New counts from the window's status poll: relabel, and reload the open tab if it grew."""
        if counts != self.counts:
            changed = counts.get(self.mtype) != self.counts.get(self.mtype)
            self._on_counts_loaded(counts)
            if changed:
                self.reload()

    def _on_counts_loaded(self, counts: dict[str, int]) -> None:
        self.counts = counts
        for i, mtype in enumerate(TYPES):
            self.type_bar.setTabText(i, tab_label(mtype, counts.get(mtype, 0)))
        first = first_with_memories(counts)
        if not self._user_chose_tab and not counts.get(self.mtype) and first is not None:
            self.type_bar.setCurrentIndex(TYPES.index(first))  # never open on an empty tab
        self.counts_loaded.emit(counts)

    def reload(self) -> None:
        """Reload the open tab's memories (off the GUI thread)."""
        mtype = self.mtype
        self.vault_box.setVisible(mtype == "vault")
        if mtype == "vault":
            self._refresh_vault_state()
        StoreOp(self._bridge, lambda s: s.list_memories(mtype, limit=500)).success(
            lambda mems: self._on_memories_ready(mtype, mems)
        ).run()

    def _on_memories_ready(self, mtype: str, memories: list[Any]) -> None:
        if mtype != self.mtype:
            return
        self.memories = memories
        self._fill()
        self.empty.setText(EMPTY[mtype])
        self.list_stack.setCurrentWidget(self.tree if memories else self.empty)
        self.memories_loaded.emit(len(memories))

    def _fill(self) -> None:
        keep = self.current.id if self.current is not None else None
        select, found = self._pending_select or keep, False  # a reload keeps the selection
        self.tree.clear()
        groups: dict[tuple[str, ...], QTreeWidgetItem] = {}
        for m in self.memories:
            parent = self.tree.invisibleRootItem()
            if self.tree_mode.isChecked():
                for depth in range(len(m.tree_path)):
                    key = tuple(m.tree_path[: depth + 1])
                    if key not in groups:
                        groups[key] = QTreeWidgetItem(parent, [key[-1]])
                        groups[key].setExpanded(True)
                    parent = groups[key]
            item = QTreeWidgetItem(parent, [self._label(m)])
            item.setData(0, Qt.ItemDataRole.UserRole, m.id)
            if m.id == select:
                found = True
                self.tree.setCurrentItem(item)
        if not found:
            self._show(None)

    def _label(self, m: Any) -> str:
        when = datetime.fromtimestamp(m.ts).strftime(DATE_FMT)
        return f"{m.title or m.summary[:70]}  ·  {when}"

    def show_memory(self, memory_id: int) -> None:
        """Open the tab of a memory and select it."""
        StoreOp(self._bridge, lambda s: s.get_memory(memory_id)).success(
            self._on_memory_found
        ).run()

    def _on_memory_found(self, memory: Any) -> None:
        self._pending_select = memory.id
        self._user_chose_tab = True
        if self.mtype == memory.type:
            self.reload()
        else:
            self.type_bar.setCurrentIndex(TYPES.index(memory.type))

    def _on_tree_selection_changed(self) -> None:
        item = self.tree.currentItem()
        mid = item.data(0, Qt.ItemDataRole.UserRole) if item is not None else None
        self._show(next((m for m in self.memories if m.id == mid), None))

    def _show(self, m: Any) -> None:
        self.current = m
        self._pending_select = None
        self._set_editable(m is not None)
        if m is None:
            for w in (self.title_edit, self.summary_edit, self.details_edit, self.history):
                w.clear()
            self.info.setText("Select a memory to see and edit it.")
            return
        self.title_edit.setText(m.title)
        self.summary_edit.setPlainText(m.summary)
        self.details_edit.setPlainText(MASK if m.type == "vault" else m.details)
        path = " / ".join(m.tree_path) or "uncategorised"
        extra = ", ".join(
            f"{k.replace('_', ' ')}: {_fmt(k, v)}"
            for k, v in m.fields.items()
            if k != "secret_ct" and v not in ("", None)
        )
        created, updated = _fmt("created_at", m.created_at), _fmt("updated_at", m.updated_at)
        dates = f"created {created} · updated {updated}"
        self.info.setText(
            f"{m.type} · v{m.version} · {path} · {len(m.source_ids)} sources\n{dates}\n{extra}"
        )
        self.sources_b.setEnabled(bool(m.source_ids))
        self.details_edit.setReadOnly(m.type == "vault")
        self._update_vault_buttons()
        mid = m.id
        StoreOp(self._bridge, lambda s: s.memory_history(mid)).success(
            self._on_history_loaded
        ).run()

    def _on_history_loaded(self, events: list[dict[str, Any]]) -> None:
        self.history.clear()
        for e in events:
            when = datetime.fromtimestamp(e["ts"]).strftime(DATE_FMT)
            self.history.addItem(QListWidgetItem(f"{when}  {e['op']} by {e['agent']}"))

    def _set_editable(self, on: bool) -> None:
        for w in (
            self.title_edit,
            self.summary_edit,
            self.details_edit,
            self.save_b,
            self.delete_b,
            self.sources_b,
        ):
            w.setEnabled(on)

    # -- changing --------------------------------------------------------------------------------

    def save_current(self) -> None:
        """Save the edited fields as a new version (history kept)."""
        m = self.current
        if m is None:
            return
        data = edit_payload(
            m.type,
            self.title_edit.text(),
            self.summary_edit.toPlainText(),
            self.details_edit.toPlainText(),
        )
        self._pending_select = m.id
        ops.edit_memory(bridge=self._bridge, memory_id=m.id, data=data)

    def confirm_delete(self, *, ask: bool = True) -> None:
        """Delete the selected memory after confirmation (it stays in history)."""
        m = self.current
        if m is None:
            return
        if (
            ask
            and QMessageBox.question(
                self, "Delete memory", f"Delete “{m.title or m.summary[:40]}”? Its history is kept."
            )
            != QMessageBox.StandardButton.Yes
        ):
            return
        ops.delete_memory(bridge=self._bridge, memory_id=m.id)

    def _on_sources_clicked(self) -> None:
        if self.current is not None and self.current.source_ids:
            self.moment_requested.emit(int(self.current.source_ids[0]))

    def _on_changes_applied(self, changes: Changes) -> None:
        if changes.memories:
            self.reload_counts()
            self.reload()

    # -- vault -----------------------------------------------------------------------------------

    def _refresh_vault_state(self) -> None:
        """Read whether the vault key is in memory (off the GUI thread)."""
        StoreOp(self._bridge, lambda s: s.vault().keys.is_unlocked).success(
            self._set_vault_unlocked
        ).run()

    def _set_vault_unlocked(self, unlocked: bool) -> None:
        changed = unlocked != self.vault_unlocked
        self.vault_unlocked = bool(unlocked)
        self.vault_status.setText("Vault unlocked" if unlocked else "Vault locked")
        if not unlocked and self.current is not None and self.current.type == "vault":
            self.details_edit.setPlainText(MASK)
        self._update_vault_buttons()
        if changed:
            self.vault_state_changed.emit(self.vault_unlocked)

    def _update_vault_buttons(self) -> None:
        is_vault = self.current is not None and self.current.type == "vault"
        self.unlock_b.setEnabled(not self.vault_unlocked)
        self.lock_b.setEnabled(self.vault_unlocked)
        self.reveal_b.setEnabled(self.vault_unlocked and is_vault)

    def unlock_vault(self) -> None:
        """Unlock the vault: the OS keyring, or a passphrase asked for when the key store needs."""
        StoreOp(self._bridge, _needs_passphrase).success(self._on_needs_passphrase).failure(
            self._on_vault_failed
        ).run()

    def _on_needs_passphrase(self, needs: bool) -> None:
        passphrase: str | None = None
        if needs:
            text, ok = QInputDialog.getText(
                self, "Unlock the vault", "Vault passphrase:", QLineEdit.EchoMode.Password
            )
            if not ok:
                return
            passphrase = text
        self.vault_status.setText("Unlocking…")
        StoreOp(self._bridge, lambda s: s.vault().unlock(passphrase)).success(
            lambda _r: self._set_vault_unlocked(True)
        ).failure(self._on_vault_failed).run()

    def lock_vault(self) -> None:
        """Forget the vault key; secrets are masked again."""
        StoreOp(self._bridge, lambda s: s.vault().lock()).success(
            lambda _r: self._set_vault_unlocked(False)
        ).failure(lambda exc: self._show_vault_message(f"Could not lock the vault: {exc}")).run()

    def reveal_current(self) -> None:
        """Show the decrypted value of the selected vault entry (unlocked vault only)."""
        m = self.current
        if m is None or m.type != "vault" or not self.vault_unlocked:
            return
        mid = m.id
        StoreOp(self._bridge, lambda s: s.vault().show(mid)).success(
            lambda shown: self._on_revealed(mid, shown)
        ).failure(lambda exc: self._show_vault_message(f"Could not reveal this entry: {exc}")).run()

    def _on_revealed(self, mid: int, shown: tuple[Any, str | None]) -> None:
        item, problem = shown
        if self.current is None or self.current.id != mid:
            return
        if item.secret is None:
            self._show_vault_message(problem or "this entry has no stored value")
            return
        self.details_edit.setPlainText(item.secret)
        self.secret_revealed.emit(mid)

    def _on_vault_failed(self, exc: Exception) -> None:
        self.vault_status.setText("Vault locked" if not self.vault_unlocked else "Vault unlocked")
        self._show_vault_message(f"Could not unlock the vault: {exc}")

    def _show_vault_message(self, text: str) -> None:
        """Say what went wrong in a non-blocking message box."""
        self.message_box = QMessageBox(QMessageBox.Icon.Warning, "Vault", text, parent=self)
        self.message_box.open()
        self.vault_error.emit(text)


def _needs_passphrase(service: Any) -> bool:
    """Whether unlocking this home's vault needs the user's passphrase (worker thread)."""
    keys = service.vault().keys
    return not keys.is_unlocked and keys.backend == "passphrase"
