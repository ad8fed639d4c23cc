"""The background sync daemon: real APScheduler with sub-second timings, a laptop and the hub
in-process. Every test runs in well under a second or two of wall time."""

from __future__ import annotations

import _thread
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask import Flask

from client_sync import FieldDevice
from client_sync.daemon import RoundReport, SyncDaemon
from client_sync.daemon_lines import duration
from client_sync.errors import HubUnreachable
from client_sync.schedule import Outcome
from server.storage import HubStorage
from tests.conftest import beneficiary
from tests.support.transports import FlakyTransport, WsgiTransport


class Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


class Link:
    """The laptop's link to the in-process hub: up or down, optionally slow, and counting
    how many requests are in flight at once."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.down = False
        self.delay_s = 0.0
        self.error: Callable[[], Exception] | None = None
        self.on_send: Callable[[str, str], None] | None = None
        self.sent: list[tuple[str, str]] = []
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()

    def _fail(self, _n: int, _method: str, _path: str) -> str | None:
        return "request" if self.down else None

    def factory(self, _url: str) -> Link._Transport:
        return Link._Transport(self, FlakyTransport(WsgiTransport(self.app), self._fail))

    class _Transport:
        def __init__(self, link: Link, inner: FlakyTransport) -> None:
            self.link, self.inner = link, inner

        def send(self, method: str, path: str, **kwargs):
            link = self.link
            with link._lock:
                link.active += 1
                link.most_active = max(link.most_active, link.active)
            try:
                if link.delay_s:
                    time.sleep(link.delay_s)
                if link.error is not None:
                    raise link.error()
                response = self.inner.send(method, path, **kwargs)
                link.sent.append((method, path))
                if link.on_send is not None:
                    link.on_send(method, path)
                return response
            finally:
                with link._lock:
                    link.active -= 1

        def close(self) -> None:
            self.inner.close()


class Laptop:
    """An enrolled home, its link, and the opener the daemon gets."""

    def __init__(self, home: Path, link: Link) -> None:
        self.home = home
        self.link = link
        self.opened: list[FieldDevice] = []

    def open(self) -> FieldDevice:
        dev = FieldDevice.open(self.home, transport_factory=self.link.factory)
        self.opened.append(dev)
        return dev

    def record(self, n: int = 1) -> None:
        """What `pendamping beneficiary add` does, from its own connection."""
        with FieldDevice.open(self.home) as dev:
            for _ in range(n):
                serial = len(dev.store.list("beneficiary")) + 1
                dev.store.add("beneficiary", beneficiary(nik=f"317101450845{serial:04d}"))

    def pending(self) -> int:
        with FieldDevice.open(self.home) as dev:
            return dev.store.pending_count()


@pytest.fixture
def laptop(laptops, hub_app: Flask) -> Laptop:
    link = Link(hub_app)
    dev = laptops.enroll("siti", transport_factory=link.factory)
    dev.close()
    return Laptop(dev.home, link)


@pytest.fixture
def lines() -> list[str]:
    return []


@pytest.fixture
def make_daemon(laptop: Laptop, lines: list[str]) -> Callable[..., SyncDaemon]:
    def make(**options) -> SyncDaemon:
        timing = {"every_s": 60.0, "settle_s": 0.1, "base_s": 0.02, "watch_s": 0.02}
        timing.update(options)
        return SyncDaemon(laptop.open, tick_s=0.01, log=lines.append, **timing)

    return make


@pytest.fixture
def running() -> Iterator[Callable[[SyncDaemon], threading.Thread]]:
    """Start a daemon's loop in a thread; stopped and joined after the test."""
    started: list[tuple[SyncDaemon, threading.Thread]] = []

    def start(daemon: SyncDaemon) -> threading.Thread:
        result: dict[str, object] = {}
        thread = threading.Thread(target=lambda: result.setdefault("outcome", daemon.run()))
        thread.result = result  # type: ignore[attr-defined]
        thread.start()
        started.append((daemon, thread))
        return thread

    yield start
    for daemon, thread in started:
        daemon.stop()
        thread.join(5)
        assert not thread.is_alive()


def wait_for(condition: Callable[[], bool], timeout: float = 3.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.005)


def rounds(daemon: SyncDaemon) -> list[RoundReport]:
    return list(daemon.reports)


# -- one round ---------------------------------------------------------------------------------


def test_a_round_pushes_queued_work_and_logs_one_line(laptop, make_daemon, lines):
    laptop.record(2)
    report = make_daemon().run_round()
    assert report.outcome is Outcome.OK
    assert report.result is not None and report.result.pushed == 2
    assert laptop.pending() == 0
    assert len(lines) == 1
    assert "Sinkron selesai: 2 terkirim, " in lines[0]
    assert report.next_at is None  # no scheduler: nothing planned, nothing said about it


def test_the_daemon_holds_no_store_between_rounds(laptop, make_daemon):
    make_daemon().run_round()
    with pytest.raises(sqlite3.ProgrammingError):  # closed
        laptop.opened[-1].store.pending_count()


def test_a_round_line_starts_with_the_injected_time(laptop, lines):
    at = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)
    SyncDaemon(laptop.open, clock=lambda: at, log=lines.append).run_round()
    assert lines[0].startswith(f"[{at.astimezone():%Y-%m-%d %H:%M:%S}] Sinkron selesai")


# -- under the scheduler -----------------------------------------------------------------------


def test_while_the_hub_is_unreachable_the_waits_grow_and_nothing_is_lost(
    laptop, make_daemon, running, lines
):
    laptop.record(2)
    laptop.link.down = True
    daemon = make_daemon(every_s=0.15, base_s=0.01, rng=Fixed(0.5))
    running(daemon)
    wait_for(lambda: len(daemon.reports) >= 6)
    failed = rounds(daemon)[:6]
    assert all(r.outcome is Outcome.OFFLINE for r in failed)
    # caps 0.01, 0.02, 0.04, 0.08, then every_s; a fixed draw of 0.5 waits 3/4 of each
    expected = [0.0075, 0.015, 0.03, 0.06, 0.1125, 0.1125]
    assert [r.delay_s for r in failed] == pytest.approx(expected)
    assert all("Sinkron gagal: " in line and "2 perubahan menunggu" in line for line in lines[:6])
    assert all("Coba lagi pukul " in line for line in lines[:6])
    assert laptop.pending() == 2

    laptop.link.down = False
    wait_for(lambda: rounds(daemon)[-1].outcome is Outcome.OK)
    assert laptop.pending() == 0
    assert daemon.state.failures == 0
    assert "Berikutnya pukul " in lines[-1]


def test_the_hubs_retry_after_is_a_floor_for_the_next_round(laptop, make_daemon, running):
    def busy() -> Exception:
        exc = HubUnreachable("Hub sedang bermasalah (HTTP 503).")
        exc.retry_after = 0.4  # type: ignore[attr-defined]
        return exc

    laptop.link.error = busy
    daemon = make_daemon(every_s=0.3)
    running(daemon)
    wait_for(lambda: len(daemon.reports) >= 1)
    first = rounds(daemon)[0]
    assert first.delay_s == 0.4  # not the 10-20 ms the backoff alone would pick
    time.sleep(0.2)
    assert len(daemon.reports) == 1


def test_a_local_write_after_a_good_round_brings_a_round_within_settle_time(
    laptop, make_daemon, running, lines
):
    daemon = make_daemon(every_s=60.0, settle_s=0.1)
    running(daemon)
    wait_for(lambda: len(daemon.reports) == 1)
    time.sleep(0.1)
    assert len(daemon.reports) == 1  # nothing written: nothing before the regular round

    written = time.monotonic()
    laptop.record()
    wait_for(lambda: len(daemon.reports) == 2)
    took = time.monotonic() - written
    assert 0.09 <= took < 1.0
    second = rounds(daemon)[1]
    assert second.outcome is Outcome.OK and second.result.pushed == 1
    assert any("1 perubahan baru menunggu; sinkron pukul" in line for line in lines)


def test_a_burst_of_writes_makes_one_round_not_five(laptop, make_daemon, running):
    daemon = make_daemon(every_s=60.0, settle_s=0.3)
    running(daemon)
    wait_for(lambda: len(daemon.reports) == 1)
    for _ in range(5):
        laptop.record()
        time.sleep(0.03)
    wait_for(lambda: len(daemon.reports) == 2)
    time.sleep(0.4)
    assert len(daemon.reports) == 2
    assert rounds(daemon)[1].result.pushed == 5


def test_writes_while_offline_wait_for_the_backoff(laptop, make_daemon, running):
    laptop.link.down = True
    daemon = make_daemon(every_s=60.0, base_s=0.5, rng=Fixed(0.0))  # first retry at 0.25 s
    running(daemon)
    wait_for(lambda: len(daemon.reports) == 1)
    laptop.record()
    time.sleep(0.15)  # settle (0.1) has passed, the backoff has not
    assert len(daemon.reports) == 1


def test_a_revoked_laptop_stops_the_daemon_with_a_plain_message(
    laptop, make_daemon, running, hub_storage: HubStorage, lines
):
    laptop.record()
    with sqlite3.connect(hub_storage.path) as db:
        db.execute("UPDATE devices SET revoked_at = '2026-11-23T00:00:00Z'")
    thread = running(make_daemon(every_s=0.05))
    thread.join(3)
    assert not thread.is_alive()
    assert thread.result["outcome"] is Outcome.UNAUTHORIZED  # type: ignore[attr-defined]
    assert len(lines) == 1
    assert "Laptop ini sudah dicabut oleh kantor dinas" in lines[0]
    assert "Data tetap di laptop (1 perubahan belum terkirim)" in lines[0]
    assert "bawa `pendamping export-bundle` ke kantor." in lines[0]
    assert lines[0].endswith("Sinkron latar belakang berhenti.")
    assert laptop.pending() == 1


def test_only_one_round_runs_at_a_time_even_when_a_round_is_slow(
    laptop, make_daemon, running, caplog
):
    laptop.record()
    laptop.link.delay_s = 0.15  # each request; a round is a push and a pull
    daemon = make_daemon(every_s=0.02)  # the trigger fires many times during a round
    with caplog.at_level(logging.WARNING, logger="apscheduler"):
        running(daemon)
        wait_for(lambda: len(daemon.reports) >= 2)
        daemon.stop()
    assert laptop.link.most_active == 1
    assert any("maximum number of running instances" in r.getMessage() for r in caplog.records)


def test_an_unexpected_error_is_one_line_and_the_daemon_keeps_going(laptop, lines, running):
    calls = {"n": 0}

    def flaky_open() -> FieldDevice:
        calls["n"] += 1
        if calls["n"] <= 2:
            raise RuntimeError("disk\nexploded")
        return laptop.open()

    daemon = SyncDaemon(
        flaky_open, every_s=60.0, base_s=0.02, watch_s=0.02, tick_s=0.01, log=lines.append
    )
    running(daemon)
    wait_for(lambda: any(r.outcome is Outcome.OK for r in daemon.reports))
    assert [r.outcome for r in daemon.reports][:3] == [Outcome.LOCAL, Outcome.LOCAL, Outcome.OK]
    assert "Sinkron gagal: galat tak terduga (RuntimeError: disk exploded)." in lines[0]
    assert all("\n" not in line and "Traceback" not in line for line in lines)


def test_stopping_cuts_a_round_at_the_next_batch_and_loses_nothing(laptop, make_daemon, lines):
    laptop.record(3)
    daemon = make_daemon()
    laptop.link.on_send = lambda method, path: daemon.stop() if path.endswith("push") else None
    report = daemon.run_round()
    assert report.outcome is Outcome.CANCELLED
    assert not any(path.endswith("pull") for _, path in laptop.link.sent)  # never got there
    assert laptop.pending() == 0  # the batch the hub took is confirmed, not lost
    assert "Putaran sinkron dihentikan; semua data tetap tersimpan di laptop." in lines[0]


def test_ctrl_c_returns_cleanly_with_no_outcome(laptop, make_daemon, lines):
    def log(line: str) -> None:
        lines.append(line)
        if len(lines) == 1:
            _thread.interrupt_main()  # as Ctrl-C does, on Windows too

    daemon = make_daemon()
    daemon._log = log
    assert daemon.run() is None
    assert len(lines) == 1 and "Sinkron selesai" in lines[0]


def test_bad_timings_are_refused(laptop):
    with pytest.raises(ValueError):
        SyncDaemon(laptop.open, every_s=0)
    with pytest.raises(ValueError):
        SyncDaemon(laptop.open, settle_s=-1)


def test_with_no_console_at_all_a_round_still_runs(laptop, monkeypatch):
    monkeypatch.setattr("sys.stderr", None)  # pythonw, or a task with no window
    assert SyncDaemon(laptop.open).run_round().outcome is Outcome.OK


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0.25, "dalam 0,2 detik"),
        (22.4, "dalam 22 detik"),
        (900, "dalam 15 menit"),
        (612, "dalam 10 menit 12 detik"),
        (3900, "dalam 1 jam 5 menit"),
    ],
)
def test_the_wait_is_said_plainly(seconds, said):
    assert duration(seconds) == said
