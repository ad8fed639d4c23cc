"""Over real sockets, each fault is told as what it is: busy, down, or broken.

A busy hub is the real one: `pendamping-hub serve` with a rate limit small enough that a round
hears 429 and waits it out, its progress line saying so. For a hub that stays busy, or that
fails with a 500, the real hub app sits behind a small WSGI front that answers pushes the way
the hub does in those states (its own JSON body and `Retry-After`), served by waitress on a
loopback socket; everything else reaches the hub itself. A revoked laptop has its own test
(test_revocation_without_loss.py).
"""

from __future__ import annotations

import io
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

import pytest
import waitress
from flask import Flask
from waitress import wasyncore

from client_sync import FieldDevice
from client_sync.cli.app import main
from client_sync.cli.failures import EXIT_HUB
from client_sync.daemon import SyncDaemon
from client_sync.errors import HubBusy
from client_sync.progress import TerminalProgress
from client_sync.schedule import Outcome
from client_sync.transport import HttpTransport, default_retry
from schemas.protocol import PUSH_PATH
from tests.conftest import beneficiary

pytestmark = pytest.mark.e2e

HUB_BUSY = (503, "hub_busy", "Hub sedang sibuk menyimpan kiriman lain; data Anda aman.")
SERVER_ERROR = (500, "server_error", "Terjadi kesalahan di hub. Data Anda aman; coba lagi nanti.")


class Front:
    """The hub app, except that pushes get `answer` (status, slug, message) while it is set."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.answer: tuple[int, str, str] | None = None
        self.retry_after = "1"
        self.turned_away = 0

    def __call__(self, environ: dict[str, Any], start_response: Callable) -> Any:
        if self.answer is None or environ.get("PATH_INFO") != PUSH_PATH:
            return self.app(environ, start_response)
        self.turned_away += 1
        status, slug, message = self.answer
        body = json.dumps({"code": status, "error": slug, "message": message}).encode()
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        if status == 503:
            headers.append(("Retry-After", self.retry_after))
        start_response(f"{status} {HTTPStatus(status).phrase}", headers)
        return [body]


@dataclass
class Served:
    front: Front
    url: str


@pytest.fixture
def served_front(hub_app: Flask) -> Iterator[Served]:
    """The front over the in-process hub app, served by waitress as `live_hub` is."""
    front = Front(hub_app)
    server = waitress.create_server(front, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield Served(front, f"http://127.0.0.1:{server.effective_port}")
    server.task_dispatcher.shutdown()
    server.trigger.pull_trigger(lambda: wasyncore.close_all(server._map))
    thread.join(timeout=5)


@pytest.fixture(autouse=True)
def quick_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2,10")
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def enrolled_home(url: str, code: str, home: Path, capsys) -> Path:
    """A home enrolled through `pendamping enroll`, with one beneficiary waiting."""
    assert run(capsys, "--home", home, "enroll", url, code, "--no-passphrase")[0] == 0
    args = ["--name", "Ibu Sri", "--sex", "P", "--kelurahan", "31.71.01.1001"]
    assert run(capsys, "--home", home, "beneficiary", "add", *args)[0] == 0
    return home


class Tty(io.StringIO):
    """A terminal, as far as the progress line can tell."""

    def isatty(self) -> bool:
        return True


# -- busy -----------------------------------------------------------------------------------


def test_a_rate_limited_served_hub_is_waited_out_and_the_progress_line_says_busy(
    hub_process, tmp_path
):
    (hub_process.data / "hub.cfg").write_text(
        "RATE_LIMIT_BURST = 2\nRATE_LIMIT_PER_S = 1.0\n", encoding="utf-8"
    )
    code = hub_process.enroll_code("siti")
    hub_process.start()
    device = FieldDevice.enroll(
        tmp_path / "siti", hub_process.url, code, "laptop-siti", passphrase=""
    )
    with device:
        for n in range(5):
            device.store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=None))
        screen = Tty()

        result = device.sync(progress=TerminalProgress(screen, min_interval_s=0), batch_bytes=1)
        pending = device.store.pending_count()

    assert (result.pushed, pending) == (5, 0)
    assert "Hub sibuk; menunggu 1 detik lagi, data Anda aman di laptop." in screen.getvalue()


def test_sync_past_its_wait_says_the_hub_stayed_busy_and_status_remembers_it(
    served_front, add_user, tmp_path, capsys
):
    home = enrolled_home(served_front.url, add_user("siti"), tmp_path / "siti", capsys)
    served_front.front.answer = HUB_BUSY

    started = time.monotonic()
    code, _, err = run(capsys, "--home", home, "sync", "--wait", "0.05")  # 3 s
    took = time.monotonic() - started

    assert code == EXIT_HUB
    assert re.fullmatch(
        r"Sinkron tertunda: Hub tetap sibuk selama [23] detik; data Anda aman di laptop\. "
        r"1 perubahan menunggu; coba lagi nanti\.",
        err.strip(),
    ), err
    assert served_front.front.turned_away >= 2  # it waited and tried again, within 3 s
    assert took < 10
    _, out, _ = run(capsys, "--home", home, "status")
    assert re.search(r"\(gagal: Hub tetap sibuk selama [23] detik; data Anda aman", out), out
    assert "Menunggu dikirim: 1 perubahan" in out

    served_front.front.answer = None  # the hub has time again: the same change goes in
    code, out, _ = run(capsys, "--home", home, "sync")
    assert code == 0 and out.startswith("Sinkron selesai: 1 terkirim"), out


def test_a_wait_longer_than_allowed_is_not_started_and_says_what_the_hub_asked(
    served_front, add_user, tmp_path, capsys
):
    home = enrolled_home(served_front.url, add_user("siti"), tmp_path / "siti", capsys)
    served_front.front.answer, served_front.front.retry_after = HUB_BUSY, "120"

    started = time.monotonic()
    code, _, err = run(capsys, "--home", home, "sync", "--wait", "1")

    assert time.monotonic() - started < 5
    assert code == EXIT_HUB
    assert err.strip() == (
        "Sinkron tertunda: Hub sibuk dan meminta menunggu 2 menit; data Anda aman di laptop. "
        "1 perubahan menunggu; coba lagi nanti."
    )


# -- broken and down --------------------------------------------------------------------------


def test_a_hub_failing_with_500_is_said_to_have_a_problem_with_its_status(
    served_front, add_user, tmp_path, capsys
):
    home = enrolled_home(served_front.url, add_user("siti"), tmp_path / "siti", capsys)
    served_front.front.answer = SERVER_ERROR

    code, _, err = run(capsys, "--home", home, "sync")

    assert code == EXIT_HUB
    assert err.strip() == (
        "Sinkron gagal: Hub sedang bermasalah (HTTP 500). Semua data tetap tersimpan di "
        "laptop; 1 perubahan menunggu."
    )
    assert served_front.front.turned_away == 1  # a fault is not waited on as if busy
    _, out, _ = run(capsys, "--home", home, "status")
    assert "(gagal: Hub sedang bermasalah (HTTP 500).)" in out


def test_a_hub_that_is_down_is_said_to_be_unreachable(hub_process, tmp_path, capsys):
    hub_process.start()
    home = enrolled_home(hub_process.url, hub_process.enroll_code("siti"), tmp_path / "s", capsys)
    hub_process.kill()

    code, _, err = run(capsys, "--home", home, "sync")

    assert code == EXIT_HUB
    assert err.strip() == (
        "Sinkron gagal: Hub tidak dapat dihubungi (sambungan ditolak atau tidak ada jaringan). "
        "Semua data tetap tersimpan di laptop; 1 perubahan menunggu."
    )


# -- the daemon -------------------------------------------------------------------------------


def daemon_over(url: str, home: Path, wait_s: float, lines: list[str]) -> SyncDaemon:
    def factory(hub_url: str) -> HttpTransport:
        return HttpTransport(hub_url, timeout=(2, 10), retry=default_retry(0, wait_s))

    return SyncDaemon(
        lambda: FieldDevice.open(home, transport_factory=factory, passphrase=""),
        every_s=900,
        settle_s=20,
        tick_s=0.05,
        log=lines.append,
    )


def test_a_daemon_round_past_its_wait_is_postponed_in_its_line(
    served_front, add_user, tmp_path, capsys
):
    home = enrolled_home(served_front.url, add_user("siti"), tmp_path / "siti", capsys)
    served_front.front.answer = HUB_BUSY
    lines: list[str] = []

    report = daemon_over(served_front.url, home, 2.0, lines).run_round()

    assert report.outcome is Outcome.BUSY
    assert re.fullmatch(
        r"Sinkron tertunda: Hub tetap sibuk selama [12] detik; data Anda aman di laptop\. "
        r"1 perubahan menunggu di laptop\.",
        report.message,
    ), report.message
    assert lines[0].endswith(report.message)


def test_a_daemon_stopped_while_it_waits_on_a_busy_hub_stops_at_once(
    served_front, add_user, tmp_path, capsys
):
    home = enrolled_home(served_front.url, add_user("siti"), tmp_path / "siti", capsys)
    served_front.front.answer, served_front.front.retry_after = HUB_BUSY, "30"
    lines: list[str] = []
    daemon = daemon_over(served_front.url, home, 600.0, lines)
    runner = threading.Thread(target=daemon.run)
    runner.start()
    deadline = time.monotonic() + 20
    while served_front.front.turned_away == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # well inside the 30 s wait

    stopped = time.monotonic()
    daemon.stop()
    runner.join(10)

    assert not runner.is_alive()
    assert time.monotonic() - stopped < 3
    assert [r.outcome for r in daemon.reports] == [Outcome.CANCELLED]
    assert "semua data tetap tersimpan di laptop" in lines[-1]


def test_a_busy_error_carries_the_wait_the_hub_asked_for(served_front, add_user, tmp_path):
    served_front.front.answer, served_front.front.retry_after = HUB_BUSY, "45"
    device = FieldDevice.enroll(
        tmp_path / "siti",
        served_front.url,
        add_user("siti"),
        "laptop-siti",
        transport_factory=lambda url: HttpTransport(url, retry=default_retry(0, 10)),
        passphrase="",
    )
    with device:
        device.store.add("beneficiary", beneficiary())
        with pytest.raises(HubBusy) as busy:
            device.sync()
    assert busy.value.retry_after == 45  # the daemon's next round is no sooner
