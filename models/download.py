"""Resumable, verified model downloads with progress (only the app downloads; tests never do)."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path

import httpx

from models.errors import ChecksumMismatch, DownloadError, ModelUnavailable
from models.files import CHUNK, sha256_file
from models.registry import CATALOGUE, default_cache_dir

logger = logging.getLogger(__name__)

Progress = Callable[[int, int | None], None]


def download(
    url: str,
    dest: str | Path,
    *,
    model_id: str,
    sha256: str | None = None,
    progress: Progress | None = None,
    timeout: float = 30.0,
    role: str = "download",
) -> Path:
    """Download ``url`` to ``dest``: resumes a ``.part`` file with Range, verifies, renames.

    Args:
        progress: called as ``progress(bytes_done, total_or_None)`` after each chunk.

    Raises:
        ModelUnavailable: the host cannot be reached (offline); says how to get the model.
        DownloadError: an HTTP error, an interrupted transfer or a full disk (the ``.part``
            file is kept for a resume).
        ChecksumMismatch: the finished file has the wrong sha256 (the file is deleted).
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    try:
        _fetch(url, part, model_id, progress, timeout)
    except httpx.ConnectError as exc:
        raise ModelUnavailable(role, model_id, offline_reason(model_id, url)) from exc
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        raise DownloadError(
            model_id, f"transfer interrupted ({exc}); run the command again to resume"
        ) from exc
    except OSError as exc:  # the disk is full or the folder is not writable
        raise DownloadError(
            model_id,
            f"cannot write {part} ({exc.strerror or exc}); free some space and run the command "
            "again: it resumes from what was saved",
        ) from exc
    if sha256 is not None:
        actual = sha256_file(part)
        if actual != sha256.lower():
            part.unlink()
            raise ChecksumMismatch(
                model_id,
                f"sha256 is {actual}, expected {sha256}; the partial file was deleted, try again",
            )
    os.replace(part, dest)  # atomic on the same file system
    logger.info("downloaded %s to %s", model_id, dest)
    return dest


def _fetch(url: str, part: Path, model_id: str, progress: Progress | None, timeout: float) -> None:
    done = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={done}-"} if done else {}
    with httpx.stream(
        "GET", url, headers=headers, timeout=timeout, follow_redirects=True
    ) as response:
        if response.status_code == 416:  # already complete
            return
        if response.status_code >= 400:
            raise DownloadError(model_id, f"HTTP {response.status_code} from {url}")
        if done and response.status_code != 206:
            logger.info("server ignored Range for %s; restarting from zero", model_id)
            done = 0
        length = response.headers.get("Content-Length")
        total = done + int(length) if length is not None else None
        with part.open("ab" if done else "wb") as fh:
            for chunk in response.iter_bytes(CHUNK):
                fh.write(chunk)
                done += len(chunk)
                if progress is not None:
                    progress(done, total)
        if total is not None and done < total:
            raise DownloadError(
                model_id,
                f"connection closed at {done} of {total} bytes; run the command again to resume",
            )


def offline_reason(model_id: str, url: str) -> str:
    """The message for a download that cannot reach its host."""
    return (
        f"cannot reach {httpx.URL(url).host} to download {model_id!r} (offline?). Run "
        f"`engram models pull {model_id}` on a connected machine and copy the file, or set "
        "a local path for this model in the config"
    )


def pull(
    model_id: str, cache_dir: str | Path | None = None, progress: Progress | None = None
) -> Path:
    """Download a catalogue model into the cache (``engram models pull ID``).

    Raises:
        ModelUnavailable: unknown id, a model without a download, or offline.
        DownloadError: the transfer or verification failed.
    """
    entry = CATALOGUE.get(model_id)
    if entry is None:
        raise ModelUnavailable(
            "download", model_id, "not in the catalogue; see `engram models list`"
        )
    if entry.url is None or entry.filename is None:
        raise ModelUnavailable(
            entry.role,
            model_id,
            f"it has no download; it comes from the PyPI package {entry.package}",
        )
    dest = Path(cache_dir or default_cache_dir()) / entry.filename
    if dest.is_file():
        return dest
    return download(
        entry.url, dest, model_id=model_id, sha256=entry.sha256, progress=progress, role=entry.role
    )
