"""Enrolment from the app against a served hub (`pendamping-hub serve`, its own process),
and the Sinkron button: a round in the background, one at a time, its progress as JSON, and
its outcome in the same words as `pendamping sync` (a hub down: nothing else changes)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from client_sync.app.syncing import SyncRunner
from client_sync.cli import main
from client_sync.errors import HubUnreachable
from tests.client_sync.app.conftest import BASE, PASSPHRASE, Field, make_field
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub


@pytest.fixture
def quick_hub_env(monkeypatch):
    """The CLI's transport settings, as the app reads them too: no retries, short waits."""
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2")
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)


def _enrol(field: Field, hub: ServedHub, code: str, **over) -> object:
    data = {"hub_url": hub.url, "code": code, "passphrase": PASSPHRASE, "again": PASSPHRASE}
    return field.post("/daftar", {**data, **over})


def _round_lines(field: Field) -> list[str]:
    state = field.app.extensions["pendamping_app"]
    state.sync.join(timeout=30)
    return state.sync.snapshot().lines


def test_enrolling_from_the_app_against_a_served_hub(
    hub_process: ServedHub, tmp_path: Path, quick_hub_env
):
    hub_process.start()
    code = hub_process.enroll_code("sari")
    field = make_field(tmp_path / "laptop")
    short = _enrol(field, hub_process, code, passphrase="pendek", again="pendek")
    assert short.status_code == 400
    assert "Terlalu pendek: kata sandi minimal 8 karakter." in short.get_data(as_text=True)
    differ = _enrol(field, hub_process, code, again="lain-lagi-sama")
    assert "Kedua kata sandi tidak sama." in differ.get_data(as_text=True)
    wrong = _enrol(field, hub_process, "SALAH-KODE-0000")
    assert wrong.status_code == 400 and "Pendaftaran gagal:" in wrong.get_data(as_text=True)
    assert not (tmp_path / "laptop" / "store.sqlite3").exists()  # a failed try leaves nothing

    done = _enrol(field, hub_process, code)
    assert done.status_code == 303 and done.headers["Location"] == "/"
    assert "sari · wilayah 31.71.01" in field.get("/").get_data(as_text=True)
    field.post("/kunci", page="/")  # the new store is encrypted with the passphrase typed
    assert "Kata sandi penyimpanan salah." in field.unlock("bukan-ini-123").get_data(as_text=True)
    assert field.unlock().status_code == 303


def test_with_the_hub_down_sync_fails_in_the_clis_words_and_nothing_else_changes(
    hub_process: ServedHub, tmp_path: Path, quick_hub_env, capsys, monkeypatch
):
    hub_process.start()
    code = hub_process.enroll_code("sari")
    field = make_field(tmp_path / "laptop")
    _enrol(field, hub_process, code)
    field.app.extensions["pendamping_app"].store_thread.run(
        lambda: field.app.extensions["pendamping_app"].keeper.device.store.add(
            "beneficiary", beneficiary()
        )
    )
    hub_process.stop()
    pressed = field.post("/sinkron", page="/")
    assert pressed.headers["Location"] == "/sinkron"
    lines = _round_lines(field)
    page = field.get("/sinkron").get_data(as_text=True)
    assert lines and lines[0].startswith("Sinkron gagal: Hub tidak dapat dihubungi")
    assert "1 perubahan menunggu." in lines[0]
    assert all(line in page for line in lines)
    assert "Menunggu dikirim: 1 perubahan" in page

    field.post("/kunci", page="/")  # the CLI now, on the same home and the same dead hub
    capsys.readouterr()
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)
    code_cli = main(["--home", str(tmp_path / "laptop"), "sync"])
    said = capsys.readouterr().err.strip().splitlines()
    assert code_cli == 3
    assert said == lines


def test_a_finished_round_says_what_the_cli_says(field: Field):
    field.unlock()
    state = field.app.extensions["pendamping_app"]
    state.store_thread.run(lambda: state.keeper.device.store.add("beneficiary", beneficiary()))
    field.post("/sinkron", page="/")
    assert _round_lines(field) == ["Sinkron selesai: 1 terkirim, 0 diterima, 0 konflik, 0 ditolak"]
    page = field.get("/sinkron").get_data(as_text=True)
    assert "Sinkron selesai: 1 terkirim" in page and "Menunggu dikirim: 0 perubahan" in page
    progress = field.get("/sinkron/kemajuan.json").get_json()
    assert progress["running"] is False and progress["ok"] is True and progress["number"] == 1


def test_one_round_at_a_time_and_its_progress_is_readable_while_it_runs():
    runner = SyncRunner()
    release, reported = threading.Event(), threading.Event()

    class SlowDevice:
        store = None

        def sync(self, progress):
            progress("foto", 512 * 1024, 2 * 1024 * 1024)
            reported.set()
            release.wait(10)
            raise HubUnreachable("Hub tidak dapat dihubungi (uji)")

        def close(self):
            pass

    assert runner.start(SlowDevice) is True
    assert reported.wait(5)
    assert runner.start(SlowDevice) is False  # a second press only shows the first
    now = runner.snapshot()
    assert now.running and now.phase == "foto" and now.percent == 25
    assert now.text == "Mengirim foto 0,5/2,0 MB…"
    release.set()
    runner.join(5)
    after = runner.snapshot()
    assert after.running is False and after.ok is False and after.number == 1
    assert after.lines[0].startswith("Sinkron gagal: Hub tidak dapat dihubungi (uji).")


def test_a_busy_hub_is_worded_as_postponed_like_the_cli():
    from client_sync.cli.failures import sync_failure
    from client_sync.errors import HubBusy

    runner = SyncRunner()
    busy = HubBusy(None, waited_s=600)

    class BusyDevice:
        class store:
            @staticmethod
            def pending_count() -> int:
                return 3

        def sync(self, progress):
            raise busy

        def close(self):
            pass

    runner.start(BusyDevice)
    runner.join(5)
    assert runner.snapshot().lines == sync_failure(busy, 3).lines
    assert runner.snapshot().lines[0].startswith("Sinkron tertunda:")


def test_the_progress_endpoint_answers_beside_a_page(field: Field):
    field.unlock()
    answer = field.client.get("/sinkron/kemajuan.json", base_url=BASE)
    assert answer.get_json()["number"] == 0 and answer.headers["Cache-Control"] == "no-store"
