"""How one search result is drawn: a readable thumbnail, the title, app · kind · time, and the
passage around the match with the query terms marked."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import datetime
from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPixmap, QTextDocument
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from app import theme
from app.widgets.passage import passage
from app.widgets.thumbs import draw_cover

THUMB = QSize(176, 99)
PAD = 8
ROW_H = THUMB.height() + 2 * PAD + 6
HIT_ROLE = Qt.ItemDataRole.UserRole
Index = QModelIndex | QPersistentModelIndex


def marked_html(text: str, spans: list[tuple[int, int]], mark: str) -> str:
    """``text`` as HTML with ``spans`` highlighted."""
    out, last = [], 0
    for a, b in spans:
        out.append(html.escape(text[last:a]))
        out.append(
            f'<span style="background:{mark}; font-weight:600">{html.escape(text[a:b])}</span>'
        )
        last = b
    out.append(html.escape(text[last:]))
    return "".join(out)


def hit_meta(hit: Any) -> str:
    """The result's app, time and kind ("Firefox · Tue 03 Mar 2026, 09:23 · screen"); the kind
    comes last, so a narrow column cuts it first."""
    kind = hit.obs_kind if hit.kind == "observation" else f"{hit.kind} memory"
    when = datetime.fromtimestamp(hit.ts).strftime("%a %d %b %Y, %H:%M")
    return " · ".join(x for x in (hit.app, when, why_matched(hit), kind) if x)


def why_matched(hit: Any) -> str:
    """ "looks alike 0.91", "words + picture" or "" when the picture played no part (#17)."""
    if "visual" not in hit.extra:
        return ""
    if "words" in hit.matched:
        return "words + picture"
    return f"looks alike {float(hit.extra['visual']):.2f}"


class ResultDelegate(QStyledItemDelegate):
    """Paints ``Hit`` rows; ``thumb_for(hit)`` returns a loaded pixmap or None (never blocks)."""

    def __init__(
        self,
        thumb_for: Callable[[Any], QPixmap | None],
        terms: Callable[[], tuple[str, ...]],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._thumb_for = thumb_for
        self._terms = terms

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:  # noqa: N802
        return QSize(0, ROW_H)  # as wide as the list: no sideways scrolling

    def paint(self, p: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        hit = index.data(HIT_ROLE)
        if hit is None:
            return super().paint(p, option, index)
        c = theme.current()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        rect = QRectF(option.rect).adjusted(2, 2, -2, -2)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(
            QColor(c.accent).lighter(185)
            if selected and not c.dark
            else QColor(c.alt)
            if selected
            else QColor(c.base)
        )
        p.drawRoundedRect(rect, 8, 8)
        thumb = QRectF(rect.left() + PAD, rect.top() + PAD, THUMB.width(), THUMB.height())
        self._paint_thumb(p, c, thumb, hit)
        text_x = thumb.right() + PAD + 4
        width = rect.right() - PAD - text_x
        font = p.font()
        bold = p.font()
        bold.setBold(True)
        bold.setPointSizeF(font.pointSizeF() * 1.08)
        p.setFont(bold)
        p.setPen(QColor(c.text))
        title = p.fontMetrics().elidedText(
            hit.title or "(untitled)", Qt.TextElideMode.ElideRight, int(width)
        )
        p.drawText(
            QRectF(text_x, rect.top() + PAD - 2, width, 22), Qt.AlignmentFlag.AlignVCenter, title
        )
        p.setFont(font)
        p.setPen(QColor(c.muted))
        meta = p.fontMetrics().elidedText(hit_meta(hit), Qt.TextElideMode.ElideRight, int(width))
        p.drawText(
            QRectF(text_x, rect.top() + PAD + 20, width, 20), Qt.AlignmentFlag.AlignVCenter, meta
        )
        self._paint_snippet(
            p,
            c,
            QRectF(text_x, rect.top() + PAD + 42, width, rect.bottom() - rect.top() - PAD - 46),
            hit,
        )
        p.restore()
        return None

    def _paint_thumb(self, p: QPainter, c: theme.Colors, r: QRectF, hit: Any) -> None:
        kind = hit.obs_kind if hit.kind == "observation" else hit.kind
        p.save()
        tint = theme.app_color(hit.app or kind).lighter(160 if not c.dark else 80)
        if not draw_cover(p, self._thumb_for(hit), r, tint):
            p.setPen(QColor(c.text))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, (kind or "").capitalize())
        p.restore()
        p.setPen(QColor(c.border))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(r, 4, 4)
        why = why_matched(hit)
        if why:  # found by its picture (#17): say so on the picture itself, never cut off
            self._paint_badge(p, r, why)

    @staticmethod
    def _paint_badge(p: QPainter, r: QRectF, text: str) -> None:
        p.save()
        font = p.font()
        font.setPointSizeF(font.pointSizeF() * 0.85)
        font.setBold(True)
        p.setFont(font)
        w = p.fontMetrics().horizontalAdvance(text) + 12
        badge = QRectF(r.left() + 4, r.bottom() - 22, min(w, r.width() - 8), 18)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(20, 20, 20, 190))
        p.drawRoundedRect(badge, 6, 6)
        p.setPen(QColor("white"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        p.restore()

    def _paint_snippet(self, p: QPainter, c: theme.Colors, r: QRectF, hit: Any) -> None:
        text, spans = passage(hit.text or "", self._terms(), width=int(max(120, r.width() / 2.2)))
        doc = QTextDocument()
        doc.setDefaultFont(p.font())
        doc.setDocumentMargin(0)
        doc.setTextWidth(r.width())
        doc.setHtml(f'<div style="color:{c.text}">{marked_html(text, spans, c.highlight)}</div>')
        p.save()
        p.translate(r.topLeft())
        p.setClipRect(QRectF(0, 0, r.width(), r.height()))
        doc.drawContents(p, QRectF(0, 0, r.width(), r.height()))
        p.restore()
