import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ocr_leaves_no_telemetry_files(tmp_path):
    code = (
        "from PIL import Image; from models.ocr import RapidOcrEngine; "
        "RapidOcrEngine().read(Image.new('RGB', (200, 60), 'white'))"
    )
    env = {k: v for k, v in os.environ.items() if k != "ORT_DISABLE_TELEMETRY"}
    env.update(HOME=str(tmp_path), XDG_CACHE_HOME=str(tmp_path / ".cache"), PYTHONPATH=str(ROOT))
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert res.returncode == 0, res.stderr[-2000:]
    assert not (tmp_path / ".cache" / "Microsoft").exists()
    assert list(tmp_path.rglob("deviceid")) == []
