"""Configuration of the capture layer (screen, window rules, audio)."""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

logger = logging.getLogger(__name__)

#: Apps whose windows are never recorded. Matched case-insensitively against the window's
#: app name (X11 WM_CLASS instance/class, the process name on Windows, the bundle name on macOS).
DEFAULT_EXCLUDED_APPS: tuple[str, ...] = (
    "keepassxc",
    "keepass",
    "keepass2",
    "1password",
    "bitwarden",
    "lastpass",
    "keychain access",
    "dashlane",
    "enpass",
    "proton pass",
    "nordpass",
    "roboform",
    "seahorse",
    "gnome-keyring",
    "kwalletmanager",
    "kwalletmanager5",
    "pass",
)

#: Regexes (case-insensitive, searched anywhere in the title) of windows never recorded.
DEFAULT_EXCLUDED_TITLE_PATTERNS: tuple[str, ...] = (
    r"private browsing",
    r"incognito",
    r"inprivate",
    r"\bprivate window\b",
    r"tor browser",
)


class DedupConfig(BaseModel):
    """Thresholds of the perceptual-hash plus changed-area frame deduplication.

    Chosen with ``bench/capture_dedup.py`` on 1080p scenes: a blinking caret and a panel
    clock change no dHash bit and 1-4 of 8,160 grid cells (always skipped); scrolling and
    window switches are always kept. ``changed_area=0.002`` (~16 cells, about two typed
    words) keeps roughly every other frame while someone types; lower keeps more.
    The ratio is per monitor, so a 4K monitor needs ~4x the changed pixels of 1080p.
    """

    hash_distance: int = Field(default=4, ge=0, le=64)
    """A frame whose dHash differs from the last kept one by more bits than this is kept."""
    changed_area: float = Field(default=0.002, ge=0.0, le=1.0)
    """A frame is kept when more than this share of grid cells changed."""
    cell_threshold: float = Field(default=6.0, ge=0.0, le=255.0)
    """Mean absolute grey difference (0-255) above which a grid cell counts as changed."""
    grid_px: int = Field(default=16, ge=4, le=256)
    """Side of one grid cell in full-resolution pixels."""
    max_skip_s: float = Field(default=300.0, ge=0.0)
    """Keep a frame at least this often even if nothing changed (0 disables)."""


class CaptureConfig(BaseModel):
    """Everything the capture layer needs; given to the recorders by their constructor."""

    interval_s: float = Field(default=2.0, gt=0.0)
    backend: Literal["auto", "x11", "wayland"] = "auto"
    """How the screen is read: ``"auto"`` picks Wayland's ScreenCast portal in a Wayland
    session and X11 (mss) otherwise."""
    portal_token_path: Path | None = None
    """Where the ScreenCast portal's restore token is kept (mode 0600); ``None`` keeps none,
    so every start asks the user again."""
    monitors: Literal["all"] | list[int] = "all"
    """``"all"`` or 1-based mss monitor indexes (1 is the first physical monitor)."""
    excluded_apps: list[str] = Field(default_factory=lambda: list(DEFAULT_EXCLUDED_APPS))
    excluded_title_patterns: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDED_TITLE_PATTERNS)
    )
    excluded_pids: list[int] = Field(default_factory=list)
    """Processes whose windows are never recorded (Engram's own, by the window's _NET_WM_PID)."""
    mask_excluded_windows: bool = True
    """Black out visible excluded windows that are not active (instead of keeping them)."""
    idle_pause_minutes: float = Field(default=5.0, ge=0.0)
    """Pause screen capture after this much input idleness (0 disables)."""
    pause_on_lock: bool = True
    queue_size: int = Field(default=8, ge=1)
    dedup: DedupConfig = Field(default_factory=DedupConfig)

    audio_enabled: bool = False
    audio_device: str | int | None = None
    """sounddevice input device name or index; ``None`` is the system default."""
    audio_sample_rate: int = Field(default=16000, ge=8000)
    audio_block_ms: int = Field(default=30, ge=10, le=200)
    audio_energy_db: float = Field(default=-45.0, le=0.0)
    """Blocks louder than this RMS level (dBFS) count as speech."""
    audio_hangover_ms: int = Field(default=600, ge=0)
    """Silence shorter than this does not end a chunk."""
    audio_min_chunk_ms: int = Field(default=300, ge=0)
    audio_max_chunk_s: float = Field(default=30.0, gt=0.0)

    @field_validator("excluded_title_patterns")
    @classmethod
    def _patterns_compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"bad excluded title pattern {pattern!r}: {exc}") from exc
        return patterns

    @field_validator("monitors")
    @classmethod
    def _monitors_positive(cls, value: Literal["all"] | list[int]) -> Literal["all"] | list[int]:
        if value != "all" and any(index < 1 for index in value):
            raise ValueError("monitor indexes start at 1 (0 is mss's all-monitors union)")
        return value
