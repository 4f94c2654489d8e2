"""Privacy rules: dropped frames and masked rectangles."""

from __future__ import annotations

import numpy as np
import pytest

from capture.config import CaptureConfig
from capture.privacy import PrivacyRules, apply_masks, subtract
from capture.records import WindowInfo
from capture.window import VisibleWindow, make_info

MONITOR = (0, 0, 1920, 1080)


def win(wid: int, app: str, title: str, rect: tuple[int, int, int, int]) -> VisibleWindow:
    return VisibleWindow(wid, make_info(app, title, None), *rect)


@pytest.fixture
def rules() -> PrivacyRules:
    return PrivacyRules(CaptureConfig())


@pytest.mark.parametrize(
    ("app", "title", "reason"),
    [
        ("KeePassXC", "Passwords.kdbx", "excluded app"),
        ("keepassxc", "x", "excluded app"),
        ("1Password.exe", "1Password", "excluded app"),
        ("Bitwarden", "Vault", "excluded app"),
        ("Keychain Access", "login", "excluded app"),
        ("XTerm", "vault.kdbx - KeePassXC", "excluded app"),
        ("firefox", "Bank — Mozilla Firefox Private Browsing", "private window"),
        ("Google-chrome", "New Tab - Google Chrome (Incognito)", "private window"),
        ("SomeBrowser", "Tab - Incognito", "excluded title"),
        ("XTerm", "InPrivate notes", "excluded title"),
    ],
)
def test_excluded_windows(rules: PrivacyRules, app: str, title: str, reason: str) -> None:
    assert rules.excluded(make_info(app, title, None)) == reason


@pytest.mark.parametrize(
    ("app", "title"),
    [
        ("firefox", "Password reset instructions - Mozilla Firefox"),
        ("XTerm", "passport renewal.txt"),
        ("code", "bitwarden_notes.md - project - Visual Studio Code"),
        (None, None),
    ],
)
def test_ordinary_windows_are_recorded(rules: PrivacyRules, app: str | None, title: str) -> None:
    assert rules.excluded(make_info(app, title, None)) is None


def test_active_excluded_window_drops_the_frame(rules: PrivacyRules) -> None:
    verdict = rules.decide(WindowInfo(app="KeePassXC", title="db"), [], MONITOR)
    assert verdict.drop and verdict.reason == "active window: excluded app"
    assert "db" not in verdict.reason


def test_custom_title_pattern() -> None:
    rules = PrivacyRules(CaptureConfig(excluded_title_patterns=[r"^Payroll\b"]))
    assert rules.excluded(WindowInfo(app="libreoffice", title="Payroll 2024.ods")) is not None
    assert rules.excluded(WindowInfo(app="libreoffice", title="Budget Payroll")) is None
    assert rules.excluded(WindowInfo(app="chrome", title="x - Incognito")) is None


def test_bad_title_pattern_is_a_config_error() -> None:
    with pytest.raises(ValueError, match="bad excluded title pattern"):
        CaptureConfig(excluded_title_patterns=["(unclosed"])


def test_visible_excluded_window_is_masked_where_uncovered(rules: PrivacyRules) -> None:
    windows = [
        win(1, "KeePassXC", "db", (100, 100, 400, 300)),
        win(2, "XTerm", "shell", (300, 200, 400, 400)),  # above, covers the bottom right
    ]
    verdict = rules.decide(WindowInfo(app="XTerm", title="shell"), windows, MONITOR)
    assert not verdict.drop
    covered = np.zeros((1080, 1920), bool)
    for x, y, w, h in verdict.masks:
        assert not covered[y : y + h, x : x + w].any(), "masks overlap"
        covered[y : y + h, x : x + w] = True
    expected = np.zeros_like(covered)
    expected[100:400, 100:500] = True
    expected[200:600, 300:700] = False
    assert np.array_equal(covered, expected)


def test_masks_are_monitor_local_and_clipped(rules: PrivacyRules) -> None:
    second = (1920, 0, 1280, 1024)
    windows = [win(1, "Bitwarden", "v", (1800, 50, 300, 200))]
    assert rules.decide(WindowInfo(), windows, second).masks == ((0, 50, 180, 200),)
    assert rules.decide(WindowInfo(), windows, MONITOR).masks == ((1800, 50, 120, 200),)
    assert rules.decide(WindowInfo(), windows, (0, 1080, 1920, 1080)).masks == ()


def test_masking_off_drops_frames_with_a_visible_excluded_window() -> None:
    rules = PrivacyRules(CaptureConfig(mask_excluded_windows=False))
    windows = [win(1, "1Password", "v", (10, 10, 50, 50))]
    verdict = rules.decide(WindowInfo(app="XTerm"), windows, MONITOR)
    assert verdict.drop and verdict.reason == "excluded window visible"


def test_apply_masks_blacks_out_only_the_rectangles() -> None:
    pixels = np.full((100, 200, 4), 200, np.uint8)
    apply_masks(pixels, [(10, 20, 30, 40), (190, 90, 50, 50)])
    assert (pixels[20:60, 10:40, :3] == 0).all()
    assert (pixels[90:, 190:, :3] == 0).all()
    assert (pixels[..., 3] == 200).all()
    untouched = pixels.copy()
    untouched[20:60, 10:40] = 200
    untouched[90:, 190:] = 200
    assert (untouched == 200).all()


def test_subtract_without_overlap_returns_the_rect() -> None:
    assert subtract((0, 0, 10, 10), (20, 20, 5, 5)) == [(0, 0, 10, 10)]
    assert subtract((0, 0, 10, 10), (0, 0, 10, 10)) == []
