"""Encryption at rest end to end (#12), through real processes and real files.

A plain home is filled through the CLI (an imported chat and imported screenshots that OCR reads),
then converted by `engram encrypt`: once killed with SIGKILL in the middle of sealing the frames,
then run again to the end. After that no byte of a known OCR'd word, chat line or app name is
anywhere under the home; search, ask and the timeline still work with the passphrase; a wrong
passphrase, no passphrase and a locked home each give one clear "Engram is locked" line.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image, ImageDraw, ImageFont

from memory.media.sealed import MAGIC, is_sealed

ROOT = Path(__file__).resolve().parents[2]
PASS = "Walrus-Lantern-Quilt-7"
OCR_WORD = "ZANZIBARITE"
CHAT_WORD = "marmaladefish"
APP = "Thunderquill"
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
N_FRAMES = 6


def _env(passphrase: str | None = PASS) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ENGRAM_KEYRING": "file"}
    env.pop("ENGRAM_VAULT_PASSPHRASE", None)
    if passphrase is not None:
        env["ENGRAM_VAULT_PASSPHRASE"] = passphrase
    return env


def engram(
    home: Path, *argv: str, passphrase: str | None = PASS
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), *argv],
        cwd=ROOT,
        env=_env(passphrase),
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=900,
        check=False,
    )


def ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _inputs(tmp: Path) -> tuple[Path, Path]:
    chat = [
        {"id": f"c{i}", "ts": f"2026-02-16T09:00:0{i}", "speaker": "Ana",
         "text": f"the {CHAT_WORD} leaves the harbour at noon, gate {i}", "session": "s1"}
        for i in range(3)
    ]  # fmt: skip
    chat_path = tmp / "chat.jsonl"
    chat_path.write_text("\n".join(json.dumps(r) for r in chat))
    (tmp / "shots").mkdir()
    font = ImageFont.truetype(FONT, 44)
    rows = []
    for i in range(N_FRAMES):
        img = Image.new("RGB", (1000, 320), "white")
        ImageDraw.Draw(img).text((30, 120), f"{OCR_WORD} report {i}", fill="black", font=font)
        name = f"shots/s{i}.png"
        img.save(tmp / name)
        ts = datetime(2026, 2, 17, 9, 0) + timedelta(minutes=i)
        rows.append({"id": name, "path": name, "ts": ts.isoformat(), "app": APP,
                     "title": "Quarterly notes", "url": None})  # fmt: skip
    manifest = tmp / "manifest.jsonl"
    manifest.write_text("\n".join(json.dumps(r) for r in rows))
    return chat_path, manifest


@pytest.fixture(scope="module")
def plain_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A plain home with the chat and the screenshots imported (built once)."""
    tmp = tmp_path_factory.mktemp("plain")
    chat, manifest = _inputs(tmp)
    home = tmp / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text('[models.text_embedding]\nmodel_id = "hashing-64"\n')
    ok(engram(home, "import", "chat", str(chat), passphrase=None))
    ok(engram(home, "import", "frames", str(manifest), passphrase=None))
    assert OCR_WORD.lower() in ok(engram(home, "search", OCR_WORD, "--local")).lower()
    assert any(OCR_WORD.encode() in p.read_bytes() for p in _files(home))  # plain before
    return home


def _files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if p.is_file()]


def _stored(home: Path) -> list[Path]:
    return [p for p in (home / "frames").rglob("*") if p.is_file() and not p.name.startswith(".")]


KILLABLE = """
import sys, time
from pathlib import Path
from memory.atrest.convert import encrypt_home

class Slow:
    name = ""
    def phase(self, name):
        self.name = name
        print("phase", name, flush=True)
    def __call__(self, done, total):
        print(self.name, done, total, flush=True)
        if self.name == "frames and audio":
            time.sleep(0.5)

encrypt_home(Path(sys.argv[1]), sys.argv[2], Slow())
print("finished", flush=True)
"""


def _kill_while_sealing(home: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLABLE, str(home), PASS],
        cwd=ROOT,
        env=_env(None),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("frames and audio 3 "):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait(timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""


def test_encrypt_survives_kill_and_leaves_no_plaintext(plain_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(plain_home, home)

    _kill_while_sealing(home)
    # killed in the middle: the database is SQLCipher already, the frames only partly sealed
    assert not (home / "engram.db").read_bytes().startswith(b"SQLite format 3\x00")
    sealed = [is_sealed(p.read_bytes()) for p in _stored(home)]
    assert any(sealed) and not all(sealed), sealed
    # a command in between reads the half-converted home (sealed and plain frames alike)
    assert OCR_WORD.lower() in ok(engram(home, "search", OCR_WORD, "--local")).lower()

    out = ok(engram(home, "encrypt"))
    assert "the home is encrypted" in out
    assert all(p.read_bytes().startswith(MAGIC) for p in _stored(home))

    leaks = [
        f"{p.relative_to(home)}: {word!r}"
        for p in _files(home)
        for word in (OCR_WORD, OCR_WORD.lower(), CHAT_WORD, APP, "Quarterly notes")
        if word.encode() in p.read_bytes()
    ]
    assert not leaks, leaks
    assert b"SQLite format 3" not in (home / "engram.db").read_bytes()
    for p in home.rglob("*"):
        assert (p.stat().st_mode & 0o777) == (0o700 if p.is_dir() else 0o600), p

    # unlocked (the passphrase given): search, ask and an app filter on tagged vectors work
    assert OCR_WORD.lower() in ok(engram(home, "search", OCR_WORD, "--local")).lower()
    hits = json.loads(ok(engram(home, "search", CHAT_WORD, "--local", "--json")))
    assert any(CHAT_WORD in json.dumps(h) for h in hits)
    by_app = json.loads(ok(engram(home, "search", "report", "--app", APP, "--local", "--json")))
    assert by_app and all(h["app"] == APP for h in by_app if "app" in h)
    answer = ok(engram(home, "ask", f"when does the {CHAT_WORD} leave?", "--llm", "none"))
    assert "noon" in answer

    # running it again changes nothing and says so
    again = json.loads(ok(engram(home, "encrypt", "--json")))
    assert again == {"database": False, "files_sealed": 0, "files_already": N_FRAMES * 2,
                     "vectors": 0}  # fmt: skip


def test_wrong_missing_passphrase_and_lock_are_clear(plain_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(plain_home, home)
    ok(engram(home, "encrypt"))
    size = (home / "engram.db").stat().st_size

    for passphrase, reason in (("Wrong-Lantern-Quilt-7", "wrong passphrase"),
                               (None, "no passphrase was given")):  # fmt: skip
        done = engram(home, "search", OCR_WORD, "--local", passphrase=passphrase)
        assert done.returncode == 4, done.stderr
        assert done.stderr.startswith("engram: error: Engram is locked: "), done.stderr
        assert reason in done.stderr and "Traceback" not in done.stderr
    assert (home / "engram.db").stat().st_size == size  # nothing re-created or emptied

    assert "Engram is locked" in ok(engram(home, "lock"))
    done = engram(home, "search", OCR_WORD, "--local")  # even with the right passphrase
    assert done.returncode == 4 and "engram lock" in done.stderr, done.stderr
    done = engram(home, "unlock", passphrase="Wrong-Lantern-Quilt-7")
    assert done.returncode == 4 and "wrong passphrase" in done.stderr
    assert (home / "locked").exists()
    assert "unlocked" in ok(engram(home, "unlock"))
    assert OCR_WORD.lower() in ok(engram(home, "search", OCR_WORD, "--local")).lower()


def test_timeline_and_frames_read_through_the_key(plain_home: Path, tmp_path: Path) -> None:
    from memory.service import MemoryService
    from models.text_embedding import HashingEmbedder

    home = tmp_path / "home"
    shutil.copytree(plain_home, home)
    ok(engram(home, "encrypt"))
    os.environ["ENGRAM_VAULT_PASSPHRASE"] = PASS
    try:
        with MemoryService(home, embedder=HashingEmbedder()) as service:
            day = datetime(2026, 2, 17).timestamp()
            obs = service.latest_observation(day, day + 86400)
            assert obs is not None and obs.kind == "screen"
            path = service.frame_file(obs)
            assert path is not None and is_sealed(path.read_bytes())
            image = Image.open(__import__("io").BytesIO(service.image_bytes(path)))
            assert image.size[0] > 100
            assert service.timeline_summary(day, day + 86400, 3600) is not None
    finally:
        os.environ.pop("ENGRAM_VAULT_PASSPHRASE", None)
        from memory.atrest.keys import drop

        drop(home)


def test_tagged_index_filters_by_app_without_storing_its_name() -> None:
    import numpy as np

    from memory.atrest.keys import HomeKeys
    from memory.index.tagged import TaggedIndex
    from memory.index.vectors import NumpyIndex

    inner = NumpyIndex()
    index = TaggedIndex(inner, HomeKeys.from_data_key(b"k" * 32).tag)
    vecs = np.eye(3, dtype=np.float32)
    index.add(["o:1:0", "o:2:0", "o:3:0"], vecs, [
        {"src": "o", "kind": "screen", "ts": 1.0, "app": APP},
        {"src": "o", "kind": "screen", "ts": 2.0, "app": "Other"},
        {"src": "o", "kind": "screen", "ts": 3.0, "app": APP},
    ])  # fmt: skip
    where = {"$and": [{"src": "o"}, {"app": {"$in": [APP]}}]}
    assert {i for i, _ in index.query(vecs[0], 3, where)} == {"o:1:0", "o:3:0"}
    assert APP not in repr(inner.__dict__)
    from memory.index.images import image_collections

    host = image_collections(index)  # image memory (#17) works through the tagged index too
    assert host is not None
    images = host.image_collection("engram-img-test")
    images.add(["i:1"], vecs[:1], [{"ts": 1.0, "kind": "screen", "app": APP}])
    assert images.query(vecs[0], 1, {"app": APP})[0][0] == "i:1"
    assert set(images.vectors(["i:1"])) == {"i:1"}
    assert APP not in repr(inner.__dict__)
    other = TaggedIndex(NumpyIndex(), HomeKeys.from_data_key(b"j" * 32).tag)
    assert other._tag(APP) != index._tag(APP)  # keyed: another home's tag differs


def test_new_home_is_encrypted_from_the_start_when_the_setting_is_on(tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    (home / "config.toml").write_text(
        '[models.text_embedding]\nmodel_id = "hashing-64"\n\n[privacy]\nencrypt_at_rest = true\n'
    )
    chat, _manifest = _inputs(tmp_path)
    done = engram(home, "import", "chat", str(chat), passphrase="short")
    assert done.returncode == 4 and "at least 10 characters" in done.stderr, done.stderr
    assert not (home / "engram.db").exists()  # refused before anything was written
    ok(engram(home, "import", "chat", str(chat)))
    assert (home / "store.key").is_file()
    assert not any(CHAT_WORD.encode() in p.read_bytes() for p in _files(home))
    assert CHAT_WORD in ok(engram(home, "search", CHAT_WORD, "--local"))
    doctor = ok(engram(home, "doctor", "--no-load"))
    assert "encryption at rest: on" in doctor


def test_lock_stops_a_running_recorder(plain_home: Path, tmp_path: Path) -> None:
    home = tmp_path / "home"
    shutil.copytree(plain_home, home)
    ok(engram(home, "encrypt"))
    run = subprocess.Popen(
        [sys.executable, "-m", "app.cli.main", "--home", str(home), "run", "--headless",
         "--no-audio", "--duration", "600"],
        cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        assert run.stdout is not None
        ok(engram(home, "status"))  # the recorder's home is open and unlocked meanwhile
        assert "Engram is locked" in ok(engram(home, "lock"))
        out, _ = run.communicate(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
    assert "Engram was locked: capture stopped" in out, out[-2000:]
    assert run.returncode == 0


def test_encrypt_refuses_while_another_process_has_the_home_open(
    plain_home: Path, tmp_path: Path
) -> None:
    import sqlite3

    home = tmp_path / "home"
    shutil.copytree(plain_home, home)
    holder = sqlite3.connect(home / "engram.db")  # as the app or `engram run` would
    try:
        before = holder.execute("SELECT count(*) FROM observations").fetchone()[0]
        done = engram(home, "encrypt")
        after = holder.execute("SELECT count(*) FROM observations").fetchone()[0]
    finally:
        holder.close()
    assert done.returncode == 4, done.stderr
    assert "another Engram process has" in done.stderr and "Traceback" not in done.stderr
    assert not (home / "store.key").exists()  # nothing changed: no key, the plain database
    assert before == after > 0
    assert (home / "engram.db").read_bytes().startswith(b"SQLite format 3\x00")


def test_damaged_encrypted_database_is_reported_as_damage(tmp_path: Path) -> None:
    from memory.errors import StoreDamaged
    from memory.store import MemoryStore
    from memory.store import db as dbmod

    path = tmp_path / "engram.db"
    key = os.urandom(32)
    MemoryStore(path, key=key).close()
    dbmod.connect(path, key=key).close()  # opens while sound
    with open(path, "r+b") as fh:  # junk over the first page (its salt and HMAC)
        fh.write(os.urandom(512))
    size = path.stat().st_size
    with pytest.raises(StoreDamaged, match="damaged, or it is another home's database"):
        dbmod.connect(path, key=key)
    assert path.stat().st_size == size


def test_a_replacement_killed_at_any_step_is_finished_right(tmp_path: Path) -> None:
    from memory.atrest.convert import _old_of, _settle_old

    # killed after the hard link, before the rename: the link is dropped, the file is kept
    path = tmp_path / "a.webp"
    path.write_bytes(b"plain")
    old = _old_of(path)
    os.link(path, old)
    _settle_old(path, old)
    assert path.read_bytes() == b"plain" and not old.exists()
    # killed after the rename, before the overwrite: the old plain bytes are zeroed, then unlinked
    path.write_bytes(MAGIC + b"sealed")
    old.write_bytes(b"plain")
    with open(old, "rb") as still_open:  # watch the old inode's bytes through an open handle
        _settle_old(path, old)
        assert still_open.read() == b"\0" * 5
    assert not old.exists() and path.read_bytes().startswith(MAGIC)


def test_vector_swap_killed_between_the_renames_is_finished(tmp_path: Path) -> None:
    from memory.atrest.convert import _tag_vectors
    from memory.atrest.keys import HomeKeys
    from memory.index.tagged import TAGGED_MARK
    from memory.paths import HomePaths

    paths = HomePaths(tmp_path)
    old, new = tmp_path / "vectors.plain-old", tmp_path / "vectors.encrypting"
    old.mkdir()
    (old / "chroma.sqlite3").write_bytes(b"plain index " + APP.encode())
    new.mkdir()
    (new / "chroma.sqlite3").write_bytes(b"tagged index")
    (new / TAGGED_MARK).write_text("x")
    assert _tag_vectors(paths, HomeKeys.from_data_key(b"k" * 32), None) == 0
    assert (paths.vectors / "chroma.sqlite3").read_bytes() == b"tagged index"
    assert not old.exists() and not new.exists()


def test_encrypt_copies_image_collections_with_tagged_apps(tmp_path: Path) -> None:
    import numpy as np

    from memory.atrest.convert import _tag_vectors
    from memory.atrest.keys import HomeKeys
    from memory.index.vectors import ChromaIndex
    from memory.paths import HomePaths

    paths = HomePaths(tmp_path)
    plain = ChromaIndex(paths.vectors)
    vec = np.ones((1, 8), dtype=np.float32)
    plain.add(["o:1:0"], vec, [{"src": "o", "kind": "screen", "ts": 1.0, "app": APP}])
    plain.image_collection("engram-img-test").add(["i:1"], vec, [{"ts": 1.0, "app": APP}])
    plain.close()
    keys = HomeKeys.from_data_key(b"k" * 32)
    assert _tag_vectors(paths, keys, None) == 2
    copied = ChromaIndex(paths.vectors)
    try:
        assert copied.count() == 1
        assert copied.image_collection("engram-img-test").count() == 1
    finally:
        copied.close()
    assert not any(APP.encode() in p.read_bytes() for p in paths.vectors.rglob("*") if p.is_file())
