"""Similar moments through the MCP/HTTP operations (#17): the exposure policy applies, and
without an image model the refusal says why."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.api.operations import Operations
from app.api.policy import Refused
from memory.errors import NotFound
from tests.app.api_home import seed_api_home
from tests.tiny_clip import save_tiny_clip


def test_similar_moments_follow_the_policy(tmp_path: Path) -> None:
    seeded = seed_api_home(tmp_path / "home")
    ops = Operations(seeded.home, face="mcp")
    try:
        with pytest.raises(Refused, match="image search is off"):
            ops.similar(seeded.screens[0])
        service = ops.service()
        service.models.use("clip", str(save_tiny_clip(tmp_path / "clip")))
        service.save_model_config(service.models.config)
        assert service.reindex_images() > 0
        out = ops.similar(seeded.screens[0], k=5)
        ids = [h.id for h in out.hits]
        assert ids and f"o:{seeded.screens[0]}" not in ids
        assert f"o:{seeded.excluded}" not in ids
        assert all(h.link for h in out.hits)
        with pytest.raises(NotFound):
            ops.similar(seeded.excluded)  # a hidden moment is not there for a client
        service.set_settings({"mcp.exposed_kinds": ["chat"]})
        with pytest.raises(NotFound):
            ops.similar(seeded.screens[0])
    finally:
        ops.close()
