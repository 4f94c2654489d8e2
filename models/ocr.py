"""OCR of screenshots with RapidOCR (PP-OCRv4 ONNX models shipped by rapidocr-onnxruntime)."""

from __future__ import annotations

import hashlib
import logging
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from models.device import is_out_of_memory, onnx_providers
from models.errors import BadInput, ModelUnavailable

if TYPE_CHECKING:
    from models.config import OcrConfig

logger = logging.getLogger(__name__)

OCR_ID = "rapidocr-ppocrv4"
# Files above this many pixels are refused before decoding: a 13000x13000 PNG of 164 KB would
# decode to 2.6 GB (#12). 50 M pixels is above an 8K screen (33 M) or three 4K ones side by side.
MAX_FILE_PIXELS = 50_000_000


@dataclass(frozen=True, slots=True)
class OcrLine:
    """One line of recognised text.

    Attributes:
        text: the recognised text.
        box: (x, y, w, h) in pixels of the input image.
        confidence: recognition score in [0, 1].
    """

    text: str
    box: tuple[int, int, int, int]
    confidence: float


ImageInput = Image.Image | str | Path | np.ndarray


def open_image(source: ImageInput) -> Image.Image:
    """Open and fully decode an image from a path, PIL image or HxW(x3) uint8 array.

    Raises:
        BadInput: missing, non-image, corrupt, truncated, empty or oversized input.
    """
    if isinstance(source, np.ndarray):
        if source.dtype != np.uint8 or source.ndim not in (2, 3):
            raise BadInput(
                f"expected an HxW or HxWx3 uint8 array, got {source.dtype} {source.shape}"
            )
        source = Image.fromarray(source)
    if isinstance(source, Image.Image):
        return _check_size(source)
    path = Path(source)
    if not path.is_file():
        raise BadInput(f"no such image file: {path}")
    try:
        img = _decode_file(path)
    except BadInput:
        raise
    except Image.DecompressionBombError as exc:
        raise BadInput(f"{path.name} is too large to decode: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise BadInput(f"{path.name} is not a readable image: {exc}") from exc
    except (OSError, SyntaxError, ValueError) as exc:
        raise BadInput(f"{path.name} is corrupt or truncated: {exc}") from exc
    return _check_size(img)


def _decode_file(path: Path) -> Image.Image:
    """Open and decode ``path`` after checking its pixel count; the file is closed on failure."""
    with warnings.catch_warnings():  # the size is checked right below, before decoding
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        img = Image.open(path)
    try:
        w, h = img.size
        if w * h > MAX_FILE_PIXELS:
            raise BadInput(f"{path.name} is {w}x{h}: too large (limit {MAX_FILE_PIXELS} pixels)")
        img.load()
    except BaseException:
        img.close()
        raise
    return img


def _check_size(img: Image.Image) -> Image.Image:
    w, h = img.size
    if w == 0 or h == 0:
        raise BadInput(f"image is empty ({w}x{h})")
    return img


def prepare(img: Image.Image, max_side: int) -> tuple[Image.Image, float]:
    """Convert to RGB and downscale so the longer side is at most ``max_side``.

    Returns:
        (image, scale) where original coordinates = returned coordinates * scale.
    """
    if img.mode == "1":
        img = img.convert("L")
    scale = 1.0
    longest = max(img.size)
    if longest > max_side:
        factor = int(np.ceil(longest / max_side))
        logger.info("downscaling a %sx%s image by %d for OCR", *img.size, factor)
        img = (
            img.reduce(factor)
            if img.mode in ("L", "RGB", "RGBA")
            else img.resize((max(1, img.width // factor), max(1, img.height // factor)))
        )
        scale = float(factor)
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img, scale


def _to_line(item: list[Any], scale: float) -> OcrLine:
    pts = np.asarray(item[0], dtype=np.float32) * scale
    x0, y0 = pts.min(axis=0)
    x1, y1 = pts.max(axis=0)
    box = (int(round(x0)), int(round(y0)), int(round(x1 - x0)), int(round(y1 - y0)))
    return OcrLine(text=str(item[1]), box=box, confidence=float(item[2]))


@dataclass(frozen=True, slots=True)
class OcrTuning:
    """How RapidOCR runs (chosen with ``bench/ocr.py``, #16).

    Attributes:
        det_side: the longer side of the image the text detector sees (0: the frame's own
            size). Recognition always reads the boxes' crops from the full-resolution frame.
        rec_batch: text lines recognised per onnxruntime call.
        threads: onnxruntime threads per session (0: onnxruntime's default, one per core).
        spin: let idle onnxruntime threads spin-wait (faster alone, slower on busy cores).
        line_cache: remember the text of this many recently recognised line images, so a line
            whose pixels were read before (window chrome, the unchanged rest of a screen, a
            window switched back to) is not recognised again (0: off).
    """

    det_side: int = 0
    rec_batch: int = 6
    threads: int = 0
    spin: bool = True
    line_cache: int = 0


class RapidOcrEngine:
    """RapidOCR on onnxruntime; uses the CUDA provider when present and allowed.

    One engine may be shared between threads; calls are serialised.
    """

    def __init__(
        self,
        device: str = "auto",
        max_side: int = 4096,
        use_cls: bool = False,
        tuning: OcrTuning | None = None,
    ) -> None:
        self.model_id = OCR_ID
        self.max_side = max_side
        self.tuning = tuning or OcrTuning()
        self._lock = threading.Lock()
        self.use_cuda = device in ("auto", "cuda") and "CUDAExecutionProvider" in onnx_providers()
        self._engine = _build_engine(self.use_cuda, use_cls, self.tuning)
        self._use_cls = use_cls
        self.device = "cuda" if self.use_cuda else "cpu"
        self.last_elapsed: tuple[float, float] = (0.0, 0.0)
        """Detection and recognition seconds of the latest read."""

    def read(self, source: ImageInput) -> list[OcrLine]:
        """Return the text lines in an image, top to bottom. Safe from any thread.

        Raises:
            BadInput: the image cannot be read (see ``open_image``).
        """
        img, scale = prepare(open_image(source), self.max_side)
        with self._lock:
            try:
                result, elapsed = self._engine(img)
            except Exception as exc:  # onnxruntime raises its own untyped errors
                if not (self.use_cuda and is_out_of_memory(exc)):
                    raise
                logger.warning("OCR ran out of GPU memory; running this frame on cpu")
                result, elapsed = _build_engine(False, self._use_cls, self.tuning)(img)
            if elapsed:
                self.last_elapsed = (float(elapsed[0]), float(elapsed[-1]))
        return [_to_line(item, scale) for item in (result or [])]

    def unload(self) -> None:
        """Drop the onnxruntime sessions."""
        self._engine = None


def _build_engine(use_cuda: bool, use_cls: bool, tuning: OcrTuning) -> Any:
    try:
        from rapidocr_onnxruntime import RapidOCR
    except ImportError as exc:
        raise ModelUnavailable("ocr", OCR_ID, "install rapidocr-onnxruntime==1.4.4") from exc
    options: dict[str, Any] = {"rec_batch_num": tuning.rec_batch}
    if tuning.det_side:
        # "max": the detector's input is scaled down so its longer side is det_side; the boxes
        # are mapped back and cropped from the full-resolution frame for recognition.
        options.update(det_limit_type="max", det_limit_side_len=tuning.det_side)
    if tuning.threads:
        for part in ("det", "cls", "rec"):
            options[f"{part}_intra_op_num_threads"] = tuning.threads
    engine = RapidOCR(
        use_cls=use_cls,
        print_verbose=False,
        det_use_cuda=use_cuda,
        cls_use_cuda=use_cuda,
        rec_use_cuda=use_cuda,
        **options,
    )
    if not tuning.spin and not use_cuda:
        for part in (engine.text_det, engine.text_cls, engine.text_rec):
            _respin(part.session if hasattr(part, "session") else part.infer, tuning.threads)
    if tuning.line_cache:
        engine.text_rec = LineCache(engine.text_rec, tuning.line_cache)
    return engine


class LineCache:
    """Wraps RapidOCR's recogniser: line crops seen before (same pixels) are answered from memory.

    Only the crops missing from the cache go to the model, in one call (its batching as before).
    Not thread-safe on its own; ``RapidOcrEngine`` serialises reads.
    """

    def __init__(self, recognise: Any, size: int) -> None:
        self.recognise = recognise
        self.size = size
        self.hits = 0
        self.misses = 0
        self._seen: OrderedDict[bytes, tuple[str, float]] = OrderedDict()

    @staticmethod
    def key(crop: np.ndarray) -> bytes:
        """A digest of a crop's shape and pixels."""
        h = hashlib.blake2b(str(crop.shape).encode(), digest_size=16)
        h.update(np.ascontiguousarray(crop).tobytes())
        return h.digest()

    def __call__(
        self, crops: np.ndarray | list[np.ndarray], return_word_box: bool = False
    ) -> tuple[list[Any], float]:
        """Recognise ``crops``; returns RapidOCR's (results, seconds) for all of them."""
        if isinstance(crops, np.ndarray):
            crops = [crops]
        if return_word_box:  # word boxes are not cached
            result: tuple[list[Any], float] = self.recognise(crops, return_word_box)
            return result
        keys = [self.key(c) for c in crops]
        out: list[Any] = [self._seen.get(k) for k in keys]
        todo = [i for i, r in enumerate(out) if r is None]
        self.hits += len(crops) - len(todo)
        self.misses += len(todo)
        elapsed = 0.0
        if todo:
            fresh, elapsed = self.recognise([crops[i] for i in todo], False)
            for i, r in zip(todo, fresh, strict=True):
                out[i] = (str(r[0]), float(r[1]))
                self._seen[keys[i]] = out[i]
        for k in keys:
            if k in self._seen:
                self._seen.move_to_end(k)
        while len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return out, elapsed


def _respin(infer: Any, threads: int) -> None:
    """Rebuild one RapidOCR onnxruntime session with spin-waiting off (same model, same options)."""
    import onnxruntime as ort

    old = infer.session
    options = ort.SessionOptions()
    options.log_severity_level = 4
    options.enable_cpu_mem_arena = False
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        options.intra_op_num_threads = threads
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    infer.session = ort.InferenceSession(
        old._model_path, sess_options=options, providers=old.get_providers()
    )


def load_ocr(cfg: OcrConfig, cache_dir: str | None = None) -> RapidOcrEngine:
    """Build the OCR engine for a config (registry loader)."""
    if cfg.path:
        logger.warning("ocr.path is ignored: RapidOCR uses the models shipped in its package")
    tuning = OcrTuning(
        det_side=cfg.det_side, line_cache=cfg.line_cache, threads=cfg.threads, spin=cfg.spin
    )
    return RapidOcrEngine(device=cfg.device, max_side=cfg.max_side, tuning=tuning)
