"""Helpers shared by the benchmarks: a served hub in its own process, laptops, the floor.

Benchmarks report figures; they assert nothing. Every figure is printed beside the floor
(DESIGN.md §7): stdlib sqlite3 inserting the same rows in one transaction, measured in the
same run, because absolute times on this 2-core machine are noisy.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

__all__ = ["ServedHub", "cpu_seconds", "floor_seconds", "visit_fields"]


def visit_fields(beneficiary_id: str, n: int) -> dict:
    """A visit of about 760 bytes of JSON, like the peers' benchmark records."""
    return {
        "beneficiary_id": beneficiary_id,
        "visited_at": f"2026-11-{1 + n % 28:02d}T{8 + n % 9:02d}:30:00+07:00",
        "purpose": ("verifikasi", "monitoring", "asesmen", "penyaluran")[n % 4],
        "findings": (
            f"Kunjungan ke-{n}. Penerima manfaat tinggal bersama anaknya, kondisi rumah layak, "
            "akses jalan sempit dan berbatu sehingga sulit dilalui kursi roda. Kesehatan "
            "umum baik, tekanan darah terkontrol, rutin kontrol ke puskesmas setiap bulan."
        ),
        "assessment": {
            "adl_barthel": 12 + n % 8,
            "mobilitas": "perlu alat bantu",
            "risiko_jatuh": "sedang",
            "dukungan_keluarga": "ada",
        },
        "follow_up": "Ajukan kursi roda adaptif; kunjungi lagi bulan depan untuk verifikasi.",
        "lat": -6.2 + (n % 100) / 10000,
        "lon": 106.8 + (n % 100) / 10000,
    }


def floor_seconds(rows: list[tuple[str, str]], workdir: Path) -> float:
    """Best of three: stdlib sqlite3 inserting `rows` (id, JSON) in one transaction."""
    best = float("inf")
    for attempt in range(3):
        path = workdir / f"floor-{attempt}.sqlite3"
        conn = sqlite3.connect(path)
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("CREATE TABLE visit (id TEXT PRIMARY KEY, data TEXT NOT NULL)")
        start = time.perf_counter()
        with conn:
            conn.executemany("INSERT INTO visit (id, data) VALUES (?, ?)", rows)
        best = min(best, time.perf_counter() - start)
        conn.close()
    return best


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc (Linux); None elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class ServedHub:
    """`pendamping-hub serve` on loopback, in its own process, on a fresh data folder."""

    data: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cli(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "server.cli", "--data", str(self.data), *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        )
        return done.stdout

    def enroll_code(self, user: str, wilayah: str = "31.71.01") -> str:
        self.cli("user", "add", user, "--role", "pendamping", "--wilayah", wilayah)
        return self.cli("enroll-code", user).split()[-1]

    def start(self, threads: int = 4) -> None:
        self.process = subprocess.Popen(
            [
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
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/api/v1/health", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.1)
        raise RuntimeError("the hub did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


def new_id() -> str:
    return str(uuid.uuid4())


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))
