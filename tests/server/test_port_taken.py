"""A port another program holds: `dev.py run` and `pendamping-hub serve` say so in one line
and exit non-zero, with no traceback and no claim that the hub runs (issue 15, item 2).

Every test holds a real listening socket on a free loopback port and runs the real command
as its own process.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A loopback port held (bound and listening) by this test for its duration."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        yield holder.getsockname()[1]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )


def assert_one_line_no_traceback(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode != 0
    assert "Traceback" not in done.stdout + done.stderr
    assert "Hub berjalan" not in done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    return lines[0]


def test_dev_py_run_on_a_taken_port_says_so_and_how_to_pick_another(taken_port: int):
    done = run("dev.py", "run", "--port", str(taken_port))

    line = assert_one_line_no_traceback(done)
    assert f"Port {taken_port} di 127.0.0.1 sudah dipakai program lain" in line
    assert f"python3 dev.py run --port {taken_port + 1}" in line


def test_dev_py_run_refuses_a_port_that_is_not_a_number_in_one_line():
    line = assert_one_line_no_traceback(run("dev.py", "run", "--port", "limaribu"))
    assert line == "--port harus nomor port 1-65535, bukan 'limaribu'."


def test_dev_py_run_passes_the_port_and_everything_else_to_serve():
    spec = importlib.util.spec_from_file_location("dev_script", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    dev = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(dev)

    assert dev.run_port([]) == (5000, [])
    assert dev.run_port(["--port", "5001", "--workers", "2"]) == (5001, ["--workers", "2"])
    assert dev.run_port(["--threads", "8", "--port=8080"]) == (8080, ["--threads", "8"])


@pytest.mark.parametrize("workers", ["1", "2"])
def test_hub_serve_on_a_taken_port_says_so_in_one_galat_line(
    taken_port: int, tmp_path: Path, workers: str
):
    if workers != "1" and sys.platform == "win32":
        pytest.skip("several hub processes need Linux or macOS")
    done = run(
        "-m",
        "server.cli",
        "--data",
        str(tmp_path / "hub"),
        "serve",
        "--port",
        str(taken_port),
        "--workers",
        workers,
    )

    line = assert_one_line_no_traceback(done)
    assert line == (
        f"Galat: port {taken_port} di 127.0.0.1 sudah dipakai program lain (mungkin hub yang "
        f"sudah berjalan); pilih port lain, mis. `pendamping-hub serve --port {taken_port + 1}`."
    )
    assert done.returncode == 1
