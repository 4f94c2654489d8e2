"""Capture benchmark on a scripted Xvfb screen (1920x1080): the costs of live capture.

Usage:
    python bench/capture.py [--seconds 20] [--json]
    python bench/capture.py --backend wayland [--seconds 20] [--json]

Measures, on a private Xvfb with a Tk window whose text changes every 0.7 s:
- capture + dedup milliseconds per 1080p frame (mss grab + ``Deduper.decide``);
- skip ratio and recorder CPU% on a static screen (``ScreenRecorder`` at 0.5 s);
- OCR seconds per frame, full frame vs changed regions only (``RegionReader``), and whether
  both read the same words;
- capture-to-searchable latency with the real pipeline (``ScreenSink`` + ``IndexWorker``, RapidOCR,
  MiniLM, Chroma) and MB stored per captured hour at the default 2 s interval.
Needs Xvfb and python3-tk. Prints the machine's load average: the numbers scale with free CPU.

``--backend wayland`` (#18) measures the Wayland path against the X11 path in the same run, at the
same size (1280x720) and interval (0.5 s): a still screen (every tick a skipped frame) then a
terminal printing a line every 0.7 s, on Xvfb + mss and on headless sway + the ScreenCast portal
(``bench/sway_session.py``); CPU seconds of Engram's process and of its children (the
``gst-launch-1.0`` reader) per skipped and per captured frame, and the CPU of the desktop side
(Xvfb; sway, xdg-desktop-portal-wlr, PipeWire); then capture-to-searchable latency through the
portal with the real pipeline.
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
from collections.abc import Callable
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.xvfb import start_xvfb  # noqa: E402

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


FOOT_LOG = (
    'i=0; while true; do i=$((i+1)); echo "step $i: deployed artifact v$i to staging-$((i % 3))"; '
    "sleep 0.7; done"
)
FOOT_STILL = "echo ready; sleep 3600"
TK_SIZE = "1270x710+0+0"


def _cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _recorder_cost(
    seconds: float, desktop_pids: list[int], show: Callable[[], subprocess.Popen[bytes]]
) -> dict[str, float]:
    """A ScreenRecorder at 0.5 s; ``show`` opens the window after it started (a wlroots
    stream sends its first frame when something is drawn), then ``seconds`` are measured:
    frames, and CPU seconds spent."""
    from capture.config import CaptureConfig
    from capture.screen import ScreenRecorder

    rec = ScreenRecorder(CaptureConfig(interval_s=0.5, idle_pause_minutes=0), lambda _f: None)
    rec.start()
    window = show()
    time.sleep(3)
    source = rec._source
    children = [r._proc.pid for r in getattr(source, "readers", []) if r._proc is not None]
    st0 = rec.status()
    own0, desk0 = time.process_time(), sum(_cpu_s(p) for p in desktop_pids)
    kids0 = sum(_cpu_s(p) for p in children)
    time.sleep(seconds)
    own = time.process_time() - own0
    kids = sum(_cpu_s(p) for p in children) - kids0
    desk = sum(_cpu_s(p) for p in desktop_pids) - desk0
    st = rec.status()
    rec.stop()
    window.kill()
    return {
        "kept": st.frames_kept - st0.frames_kept,
        "skipped": st.frames_skipped - st0.frames_skipped,
        "engram_cpu_s": round(own + kids, 3),
        "reader_child_cpu_s": round(kids, 3),
        "desktop_cpu_s": round(desk, 3),
    }


def _per_frame(still: dict[str, float], busy: dict[str, float]) -> dict[str, object]:
    """CPU ms per skipped frame (still screen) and per captured frame (the rest of busy)."""
    per_skip = still["engram_cpu_s"] / max(1, still["skipped"] + still["kept"])
    kept_cost = busy["engram_cpu_s"] - per_skip * busy["skipped"]
    return {
        "still": still,
        "changing": busy,
        "engram_cpu_ms_per_skipped_frame": round(per_skip * 1000, 1),
        "engram_cpu_ms_per_captured_frame": round(kept_cost / max(1, busy["kept"]) * 1000, 1),
        "desktop_cpu_ms_per_tick_changing": round(
            busy["desktop_cpu_s"] / max(1, busy["kept"] + busy["skipped"]) * 1000, 1
        ),
    }


def x11_costs(seconds: float, latency_s: float) -> dict[str, object]:
    """The X11 path on a private 1280x720 Xvfb with a Tk window (the baseline)."""
    xvfb, display = start_xvfb("1280x720x24")
    saved = dict(os.environ)
    os.environ["DISPLAY"] = display
    for key in ("WAYLAND_DISPLAY", "XDG_SESSION_TYPE", "SWAYSOCK"):
        os.environ.pop(key, None)
    window = WINDOW.replace("1900x1060+0+0", TK_SIZE)
    out: dict[str, object] = {}
    try:
        still = _recorder_cost(
            seconds, [xvfb.pid], lambda: subprocess.Popen([sys.executable, "-c", window, "static"])
        )
        busy = _recorder_cost(
            seconds,
            [xvfb.pid],
            lambda: subprocess.Popen([sys.executable, "-c", window, "changing"]),
        )
        out.update(_per_frame(still, busy))
        win = subprocess.Popen([sys.executable, "-c", window, "changing"])
        time.sleep(2)
        out["pipeline"] = latency_and_storage(latency_s)
        win.kill()
    finally:
        xvfb.terminate()
        xvfb.wait(5)
        os.environ.clear()
        os.environ.update(saved)
    return out


def wayland_costs(seconds: float, latency_s: float) -> dict[str, object]:
    """The Wayland path on headless sway + the portal, then its capture-to-searchable latency."""
    from bench.sway_session import HeadlessSway

    out: dict[str, object] = {}
    with HeadlessSway(1280, 720, max_fps=30) as session, session.environ():
        desk = [p.pid for n, p in session._procs if n in ("sway", "xdpw", "pipewire", "proxy")]
        term = ["foot", "-f", "DejaVu Sans Mono:size=14", "sh", "-c"]
        still = _recorder_cost(seconds, desk, lambda: session.spawn("foot", [*term, FOOT_STILL]))
        busy = _recorder_cost(seconds, desk, lambda: session.spawn("foot", [*term, FOOT_LOG]))
        out.update(_per_frame(still, busy))
        session.spawn("foot", [*term, FOOT_LOG])
        time.sleep(2)
        out["pipeline"] = latency_and_storage(latency_s)
    return out


def main() -> int:
    """Run every measurement and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--part", choices=["all", "pipeline"], default="all")
    parser.add_argument("--backend", choices=["x11", "wayland"], default="x11")
    args = parser.parse_args()
    if args.backend == "wayland":
        load_before = os.getloadavg()
        results = {
            "load_average_before": load_before,
            "x11_xvfb_baseline": x11_costs(args.seconds / 2, args.seconds / 2),
            "wayland_portal": wayland_costs(args.seconds / 2, args.seconds / 2),
            "load_average_after": os.getloadavg(),
        }
        print(json.dumps(results, indent=None if args.json else 2))
        return 0
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
