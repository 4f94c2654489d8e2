"""A private headless Wayland desktop for tests and benchmarks: sway, PipeWire, the portals.

``HeadlessSway`` starts, on a private D-Bus session bus and a private ``XDG_RUNTIME_DIR``:
sway with the headless wlroots backend (no GPU, no input devices, the pixman renderer),
``pipewire``, ``wireplumber``, ``xdg-desktop-portal-wlr`` (its output chooser turned off, or
a chooser that refuses) and the ``xdg-desktop-portal`` front end. Every process lives in
one process group, killed as a whole by :meth:`HeadlessSway.close` (a ``with`` block or a
fixture's teardown), so nothing is left behind.

Sway refuses to run as root; started by root, the compositor runs as ``nobody`` and every
other process as root (root may connect to its sockets; the portal must run as the same
user as the program asking it, or it cannot tell which app that is).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

REQUIRED = {
    "sway": "sway",
    "swaymsg": "sway",
    "dbus-daemon": "dbus",
    "pipewire": "pipewire",
    "wireplumber": "wireplumber",
    "gst-launch-1.0": "gstreamer1.0-tools",
    "foot": "foot",
}
LIBEXEC = {
    "/usr/libexec/xdg-desktop-portal": "xdg-desktop-portal",
    "/usr/libexec/xdg-desktop-portal-wlr": "xdg-desktop-portal-wlr",
    "/usr/libexec/xdg-permission-store": "xdg-desktop-portal",
}
PIPEWIRESRC = "/usr/lib/x86_64-linux-gnu/gstreamer-1.0/libgstpipewire.so"

_DBUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <servicedir>{services}</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""
_PERMISSION_STORE = """[D-BUS Service]
Name=org.freedesktop.impl.portal.PermissionStore
Exec=/usr/libexec/xdg-permission-store
"""


def missing_packages() -> list[str]:
    """Debian packages whose programs the headless session needs and this machine lacks."""
    out = {pkg for exe, pkg in REQUIRED.items() if shutil.which(exe) is None}
    out |= {pkg for path, pkg in LIBEXEC.items() if not Path(path).exists()}
    if not Path(PIPEWIRESRC).exists() and shutil.which("gst-inspect-1.0"):
        probe = subprocess.run(["gst-inspect-1.0", "pipewiresrc"], capture_output=True, check=False)
        if probe.returncode != 0:
            out.add("gstreamer1.0-pipewire")
    return sorted(out)


class SessionFailed(RuntimeError):
    """A part of the headless session did not come up (its log is in the message)."""


class HeadlessSway:
    """Start the session in ``__enter__``; ``env`` is what a client of it needs.

    Args:
        width: the headless output's width in pixels.
        height: its height.
        chooser: ``"none"`` (the portal picks the output, no dialog) or ``"refuse"`` (the
            portal's chooser declines, as a user pressing Cancel would).
        max_fps: xdg-desktop-portal-wlr's frame-rate cap.
    """

    def __init__(
        self, width: int = 1280, height: int = 720, chooser: str = "none", max_fps: int = 5
    ) -> None:
        self.width, self.height = width, height
        self.chooser, self.max_fps = chooser, max_fps
        self.dir = Path(tempfile.mkdtemp(prefix="engram-sway-"))
        self.env: dict[str, str] = {}
        self._procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self._pgid: int | None = None

    # -- start ------------------------------------------------------------------------------

    def __enter__(self) -> HeadlessSway:
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _start(self) -> None:
        os.chmod(self.dir, 0o711)
        runtime = self.dir / "run"
        runtime.mkdir(mode=0o700)
        for sub in ("config/xdg-desktop-portal-wlr", "data", "home", "services"):
            (self.dir / sub).mkdir(parents=True)
        sway_user = pwd.getpwnam("nobody") if os.getuid() == 0 else None
        if sway_user is not None:
            for path in (runtime, self.dir / "home"):
                os.chown(path, sway_user.pw_uid, sway_user.pw_gid)
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("DISPLAY", "WAYLAND_DISPLAY", "SWAYSOCK", "DBUS_SESSION_BUS_ADDRESS")
        }
        env.update(
            XDG_RUNTIME_DIR=str(runtime),
            XDG_CONFIG_HOME=str(self.dir / "config"),
            XDG_DATA_HOME=str(self.dir / "data"),
            XDG_CURRENT_DESKTOP="sway",
            XDG_SESSION_TYPE="wayland",
            WLR_BACKENDS="headless",
            WLR_LIBINPUT_NO_DEVICES="1",
            WLR_RENDERER="pixman",
            PIPEWIRE_RUNTIME_DIR=str(runtime),
            NO_AT_BRIDGE="1",
        )
        services = self.dir / "services"
        (services / "permission-store.service").write_text(_PERMISSION_STORE)
        bus_socket = runtime / "bus"
        conf = self.dir / "bus.conf"
        conf.write_text(_DBUS_CONFIG.format(socket=bus_socket, services=services))
        self._spawn("dbus-daemon", ["dbus-daemon", f"--config-file={conf}", "--nofork"], env)
        _wait_for(lambda: bus_socket.exists(), "dbus-daemon", self)
        env["DBUS_SESSION_BUS_ADDRESS"] = f"unix:path={bus_socket}"

        sway_conf = self.dir / "sway.conf"
        sway_conf.write_text(
            f"output HEADLESS-1 mode {self.width}x{self.height}\n"
            "default_border none\nfocus_follows_mouse no\n"
        )
        sway_conf.chmod(0o644)  # sway may run as nobody; Engram's umask is 077
        sway_env = dict(env, HOME=str(self.dir / "home"))
        self._spawn("sway", ["sway", "-c", str(sway_conf)], sway_env, user=sway_user)
        _wait_for(lambda: _one(runtime.glob("wayland-[0-9]")) is not None, "sway", self)
        _wait_for(lambda: _one(runtime.glob("sway-ipc.*.sock")) is not None, "sway", self)
        env["WAYLAND_DISPLAY"] = str(_one(runtime.glob("wayland-[0-9]")).name)  # type: ignore[union-attr]
        env["SWAYSOCK"] = str(_one(runtime.glob("sway-ipc.*.sock")))
        self._spawn("pipewire", ["pipewire"], env)
        _wait_for(lambda: (runtime / "pipewire-0").exists(), "pipewire", self)
        self._spawn("wireplumber", ["wireplumber"], env)

        chooser = "chooser_type=none\n"
        if self.chooser == "refuse":
            chooser = "chooser_type=simple\nchooser_cmd=sh -c 'exit 1'\n"
        (self.dir / "config/xdg-desktop-portal-wlr/config").write_text(
            f"[screencast]\n{chooser}max_fps={self.max_fps}\n"
        )
        xdpw_env = env
        if not Path("/dev/dri").exists():  # no GPU: screencopy through the version-2 proxy
            proxy = runtime / "wayland-proxy"
            script = str(Path(__file__).with_name("wayland_proxy.py"))
            upstream = str(runtime / env["WAYLAND_DISPLAY"])
            self._spawn("proxy", [sys.executable, script, upstream, str(proxy)], env)
            _wait_for(proxy.exists, "proxy", self)
            xdpw_env = dict(env, WAYLAND_DISPLAY=proxy.name)
        self._spawn(
            "xdpw",
            ["/usr/libexec/xdg-desktop-portal-wlr", "-l", os.environ.get("XDPW_LOG", "INFO")],
            xdpw_env,
        )
        self._spawn("xdp", ["/usr/libexec/xdg-desktop-portal"], env)
        self.env = env
        _wait_for(self._portal_ready, "xdg-desktop-portal", self, timeout=20)

    def _portal_ready(self) -> bool:
        probe = subprocess.run(
            [
                "dbus-send",
                "--session",
                "--print-reply",
                "--dest=org.freedesktop.portal.Desktop",
                "/org/freedesktop/portal/desktop",
                "org.freedesktop.DBus.Properties.Get",
                "string:org.freedesktop.portal.ScreenCast",
                "string:version",
            ],
            env=self.env,
            capture_output=True,
            check=False,
        )
        return probe.returncode == 0

    def _spawn(
        self,
        name: str,
        argv: Sequence[str],
        env: dict[str, str],
        user: pwd.struct_passwd | None = None,
    ) -> subprocess.Popen[bytes]:
        log = open(self.dir / f"{name}.log", "wb")  # noqa: SIM115 - closed with the process
        kwargs: dict[str, object] = {}
        if user is not None:
            kwargs.update(user=user.pw_uid, group=user.pw_gid, extra_groups=[])
        proc = subprocess.Popen(
            list(argv),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0 if self._pgid is None else self._pgid,
            **kwargs,  # type: ignore[arg-type]
        )
        log.close()
        if self._pgid is None:
            self._pgid = proc.pid
        self._procs.append((name, proc))
        return proc

    # -- use --------------------------------------------------------------------------------

    def spawn(self, name: str, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        """Start a client of the session (a window); it is killed with the session."""
        return self._spawn(name, argv, self.env)

    def swaymsg(self, *args: str) -> str:
        """Run ``swaymsg`` against this sway; returns its output."""
        done = subprocess.run(
            ["swaymsg", *args], env=self.env, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SessionFailed(f"swaymsg {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def log(self, name: str) -> str:
        """The log of one of the session's processes."""
        path = self.dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def kill(self, name: str) -> None:
        """Kill one of the session's processes (to test what happens when it goes)."""
        for proc_name, proc in self._procs:
            if proc_name == name and proc.poll() is None:
                proc.kill()
                proc.wait(5)

    @contextlib.contextmanager
    def environ(self) -> Iterator[dict[str, str]]:
        """Point this process's environment at the session for the ``with`` block."""
        saved = dict(os.environ)
        os.environ.clear()
        os.environ.update(self.env)
        try:
            yield self.env
        finally:
            os.environ.clear()
            os.environ.update(saved)

    # -- stop -------------------------------------------------------------------------------

    def close(self) -> None:
        """Kill the whole process group (activated services too) and remove the folder."""
        if self._pgid is not None:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self._pgid, sig)
                deadline = time.monotonic() + 3
                while time.monotonic() < deadline and any(p.poll() is None for _, p in self._procs):
                    time.sleep(0.05)
                if not _group_alive(self._pgid):
                    break
            self._pgid = None
        for _name, proc in self._procs:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1)
        self._procs.clear()
        shutil.rmtree(self.dir, ignore_errors=True)


def _one(paths: Iterator[Path]) -> Path | None:
    return next(iter(sorted(paths)), None)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_for(check: object, name: str, session: HeadlessSway, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if callable(check) and check():
            return
        for proc_name, proc in session._procs:
            if proc.poll() is not None:
                raise SessionFailed(
                    f"{proc_name} exited ({proc.returncode}): {session.log(proc_name)[-2000:]}"
                )
        time.sleep(0.05)
    raise SessionFailed(f"{name} did not come up in {timeout:.0f} s: {session.log(name)[-2000:]}")
