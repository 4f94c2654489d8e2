"""The preview card shown above the timeline and the filmstrip while the mouse hovers a moment."""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSize, Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

PREVIEW = QSize(384, 216)


class HoverCard(QFrame):
    """A frameless tooltip window with a preview image and a caption."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, Qt.WindowType.ToolTip)
        self.setObjectName("card")
        lay = QVBoxLayout(self)
        lay.setContentsMargins(6, 6, 6, 6)
        self.image = QLabel(self)
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.caption = QLabel(self)
        lay.addWidget(self.image)
        lay.addWidget(self.caption)
        self.hide()

    def show_moment(
        self, caption: str, pix: QPixmap | None, anchor: QPoint, below: int = 0
    ) -> None:
        """Show ``caption`` and, once loaded, the preview, centred above ``anchor`` (global), or
        ``below`` pixels under it when the screen has no room above."""
        self.caption.setText(caption)
        self.image.setVisible(pix is not None)
        if pix is not None:
            self.image.setPixmap(
                pix.scaled(
                    PREVIEW,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.SmoothTransformation,
                )
            )
        self.adjustSize()
        pos = anchor - QPoint(self.width() // 2, self.height() + 6)
        screen = QGuiApplication.screenAt(anchor)
        if screen is not None and pos.y() < screen.availableGeometry().top():
            pos.setY(anchor.y() + below + 6)
        self.move(pos)
        self.show()
