#!/usr/bin/env bash
# Engram uninstaller for Linux and macOS.
#
#   bash uninstall.sh [--prefix DIR] [--purge] [--yes]
#
# Removes what install.sh recorded in PREFIX/install-manifest.txt (desktop entry, autostart entry
# or LaunchAgent, the `engram` link) and then the prefix itself. Engram's data folder is kept
# unless --purge is given. Without an install it does nothing and exits 0.
set -euo pipefail

MANIFEST_NAME="install-manifest.txt"
LAUNCH_AGENT_LABEL="io.engram.app"

say() { printf '==> %s\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

usage() {
    cat <<'EOF'
Usage: bash uninstall.sh [options]

Removes Engram's app folder, launcher, login item and `engram` command. Your data is kept.

Options:
  --prefix DIR      the app folder given to install.sh (default: the installer's default)
  --purge           also delete Engram's data folder (screenshots, transcripts, memories)
  --data-dir DIR    the data folder that --purge deletes (default: ENGRAM_HOME or the default)
  --yes, -y         do not ask before deleting data
  --help, -h        show this help
EOF
}

PREFIX=""
PURGE=0
DATA_DIR=""
ASSUME_YES=0
while [ $# -gt 0 ]; do
    case "$1" in
        --prefix) [ $# -ge 2 ] || die "--prefix needs a directory"; PREFIX=$2; shift 2 ;;
        --prefix=*) PREFIX=${1#*=}; shift ;;
        --purge) PURGE=1; shift ;;
        --data-dir) [ $# -ge 2 ] || die "--data-dir needs a directory"; DATA_DIR=$2; shift 2 ;;
        --data-dir=*) DATA_DIR=${1#*=}; shift ;;
        --yes|-y) ASSUME_YES=1; shift ;;
        --help|-h) usage; exit 0 ;;
        *) usage >&2; die "unknown option: $1" ;;
    esac
done

[ -n "${HOME:-}" ] || die "HOME is not set"
OS=$(uname -s)
if [ "$OS" = Darwin ]; then
    DEFAULT_PREFIX="$HOME/Library/Application Support/engram-app"
    DEFAULT_DATA="$HOME/Library/Application Support/engram"
else
    DEFAULT_PREFIX="${XDG_DATA_HOME:-$HOME/.local/share}/engram-app"
    DEFAULT_DATA="${XDG_DATA_HOME:-$HOME/.local/share}/engram"
fi
# The copy install.sh leaves in the prefix removes the install it sits in.
SELF_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
if [ -z "$PREFIX" ] && [ -f "$SELF_DIR/$MANIFEST_NAME" ]; then PREFIX=$SELF_DIR; fi
PREFIX=${PREFIX:-$DEFAULT_PREFIX}
DATA_DIR=${DATA_DIR:-${ENGRAM_HOME:-$DEFAULT_DATA}}

# Absolute path without symlinks for an existing folder; the path made absolute otherwise.
canon() {
    local p=$1
    # shellcheck disable=SC2088  # a literal ~ the user typed, expanded here
    case "$p" in "~"|"~/"*) p="$HOME${p#"~"}" ;; esac
    if [ -d "$p" ]; then (cd "$p" && pwd -P); else
        case "$p" in /*) printf '%s\n' "$p" ;; *) printf '%s/%s\n' "$(pwd -P)" "$p" ;; esac
    fi
}

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

# A folder that is safe to delete as a whole: not /, not the home folder, nothing that holds it.
safe_to_delete() {
    local d=$1 home
    home=$(canon "$HOME")
    [ "$d" != / ] && [ -n "$d" ] && ! is_within "$home" "$d"
}

PREFIX=$(canon "$PREFIX")
DATA_DIR=$(canon "$DATA_DIR")
MANIFEST="$PREFIX/$MANIFEST_NAME"

remove_app() {
    if [ ! -e "$PREFIX" ]; then
        say "Engram is not installed in $PREFIX; nothing to remove."
        return 0
    fi
    [ -d "$PREFIX" ] || die "$PREFIX is not a folder; left alone"
    if [ ! -f "$MANIFEST" ]; then
        if [ -z "$(ls -A "$PREFIX")" ]; then
            rmdir "$PREFIX"
            say "Removed the empty folder $PREFIX."
            return 0
        fi
        die "$PREFIX holds no Engram install manifest ($MANIFEST_NAME); left alone"
    fi
    safe_to_delete "$PREFIX" || die "refusing to delete $PREFIX"
    if is_within "$DATA_DIR" "$PREFIX"; then
        die "the data folder $DATA_DIR lies inside $PREFIX; move it out first (nothing was removed)"
    fi

    local recorded_prefix kind path target dirs=()
    recorded_prefix=$(awk -F '\t' '$1 == "prefix" {print $2; exit}' "$MANIFEST")
    say "Removing Engram from $PREFIX"
    while IFS=$'\t' read -r kind path; do
        case "$kind" in ""|\#*|prefix|meta) continue ;; esac
        case "$kind" in
            symlink)
                if [ -L "$path" ]; then
                    target=$(readlink "$path")
                    if is_within "$target" "$PREFIX" || { [ -n "$recorded_prefix" ] && is_within "$target" "$recorded_prefix"; }; then
                        rm -f "$path"
                        note "removed $path"
                    else
                        note "kept $path: it now points to $target"
                    fi
                fi
                ;;
            launchagent)
                if [ "$OS" = Darwin ]; then
                    launchctl bootout "gui/$(id -u)/$LAUNCH_AGENT_LABEL" >/dev/null 2>&1 || true
                fi
                if [ -e "$path" ] || [ -L "$path" ]; then rm -f "$path"; note "removed $path"; fi
                ;;
            file)
                if [ -e "$path" ] || [ -L "$path" ]; then rm -f "$path"; note "removed $path"; fi
                ;;
            dir) dirs+=("$path") ;;
            *) warn "unknown manifest entry '$kind' for $path; left alone" ;;
        esac
    done <"$MANIFEST"
    rm -rf "$PREFIX"
    note "removed $PREFIX"
    # Folders the installer created, deepest first, only when they are empty.
    if [ ${#dirs[@]} -gt 0 ]; then
        while IFS= read -r path; do
            if [ -d "$path" ] && rmdir "$path" 2>/dev/null; then note "removed $path"; fi
        done < <(printf '%s\n' "${dirs[@]}" | awk '{ print length($0) "\t" $0 }' | sort -rn | cut -f2-)
    fi
}

purge_data() {
    if [ ! -e "$DATA_DIR" ]; then
        say "No data folder at $DATA_DIR."
        return 0
    fi
    safe_to_delete "$DATA_DIR" || die "refusing to delete $DATA_DIR"
    rm -rf "$DATA_DIR"
    say "Deleted the data folder $DATA_DIR."
}

# Ask about the data before removing anything, so a "no" or a missing --yes changes nothing.
if [ $PURGE = 1 ] && [ $ASSUME_YES = 0 ] && [ -e "$DATA_DIR" ]; then
    [ -t 0 ] || die "--purge deletes $DATA_DIR; confirm with --yes when not running interactively"
    printf 'Delete all Engram data in %s (screenshots, transcripts, memories, vault)? [y/N] ' "$DATA_DIR"
    read -r answer || answer=n
    case "$answer" in y|Y|yes|YES) ;; *) die "cancelled; nothing was removed" ;; esac
fi

remove_app
if [ $PURGE = 1 ]; then
    purge_data
elif [ -e "$DATA_DIR" ]; then
    say "Your data is kept in $DATA_DIR (delete it with: uninstall.sh --purge)."
fi
