"""The app's "Looks like this" (#17): from the frame viewer and from a search result, the moments
whose screen looked alike are listed with their thumbnails and why they matched."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from app.widgets.result_delegate import hit_meta
from tests.tiny_clip import save_tiny_clip


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny")


def test_looks_like_this_from_the_viewer_and_from_a_result(
    qtbot: Any, window: Any, tiny_dir: Path
) -> None:
    service = window.bridge.service
    service.models.use("clip", str(tiny_dir))
    service.save_model_config(service.models.config)
    # the seed's "service.py — engram" windows count as Engram's own: never embedded
    assert service.reindex_images() == len(window.ids["screens"]) - 6
    first = window.ids["screens"][0]
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=10_000):
        window.open_moment(first)
    assert window.viewer.looks_b.isEnabled()
    with qtbot.waitSignal(window.search_view.results_shown, timeout=30_000):
        window.viewer.looks_b.click()
    hits = window.search_view.hits
    assert hits and f"o:{first}" not in [h.id for h in hits]
    # the same window drawn again a minute later looks the most alike
    assert hits[0].id in {f"o:{i}" for i in window.ids["screens"][1:3]}
    assert "looks alike" in hit_meta(hits[0])
    assert "look like this one" in window.search_view.status.text()
    assert window.search_view.isVisible() and window.search_view.results.count() == len(hits)

    second = hits[0].sources[0].observation_id
    with qtbot.waitSignal(window.search_view.results_shown, timeout=30_000):
        window.search_view.looks_like_requested.emit(second)
    assert f"o:{second}" not in [h.id for h in window.search_view.hits]


def test_without_an_image_model_the_viewer_says_why(qtbot: Any, window: Any) -> None:
    first = window.ids["screens"][0]
    with qtbot.waitSignal(window.viewer.moment_shown, timeout=10_000):
        window.open_moment(first)
    window.viewer.looks_b.click()
    qtbot.waitUntil(lambda: "Search failed" in window.search_view.status.text(), timeout=30_000)
    assert "models pull" in window.search_view.status.text()
