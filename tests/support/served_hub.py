"""`pendamping-hub serve` as a child process on a data folder of its own.

Used by the end-to-end tests, which kill it mid-work, and by the benchmarks, which measure
it: both need the hub as the district office runs it, a separate process over a socket.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import requests

__all__ = ["ServedHub", "free_port", "write_settings"]


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServedHub:
    """The hub on 127.0.0.1, started, stopped and killed on demand."""

    data: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    #: settings written to DATA/hub.cfg at once (e.g. `STORAGE_URL`, the backend), so that
    #: every `pendamping-hub` command and the server read them; nothing is written if empty.
    settings: Mapping[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.settings:
            self.configure(**self.settings)

    def configure(self, **settings: object) -> None:
        """Append `NAME = value` lines to DATA/hub.cfg (a later line wins, as in Python)."""
        write_settings(self.data, settings)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        """Run `pendamping-hub --data DATA ARGS...`; :returns: its standard output."""
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "--data", str(self.data), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout

    def enroll_code(self, user: str, wilayah: str = "31.71.01") -> str:
        """Add a pendamping and return a fresh enrolment code for them."""
        self.cli("user", "add", user, "--role", "pendamping", "--wilayah", wilayah)
        return self.cli("enroll-code", user).split()[-1]

    def start(
        self, threads: int = 4, workers: int = 1, log: Path | None = None, jobs: bool = False
    ) -> None:
        """Serve, and return once the hub answers its health check.

        :param workers: passed as `--workers N` only when above 1, so the default command
            line is the one the hub has always had.
        :param log: where the hub's stdout and stderr go (appended); by default nowhere.
        :param jobs: run the hub's scheduled jobs (docs/jobs.md). Off by default, so that a
            test or a benchmark never meets a backup the hub catches up on at its start.
        :raises RuntimeError: the hub exited or did not answer within 30 s; the message
            ends with the last line of `log` when there is one.
        """
        command = [
            sys.executable,
            "-m",
            "server.cli",
            "--data",
            str(self.data),
            "serve",
            "--port",
            str(self.port),
            "--threads",
            str(threads),
        ]
        if workers > 1:
            command += ["--workers", str(workers)]
        # The child keeps its own handle; ours is closed once it has started.
        output = open(log, "ab") if log is not None else None  # noqa: SIM115
        try:
            self.process = subprocess.Popen(
                command,
                stdout=output or subprocess.DEVNULL,
                stderr=output or subprocess.DEVNULL,
                env={**os.environ, "PENDAMPING_HUB_JOBS_ENABLED": "true" if jobs else "false"},
            )
        finally:
            if output is not None:
                output.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                code = self.process.returncode
                self.process = None
                raise RuntimeError(f"the hub did not start (exit code {code}){_last_line(log)}")
            try:
                requests.get(self.url + "/api/v1/health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        self.kill()
        raise RuntimeError(f"the hub did not start{_last_line(log)}")

    def kill(self) -> None:
        """End the hub at once, as a power cut or a crash would (no clean shutdown)."""
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def stop(self) -> None:
        """End the hub politely."""
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def write_settings(data: Path, settings: Mapping[str, object]) -> None:
    """Append `NAME = value` lines to DATA/hub.cfg, where every `pendamping-hub` command
    and the server read them; values are written with repr (text, numbers, lists)."""
    data.mkdir(parents=True, exist_ok=True)
    lines = "".join(f"{name} = {value!r}\n" for name, value in settings.items())
    with (data / "hub.cfg").open("a", encoding="utf-8") as cfg:
        cfg.write(lines)


def _last_line(log: Path | None) -> str:
    """': <the last non-empty line of log>', or '' when there is none."""
    if log is None or not log.exists():
        return ""
    lines = [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
    return f": {lines[-1].strip()}" if lines else ""
