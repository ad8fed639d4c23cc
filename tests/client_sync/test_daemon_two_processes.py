"""Two `pendamping daemon` processes on one home: the second says so and nothing else.

Real processes, since the instance lock is the operating system's: the first daemon holds it
while it runs; the second must check it before it prints its banner (or asks anything).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from client_sync.instance_lock import LOCK_FILE

BANNER = "Sinkron latar belakang untuk"


def daemon_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "client_sync.cli", "--home", str(home), "daemon", "--every", "1"]


def quiet_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENDAMPING_")}
    return {**env, "PENDAMPING_RETRIES": "0", "PENDAMPING_TIMEOUT": "1"}


def wait_for_lock_holder(first: subprocess.Popen[str], home: Path) -> None:
    """Until the first daemon has printed its banner (it holds the lock by then)."""
    assert first.stderr is not None
    line = first.stderr.readline()
    assert BANNER in line, line
    assert (home / LOCK_FILE).exists()


def test_a_second_daemon_says_another_runs_before_any_banner(laptops):
    dev = laptops.enroll("siti", passphrase="")
    home = dev.home
    dev.close()
    env = quiet_env()
    first = subprocess.Popen(
        daemon_command(home), env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True
    )
    try:
        wait_for_lock_holder(first, home)
        started = time.monotonic()
        second = subprocess.run(
            daemon_command(home), env=env, capture_output=True, text=True, timeout=60
        )
    finally:
        first.kill()
        first.wait(timeout=10)
        if first.stderr is not None:
            first.stderr.close()

    assert second.returncode == 1, second.stderr
    lines = second.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert "Sinkron latar belakang lain sudah berjalan" in lines[0]
    assert BANNER not in second.stderr
    assert time.monotonic() - started < 30


def test_a_daemon_on_a_folder_that_is_no_home_says_to_enrol(tmp_path: Path):
    home = tmp_path / "nowhere"
    done = subprocess.run(
        daemon_command(home), env=quiet_env(), capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 1, done.stderr
    assert "pendamping enroll" in done.stderr
    assert "Galat tak terduga" not in done.stderr and "Traceback" not in done.stderr
