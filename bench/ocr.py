"""OCR benchmark (#16): seconds per frame and word agreement with a full-resolution full-frame read.

Usage:
    python bench/ocr.py [--set screens-dev-html] [--data ../shared/bench-data] [--every 3]
                        [--strategies NAME ...] [--json]

Every strategy reads the same frames in the same run, frame by frame in turn (so a burst of load
from other processes hits all strategies alike); the reference is RapidOCR as Engram ran it before
#16: detection at the frame's own resolution, recognition batches of 6. Per strategy it prints the
median and p90 seconds per frame, the detection/recognition split and the word agreement with the
reference read of the same frame (multiset F1 over lower-case words; 1.0 = the same words), and the
load average beside every figure.

``changed`` strategies run on the set's near-duplicate pairs (a frame and the next one with the
same window title, as a recorder keeps them): the first frame is read whole, then the second one
through ``memory.pipeline.regions.RegionReader`` with the changed boxes the capture deduper
reports; agreement is with a full read of the second frame.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from capture.dedup import Deduper  # noqa: E402
from memory.pipeline.regions import RegionReader  # noqa: E402
from models.ocr import OcrLine, OcrTuning, RapidOcrEngine  # noqa: E402

DATA = next(
    (
        p
        for p in (ROOT.parent / "shared" / "bench-data", ROOT.parents[1] / "shared" / "bench-data")
        if p.is_dir()
    ),
    ROOT.parent / "shared" / "bench-data",
)
WORD = re.compile(r"\w+")

#: name -> tuning; "reference" is how Engram read frames before #16, "default" how it reads now.
STRATEGIES: dict[str, OcrTuning] = {
    "reference": OcrTuning(),
    "det1280": OcrTuning(det_side=1280),
    "det960": OcrTuning(det_side=960),
    "det960+batch16": OcrTuning(det_side=960, rec_batch=16),
    "det960+1thread": OcrTuning(det_side=960, threads=1),
    "det960+nospin": OcrTuning(det_side=960, spin=False),
    "det960+nospin+1thread": OcrTuning(det_side=960, spin=False, threads=1),
    "default": OcrTuning(det_side=960, spin=False, line_cache=4096),
}


def load() -> str:
    """The 1, 5 and 15 minute load averages."""
    return "load " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def words(lines: Sequence[OcrLine]) -> Counter[str]:
    """Lower-case words of some OCR lines, with their counts."""
    return Counter(w for ln in lines for w in WORD.findall(ln.text.lower()))


def agreement(reference: Counter[str], other: Counter[str]) -> float:
    """Multiset F1 of two bags of words (1.0: the same words as often)."""
    total = sum(reference.values()) + sum(other.values())
    if not total:
        return 1.0
    return 2 * sum((reference & other).values()) / total


def pct(values: list[float], q: float) -> float:
    """The q-quantile (0-1) of some values, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


@dataclass
class Tally:
    """Per-strategy figures over the frames."""

    seconds: list[float] = field(default_factory=list)
    det: list[float] = field(default_factory=list)
    rec: list[float] = field(default_factory=list)
    agree: list[float] = field(default_factory=list)
    lost: Counter[str] = field(default_factory=Counter)

    def row(self) -> dict[str, float]:
        """The summary printed and returned as JSON."""
        return {
            "frames": len(self.seconds),
            "median_s": round(statistics.median(self.seconds), 3),
            "p90_s": round(pct(self.seconds, 0.9), 3),
            "det_s": round(statistics.median(self.det), 3) if self.det else 0.0,
            "rec_s": round(statistics.median(self.rec), 3) if self.rec else 0.0,
            "agreement": round(statistics.mean(self.agree), 3),
            "min_agreement": round(min(self.agree), 3),
        }


def frames_of(folder: Path) -> list[dict[str, str]]:
    """The manifest rows of a screens set."""
    text = (folder / "manifest.jsonl").read_text(encoding="utf-8")
    return [json.loads(x) for x in text.splitlines() if x.strip()]


def pairs_of(rows: list[dict[str, str]]) -> list[tuple[dict[str, str], dict[str, str]]]:
    """Consecutive frames of the same window (scrolled, one line changed, a few seconds later)."""
    return [(a, b) for a, b in zip(rows, rows[1:], strict=False) if a["title"] == b["title"]]


def timed(
    read: Callable[..., list[OcrLine]], *args: object, **kw: object
) -> tuple[float, list[OcrLine]]:
    """Seconds and result of one read."""
    started = time.perf_counter()
    lines = read(*args, **kw)
    return time.perf_counter() - started, lines


def bench_frames(
    folder: Path, rows: list[dict[str, str]], engines: dict[str, RapidOcrEngine]
) -> dict[str, Tally]:
    """Full-frame strategies over ``rows``; every engine reads each frame in turn."""
    tallies = {name: Tally() for name in engines}
    for i, r in enumerate(rows):
        img = Image.open(folder / r["path"]).convert("RGB")
        reference: Counter[str] | None = None
        cells = []
        order = list(engines.items())
        if i % 2:  # alternate the order so no strategy always runs right after another
            order = order[:1] + order[:0:-1]
        for name, engine in order:
            seconds, lines = timed(engine.read, img)
            bag = words(lines)
            if reference is None:
                reference = bag
            t = tallies[name]
            t.seconds.append(seconds)
            t.det.append(engine.last_elapsed[0])
            t.rec.append(engine.last_elapsed[1])
            t.agree.append(agreement(reference, bag))
            t.lost.update(reference - bag)
            cells.append(f"{name} {seconds:.2f}s {t.agree[-1]:.2f}")
        print(f"  {r['id']} {r['app'][:12]:12} {' | '.join(cells)}  ({load()})", flush=True)
    return tallies


def bench_changed(
    folder: Path,
    pairs: list[tuple[dict[str, str], dict[str, str]]],
    engine: RapidOcrEngine,
    readers: dict[str, Callable[[], RegionReader]],
) -> dict[str, Tally]:
    """Changed-region strategies over near-duplicate pairs, against a full read of the second."""
    tallies = {name: Tally() for name in readers}
    tallies["full read"] = Tally()
    for a, b in pairs:
        first = Image.open(folder / a["path"]).convert("RGB")
        second = Image.open(folder / b["path"]).convert("RGB")
        dedup = Deduper()
        dedup.decide(np.asarray(first), now=0.0)
        decision = dedup.decide(np.asarray(second), now=1.0)
        seconds, full = timed(engine.read, second)
        reference = words(full)
        tallies["full read"].seconds.append(seconds)
        tallies["full read"].agree.append(1.0)
        cells = [f"full {seconds:.2f}s"]
        for name, make in readers.items():
            reader = make()
            before = reader.read(first, monitor=0, obs_id=1)
            if not decision.keep:  # the recorder drops the frame: its text is the first one's
                seconds, lines = 0.0, before
            else:
                seconds, lines = timed(
                    reader.read, second, monitor=0, obs_id=2, boxes=decision.boxes, previous_id=1
                )
            bag = words(lines)
            t = tallies[name]
            t.seconds.append(seconds)
            t.agree.append(agreement(reference, bag))
            t.lost.update(reference - bag)
            mode = "partial" if reader.frames_partial else "full"
            cells.append(f"{name} {seconds:.2f}s {t.agree[-1]:.2f} ({mode})")
        area = sum(w * h for _x, _y, w, h in decision.boxes) / (second.width * second.height)
        print(
            f"  {a['id']}->{b['id']} changed {area:.0%} in {len(decision.boxes)} boxes: "
            f"{' | '.join(cells)}  ({load()})",
            flush=True,
        )
    return tallies


def report(title: str, tallies: dict[str, Tally], show_lost: bool) -> dict[str, dict[str, float]]:
    """Print one table; returns its rows."""
    print(f"\n{title}  ({load()})")
    print(
        f"  {'strategy':18} {'n':>3} {'median s':>9} {'p90 s':>7} {'det s':>6} {'rec s':>6}"
        f" {'agree':>6} {'min':>5}"
    )
    out = {}
    for name, t in tallies.items():
        row = t.row()
        out[name] = row
        print(
            f"  {name:18} {row['frames']:3} {row['median_s']:9.2f} {row['p90_s']:7.2f}"
            f" {row['det_s']:6.2f} {row['rec_s']:6.2f} {row['agreement']:6.3f}"
            f" {row['min_agreement']:5.2f}"
        )
        if show_lost and t.lost:
            print(f"      lost: {' '.join(w for w, _ in t.lost.most_common(25))}")
    return out


def main() -> int:
    """Run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--set", default="screens-dev-html")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--every", type=int, default=3, help="read every Nth frame (1: all)")
    parser.add_argument(
        "--strategies", nargs="+", default=list(STRATEGIES), choices=list(STRATEGIES)
    )
    parser.add_argument("--no-changed", action="store_true", help="skip the changed-region part")
    parser.add_argument("--pairs-only", action="store_true", help="only the changed-region part")
    parser.add_argument("--lost", action="store_true", help="print the words each one lost")
    parser.add_argument(
        "--changed-engine", default="det960+nospin", choices=list(STRATEGIES), help="for the pairs"
    )
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    folder = args.data / args.set
    rows = frames_of(folder)
    names = [] if args.pairs_only else ["reference"]
    names += [s for s in args.strategies if s != "reference" and not args.pairs_only]
    if not args.no_changed and args.changed_engine not in names:
        names.append(args.changed_engine)
    print(f"loading {len(names)} engines ({load()})", flush=True)
    engines = {name: RapidOcrEngine(device="cpu", tuning=STRATEGIES[name]) for name in names}
    picked = [] if args.pairs_only else rows[:: max(1, args.every)]
    print(f"{len(picked)} frames of {args.set}, 1920x1080", flush=True)
    result: dict[str, object] = {"set": args.set}
    if picked:
        result["frames"] = report("full frames", bench_frames(folder, picked, engines), args.lost)
    if not args.no_changed:
        pairs = pairs_of(rows)
        print(f"\n{len(pairs)} near-duplicate pairs", flush=True)
        plain = engines[args.changed_engine]

        def cached() -> RapidOcrEngine:  # a fresh engine: its line cache knows only the first frame
            return RapidOcrEngine(device="cpu", tuning=STRATEGIES["default"])

        readers: dict[str, Callable[[], RegionReader]] = {
            "changed": lambda: RegionReader(plain),
            "full+linecache": lambda: RegionReader(cached(), full_ratio=0.0),
            "changed+linecache": lambda: RegionReader(cached()),
        }
        result["changed"] = report(
            f"changed regions (engine: {args.changed_engine}; +linecache: default)",
            bench_changed(folder, pairs, plain, readers),
            args.lost,
        )
    if args.json:
        print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
