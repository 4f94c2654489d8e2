"""Moments that look like a picture or like another moment (#17): ``engram search --image``
and the app's "Looks like this"."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from memory.errors import BadQuery
from memory.pipeline.images import ImageIndexer
from memory.search.hits import Hit
from models.errors import ModelUnavailable
from models.ocr import open_image

if TYPE_CHECKING:
    from memory.home import Home
    from memory.search.visual import VisualSearch
    from models.protocols import ImageTextEmbedder


def search_by_image(home: Home, images: ImageIndexer, path: Path, k: int) -> list[Hit]:
    """Screens that look like the picture at ``path``, one per minute, best first.

    Raises:
        ModelUnavailable: no image model.
        BadInput: the file is not a readable image.
    """
    clip, visual = _ready(home, images)
    vec = clip.embed_images([open_image(Path(path)).convert("RGB")])[0]
    return home.searcher.visual_hits(visual.similar(vec, k))


def similar_moments(home: Home, images: ImageIndexer, obs_id: int, k: int) -> list[Hit]:
    """Screens that look like this moment's, leaving out its own minute, best first.

    Raises:
        NotFound: no such observation.
        ModelUnavailable: no image model.
        BadQuery: the moment has no picture.
    """
    o = home.store.get_observation(obs_id)
    if o.kind != "screen":
        raise BadQuery(f"moment o:{obs_id} is {o.kind}: only screens have a picture to compare")
    clip, visual = _ready(home, images)
    vec = visual.vector_of(obs_id)
    if vec is None:  # not embedded yet (or excluded since): look at its stored frame now
        vec = clip.embed_images([images.load(o)])[0]
    return home.searcher.visual_hits(visual.similar(vec, k, around=o.ts_start, exclude=o.id))


def _ready(home: Home, images: ImageIndexer) -> tuple[ImageTextEmbedder, VisualSearch]:
    visual = home.searcher.visual
    if images.collection() is None or visual is None:
        home.models.clip(required=True)  # raises with the reason
        raise ModelUnavailable("clip", "image model", "the image model is not available")
    ready = visual.ready()
    if ready is None:
        raise ModelUnavailable("clip", "image model", "the image model is not available")
    return ready[0], visual
