"""Image memory (#17): a tiny random open_clip model loaded through the real loader gives kept
screens image vectors, which search, "similar moments" and forget reach."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from memory.index.images import META_KEY, collection_name, image_key
from memory.pipeline.inbox import FrameMeta
from memory.service import MemoryService
from memory.store import image_queue
from models.errors import ModelUnavailable
from models.ocr import OcrLine
from tests.memory.test_pipeline import ColourOcr, service
from tests.tiny_clip import save_tiny_clip

T0 = 1_700_000_000.0


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_clip(tmp_path_factory.mktemp("clip") / "tiny")


def use_clip(svc: MemoryService, folder: Path) -> None:
    """What `engram models use clip DIR` does."""
    svc.models.use("clip", str(folder))
    svc.save_model_config(svc.models.config)


def scene(seed: int, size: tuple[int, int] = (160, 120)) -> Image.Image:
    """A picture unlike the others: coloured shapes placed by ``seed``."""
    rng = np.random.default_rng(seed)
    img = Image.new("RGB", size, tuple(int(v) for v in rng.integers(0, 255, 3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x, y = int(rng.integers(0, size[0] - 20)), int(rng.integers(0, size[1] - 20))
        draw.rectangle((x, y, x + 40, y + 30), fill=tuple(int(v) for v in rng.integers(0, 255, 3)))
    return img


def add_screens(svc: MemoryService, images: list[Image.Image], app: str = "Editor") -> list[int]:
    inbox = svc.pipeline().inbox
    return [
        inbox.add(img, FrameMeta("screen", T0 + 120 * n, app=app, title=f"{app} window"))
        for n, img in enumerate(images)
    ]


def images_of(svc: MemoryService):
    meta = svc.store.get_meta(META_KEY)
    assert meta is not None
    return svc.index.image_collection(collection_name(meta))


def test_screens_get_image_vectors_found_by_picture_and_similar_moments(tmp_path, tiny_dir):
    svc = service(tmp_path / "home", ColourOcr())
    use_clip(svc, tiny_dir)
    pictures = [scene(n) for n in range(5)]
    ids = add_screens(svc, pictures + [pictures[1]])  # the last one looks like the second
    assert svc.index_frames() == 6
    col = images_of(svc)
    assert col.all_ids() == {image_key(i) for i in ids}
    assert image_queue.waiting(svc.store.read(), 3) == (0, 0)
    text_vectors = svc.index.count()
    assert text_vectors >= 6  # the text side is its own collection

    probe = tmp_path / "probe.png"
    pictures[3].save(probe)
    hits = svc.search_image(probe, k=3)
    assert hits[0].id == f"o:{ids[3]}" and hits[0].extra["visual"] > 0.99
    assert hits[0].to_json()["matched"] == ["picture"]

    similar = svc.similar_moments(ids[1], k=3)
    assert f"o:{ids[1]}" not in [h.id for h in similar]
    assert similar[0].id == f"o:{ids[5]}"

    # a text query also reaches the pictures (CLIP's text tower): visual evidence on the hits
    found = svc.search("marker", k=10)
    assert any("visual" in h.extra for h in found)
    svc.close()


def test_forget_removes_image_vectors(tmp_path, tiny_dir):
    svc = service(tmp_path / "home", ColourOcr())
    use_clip(svc, tiny_dir)
    ids = add_screens(svc, [scene(n) for n in range(3)])
    svc.index_frames()
    svc.forget_observation(ids[0])
    col = images_of(svc)
    assert image_key(ids[0]) not in col.all_ids()
    assert col.all_ids() == {image_key(i) for i in ids[1:]}
    probe = tmp_path / "probe.png"
    scene(0).save(probe)
    assert f"o:{ids[0]}" not in [h.id for h in svc.search_image(probe, k=5)]
    svc.close()


def test_changing_the_image_model_rebuilds_only_the_image_collection(tmp_path, tiny_dir):
    svc = service(tmp_path / "home", ColourOcr())
    use_clip(svc, tiny_dir)
    ids = add_screens(svc, [scene(n) for n in range(3)])
    svc.index_frames()
    old_name = collection_name(svc.store.get_meta(META_KEY) or "")
    text_ids = svc.index.all_ids()

    other = save_tiny_clip(tmp_path / "other", seed=1, embed_dim=8)
    use_clip(svc, other)
    svc.index_frames()  # the indexer's round notices the new model and fills its collection
    assert svc.store.get_meta(META_KEY) == f"{other}:8"
    assert old_name not in svc.index._images  # the old model's vectors are gone
    col = images_of(svc)
    assert col.all_ids() == {image_key(i) for i in ids}
    assert next(iter(col.vectors([image_key(ids[0])]).values())).shape == (8,)
    assert svc.index.all_ids() == text_ids  # text vectors untouched
    svc.close()


class DamagingOcr(ColourOcr):
    """Reads like ColourOcr; while reading one frame, damages that frame's stored file (so its
    text is indexed from the picture in hand, and its image vector then fails to load)."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: Path | None = None

    def read(self, source: Image.Image) -> list[OcrLine]:
        if self.calls == 1 and self.victim is not None:
            self.victim.write_bytes(b"not a picture")
        return super().read(source)


def test_a_frame_that_fails_to_embed_is_retried_and_never_blocks_text(tmp_path, tiny_dir):
    ocr = DamagingOcr()
    svc = service(tmp_path / "home", ocr)
    use_clip(svc, tiny_dir)
    ids = add_screens(svc, [scene(n) for n in range(3)])
    frame = tmp_path / "home" / svc.observation(ids[1]).frame_path
    saved = frame.read_bytes()
    ocr.victim = frame
    svc.pipeline().indexer.process_pending(batch=8)
    assert [svc.observation(i).status for i in ids] == ["indexed"] * 3
    assert svc.search("marker")  # words search as ever
    assert image_queue.attempts(svc.store.read(), ids[1]) == 1
    col = images_of(svc)
    assert col.all_ids() == {image_key(ids[0]), image_key(ids[2])}

    frame.write_bytes(saved)  # the file is back: the next round embeds it
    svc.pipeline().images.backoff_s = 0.0
    svc.store.write(lambda c: c.execute("UPDATE image_queue SET next_at = 0"))
    svc.index_frames()
    assert image_key(ids[1]) in images_of(svc).all_ids()
    assert image_queue.waiting(svc.store.read(), 3) == (0, 0)
    svc.close()


class SecretOcr:
    """Reads one line holding an API key, at a known box."""

    def read(self, source: Image.Image) -> list[OcrLine]:
        return [
            OcrLine("token ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8", (0, 0, 160, 60), 0.9)
        ]


def test_blurred_secrets_and_excluded_apps_never_reach_the_image_model(tmp_path, tiny_dir):
    svc = service(tmp_path / "home", SecretOcr())
    use_clip(svc, tiny_dir)
    picture = scene(7)
    (secret,) = add_screens(svc, [picture])
    svc.index_frames()
    clip = svc.home.clip()
    assert clip is not None
    stored = Image.open(tmp_path / "home" / svc.observation(secret).frame_path).convert("RGB")
    assert np.asarray(stored).std() < np.asarray(picture).std()  # the line is blurred on disk
    vec = images_of(svc).vectors([image_key(secret)])[image_key(secret)]
    assert np.allclose(vec, clip.embed_images([stored])[0], atol=1e-4)
    assert not np.allclose(vec, clip.embed_images([picture])[0], atol=1e-3)

    # a window of an app excluded since it was captured is never embedded
    svc.set_settings({"capture.excluded_apps": ["KeePassXC"]})
    (hidden,) = add_screens(svc, [scene(8)], app="KeePassXC")
    svc.index_frames()
    assert image_key(hidden) not in images_of(svc).all_ids()
    assert image_queue.waiting(svc.store.read(), 3) == (0, 0)
    svc.close()


def test_without_an_image_model_everything_else_works(tmp_path):
    svc = service(tmp_path / "home", ColourOcr())
    ids = add_screens(svc, [scene(n) for n in range(2)])
    assert svc.index_frames() == 2
    assert svc.search("editor window")[0].id in {f"o:{i}" for i in ids}
    assert svc.store.get_meta(META_KEY) is None
    assert image_queue.waiting(svc.store.read(), 3) == (0, 0)  # nothing queued for nobody
    assert "engram models pull clip-vit-b32-laion2b" in (svc.home.clip_unavailable or "")
    probe = tmp_path / "p.png"
    scene(0).save(probe)
    with pytest.raises(ModelUnavailable, match="models pull"):
        svc.search_image(probe)
    with pytest.raises(ModelUnavailable):
        svc.reindex_images()
    assert svc.searcher.weights.obs_image == 0.25
    svc.set_settings({"search.image_weight": 0})  # applied to the running searcher at once
    assert svc.searcher.weights.obs_image == 0
    svc.close()


def test_forget_reaches_chroma_image_vectors_and_its_log(tmp_path, tiny_dir):
    import sqlite3

    from memory.pipeline.core import PipelineOptions
    from models.text_embedding import HashingEmbedder

    home = tmp_path / "home"
    svc = MemoryService(home, embedder=HashingEmbedder())  # the home's own Chroma index
    svc.pipeline(PipelineOptions(ocr=ColourOcr(), backoff_s=0.0))
    use_clip(svc, tiny_dir)
    ids = add_screens(svc, [scene(n) for n in range(3)])
    svc.index_frames()
    col = images_of(svc)
    assert col.all_ids() == {image_key(i) for i in ids}
    svc.forget_observation(ids[0])
    assert col.all_ids() == {image_key(i) for i in ids[1:]}
    svc.close()
    db = sqlite3.connect(home / "vectors" / "chroma.sqlite3")
    rows = db.execute(
        "SELECT vector, metadata FROM embeddings_queue WHERE id = ?", (image_key(ids[0]),)
    ).fetchall()
    db.close()
    added = [(v, m) for v, m in rows if v is not None]  # the delete entry carries no vector
    assert added
    for vector, metadata in added:  # the log keeps the add, blanked (ChromaIndex.scrub_log)
        blank = np.frombuffer(vector, dtype=np.float32)
        assert blank[0] == 1.0 and not blank[1:].any() and metadata is None


def test_an_encrypted_homes_image_collection_tags_app_names():
    from memory.index.images import image_collections
    from memory.index.tagged import TaggedIndex
    from memory.index.vectors import NumpyIndex

    inner = NumpyIndex()
    index = TaggedIndex(inner, lambda name: f"tag-{len(name)}")
    host = image_collections(index)
    assert host is not None
    col = host.image_collection("engram-img-x")
    col.add(
        ["i:1"],
        np.ones((1, 4), dtype=np.float32),
        [{"kind": "screen", "ts": 1.0, "app": "Firefox"}],
    )
    assert inner.image_collection("engram-img-x")._meta[0]["app"] == "tag-7"
    assert [k for k, _ in col.query(np.ones(4), 1, {"app": {"$in": ["Firefox"]}})] == ["i:1"]
    assert set(col.vectors(["i:1"])) == {"i:1"}
    assert host.drop_image_collections() == ["engram-img-x"]
