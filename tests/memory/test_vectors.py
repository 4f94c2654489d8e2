import numpy as np
import pytest

from memory.index.vectors import ChromaIndex, NumpyIndex

EACH_INDEX = pytest.mark.parametrize(
    "make", [lambda p: ChromaIndex(p / "vec"), lambda p: NumpyIndex()], ids=["chroma", "numpy"]
)


def _unit(rng, n, d=16):
    v = rng.standard_normal((n, d)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


@EACH_INDEX
def test_index_contract(tmp_path, make):
    rng = np.random.default_rng(0)
    idx = make(tmp_path)
    vecs = _unit(rng, 40)
    ids = [f"o:{i}:0" for i in range(30)] + [f"m:{i}" for i in range(10)]
    metas = [
        {"src": "o", "kind": "chat", "ts": float(i), "app": "a" if i % 2 else "b"}
        for i in range(30)
    ] + [{"src": "m", "kind": "semantic", "ts": float(i), "app": ""} for i in range(10)]
    idx.add(ids, vecs, metas)
    assert idx.count() == 40
    best = idx.query(vecs[3], 5, {"src": "o"})
    assert best[0][0] == "o:3:0" and best[0][1] == pytest.approx(1.0, abs=1e-4)
    assert all(s1 >= s2 for (_, s1), (_, s2) in zip(best, best[1:], strict=False))
    assert all(i.startswith("m:") for i, _ in idx.query(vecs[3], 5, {"src": "m"}))
    ranged = idx.query(
        vecs[3], 50, {"$and": [{"src": "o"}, {"ts": {"$gte": 10.0}}, {"ts": {"$lt": 20.0}}]}
    )
    assert {i for i, _ in ranged} == {f"o:{i}:0" for i in range(10, 20)}
    apps = idx.query(vecs[3], 50, {"$and": [{"src": "o"}, {"app": {"$in": ["a"]}}]})
    assert {i for i, _ in apps} == {f"o:{i}:0" for i in range(1, 30, 2)}
    idx.delete(["o:3:0", "m:1", "o:999:0"])
    assert idx.count() == 38 and "o:3:0" not in idx.all_ids()
    idx.reset()
    assert idx.count() == 0


@EACH_INDEX
def test_query_of_an_empty_or_small_collection(tmp_path, make):
    """Queries go straight to the collection, without counting it first (#16)."""
    rng = np.random.default_rng(1)
    idx = make(tmp_path)
    vecs = _unit(rng, 3)
    assert idx.query(vecs[0], 10, {"src": "o"}) == []
    idx.add(["o:1:0", "o:2:0"], vecs[:2], [{"src": "o", "ts": 1.0}, {"src": "o", "ts": 2.0}])
    assert idx.query(vecs[2], 10, {"src": "m"}) == []  # the other collection is still empty
    assert {i for i, _ in idx.query(vecs[2], 10, {"src": "o"})} == {"o:1:0", "o:2:0"}
    idx.delete(["o:1:0", "o:2:0"])
    assert idx.query(vecs[2], 10, {"src": "o"}) == []
    images = idx.image_collection("images-test-model")
    assert images.query(vecs[0], 10) == []
