"""Helpers shared by the benchmarks: a served hub in its own process, laptops, the floor.

Benchmarks report figures; they assert nothing. Every figure is printed beside the floor
(DESIGN.md §7): stdlib sqlite3 inserting the same rows in one transaction, measured in the
same run, because absolute times on this 2-core machine are noisy.
"""

from __future__ import annotations

import functools
import json
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from client_sync import FieldDevice
from client_sync.engine import SyncResult
from client_sync.hub import HubClient
from client_sync.transport import HttpTransport
from schemas import ids
from tests.support.served_hub import ServedHub

try:
    import psutil
except ImportError:  # optional: /proc serves on Linux
    psutil = None

__all__ = [
    "ServedHub",
    "connections_made_by",
    "cpu_seconds",
    "descendants",
    "design_floor",
    "floor_seconds",
    "one_laptop",
    "peak_rss_mib",
    "rss_mib",
    "timed",
    "tree_cpu_seconds",
    "two_laptops",
    "visit_fields",
]


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


def design_floor(workdir: Path) -> float:
    """DESIGN.md §7's floor: stdlib sqlite3 inserting 10,000 visit rows in one transaction."""
    rows = [(new_id(), as_json(visit_fields(new_id(), n))) for n in range(10_000)]
    return floor_seconds(rows, workdir)


@contextmanager
def one_laptop(
    workdir: Path, *others: str
) -> Iterator[tuple[ServedHub, FieldDevice, str, dict[str, str]]]:
    """A served hub, siti's laptop enrolled over HTTP with one beneficiary (not yet pushed),
    and enrolment codes for the `others`; the hub stops on exit."""
    hub = ServedHub(workdir / "hub")
    hub.cli("init")
    code = hub.enroll_code("siti")
    codes = {name: hub.enroll_code(name) for name in others}
    hub.start()
    try:
        laptop = FieldDevice.enroll(workdir / "laptop", hub.url, code, "laptop")
        bid = laptop.store.add(
            "beneficiary", {"name": "Ibu Sri", "sex": "P", "kelurahan": "31.71.01.1001"}
        )
        yield hub, laptop, bid, codes
    finally:
        hub.stop()


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


def descendants(pid: int) -> list[int]:
    """The ids of the processes below `pid` (children, theirs, ...), from psutil when it is
    installed, else from /proc (Linux); empty elsewhere."""
    if psutil is not None:
        try:
            return [child.pid for child in psutil.Process(pid).children(recursive=True)]
        except psutil.Error:
            return []
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not Linux's layout
        parents.setdefault(ppid, []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        found += children
        todo += children
    return found


def tree_cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of `pid` and every live process below it (e.g. a multi-worker
    server's workers); None where neither psutil nor /proc can tell. A worker that has
    already exited and been reaped counts only through its parent's children's times."""
    if psutil is not None:
        try:
            root = psutil.Process(pid)
            total = 0.0
            for proc in [root, *root.children(recursive=True)]:
                times = proc.cpu_times()
                total += times.user + times.system
            return total
        except psutil.Error:
            return None
    own = _proc_cpu(pid, with_reaped_children=True)
    if own is None:
        return None
    return own + sum(_proc_cpu(child) or 0.0 for child in descendants(pid))


def _proc_cpu(pid: int, with_reaped_children: bool = False) -> float | None:
    """utime + stime (+ cutime + cstime) of `pid` from /proc/PID/stat, in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])
    if with_reaped_children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mib() -> float:
    """This process's resident memory now, in MiB (psutil, else /proc; NaN elsewhere)."""
    if psutil is not None:
        return psutil.Process().memory_info().rss / 2**20
    return _proc_status_kib("VmRSS:") / 1024


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB: /proc's VmHWM (Linux), else
    psutil's peak working set (Windows), else `ru_maxrss`; NaN when none can tell.

    VmHWM first: on Linux `ru_maxrss` survives `exec`, so a child started by a large parent
    (subprocess forks or vforks, then execs) reports the parent's peak, not its own.
    """
    hwm = _proc_status_kib("VmHWM:")
    if hwm == hwm:  # not NaN
        return hwm / 1024
    if psutil is not None and hasattr(psutil.Process().memory_info(), "peak_wset"):
        return psutil.Process().memory_info().peak_wset / 2**20
    try:
        import resource
    except ImportError:
        return float("nan")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024  # bytes on macOS


def _proc_status_kib(key: str) -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


@contextmanager
def two_laptops(
    workdir: Path, passphrase: str | None = None
) -> Iterator[tuple[ServedHub, FieldDevice, FieldDevice, str]]:
    """A served hub, two pendamping laptops in one wilayah enrolled over HTTP, and the id of
    one beneficiary on the first; the hub stops on exit.

    :param passphrase: the second laptop's store's (the one that pulls): ``None`` takes
        `PENDAMPING_PASSPHRASE`, as before; ``""`` a plain store.
    """
    hub = ServedHub(workdir / "hub")
    hub.cli("init")
    code_a, code_b = hub.enroll_code("siti"), hub.enroll_code("budi")
    hub.start()
    try:
        laptop_a = FieldDevice.enroll(workdir / "laptop-a", hub.url, code_a, "laptop-a")
        laptop_b = FieldDevice.enroll(
            workdir / "laptop-b", hub.url, code_b, "laptop-b", passphrase=passphrase
        )
        bid = laptop_a.store.add(
            "beneficiary", {"name": "Ibu Sri", "sex": "P", "kelurahan": "31.71.01.1001"}
        )
        yield hub, laptop_a, laptop_b, bid
    finally:
        hub.stop()


def timed(
    device: FieldDevice, step: Callable[..., None], served: ServedHub
) -> tuple[float, SyncResult, float]:
    """Wall time of one sync step (push_outbox or pull_all) over a fresh keep-alive
    connection, its result, and the hub process's CPU time during it."""
    identity = device.store.identity
    transport = HttpTransport(identity.hub_url)
    hub = HubClient(transport, identity.token)
    hub.health()  # open the connection outside the timed part
    result = SyncResult()
    cpu_before = cpu_seconds(served.process.pid) or 0.0
    start = time.perf_counter()
    step(device.store, hub, result)
    elapsed = time.perf_counter() - start
    hub_cpu = (cpu_seconds(served.process.pid) or 0.0) - cpu_before
    transport.close()
    return elapsed, result, hub_cpu


def new_id() -> str:
    """An id as a laptop or the hub mints one (:func:`schemas.ids.new_id`)."""
    return ids.new_id()


def as_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def hub_counts(conn: Any) -> tuple[dict[str, list[str]], dict[tuple[str, str], int]]:
    """Each device's change ids in a hub's change log, and its records per (kelurahan,
    entity), through an open connection of either backend (sqlite3 or psycopg): how the
    fleet benchmark tells lost and doubled records."""
    by_device: dict[str, list[str]] = {}
    for device_id, change_id in conn.execute("SELECT device_id, change_id FROM changes"):
        by_device.setdefault(device_id, []).append(change_id)
    records = {
        (kel, entity): count
        for kel, entity, count in conn.execute(
            "SELECT kelurahan, entity, COUNT(*) FROM records GROUP BY kelurahan, entity"
        )
    }
    return by_device, records


@contextmanager
def connections_made_by(factory: type[sqlite3.Connection]) -> Iterator[None]:
    """Every stdlib sqlite3 connection opened meanwhile is a `factory` (a probe timing its
    statements); the hub's storage opens its connections through ``sqlite3.connect``."""
    connect = sqlite3.connect
    sqlite3.connect = functools.partial(connect, factory=factory)  # type: ignore[assignment]
    try:
        yield
    finally:
        sqlite3.connect = connect
