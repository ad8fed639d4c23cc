"""One-click start: a launcher that runs this Python's ``-m client_sync.cli --home H app``.

On Linux a freedesktop ``.desktop`` file in the user's applications folder (and on the
desktop when there is one); on Windows a ``.cmd`` file on the desktop and in the Start
menu's Programs folder. The file's text comes from a pure function per platform
(:func:`desktop_entry`, :func:`windows_cmd`), so both are tested on any machine; no native
dependency, no shell-out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path, PureWindowsPath

__all__ = ["LAUNCHER_NAME", "desktop_entry", "launcher_targets", "windows_cmd", "write_launchers"]

LAUNCHER_NAME = "pendamping"
WINDOWS_NAME = "Pendamping"


def _desktop_quote(arg: str) -> str:
    """An Exec argument as the Desktop Entry Specification quotes it."""
    if arg and not any(c in arg for c in " \t\n\"'\\><~|&;$*?#()`%="):
        return arg
    escaped = arg.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`")
    escaped = escaped.replace("$", "\\$")
    return '"' + escaped.replace("%", "%%") + '"'


def desktop_entry(python: str, home: Path) -> str:
    """The ``.desktop`` file that starts the app on `home` with `python`."""
    command = " ".join(
        _desktop_quote(a) for a in (python, "-m", "client_sync.cli", "--home", str(home), "app")
    )
    return (
        "[Desktop Entry]\n"
        "Type=Application\n"
        "Version=1.0\n"
        "Name=Pendamping\n"
        "Comment=Catatan lapangan pendamping (bekerja tanpa sinyal)\n"
        f"Exec={command}\n"
        "Terminal=false\n"
        "Categories=Office;\n"
    )


def _cmd_quote(arg: str) -> str:
    """An argument for cmd.exe: in double quotes, a ``%`` doubled so it stays literal."""
    return '"' + arg.replace('"', "").replace("%", "%%") + '"'


def windows_cmd(python: str, home: Path) -> str:
    """The ``.cmd`` file that starts the app on `home`; ``pythonw`` when beside `python`,
    so no console window stays open (a venv has one too), else `python` itself. Pure: any
    platform can test it."""
    runner = PureWindowsPath(python)
    windowless = runner.with_name("pythonw.exe")
    exe = str(windowless) if runner.name.lower() == "python.exe" else python
    args = " ".join(_cmd_quote(a) for a in ("-m", "client_sync.cli", "--home", str(home), "app"))
    return f'@echo off\r\nstart "" {_cmd_quote(exe)} {args}\r\n'


def launcher_targets(platform: str, user_home: Path, env: dict[str, str]) -> list[Path]:
    """Where the launchers go on `platform` (``sys.platform``'s value)."""
    if platform.startswith("win"):
        profile = Path(env.get("USERPROFILE") or user_home)
        appdata = Path(env.get("APPDATA") or profile / "AppData" / "Roaming")
        programs = appdata / "Microsoft" / "Windows" / "Start Menu" / "Programs"
        return [profile / "Desktop" / f"{WINDOWS_NAME}.cmd", programs / f"{WINDOWS_NAME}.cmd"]
    data = Path(env.get("XDG_DATA_HOME") or user_home / ".local" / "share")
    targets = [data / "applications" / f"{LAUNCHER_NAME}.desktop"]
    desktop = user_home / "Desktop"
    if desktop.is_dir():
        targets.append(desktop / f"{LAUNCHER_NAME}.desktop")
    return targets


def write_launchers(
    home: Path,
    python: str = sys.executable,
    platform: str = sys.platform,
    user_home: Path | None = None,
    env: dict[str, str] | None = None,
) -> list[Path]:
    """Write the launchers for `home`. :returns: the files written."""
    user_home = user_home if user_home is not None else Path.home()
    env = dict(os.environ) if env is None else env
    windows = platform.startswith("win")
    text = windows_cmd(python, home) if windows else desktop_entry(python, home)
    written = []
    for target in launcher_targets(platform, user_home, env):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8", newline="")
        if not windows:
            target.chmod(0o755)  # a desktop's launcher must be executable to be trusted
        written.append(target)
    return written
