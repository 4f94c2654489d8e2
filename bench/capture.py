"""Capture benchmark on a scripted Xvfb screen (1920x1080): the costs of live capture.

Usage:
    python bench/capture.py [--seconds 20] [--json]

Measures, on a private Xvfb with a Tk window whose text changes every 0.7 s:
- capture + dedup milliseconds per 1080p frame (mss grab + ``Deduper.decide``);
- skip ratio and recorder CPU% on a static screen (``ScreenRecorder`` at 0.5 s);
- OCR seconds per frame, full frame vs changed regions only (``RegionReader``), and whether
  both read the same words;
- capture-to-searchable latency with the real pipeline (``ScreenSink`` + ``IndexWorker``, RapidOCR,
  MiniLM, Chroma) and MB stored per captured hour at the default 2 s interval.
Needs Xvfb and python3-tk. Prints the machine's load average: the numbers scale with free CPU.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WINDOW = """
import tkinter, itertools, sys
root = tkinter.Tk(className="benchlog")
root.title("build log")
root.geometry("1900x1060+0+0")
label = tkinter.Label(root, font=("DejaVu Sans Mono", 18), bg="white", justify="left", anchor="nw")
label.pack(fill="both", expand=True)
static = sys.argv[1] == "static"
lines = [
    f"{i:03d} compiling module_{i} ... ok   checksum {i * 7919 % 100000:05d}" for i in range(40)
]
counter = itertools.count(1)
def tick():
    n = next(counter)
    if not static:
        lines[n % 40] = f"{n % 40:03d} step {n}: deployed artifact v{n}.{n % 7} to staging-{n % 3}"
    label.config(text="\\n".join(lines))
    root.after(700, tick)
tick()
root.mainloop()
"""


def start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """A private 1920x1080 Xvfb; returns (process, DISPLAY)."""
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        return proc, ":" + pipe.readline().strip()


def grab_frames(seconds: float, interval: float) -> tuple[list[np.ndarray], float]:
    """Grab RGB frames at an interval; returns (kept frames with boxes, ms per capture+dedup)."""
    import mss

    from capture.dedup import Deduper

    dedup, frames, costs = Deduper(), [], []
    with mss.MSS() as sct:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            t0 = time.perf_counter()
            shot = sct.grab(sct.monitors[1])
            px = np.frombuffer(shot.raw, dtype=np.uint8).reshape(shot.height, shot.width, 4)
            decision = dedup.decide(px)
            costs.append((time.perf_counter() - t0) * 1000)
            if decision.keep:
                frames.append((np.ascontiguousarray(px[..., 2::-1]), decision.boxes))
            time.sleep(interval)
    return frames, statistics.median(costs)


def static_cpu(seconds: float) -> dict[str, float]:
    """Recorder on a static screen: skip ratio and CPU% of this process."""
    from capture.config import CaptureConfig
    from capture.screen import ScreenRecorder

    kept: list[object] = []
    rec = ScreenRecorder(CaptureConfig(interval_s=0.5, idle_pause_minutes=0), kept.append)
    cpu0, wall0 = time.process_time(), time.monotonic()
    rec.start()
    time.sleep(seconds)
    rec.stop()
    cpu = (time.process_time() - cpu0) / (time.monotonic() - wall0) * 100
    st = rec.status()
    total = st.frames_kept + st.frames_skipped
    return {
        "frames": total,
        "skip_ratio": round(st.frames_skipped / max(1, total), 3),
        "recorder_cpu_percent": round(cpu, 1),
    }


def ocr_full_vs_regions(frames: list[tuple[np.ndarray, tuple]]) -> dict[str, object]:
    """OCR each kept frame whole and by changed regions; time both and compare the words."""
    from PIL import Image

    from memory.pipeline.regions import RegionReader
    from models.ocr import RapidOcrEngine

    engine = RapidOcrEngine(device="cpu")
    images = [(Image.fromarray(px), boxes) for px, boxes in frames[:6]]
    full_t, part_t, agree = [], [], []
    regional = RegionReader(engine)
    prev = None
    for n, (img, boxes) in enumerate(images, 1):
        t0 = time.perf_counter()
        whole = engine.read(img)
        full_t.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        part = regional.read(img, monitor=1, obs_id=n, boxes=boxes, previous_id=prev)
        part_t.append(time.perf_counter() - t0)
        prev = n
        a, b = (
            {w for ln in whole for w in ln.text.split()},
            {w for ln in part for w in ln.text.split()},
        )
        agree.append(len(a & b) / max(1, len(a | b)))
    return {
        "frames": len(images),
        "full_s_per_frame": round(statistics.mean(full_t), 2),
        "regions_s_per_frame": round(statistics.mean(part_t[1:] or part_t), 2),
        "partial_reads": regional.frames_partial,
        "word_agreement": round(statistics.mean(agree), 3),
    }


def latency_and_storage(seconds: float) -> dict[str, float]:
    """The real pipeline for ``seconds``: capture-to-searchable latency and bytes per hour."""
    from capture.config import CaptureConfig
    from capture.screen import ScreenRecorder
    from memory.pipeline.indexer import IndexWorker
    from memory.pipeline.ingest import ScreenSink
    from memory.service import MemoryService

    with tempfile.TemporaryDirectory() as tmp:
        svc = MemoryService(Path(tmp) / "home")
        pipe = svc.pipeline()
        pipe.reader()  # load OCR before the clock starts
        worker = IndexWorker(pipe.indexer)
        sink = ScreenSink(pipe.inbox, on_added=lambda _i: worker.wake())
        rec = ScreenRecorder(
            CaptureConfig(idle_pause_minutes=0), sink
        )  # Xvfb has no input: never idle-pause
        worker.start()
        rec.start()
        time.sleep(seconds)
        rec.stop()
        worker.stop(flush=True)
        lat = pipe.indexer.stats.latencies
        out = {
            "kept": sink.kept,
            "latency_median_s": round(statistics.median(lat), 2) if lat else -1,
            "latency_max_s": round(max(lat), 2) if lat else -1,
            "mb_per_hour": round(pipe.inbox.bytes_written / seconds * 3600 / 2**20, 1),
            "kb_per_frame": round(pipe.inbox.bytes_written / max(1, sink.kept) / 1024, 1),
        }
        svc.close()
    return out


def main() -> int:
    """Run every measurement and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--part", choices=["all", "pipeline"], default="all")
    args = parser.parse_args()
    xvfb, display = start_xvfb()
    os.environ["DISPLAY"] = display
    results: dict[str, object] = {"load_average": os.getloadavg()}
    try:
        if args.part == "pipeline":
            win = subprocess.Popen([sys.executable, "-c", WINDOW, "changing"])
            time.sleep(2)
            results["pipeline"] = latency_and_storage(args.seconds)
            win.kill()
            print(json.dumps(results, indent=None if args.json else 2))
            return 0
        win = subprocess.Popen([sys.executable, "-c", WINDOW, "static"])
        time.sleep(2)
        results["static"] = static_cpu(args.seconds / 2)
        win.kill()
        win = subprocess.Popen([sys.executable, "-c", WINDOW, "changing"])
        time.sleep(2)
        frames, ms = grab_frames(args.seconds / 2, 1.0)
        results["capture_dedup_ms_per_1080p_frame"] = round(ms, 1)
        results["ocr"] = ocr_full_vs_regions(frames)
        results["pipeline"] = latency_and_storage(args.seconds)
        win.kill()
    finally:
        xvfb.terminate()
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
