#!/usr/bin/env python3
"""Set up and run pendamping-sync on a fresh machine with nothing but Python 3.11+.

    python3 dev.py run     # venv, install, init ./var, serve the hub on 127.0.0.1:5000
    python3 dev.py test    # venv, install with [dev], run the whole test suite

Works the same on Windows (`py dev.py run`): pathlib paths, the venv's own interpreter, no
shell. The install is redone only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
STAMP = VENV / ".installed-from"


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


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command not in ("run", "test"):
        print(__doc__)
        return 0 if command == "help" else 2
    python = ensure_installed()
    if command == "run":
        data = os.environ.get("PENDAMPING_HUB_DATA", str(ROOT / "var"))
        hub = [str(python), "-m", "server.cli", "--data", data]
        subprocess.run([*hub, "init"], check=True, cwd=ROOT)
        return subprocess.call(
            [*hub, "serve", "--host", "127.0.0.1", "--port", "5000", *argv[1:]], cwd=ROOT
        )
    return subprocess.call([str(python), "-m", "pytest", *argv[1:]], cwd=ROOT)


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(130)
    except subprocess.CalledProcessError as exc:
        sys.exit(exc.returncode or 1)
