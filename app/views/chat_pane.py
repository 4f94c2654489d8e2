"""The chat pane: streamed answers, [n] citations that open the cited moment or memory, a stop
button, and kept sessions."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app import theme
from app.bridge import CoreBridge
from app.ops import StoreOp, StreamOp
from app.views.chat_backend import ChatBackend, ChatEvent, ServiceChatBackend

_CITE = re.compile(r"\[(\d{1,3})\]")
_BOLD = re.compile(r"\*\*(.+?)\*\*")


@dataclass
class Turn:
    """One message shown in the pane."""

    role: str
    text: str = ""
    citations: list[dict[str, Any]] = field(default_factory=list)


def render_turns(turns: list[Turn]) -> str:
    """HTML for the transcript; ``[n]`` becomes a ``cite:n`` link when that citation exists."""
    c = theme.current()
    parts = []
    for i, turn in enumerate(turns):
        known = {int(x.get("n", k + 1)) for k, x in enumerate(turn.citations)}
        body = html.escape(turn.text).replace("\n", "<br>")
        body = _BOLD.sub(r"<b>\1</b>", body)  # the answer span of an extractive answer
        body = _CITE.sub(
            lambda m, i=i, known=known: (
                f'<a href="cite:{i}:{m.group(1)}">[{m.group(1)}]</a>'
                if int(m.group(1)) in known
                else m.group(0)
            ),
            body,
        )
        who, bg = ("You", c.alt) if turn.role == "user" else ("Engram", c.base)
        sources = "".join(
            f'<div style="color:{c.muted}">[{x.get("n", k + 1)}] '
            f'<a href="cite:{i}:{x.get("n", k + 1)}">{html.escape(_cite_label(x))}</a></div>'
            for k, x in enumerate(turn.citations)
        )
        parts.append(
            f'<div style="background:{bg}; padding:8px; margin:6px 0">'
            f"<b>{who}</b><br>{body}{sources}</div>"
        )
    return "".join(parts)


def _cite_label(cite: dict[str, Any]) -> str:
    when = datetime.fromtimestamp(cite["ts"]).strftime("%a %d %b %H:%M") if cite.get("ts") else ""
    return " · ".join(x for x in (when, str(cite.get("title") or cite.get("kind") or "")) if x)


class ChatPane(QWidget):
    """Ask the assistant.

    Signals:
        citation_activated(dict): a citation was clicked (has observation_id or memory_id).
        answer_finished(bool): an answer ended (True if it was stopped).
    """

    citation_activated = Signal(dict)
    answer_finished = Signal(bool)

    def __init__(
        self, bridge: CoreBridge, backend: ChatBackend | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self.backend: ChatBackend = backend or ServiceChatBackend()
        self.turns: list[Turn] = []
        self.session_id: int | None = None
        self._stream: StreamOp[ChatEvent] | None = None
        self._kept = False
        self._render_timer = QTimer(self, singleShot=True, interval=50)
        self._render_timer.timeout.connect(self._on_render_due)
        self._build()
        self.refresh_sessions()
        StoreOp(bridge, self.backend.unavailable_reason).success(self._on_availability_loaded).run()

    def _build(self) -> None:
        self.sessions = QComboBox()
        self.sessions.activated.connect(self._on_session_activated)
        new_b = QPushButton("New chat")
        new_b.clicked.connect(self.new_session)
        head = QHBoxLayout()
        head.addWidget(QLabel("Assistant", objectName="heading"))
        head.addWidget(self.sessions, 1)
        head.addWidget(new_b)
        self.notice = QLabel(objectName="muted", wordWrap=True)
        self.view = QTextBrowser(openLinks=False)
        self.view.anchorClicked.connect(self._on_anchor_clicked)
        self.input = QPlainTextEdit(placeholderText="Ask about your day…  (Ctrl+Enter to send)")
        self.input.setFixedHeight(70)
        self.send_b = QPushButton("Ask", objectName="primary")
        self.stop_b = QPushButton("Stop", enabled=False)
        self.send_b.clicked.connect(lambda: self.ask(self.input.toPlainText()))
        self.stop_b.clicked.connect(self.stop)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.stop_b)
        row.addWidget(self.send_b)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(8, 0, 0, 0)
        for w in (self.notice, self.view, self.input):
            lay.addWidget(w, 1 if w is self.view else 0)
        lay.insertLayout(0, head)
        lay.addLayout(row)
        self.send_b.setShortcut("Ctrl+Return")

    # -- sessions --------------------------------------------------------------------------------

    def refresh_sessions(self) -> None:
        """Reload the session list (off the GUI thread)."""
        StoreOp(self._bridge, lambda s: s.chat_sessions()).success(self._on_sessions_loaded).run()

    def _on_sessions_loaded(self, sessions: list[Any]) -> None:
        self.sessions.clear()
        self.sessions.addItem("New conversation", None)
        for sess in sessions:
            when = datetime.fromtimestamp(sess.updated_at).strftime("%d %b %H:%M")
            self.sessions.addItem(f"{sess.title[:40]} — {when}", sess.id)
        idx = self.sessions.findData(self.session_id)
        self.sessions.setCurrentIndex(max(0, idx))

    def _on_session_activated(self, index: int) -> None:
        sid = self.sessions.itemData(index)
        if sid is None:
            self.new_session()
            return
        StoreOp(self._bridge, lambda s: s.chat_messages(sid)).success(
            lambda msgs: self._on_messages_loaded(sid, msgs)
        ).run()

    def _on_messages_loaded(self, sid: int, messages: list[Any]) -> None:
        self.session_id = sid
        self.turns = [Turn(m.role, m.content, list(m.citations)) for m in messages]
        self._on_render_due()

    def new_session(self) -> None:
        """Start an empty conversation."""
        self.stop()
        self.session_id, self.turns = None, []
        self._on_render_due()

    # -- asking ----------------------------------------------------------------------------------

    def ask(self, question: str) -> None:
        """Stream an answer to ``question`` (off the GUI thread)."""
        question = question.strip()
        if not question or self._stream is not None:
            return
        history = [(t.role, t.text) for t in self.turns]
        self.turns += [Turn("user", question), Turn("assistant")]
        self.input.clear()
        self._set_busy(True)
        backend, sid = self.backend, self.session_id
        self._kept = False
        self._stream = StreamOp(self._bridge, lambda s: backend.stream(s, question, history, sid))
        self._stream.yielded(self._on_event_yielded).finished(self._on_stream_finished).failure(
            self._on_stream_failed
        ).run()
        self._on_render_due()

    def stop(self) -> None:
        """Stop the answer being streamed (keeps what arrived)."""
        if self._stream is not None:
            self._stream.stop()

    def _on_event_yielded(self, event: ChatEvent) -> None:
        answer = self.turns[-1]
        if event.kind == "citations":
            answer.citations = list(event.citations)
        elif event.kind == "done":
            self._kept = event.session_id is not None
            self.session_id = event.session_id if self._kept else self.session_id
        else:
            answer.text += event.text
        if not self._render_timer.isActive():
            self._render_timer.start()  # re-render at most every 50 ms, not per token

    def _on_stream_failed(self, exc: Exception) -> None:
        self.turns[-1].text += f"\n(The assistant failed: {exc})"

    def _on_stream_finished(self, stopped: bool) -> None:
        self._stream = None
        self._set_busy(False)
        question, answer = self.turns[-2], self.turns[-1]
        if stopped:
            answer.text += " (stopped)"
        self._on_render_due()
        if self._kept:  # the agent stored the turn itself
            self.refresh_sessions()
        else:
            sid = self.session_id
            StoreOp(
                self._bridge,
                lambda s: s.save_chat_turn(sid, question.text, answer.text, answer.citations),
            ).success(self._on_turn_saved).run()
        self.answer_finished.emit(stopped)

    def _on_turn_saved(self, session_id: int) -> None:
        self.session_id = session_id
        self.refresh_sessions()

    def _set_busy(self, busy: bool) -> None:
        self.send_b.setEnabled(not busy)
        self.stop_b.setEnabled(busy)

    def _on_availability_loaded(self, reason: str | None) -> None:
        self.notice.setText(reason or "")
        self.notice.setVisible(bool(reason))
        self.send_b.setEnabled(reason is None)

    def _on_render_due(self) -> None:
        self.view.setHtml(render_turns(self.turns))
        bar = self.view.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_anchor_clicked(self, url: QUrl) -> None:
        _scheme, turn_i, n = url.toString().split(":")
        turn = self.turns[int(turn_i)]
        for k, cite in enumerate(turn.citations):
            if int(cite.get("n", k + 1)) == int(n):
                self.citation_activated.emit(cite)
                return

    def citation_count(self) -> int:
        """How many citations the last answer has (tests, status)."""
        return len(self.turns[-1].citations) if self.turns else 0

    def transcript_text(self) -> str:
        """The transcript as plain text."""
        return self.view.toPlainText()

    def keyPressEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        if event.key() == Qt.Key.Key_Escape:
            self.stop()
        super().keyPressEvent(event)
