"""Stored frames: WebP files and thumbnails under ``frames/YYYY/MM/DD/``.

Frames are stored lossless at their own resolution by default (#16): on text screens lossless
WebP is 2-5x smaller than the lossy, 1600-pixel frames stored before (bench/frame_storage.py) and
keeps every pixel, so what OCR read stays legible at 100% zoom. A frame whose lossless file would
be large (photos, video) is also encoded lossy and the smaller file is kept. Frames written by
earlier versions (lossy, downscaled) stay readable: every stored frame is a WebP file.

Every file is written atomically (a temporary file in the same folder, fsync, rename), so a crash
leaves either the old file, the new one, or a stray ``*.tmp`` that :meth:`FrameStore.sweep_tmp`
removes; never half a frame. Paths handed to the store are relative to the home root.
"""

from __future__ import annotations

import io
import logging
import os
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath

from PIL import Image, ImageFilter

from memory.media.sealed import seal, unseal

logger = logging.getLogger(__name__)

THUMB_SUFFIX = ".thumb.webp"
FRAME_SUFFIX = ".webp"


@dataclass(frozen=True, slots=True)
class FrameSettings:
    """How frames are stored.

    Attributes:
        max_side: the longer side of a stored frame, in pixels (bigger frames are downscaled).
        lossless: store frames losslessly (falling back to lossy above ``lossy_above`` bytes).
        quality: WebP quality of lossy frames (0-100).
        lossy_above: a lossless frame bigger than this many bytes is also encoded lossy, and
            the smaller of the two is kept.
        thumb_side: the longer side of a thumbnail.
        thumb_quality: WebP quality of thumbnails.
    """

    max_side: int = 7680
    lossless: bool = True
    quality: int = 80
    lossy_above: int = 150_000
    thumb_side: int = 320
    thumb_quality: int = 60


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """Where a frame and its thumbnail were written (relative to the home root)."""

    frame: str
    thumb: str
    bytes_written: int


def full_for_thumb(thumb_rel: str) -> str:
    """The stored frame that belongs to a thumbnail (they share a stem)."""
    if not thumb_rel.endswith(THUMB_SUFFIX):
        raise ValueError(f"not a thumbnail path: {thumb_rel}")
    return thumb_rel[: -len(THUMB_SUFFIX)] + FRAME_SUFFIX


def _in_frames(rel: str) -> bool:
    """True for a relative path under the home's ``frames/`` folder (no ``..``, not absolute)."""
    p = PurePosixPath(rel)
    return (
        not p.is_absolute() and len(p.parts) > 1 and p.parts[0] == "frames" and ".." not in p.parts
    )


def stored_files(origin: str, frame_path: str | None, thumb_path: str | None) -> list[str]:
    """The files of the home that hold one observation's frame, thumbnail or audio.

    An import's ``frame_path`` is the manifest's path of the user's original file: it is never
    returned (its stored copy is found from the thumbnail). Only paths under ``frames/`` are
    returned, so a caller that unlinks them never touches a file outside the home's frame folder.
    """
    out: list[str] = []
    if thumb_path:
        out.append(thumb_path)
        if thumb_path.endswith(THUMB_SUFFIX):
            out.append(full_for_thumb(thumb_path))
    if frame_path and origin != "import":
        out.append(frame_path)
    return [p for p in dict.fromkeys(out) if _in_frames(p)]


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename (crash-safe)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _fit(img: Image.Image, side: int) -> Image.Image:
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")
    if max(img.size) <= side:
        return img
    scale = side / max(img.size)
    size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
    return img.resize(size, Image.Resampling.LANCZOS)


def encode_webp(img: Image.Image, side: int, quality: int, *, lossless: bool = False) -> bytes:
    """Downscale to ``side`` and encode as WebP (lossless: ``quality`` is the effort)."""
    buf = io.BytesIO()
    _fit(img, side).save(buf, "WEBP", quality=quality, method=4, lossless=lossless)
    return buf.getvalue()


def encode_frame(img: Image.Image, settings: FrameSettings) -> bytes:
    """A stored frame's file: lossless unless lossy is much smaller (photos, video) or asked for."""
    if not settings.lossless:
        return encode_webp(img, settings.max_side, settings.quality)
    # effort 50 with method 4: within 10% of the smallest lossless file at a fraction of the time
    data = encode_webp(img, settings.max_side, 50, lossless=True)
    if len(data) > settings.lossy_above:
        lossy = encode_webp(img, settings.max_side, settings.quality)
        if len(lossy) < len(data):
            return lossy
    return data


class FrameStore:
    """Reads and writes the frames of one home. Thread-safe (each call writes distinct files).

    With a ``key`` (an encrypted home, #12) every file is written sealed (AES-GCM,
    ``memory.media.sealed``) and read back decrypted in memory; plain files (a home still being
    converted) are read as they are. ``write_bytes``/``read_bytes`` are the one place frame and
    audio bytes meet the disk.
    """

    def __init__(
        self, root: Path, settings: FrameSettings | None = None, key: bytes | None = None
    ) -> None:
        self.root = Path(root)
        self.settings = settings or FrameSettings()
        self.key = key

    def write_bytes(self, rel: str, data: bytes) -> int:
        """Write one file of the home atomically (sealed when the home is encrypted); its size."""
        out = seal(self.key, data) if self.key is not None else data
        atomic_write(self.root / rel, out)
        return len(out)

    def read_bytes(self, rel: str) -> bytes:
        """The plain content of one stored file.

        Raises:
            FileNotFoundError: the file is gone.
            EngramLocked: the file is encrypted and the store has no key.
        """
        return unseal(self.key, (self.root / rel).read_bytes(), rel)

    def save(self, img: Image.Image, ts: float, tag: str = "") -> StoredFrame:
        """Store a frame and its thumbnail; returns their relative paths."""
        day = datetime.fromtimestamp(ts)
        stamp = day.strftime("%H%M%S") + f"{int((ts % 1) * 1000):03d}"
        stem = f"{stamp}-{tag + '-' if tag else ''}{secrets.token_hex(3)}"
        folder = Path("frames") / day.strftime("%Y/%m/%d")
        frame_rel = (folder / (stem + FRAME_SUFFIX)).as_posix()
        thumb_rel = (folder / (stem + THUMB_SUFFIX)).as_posix()
        written = self.write_images(img, frame_rel, thumb_rel)
        return StoredFrame(frame_rel, thumb_rel, written)

    def write_images(self, img: Image.Image, frame_rel: str | None, thumb_rel: str | None) -> int:
        """(Re)write a stored frame and/or thumbnail from ``img``; returns bytes written."""
        s = self.settings
        total = 0
        if frame_rel:
            total += self.write_bytes(frame_rel, encode_frame(img, s))
        if thumb_rel:
            total += self.write_bytes(thumb_rel, encode_webp(img, s.thumb_side, s.thumb_quality))
        return total

    def open(self, rel: str) -> Image.Image:
        """Open a stored frame (fully decoded, RGB).

        Raises:
            FileNotFoundError: the file is gone (thinned by retention or forgotten).
        """
        with Image.open(io.BytesIO(self.read_bytes(rel))) as img:
            return img.convert("RGB")

    def blur_regions(self, img: Image.Image, boxes: list[tuple[int, int, int, int]]) -> Image.Image:
        """A copy of ``img`` with each (x, y, w, h) box (in ``img`` pixels) heavily blurred."""
        out = img.convert("RGB").copy()
        for x, y, w, h in boxes:
            pad = 4
            area = (
                max(0, x - pad),
                max(0, y - pad),
                min(out.width, x + w + pad),
                min(out.height, y + h + pad),
            )
            if area[2] <= area[0] or area[3] <= area[1]:
                continue
            region = out.crop(area)
            small = region.resize((max(1, region.width // 12), max(1, region.height // 12)))
            out.paste(small.resize(region.size).filter(ImageFilter.GaussianBlur(6)), area[:2])
        return out

    def sweep_tmp(self) -> int:
        """Remove temporary files a crash left behind; returns how many."""
        removed = 0
        for tmp in self.root.joinpath("frames").rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            removed += 1
        if removed:
            logger.info("removed %d unfinished frame files", removed)
        return removed

    def size(self, rel: str) -> int:
        """Size of a stored file in bytes (0 when absent)."""
        try:
            return (self.root / rel).stat().st_size
        except OSError:
            return 0
