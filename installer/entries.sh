# shellcheck shell=bash
# Launcher and login-item files for install.sh. Sourced; prints to stdout; no side effects.

# One Exec argument, per the Desktop Entry Specification: quoted when it holds anything but
# plain characters, then escaped as a string value (so a backslash ends up as four), and % as %%.
desktop_arg() {
    local a=$1 plain='^[A-Za-z0-9_./+,:=@-]+$'
    if ! [[ $a =~ $plain ]]; then
        a=${a//\\/\\\\}
        a=${a//\"/\\\"}
        a=${a//\`/\\\`}
        a=${a//\$/\\\$}
        a="\"$a\""
    fi
    a=${a//\\/\\\\}
    a=${a//%/%%}
    printf '%s' "$a"
}

# A string value (Icon=, TryExec=): backslashes escaped.
desktop_str() {
    local s=${1//\\/\\\\}
    printf '%s' "$s"
}

# desktop_entry launcher|autostart EXECUTABLE ICON [ARGS...]
# A desktop entry that runs EXECUTABLE with ARGS. ICON may be empty (no Icon= line).
desktop_entry() {
    local kind=$1 exe=$2 icon=$3 exec_line arg
    shift 3
    exec_line=$(desktop_arg "$exe")
    for arg in "$@"; do exec_line="$exec_line $(desktop_arg "$arg")"; done
    printf '[Desktop Entry]\n'
    printf 'Type=Application\n'
    printf 'Version=1.0\n'
    printf 'Name=Engram\n'
    printf 'GenericName=Personal memory\n'
    if [ "$kind" = autostart ]; then
        printf 'Comment=Start Engram at login\n'
    else
        printf 'Comment=Search and ask about what you saw, heard and said\n'
    fi
    printf 'TryExec=%s\n' "$(desktop_str "$exe")"
    printf 'Exec=%s\n' "$exec_line"
    if [ -n "$icon" ]; then printf 'Icon=%s\n' "$(desktop_str "$icon")"; fi
    printf 'Terminal=false\n'
    printf 'Categories=Utility;\n'
    if [ "$kind" = autostart ]; then
        printf 'NoDisplay=true\n'
        printf 'X-GNOME-Autostart-enabled=true\n'
        printf 'X-GNOME-Autostart-Delay=10\n'
    else
        printf 'Keywords=memory;recall;search;timeline;screenshot;\n'
        printf 'StartupNotify=true\n'
    fi
}

# (sed, not ${s//&/&amp;}: bash 5.2 reads & in a replacement as the matched text)
xml_escape() {
    printf '%s\n' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g'
}

# launch_agent_plist LABEL LOGFILE EXECUTABLE [ARGS...]: a macOS LaunchAgent run at login.
launch_agent_plist() {
    local label=$1 log=$2 arg
    shift 2
    printf '<?xml version="1.0" encoding="UTF-8"?>\n'
    printf '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">\n'
    printf '<plist version="1.0">\n<dict>\n'
    printf '  <key>Label</key>\n  <string>%s</string>\n' "$(xml_escape "$label")"
    printf '  <key>ProgramArguments</key>\n  <array>\n'
    for arg in "$@"; do printf '    <string>%s</string>\n' "$(xml_escape "$arg")"; done
    printf '  </array>\n'
    printf '  <key>RunAtLoad</key>\n  <true/>\n'
    printf '  <key>ProcessType</key>\n  <string>Interactive</string>\n'
    printf '  <key>StandardOutPath</key>\n  <string>%s</string>\n' "$(xml_escape "$log")"
    printf '  <key>StandardErrorPath</key>\n  <string>%s</string>\n' "$(xml_escape "$log")"
    printf '</dict>\n</plist>\n'
}
