"""`engram doctor`'s screen-capture checks: which recorder this session gets (X11 or Wayland),
where the active window comes from, who tells Engram about locking and idleness (#18).

Read-only and silent: nothing here asks the ScreenCast portal for a stream (that question
comes when recording starts), so the doctor never shows a dialog.
"""

from __future__ import annotations

from pathlib import Path

from capture.config import CaptureConfig
from capture.errors import CaptureUnavailable
from capture.window import ActiveWindowProvider
from memory.health import Check
from memory.paths import HomePaths

UNKNOWN_RULES = (
    "excluded apps, excluded title patterns and private-window detection cannot apply "
    '(every frame\'s app is "unknown"); what the frame shows still passes redaction'
)


def capture_checks(home_root: Path, config: CaptureConfig | None = None) -> list[Check]:
    """The screen, active-window and lock/idle findings for this session."""
    from capture.screen import probe_screen, screen_backend

    config = config or CaptureConfig()
    backend = screen_backend(config)
    out: list[Check] = []
    try:
        probe_screen(config)
        detail = "X11 (mss)" if backend == "x11" else "Wayland, through the ScreenCast portal"
        out.append(Check("screen", True, detail))
    except CaptureUnavailable as exc:
        fix = (
            "apt-get install xdg-desktop-portal gstreamer1.0-tools gstreamer1.0-pipewire "
            "and the portal backend of your desktop (-gnome, -kde or -wlr)"
            if backend == "wayland"
            else "run Engram inside a graphical session"
        )
        out.append(Check("screen", False, exc.reason, fix))
        return out
    if backend == "wayland":
        token = HomePaths(home_root).screencast_token
        out.append(
            Check(
                "screen-cast permission",
                True,
                "saved: recording starts without asking"
                if token.is_file()
                else "not saved yet: the desktop asks which screens to share at the first start",
            )
        )
    provider = _provider()
    if isinstance(provider, str):
        out.append(Check("active window", False, provider, "log in with an X11 session"))
        return out
    try:
        out.append(_window_check(provider))
        locked, idle = provider.screen_locked(), provider.idle_seconds()
        said = []
        said.append("lock: " + ("unknown (nobody tells)" if locked is None else "known"))
        said.append("idle: " + ("unknown (nobody tells)" if idle is None else "known"))
        state = getattr(provider, "state", None)
        sources = getattr(state, "sources", {}) if state is not None else {}
        if sources:
            said.append("from " + ", ".join(f"{k} {v}" for k, v in sorted(sources.items())))
        out.append(
            Check(
                "pause on lock and idle",
                locked is not None,
                "; ".join(said),
                "" if locked is not None else "capture cannot pause by itself when you lock",
            )
        )
    finally:
        provider.close()
    return out


def _provider() -> ActiveWindowProvider | str:
    from capture.window import default_window_provider

    try:
        return default_window_provider()
    except CaptureUnavailable as exc:
        return exc.reason


def _window_check(provider: ActiveWindowProvider) -> Check:
    if provider.name == "unknown":
        reason = str(getattr(provider, "reason", "the desktop does not tell"))
        return Check("active window", False, f"{reason}; {UNKNOWN_RULES}", "")
    active = provider.active_window()
    where = {"sway": "sway's IPC", "x11": "X11"}.get(provider.name, provider.name)
    now = f"now: {active.app or '-'}" if active.app else "no window has focus now"
    return Check("active window", True, f"from {where} ({now})")
