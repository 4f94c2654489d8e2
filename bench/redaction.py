"""Redaction benchmark (#12): recall on the secret corpus, false positives on ordinary screens.

Usage:
    python bench/redaction.py [--data ../shared/bench-data] [--cache /tmp/engram-ocr-cache.json]
                              [--ocr-dir /tmp/engram-ocr-cache] [--baseline PATH_TO_OTHER_TREE]

1. Recall: each shape of tests/security/corpus.py as typed text; a shape is caught when none of its
   secrets (nor their first 8 characters) is left in the redacted text.
2. False positives: the OCR text, titles and URLs of every screens set in bench-data (no secrets
   on them) are redacted; every finding is printed (each one is text the redactor ate), and every
   question's answer (versions like "2.12.3", dates, amounts) must survive redaction.

OCR text is cached (the OCR pass costs ~1-2 s a frame on a laptop CPU). ``--baseline`` runs the
same measurement with another checkout's redactor (e.g. main before #12) in a subprocess.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if sys.path and Path(sys.path[0]).resolve() == ROOT / "bench":  # bench/models.py shadows models/
    sys.path.pop(0)
SETS = ("screens-dev", "screens-dev-v2", "screens-dev-html")


def ocr_texts(data: Path, cache: Path) -> dict[str, dict[str, str]]:
    """{frame key: {text, title, url}} for every frame of the screens sets (cached)."""
    if cache.is_file():
        return json.loads(cache.read_text())  # type: ignore[no-any-return]
    from models.config import OcrConfig
    from models.ocr import load_ocr

    engine = load_ocr(OcrConfig())
    out: dict[str, dict[str, str]] = {}
    for name in SETS:
        manifest = data / name / "manifest.jsonl"
        if not manifest.is_file():
            continue
        for line in manifest.read_text().splitlines():
            row = json.loads(line)
            lines = engine.read(data / name / row["path"])
            out[f"{name}/{row['id']}"] = {
                "text": "\n".join(ln.text for ln in lines),
                "title": row.get("title") or "",
                "url": row.get("url") or "",
            }
    cache.write_text(json.dumps(out))
    return out


def cached_texts(data: Path, folder: Path) -> dict[str, dict[str, str]]:
    """Screens text from bench/screens.py's ``--ocr-cache`` folder (one JSON of OCR lines per
    frame), plus every manifest's titles and URLs: no OCR run needed."""
    out: dict[str, dict[str, str]] = {}
    for path in sorted(folder.glob("*.json")):
        lines = json.loads(path.read_text())
        out[path.stem[:12]] = {
            "text": "\n".join(ln["text"] for ln in lines),
            "title": "",
            "url": "",
        }
    for name in SETS:
        manifest = data / name / "manifest.jsonl"
        for line in manifest.read_text().splitlines() if manifest.is_file() else []:
            row = json.loads(line)
            out[f"{name}/{row['id']}"] = {
                "text": "",
                "title": row.get("title") or "",
                "url": row.get("url") or "",
            }
    return out


def answers(data: Path) -> list[str]:
    """The answers of every questions file (they must survive redaction)."""
    out = []
    for name in SETS:
        q = data / name / "questions.jsonl"
        if q.is_file():
            out += [str(json.loads(x)["answer"]) for x in q.read_text().splitlines() if x.strip()]
    return out


def measure(texts: dict[str, dict[str, str]], wanted: list[str]) -> dict[str, object]:
    """Recall on the corpus and findings on the screens, with this interpreter's redactor."""
    sys.path.insert(0, str(ROOT / "tests" / "security"))
    from corpus import CORPUS  # type: ignore[import-not-found]

    from memory.privacy.redaction import redact

    missed = [s.name for s in CORPUS if any(n in redact(s.line).text for n in s.needles())]
    findings: list[str] = []
    words = 0
    started = time.perf_counter()
    for key, row in texts.items():
        for field in ("text", "title", "url"):
            result = redact(row[field])
            words += len(row[field].split())
            findings += [f"{key} {field}: {f.kind} {f.value!r}" for f in result.findings]
    seconds = time.perf_counter() - started
    all_text = "\n".join(r[f] for r in texts.values() for f in ("text", "title", "url"))
    redacted = redact(all_text).text
    lost = [a for a in wanted if a in all_text and a not in redacted]
    return {
        "corpus_shapes": len(CORPUS),
        "corpus_caught": len(CORPUS) - len(missed),
        "missed": missed,
        "screens": len(texts),
        "words": words,
        "false_positives": findings,
        "answers_present": sum(a in all_text for a in wanted),
        "answers_lost": lost,
        "redact_seconds": round(seconds, 3),
    }


def main() -> int:
    """Print the figures (JSON with ``--json``)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "bench-data")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/engram-ocr-cache.json"))
    ap.add_argument("--baseline", type=Path, help="another checkout whose redactor to measure")
    ap.add_argument("--ocr-dir", type=Path, help="bench/screens.py's --ocr-cache folder instead")
    ap.add_argument("--measure-only", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.data.is_dir():
        args.data = Path("/work/shared/bench-data")
    if args.ocr_dir:
        texts = cached_texts(args.data, args.ocr_dir)
    else:
        texts = ocr_texts(args.data, args.cache)
    figures = {"this tree": measure(texts, answers(args.data))}
    if args.baseline:
        env = {**os.environ, "PYTHONPATH": str(args.baseline)}
        cmd = [sys.executable, __file__, "--measure-only", "--cache", str(args.cache), "--json"]
        cmd += ["--ocr-dir", str(args.ocr_dir)] if args.ocr_dir else []
        cmd += ["--data", str(args.data)]
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True, cwd="/")
        figures["baseline"] = json.loads(done.stdout)["this tree"]
    if args.json or args.measure_only:
        print(json.dumps(figures))
        return 0
    print(f"load average: {os.getloadavg()}")
    for name, f in figures.items():
        print(
            f"{name}: corpus {f['corpus_caught']}/{f['corpus_shapes']} shapes caught; "
            f"{len(f['false_positives'])} findings on {f['screens']} ordinary screens "
            f"({f['words']} words); answers lost {len(f['answers_lost'])}/{f['answers_present']}; "
            f"redaction {f['redact_seconds']} s"
        )
        for m in f["missed"]:
            print(f"  missed: {m}")
        for fp in f["false_positives"]:
            print(f"  finding: {fp}")
        for a in f["answers_lost"]:
            print(f"  answer lost: {a!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
