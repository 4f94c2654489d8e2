import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_hold():
    exe = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    res = subprocess.run([exe, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "0 broken" in res.stdout


def test_cli_and_gui_entry_do_not_import_heavy_ml():
    code = (
        "import sys, app.cli.main, app.errors; "
        "heavy = [m for m in ('torch', 'transformers', 'open_clip', 'faster_whisper', 'chromadb', "
        "'sentence_transformers') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    res = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert res.returncode == 0, res.stderr
