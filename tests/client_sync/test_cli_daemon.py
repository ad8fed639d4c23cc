"""`pendamping daemon`, driven through `main([...])` as a user would.

The laptop reaches the in-process hub through the Flask test client (the command's transport
factory is swapped for it), or a closed port when the hub is down: no socket to tear down.
"""

from __future__ import annotations

import _thread
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.cli import EXIT_ERROR, EXIT_HUB, EXIT_INVALID, EXIT_UNAUTHORIZED, main
from client_sync.cli import daemon as cli_daemon
from server.storage import HubStorage
from tests.conftest import beneficiary
from tests.support.served_hub import free_port
from tests.support.transports import WsgiTransport


@pytest.fixture(autouse=True)
def quick_network(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2,10")
    monkeypatch.delenv("PENDAMPING_HOME", raising=False)
    monkeypatch.delenv("PENDAMPING_SYNC_EVERY_MIN", raising=False)


@pytest.fixture
def enrolled(hub_app, add_user, tmp_path: Path, monkeypatch):
    """Enrol a laptop with `records` queued changes; `hub_down` records a closed port."""

    def make(records: int = 1, hub_down: bool = False) -> Path:
        home = tmp_path / "home-siti"
        in_process = lambda _url: WsgiTransport(hub_app)  # noqa: E731
        url = f"http://127.0.0.1:{free_port()}" if hub_down else "http://hub.test"
        with FieldDevice.enroll(home, url, add_user("siti"), "laptop-siti", in_process) as dev:
            for n in range(records):
                dev.store.add("beneficiary", beneficiary(nik=f"317101450845{n + 1:04d}"))
        if not hub_down:
            monkeypatch.setattr(cli_daemon, "transport_factory", lambda *_args: in_process)
        return home

    return make


def daemon(home: Path, *args: str) -> int:
    return main(["--home", str(home), "daemon", *args])


def test_once_runs_one_round_and_exits_0(enrolled, capsys):
    home = enrolled(records=2)
    assert daemon(home, "--once") == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "Sinkron selesai: 2 terkirim, " in err[0]
    with FieldDevice.open(home) as dev:
        assert dev.store.pending_count() == 0


def test_once_with_the_hub_down_exits_3_like_sync(enrolled, capsys):
    home = enrolled(hub_down=True)
    assert daemon(home, "--once") == EXIT_HUB
    err = capsys.readouterr().err
    assert "Sinkron gagal: Hub tidak dapat dihubungi" in err
    assert "1 perubahan menunggu di laptop." in err
    assert "Traceback" not in err


def test_once_on_a_revoked_laptop_exits_4(enrolled, hub_storage: HubStorage, capsys):
    home = enrolled()
    with sqlite3.connect(hub_storage.path) as db:
        db.execute("UPDATE devices SET revoked_at = '2026-11-23T00:00:00Z'")
    assert daemon(home, "--once") == EXIT_UNAUTHORIZED
    err = capsys.readouterr().err
    assert "Laptop ini sudah dicabut oleh kantor dinas" in err
    assert "Data tetap di laptop (1 perubahan belum terkirim)" in err


def test_once_in_a_home_never_enrolled_exits_1(tmp_path, capsys):
    assert daemon(tmp_path / "nowhere", "--once") == EXIT_ERROR
    assert "pendamping enroll" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--every", "0.5"], None, "--every"),
        ([], "sering", "PENDAMPING_SYNC_EVERY_MIN"),
        (["--settle", "-1"], None, "--settle"),
    ],
)
def test_bad_timings_are_usage_errors(tmp_path, monkeypatch, capsys, args, env, named):
    if env is not None:
        monkeypatch.setenv("PENDAMPING_SYNC_EVERY_MIN", env)
    assert daemon(tmp_path, *args, "--once") == EXIT_INVALID
    assert named in capsys.readouterr().err


def test_the_interval_comes_from_the_environment(tmp_path, monkeypatch):
    seen = {}

    class Recorder(cli_daemon.SyncDaemon):
        def run_round(self):
            seen["every_s"], seen["settle_s"] = self.every_s, self.settle_s
            return super().run_round()

    monkeypatch.setattr(cli_daemon, "SyncDaemon", Recorder)
    monkeypatch.setenv("PENDAMPING_SYNC_EVERY_MIN", "5")
    daemon(tmp_path / "nowhere", "--once", "--settle", "45")
    assert seen == {"every_s": 300.0, "settle_s": 45.0}


def test_ctrl_c_stops_the_daemon_with_exit_0(enrolled, capsys):
    home = enrolled()

    def press_ctrl_c_after_the_first_round() -> None:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            with FieldDevice.open(home) as dev:
                if dev.store.status()["last_sync_outcome"] == "ok":
                    _thread.interrupt_main()
                    return
            time.sleep(0.02)

    presser = threading.Thread(target=press_ctrl_c_after_the_first_round)
    presser.start()
    code = daemon(home)
    presser.join()
    err = capsys.readouterr().err
    assert code == 0, err
    assert "Sinkron latar belakang untuk " in err
    assert "Sinkron selesai: 1 terkirim" in err
    assert err.strip().endswith("Sinkron latar belakang berhenti.")
    assert "Traceback" not in err


def test_a_second_daemon_on_the_same_laptop_says_so_and_exits_1(enrolled, capsys):
    from client_sync.instance_lock import only_instance

    home = enrolled(records=1)
    with only_instance(home):  # the first daemon
        code = daemon(home)
    err = capsys.readouterr().err
    assert code == 1
    assert "Sinkron latar belakang lain sudah berjalan" in err
    assert "Traceback" not in err
