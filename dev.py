#!/usr/bin/env python3
"""Set up and run pendamping-sync on a fresh machine with nothing but Python 3.11+.

    python3 dev.py run     # venv, install, init ./var, serve the hub on 127.0.0.1:5000
    python3 dev.py run --port 5001   # the same on another port (5000 taken)
    python3 dev.py test    # venv, install with [dev], Chromium and PostgreSQL if missing,
                           # run every test on both hub backends (SQLite and a throw-away
                           # PostgreSQL cluster; on every core: pytest-xdist; `-n 0` for one)
    python3 dev.py typecheck   # mypy over server/, client_sync/ and schemas/ (CI runs it too)

Works the same on Windows (`py dev.py run`): pathlib paths, the venv's own interpreter, no
shell. The install is redone only when pyproject.toml changes.
"""

from __future__ import annotations

import errno
import hashlib
import os
import shutil
import socket
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"
#: the browser the web pages are tested in (Debian's package `chromium`)
CHROMIUM = "/usr/bin/chromium"
HOST = "127.0.0.1"
DEFAULT_PORT = 5000


def venv_python() -> Path:
    scripts = "Scripts" if os.name == "nt" else "bin"
    return VENV / scripts / ("python.exe" if os.name == "nt" else "python")


def ensure_installed() -> Path:
    """Create .venv and install the project with its [dev] extra, if not yet done."""
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs before any install
        sys.exit(f"pendamping-sync needs Python 3.11 or newer, not {sys.version.split()[0]}.")
    python = venv_python()
    if not python.exists():
        print("Creating .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True, clear=True).create(VENV)
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if not STAMP.exists() or STAMP.read_text().strip() != wanted:
        print("Installing pendamping-sync[dev] into .venv ...", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True
        )
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "-e", ".[dev]"], check=True, cwd=ROOT
        )
        STAMP.write_text(wanted)
    return python


def ensure_browser() -> None:
    """Debian's Chromium for the browser tests (tests/web/test_browser.py), if missing.

    Installed with apt-get when running as root on Linux (a fresh CI machine); elsewhere
    says how to get one, and those tests skip. Playwright's own browser download is not
    used: its CDN is unreachable from CI.
    """
    if os.environ.get("PENDAMPING_CHROMIUM") or Path(CHROMIUM).exists():
        return
    as_root = sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
    if not as_root or shutil.which("apt-get") is None:
        print(
            f"No browser at {CHROMIUM}: the browser tests will be skipped. Install Chromium "
            "(Debian/Ubuntu: `sudo apt-get install chromium`) or set PENDAMPING_CHROMIUM to a "
            "Chromium or Chrome executable.",
            flush=True,
        )
        return
    print(
        f"{CHROMIUM} missing: installing Debian's chromium (apt-get install -y chromium) ...",
        flush=True,
    )
    apt_install("chromium")


def postgres_binaries() -> Path | None:
    """The folder with PostgreSQL's initdb and pg_ctl: PATH, then the newest
    /usr/lib/postgresql/N/bin (where Debian puts them); None when missing."""
    initdb, pg_ctl = shutil.which("initdb"), shutil.which("pg_ctl")
    if initdb and pg_ctl:
        return Path(initdb).resolve().parent
    found = [
        (int(b.parent.name), b)
        for b in Path("/usr/lib/postgresql").glob("*/bin")
        if b.parent.name.isdigit() and (b / "initdb").exists() and (b / "pg_ctl").exists()
    ]
    return max(found)[1] if found else None


def ensure_postgres() -> None:
    """Debian's PostgreSQL server for the tests on the PostgreSQL backend, if missing.

    The tests start a throw-away cluster of their own (tests/support/postgres.py) from these
    binaries; nothing is configured or started here. Installed with apt-get when running as
    root on Linux, like Chromium; elsewhere says how to get it (those tests then fail with
    the same advice: CI runs both backends).
    """
    if postgres_binaries() is not None:
        return
    as_root = sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0
    if not as_root or shutil.which("apt-get") is None:
        print(
            "PostgreSQL's initdb/pg_ctl not found: the tests on the PostgreSQL backend will "
            "fail. Install the server (Debian/Ubuntu: `sudo apt-get install postgresql`; "
            "Windows/macOS: the installer from the PostgreSQL project, its bin folder on PATH).",
            flush=True,
        )
        return
    print("PostgreSQL missing: installing Debian's postgresql (apt-get install -y) ...", flush=True)
    apt_install("postgresql")


def apt_install(package: str) -> None:
    """`apt-get install -y PACKAGE`, non-interactive, refreshing the package lists once if
    the first try fails (a fresh machine may have none yet).

    :raises SystemExit: it still failed (apt-get's last output is printed first).
    """
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", package]
    done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, text=True)
        done = subprocess.run(install, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        print(done.stdout[-2000:] + done.stderr[-2000:], file=sys.stderr, flush=True)
        sys.exit(f"apt-get install {package} failed (exit {done.returncode}).")


def run_port(args: list[str]) -> tuple[int, list[str]]:
    """`--port N` (or `--port=N`) out of `dev.py run`'s arguments; the rest go to `serve`.

    :raises SystemExit: N is not a port number (one line, in the hub's language).
    """
    port, rest, i = str(DEFAULT_PORT), [], 0
    while i < len(args):
        if args[i] == "--port" and i + 1 < len(args):
            port, i = args[i + 1], i + 2
        elif args[i].startswith("--port="):
            port, i = args[i].partition("=")[2], i + 1
        else:
            rest.append(args[i])
            i += 1
    if not port.isdigit() or not 1 <= int(port) <= 65535:
        sys.exit(f"--port harus nomor port 1-65535, bukan {port!r}.")
    return int(port), rest


def port_taken(port: int) -> str | None:
    """One line saying `port` cannot be served on, and how to pick another; None if free.

    Asked before the (slow) install, with a bind like the hub's own; `serve` says the same
    if another program takes the port in between."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        if os.name != "nt":  # a port in TIME_WAIT is free to a server, as to this probe
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            other = port + 1 if port < 65535 else 8080
            why = (
                "sudah dipakai program lain (mungkin hub yang sudah berjalan)"
                if exc.errno in (errno.EADDRINUSE, 10048)
                else f"tidak dapat dipakai ({exc.strerror or exc})"
            )
            return (
                f"Port {port} di {HOST} {why}; pilih port lain: python3 dev.py run --port {other}"
            )
    return None


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in ("run", "test", "typecheck"):
        print(__doc__)
        return 0 if command == "help" else 2
    if command == "run":
        port, rest = run_port(argv[1:])
        taken = port_taken(port)
        if taken:
            print(taken, file=sys.stderr, flush=True)
            return 1
    python = ensure_installed()
    if command == "run":
        data = os.environ.get("PENDAMPING_HUB_DATA", str(ROOT / "var"))
        hub = [str(python), "-m", "server.cli", "--data", data]
        subprocess.run([*hub, "init"], check=True, cwd=ROOT)
        serve = [*hub, "serve", "--host", HOST, "--port", str(port), *rest]
        return subprocess.call(serve, cwd=ROOT)
    if command == "typecheck":  # the packages and settings are in pyproject's [tool.mypy]
        return subprocess.call([str(python), "-m", "mypy", *argv[1:]], cwd=ROOT)
    ensure_browser()
    ensure_postgres()
    return subprocess.call([str(python), "-m", "pytest", *parallel(argv[1:]), *argv[1:]], cwd=ROOT)


def parallel(args: list[str]) -> list[str]:
    """pytest-xdist's options for the whole suite: one worker per core, at most four (the
    suite waits on hub processes and a browser as much as it computes), unless the command
    line chose (``-n 0`` runs in one process)."""
    chosen = any(
        a in ("-n", "--numprocesses") or a.startswith(("-n", "--numprocesses=")) for a in args
    )
    return [] if chosen else ["-n", "auto", "--maxprocesses", "4"]


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
