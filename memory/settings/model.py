"""The one settings model: every default a user can change lives here, field by field (#10).

The home's config.toml holds it (``memory.settings.load``); ``ENGRAM_<SECTION>__<KEY>`` environment
variables override the file (e.g. ``ENGRAM_CAPTURE__INTERVAL_S=5``). The app, ``engram run
--headless``, every CLI command, the recorder and the agents read the same object.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from capture.config import DEFAULT_EXCLUDED_APPS
from memory.settings.assistant import AssistantSettings
from models.config import ModelConfig

SCHEMA_VERSION = 1

#: Window titles never recorded: plain words (matched anywhere, any case) or globs (``*secret*``).
DEFAULT_EXCLUDED_TITLES: tuple[str, ...] = (
    "private browsing",
    "incognito",
    "inprivate",
    "private window",
    "tor browser",
)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CaptureSettings(_Section):
    """Screen capture: when, which monitors, and which windows never."""

    enabled: bool = Field(default=True, description="record the screen")
    interval_s: float = Field(
        default=2.0, gt=0, le=3600, description="seconds between two screenshots"
    )
    monitors: Literal["all"] | list[int] = Field(
        default="all", description='"all", or 1-based monitor numbers, e.g. [1, 2]'
    )
    excluded_apps: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDED_APPS),
        description="apps whose windows are never recorded (case-insensitive names)",
    )
    excluded_titles: list[str] = Field(
        default_factory=lambda: list(DEFAULT_EXCLUDED_TITLES),
        description="windows whose title contains one of these words or matches a glob are skipped",
    )
    mask_private_windows: bool = Field(
        default=True,
        description="black out excluded windows that are visible but not active",
    )
    exclude_engram_windows: bool = Field(
        default=True,
        description="never record Engram's own windows (by process, window class and title): "
        "its searches and chats never become memories of themselves",
    )
    idle_pause_minutes: float = Field(
        default=5.0, ge=0, description="pause after this much input idleness (0: never)"
    )
    pause_on_lock: bool = Field(default=True, description="pause while the screen is locked")

    @field_validator("monitors", mode="before")
    @classmethod
    def _monitors_text(cls, value: object) -> object:
        """Accept the text the app and the CLI give: "all" or "1,2"."""
        if isinstance(value, str) and value.strip().lower() != "all":
            parts = [p for p in value.replace(" ", "").split(",") if p]
            return [int(p) if p.isdigit() else p for p in parts] or "all"
        if isinstance(value, str):
            return "all"
        return value

    @field_validator("monitors")
    @classmethod
    def _monitors_positive(cls, value: Literal["all"] | list[int]) -> Literal["all"] | list[int]:
        if value != "all" and any(index < 1 for index in value):
            raise ValueError("monitor numbers start at 1")
        return value


class AudioSettings(_Section):
    """Microphone capture."""

    enabled: bool = Field(default=False, description="record the microphone")
    device: str = Field(
        default="default", description='input device name or number ("default": the system\'s)'
    )
    keep_raw_audio: bool = Field(
        default=False,
        description="keep each audio chunk after it is transcribed (default: only the text stays)",
    )


class RetentionSettings(_Section):
    """How long full screenshots stay and how much disk they may use."""

    keep_full_days: float = Field(
        default=30.0,
        ge=0,
        description="full frames older than this become thumbnails (0: never by age)",
    )
    quota_gb: float = Field(
        default=20.0, ge=0, description="full frames beyond this many GB are thinned (0: no quota)"
    )
    min_free_gb: float = Field(
        default=2.0, ge=0, description="capture pauses while the disk has less free space"
    )
    lossless_frames: bool = Field(
        default=True,
        description="store screenshots pixel-exact at full resolution (text screens compress "
        "best this way; photo-heavy frames fall back to lossy); off: lossy WebP",
    )


class VaultSettings(_Section):
    """The encrypted vault of secrets seen on screen."""

    key_backend: Literal["auto", "keyring", "passphrase"] = Field(
        default="auto",
        description="where a new vault key is kept: the OS keyring, a passphrase, or auto",
    )


class PrivacySettings(_Section):
    """How the home is kept on disk (#12)."""

    encrypt_at_rest: bool = Field(
        default=False,
        description="keep the database (SQLCipher), frames and audio encrypted (AES-GCM) under a "
        "key wrapped by your passphrase or kept in the OS keyring; an existing home is converted "
        "by `engram encrypt`, which also switches this on",
    )


#: What ``mcp.exposed_kinds`` may name: observation kinds, memory types, or "memory" (every memory
#: type but the vault, which is exposed only when named).
EXPOSABLE_KINDS: tuple[str, ...] = (
    "screen",
    "audio",
    "chat",
    "import",
    "memory",
    "core",
    "episodic",
    "semantic",
    "procedural",
    "resource",
    "vault",
)


class McpSettings(_Section):
    """What other assistants may read through `engram mcp` (and scripts through the HTTP API)."""

    enabled: bool = Field(
        default=True,
        description="answer MCP clients (`engram mcp` runs when a client you set up starts it)",
    )
    exposed_kinds: list[str] = Field(
        default_factory=lambda: ["screen", "audio", "chat", "import", "memory"],
        description="what MCP and API clients may read: screen, audio, chat, import, memory (every "
        "memory type but the vault) or a memory type; the vault only when named",
    )
    ask_tool: bool = Field(default=True, description="let MCP and API clients run ask_memory")
    write_tools: bool = Field(
        default=False, description="let MCP clients add memories and forget time ranges"
    )

    @field_validator("exposed_kinds")
    @classmethod
    def _known_kinds(cls, value: list[str]) -> list[str]:
        unknown = [k for k in value if k not in EXPOSABLE_KINDS]
        if unknown:
            raise ValueError(f"unknown kinds {unknown}; use {', '.join(EXPOSABLE_KINDS)}")
        return value


class ApiSettings(_Section):
    """The local HTTP API (`engram serve`, and the app while this is on)."""

    enabled: bool = Field(default=False, description="the desktop app serves the local HTTP API")
    port: int = Field(
        default=8765, ge=0, le=65535, description="port on 127.0.0.1 (0: any free port)"
    )
    write_tools: bool = Field(
        default=False, description="let API clients add memories and forget time ranges"
    )


class SearchSettings(_Section):
    """How search ranks what it finds."""

    image_weight: float = Field(
        default=0.25,
        ge=0,
        le=10,
        description="weight of the image model's match (what a screen looked like) in the fused "
        "ranking of screens, beside words (3) and text meaning (1); 0 turns it off",
    )


class UiSettings(_Section):
    """The desktop app."""

    theme: Literal["light", "dark", "system"] = Field(
        default="system", description="colour theme of the app"
    )
    first_run_done: bool = Field(default=False, description="the welcome dialog was answered")


class Settings(BaseSettings):
    """Everything a user can set, one section per part; ``Settings()`` is the defaults."""

    model_config = SettingsConfigDict(
        env_prefix="ENGRAM_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
    )

    schema_version: int = Field(
        default=SCHEMA_VERSION, description="version of this file's layout (do not edit)"
    )
    capture: CaptureSettings = Field(default_factory=CaptureSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    models: ModelConfig = Field(
        default_factory=ModelConfig, description="which model serves each role, and where"
    )
    assistant: AssistantSettings = Field(default_factory=AssistantSettings)
    vault: VaultSettings = Field(default_factory=VaultSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    mcp: McpSettings = Field(default_factory=McpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    search: SearchSettings = Field(default_factory=SearchSettings)
    ui: UiSettings = Field(default_factory=UiSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Environment over the file (given as init values); no .env or secrets folders."""
        return env_settings, init_settings
