"""Lazy thumbnails: QImage decoded on a worker pool, QPixmap made on the GUI thread, LRU-cached."""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QObject, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QImage, QImageReader, QPainter, QPixmap

from app.bridge import CoreBridge

if TYPE_CHECKING:
    from memory.service import MemoryService

logger = logging.getLogger(__name__)


def load_image(data: bytes, max_size: QSize | None = None) -> QImage:
    """Decode an image's bytes, scaled down while decoding when ``max_size`` is given (any thread).

    Bytes, not a path: an encrypted home's frames are decrypted in memory by the service (#12).
    """
    buffer = QBuffer()
    buffer.setData(QByteArray(data))
    buffer.open(QIODevice.OpenModeFlag.ReadOnly)
    reader = QImageReader(buffer)
    reader.setAutoTransform(True)
    if max_size is not None and reader.size().isValid():
        reader.setScaledSize(reader.size().scaled(max_size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():
        logger.debug("cannot read an image: %s", reader.errorString())
    return image


def decode_file(service: MemoryService, path: Path | None, size: QSize | None) -> QImage:
    """The image of a stored file through the service (decrypted when needed); null when gone."""
    if path is None or not path.is_file():
        return QImage()
    try:
        return load_image(service.image_bytes(path), size)
    except Exception:  # locked, forgotten or damaged meanwhile: no picture, never a crash
        logger.debug("cannot load %s", path, exc_info=True)
        return QImage()


def draw_cover(p: QPainter, pix: QPixmap | None, rect: QRectF, placeholder: QColor) -> bool:
    """Fill ``rect`` with ``pix`` scaled to cover it (cropped), or with ``placeholder`` when None.

    Leaves the painter clipped to ``rect`` (call between ``save()`` and ``restore()``); returns
    whether a picture was drawn.
    """
    p.setClipRect(rect)
    if pix is None:
        p.fillRect(rect, placeholder)
        return False
    scaled = pix.scaled(
        rect.size().toSize(),
        Qt.AspectRatioMode.KeepAspectRatioByExpanding,
        Qt.TransformationMode.SmoothTransformation,
    )
    p.drawPixmap(rect.topLeft(), scaled)
    return True


class ThumbnailCache(QObject):
    """Thumbnails by observation id; ``get`` never blocks, ``thumbnail_loaded`` says one arrived."""

    thumbnail_loaded = Signal(int)

    def __init__(
        self,
        bridge: CoreBridge,
        size: QSize | None = None,
        capacity: int = 300,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._bridge = bridge
        self._size = size if size is not None else QSize(240, 135)
        self._capacity = capacity
        self._cache: OrderedDict[int, QPixmap] = OrderedDict()
        self._pending: set[int] = set()
        self._missing: set[int] = set()

    def __len__(self) -> int:
        return len(self._cache)

    def get(self, obs_id: int) -> QPixmap | None:
        """The cached pixmap, or None after starting a background load (GUI thread)."""
        pix = self._cache.get(obs_id)
        if pix is not None:
            self._cache.move_to_end(obs_id)
            return pix
        if obs_id not in self._pending and obs_id not in self._missing:
            self._pending.add(obs_id)
            self._bridge.submit(lambda: self._load(obs_id), "thumbs")
        return None

    def _load(self, obs_id: int) -> None:
        """Find and decode the thumbnail (worker thread)."""
        try:
            path = self._bridge.service.thumbnail_file(obs_id)
        except Exception:  # forgotten meanwhile, or the store closed: no thumbnail
            path = None
        image = decode_file(self._bridge.service, path, self._size)
        self._bridge.deliver(self._on_image_loaded, (obs_id, image))

    def _on_image_loaded(self, item: tuple[int, QImage]) -> None:
        obs_id, image = item
        self._pending.discard(obs_id)
        if image.isNull():
            self._missing.add(obs_id)
            return
        self._cache[obs_id] = QPixmap.fromImage(image)  # QPixmap only ever on the GUI thread
        while len(self._cache) > self._capacity:
            self._cache.popitem(last=False)
        self.thumbnail_loaded.emit(obs_id)
