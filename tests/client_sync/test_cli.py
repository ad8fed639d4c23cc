"""`pendamping`, the laptop command line, driven through `main([...])` as a user would.

Two kinds of laptop: one enrolled over a real socket against `live_hub`, and an "offline" one
whose recorded hub is a closed port, so every command it runs proves it needs no network.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.cli import EXIT_HUB, EXIT_INVALID, EXIT_UNAUTHORIZED, main
from server.storage import HubStorage
from tests.conftest import KELURAHAN, OTHER_KELURAHAN
from tests.support.served_hub import free_port
from tests.support.transports import WsgiTransport

UUID_AT_END = re.compile(r"([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
SRI = [
    "--name", "Ibu Sri Wahyuni", "--sex", "P", "--kelurahan", KELURAHAN,
    "--nik", "3171014508450001", "--birth-date", "1945-08-05",
    "--category", "lansia", "--category", "disabilitas", "--disability", "fisik",
    "--program", "KLJ",
]  # fmt: skip


@dataclass
class Run:
    code: int
    out: str
    err: str

    @property
    def json(self):
        return json.loads(self.out)

    @property
    def new_id(self) -> str:
        """The id printed as the last token of the last line."""
        match = UUID_AT_END.search(self.out.strip())
        assert match, self.out
        return match.group(1)


@pytest.fixture(autouse=True)
def quick_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """No retries and short timeouts, so a dead hub fails in well under a second."""
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2,10")
    monkeypatch.delenv("PENDAMPING_HOME", raising=False)


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*args: str | Path) -> Run:
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def enroll(live_hub: str, add_user, tmp_path: Path, run) -> Callable[..., Path]:
    """Enrol a laptop for a new user against the served hub; returns its home."""

    def make(user: str, wilayah: tuple[str, ...] = ("31.71.01",)) -> Path:
        home = tmp_path / f"home-{user}"
        result = run(
            "--home",
            home,
            "enroll",
            live_hub,
            add_user(user, "pendamping", wilayah),
            "--no-passphrase",
        )
        assert result.code == 0, result.err
        return home

    return make


@pytest.fixture
def offline(hub_app, add_user, tmp_path: Path) -> Path:
    """A laptop enrolled in-process whose hub URL is a closed port: the hub is down."""
    dead_url = f"http://127.0.0.1:{free_port()}"
    code = add_user("budi")
    FieldDevice.enroll(
        tmp_path / "offline", dead_url, code, "laptop-budi", lambda _url: WsgiTransport(hub_app)
    ).close()
    return tmp_path / "offline"


def test_enroll_against_a_served_hub_prints_device_user_and_wilayah(
    live_hub, add_user, tmp_path, run
):
    result = run(
        "--home",
        tmp_path / "h",
        "enroll",
        live_hub,
        add_user("sari"),
        "--name",
        "L-01",
        "--no-passphrase",
    )

    assert result.code == 0, result.err
    assert "Pengguna: sari (pendamping)" in result.out
    assert "Wilayah: 31.71.01" in result.out
    assert re.search(r"ID perangkat: \S+", result.out)
    assert run("--home", tmp_path / "h", "status", "--json").json["user"] == "sari"


def test_enrolling_a_home_twice_is_refused_in_one_line(enroll, live_hub, add_user, run):
    home = enroll("sari")

    result = run("--home", home, "enroll", live_hub, add_user("sari2"), "--no-passphrase")

    assert result.code == 1
    assert "sudah terdaftar" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_enrolling_with_an_unknown_code_fails_in_one_line(live_hub, tmp_path, run):
    result = run("--home", tmp_path / "h", "enroll", live_hub, "BUKAN-KODE", "--no-passphrase")

    assert result.code == EXIT_HUB
    assert result.err.startswith("Pendaftaran gagal: Kode pendaftaran tidak dikenal")
    assert run("--home", tmp_path / "h", "list").code == 1  # still not enrolled


def test_records_are_added_with_the_hub_down_and_wait_in_the_outbox(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id
    visit = run(
        "--home", offline, "visit", "add", beneficiary_id, "--purpose", "asesmen",
        "--visited-at", "2026-11-23T09:30:00+07:00", "--findings", "Perlu kursi roda.",
        "--lat", "-6.2", "--lon", "106.8", "--assessment", '{"mobilitas": "terbatas"}',
    )  # fmt: skip
    request = run(
        "--home", offline, "request", "add", beneficiary_id,
        "--device-type", "kursi_roda", "--reason", "Tidak dapat berjalan jauh.",
    )  # fmt: skip

    assert visit.code == 0 and request.code == 0, visit.err + request.err
    [person] = run("--home", offline, "list", "--json").json
    assert person["id"] == beneficiary_id
    assert person["categories"] == ["lansia", "disabilitas"]
    assert person["sync"] == "pending"
    [seen] = run("--home", offline, "list", "visit", "--json").json
    assert seen["id"] == visit.new_id
    assert seen["assessment"] == {"mobilitas": "terbatas"}
    assert seen["kelurahan"] == KELURAHAN
    [asked] = run("--home", offline, "list", "device_request", "--json").json
    assert (asked["id"], asked["status"]) == (request.new_id, "diajukan")
    status = run("--home", offline, "status", "--json").json
    assert (status["pending"], status["last_sync_at"], status["last_sync_outcome"]) == (
        3,
        None,
        None,
    )


def test_list_shows_a_readable_table_of_each_kind(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id
    run("--home", offline, "visit", "add", beneficiary_id, "--purpose", "monitoring",
        "--visited-at", "2026-11-23T09:30:00+07:00")  # fmt: skip
    run("--home", offline, "request", "add", beneficiary_id, "--device-type", "walker")

    people = run("--home", offline, "list").out.splitlines()
    visits = run("--home", offline, "list", "visit").out.splitlines()
    requests_ = run("--home", offline, "list", "device_request").out.splitlines()

    assert people[0].split() == ["ID", "NAMA", "NIK", "KELURAHAN", "SINKRON"]
    assert "Ibu Sri Wahyuni" in people[1] and "3171014508450001" in people[1]
    assert people[1].endswith("menunggu")
    assert "2026-11-23 09:30" in visits[1] and "monitoring" in visits[1]
    assert "Ibu Sri Wahyuni" in visits[1]
    assert "walker" in requests_[1] and "diajukan" in requests_[1]


def test_an_empty_list_says_so(offline, run):
    assert run("--home", offline, "list", "visit").out.strip() == "Belum ada kunjungan."


def test_an_invalid_nik_names_the_field_and_exits_2(offline, run):
    result = run("--home", offline, "beneficiary", "add", *SRI[:6], "--nik", "12345")

    assert result.code == EXIT_INVALID
    assert result.err.strip() == "nik: NIK harus 16 digit angka."
    assert run("--home", offline, "status", "--json").json["pending"] == 0


def test_every_invalid_field_gets_its_own_line(offline, run):
    result = run(
        "--home", offline, "beneficiary", "add", "--name", "X", "--sex", "P",
        "--kelurahan", "31.71", "--phone", "abc",
    )  # fmt: skip

    assert result.code == EXIT_INVALID
    assert sorted(line.split(":")[0] for line in result.err.splitlines()) == [
        "kelurahan",
        "phone",
    ]


def test_a_visit_to_an_unknown_beneficiary_is_refused(offline, run):
    result = run("--home", offline, "visit", "add", "3f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11",
                 "--purpose", "monitoring")  # fmt: skip

    assert result.code == EXIT_INVALID
    assert result.err.startswith("beneficiary_id: ")


def test_a_visit_without_a_time_is_stamped_now_with_its_utc_offset(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id

    run("--home", offline, "visit", "add", beneficiary_id, "--purpose", "verifikasi")

    [seen] = run("--home", offline, "list", "visit", "--json").json
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d([+-]\d\d:\d\d|Z)", seen["visited_at"])


def test_an_assessment_that_is_not_a_json_object_is_a_usage_error(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id

    result = run("--home", offline, "visit", "add", beneficiary_id, "--purpose", "asesmen",
                 "--assessment", "[1, 2]")  # fmt: skip

    assert result.code == EXIT_INVALID
    assert "--assessment" in result.err


def test_editing_a_beneficiary_changes_only_the_given_fields(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id

    edited = run("--home", offline, "beneficiary", "edit", beneficiary_id,
                 "--address", "Jl. Melati 4", "--program", "KLJ", "--program", "PKH",
                 "--clear", "disability")  # fmt: skip

    assert edited.code == 0, edited.err
    assert edited.new_id == beneficiary_id
    [person] = run("--home", offline, "list", "--json").json
    assert person["address"] == "Jl. Melati 4"
    assert person["programs"] == ["KLJ", "PKH"]
    assert person["disability_types"] == []
    assert (person["name"], person["nik"]) == ("Ibu Sri Wahyuni", "3171014508450001")
    assert run("--home", offline, "status", "--json").json["pending"] == 2


def test_an_edit_with_nothing_to_change_is_a_usage_error(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id

    assert run("--home", offline, "beneficiary", "edit", beneficiary_id).code == EXIT_INVALID


def test_editing_an_unknown_beneficiary_says_so_in_one_line(offline, run):
    result = run("--home", offline, "beneficiary", "edit", "no-such-id", "--name", "X")

    assert result.code == 1
    assert result.err.strip() == "Tidak ada beneficiary dengan id no-such-id."


def test_a_home_that_was_never_enrolled_says_so_in_one_line(tmp_path, run):
    result = run("--home", tmp_path / "nowhere", "status")

    assert result.code == 1
    assert "pendamping enroll" in result.err
    assert len(result.err.strip().splitlines()) == 1


def test_sync_pushes_and_a_second_laptop_in_the_wilayah_pulls_and_lists_them(enroll, run):
    first, second = enroll("sari"), enroll("dewi")
    beneficiary_id = run("--home", first, "beneficiary", "add", *SRI).new_id
    run("--home", first, "visit", "add", beneficiary_id, "--purpose", "monitoring")
    run("--home", first, "request", "add", beneficiary_id, "--device-type", "kruk")

    pushed = run("--home", first, "sync")
    pulled = run("--home", second, "sync")

    assert pushed.code == 0, pushed.err
    # The hub does not echo a laptop's own plain writes back to it: nothing to receive.
    assert pushed.out.startswith("Sinkron selesai: 3 terkirim, 0 diterima, 0 konflik, 0 ditolak")
    assert pulled.out.startswith("Sinkron selesai: 0 terkirim, 3 diterima")
    [person] = run("--home", second, "list", "--json").json
    assert (person["id"], person["name"], person["sync"]) == (
        beneficiary_id,
        "Ibu Sri Wahyuni",
        "synced",
    )
    assert len(run("--home", second, "list", "visit", "--json").json) == 1
    assert (
        run("--home", second, "list", "device_request", "--json").json[0]["device_type"] == "kruk"
    )
    status = run("--home", first, "status", "--json").json
    assert (status["pending"], status["last_sync_outcome"]) == (0, "ok")


def test_sync_json_prints_the_round_as_numbers(enroll, run):
    home = enroll("sari")
    run("--home", home, "beneficiary", "add", *SRI)

    result = run("--home", home, "sync", "--json").json

    assert (result["pushed"], result["pulled"], result["rejected"]) == (1, 0, 0)
    assert result["errors"] == []


def test_a_failed_sync_prints_one_line_and_keeps_every_record(offline, run):
    beneficiary_id = run("--home", offline, "beneficiary", "add", *SRI).new_id
    run("--home", offline, "visit", "add", beneficiary_id, "--purpose", "monitoring")

    result = run("--home", offline, "sync")

    assert result.code == EXIT_HUB
    assert "Traceback" not in result.err + result.out
    [line] = result.err.strip().splitlines()
    assert line.startswith("Sinkron gagal: Hub tidak dapat dihubungi")
    assert line.endswith("Semua data tetap tersimpan di laptop; 2 perubahan menunggu.")
    status = run("--home", offline, "status", "--json").json
    assert (status["pending"], status["last_sync_outcome"]) == (2, "failed")
    assert len(run("--home", offline, "list", "--json").json) == 1


def test_a_revoked_laptop_says_so_keeps_its_data_and_can_still_export(
    enroll, hub_storage: HubStorage, run, tmp_path: Path
):
    home = enroll("sari")
    run("--home", home, "beneficiary", "add", *SRI)
    device_id = run("--home", home, "status", "--json").json["device_id"]
    assert hub_storage.revoke_device(device_id, "2026-11-23T00:00:00Z")  # as `device revoke`

    result = run("--home", home, "sync")

    assert result.code == EXIT_UNAUTHORIZED
    [line] = result.err.strip().splitlines()
    assert line.startswith("Laptop ini sudah dicabut oleh kantor dinas")
    assert "Data tetap di laptop (1 perubahan belum terkirim)" in line
    assert "`pendamping export-bundle`" in line
    assert run("--home", home, "status", "--json").json["pending"] == 1
    assert len(run("--home", home, "list", "--json").json) == 1
    assert run("--home", home, "export-bundle", tmp_path / "sari.zip").code == 0
    refused = run("--home", home, "wipe", "--yes")  # the bundle is not confirmed yet
    assert refused.code == 1 and "hanya ada di bundle USB" in refused.err


def test_an_unknown_token_gets_the_general_401_message(enroll, hub_storage: HubStorage, run):
    home = enroll("sari")
    with sqlite3.connect(hub_storage.path) as db:
        db.execute("UPDATE devices SET token_hash = 'another'")
    db.close()

    result = run("--home", home, "sync")

    assert result.code == EXIT_UNAUTHORIZED
    assert result.err.startswith("Sinkron ditolak: hub tidak lagi menerima laptop ini")


def test_a_kelurahan_outside_the_laptops_wilayah_is_refused_at_entry(enroll, run):
    home = enroll("sari")
    outside = [*SRI[:4], "--kelurahan", OTHER_KELURAHAN]

    result = run("--home", home, "beneficiary", "add", *outside)

    assert result.code == EXIT_INVALID
    assert result.err.startswith(f"kelurahan: {OTHER_KELURAHAN} di luar wilayah")
    assert run("--home", home, "status", "--json").json["pending"] == 0


def test_a_change_the_hub_refuses_is_reported_field_by_field(enroll, hub_app, run):
    home = enroll("sari")
    hub_app.extensions["pendamping"].sync.programs = frozenset({"KPDJ"})  # the office's list

    run("--home", home, "beneficiary", "add", *SRI)
    result = run("--home", home, "sync")

    assert result.code == 0
    lines = result.out.strip().splitlines()
    assert lines[0] == "Sinkron selesai: 0 terkirim, 0 diterima, 0 konflik, 1 ditolak"
    assert lines[1].startswith("Ditolak hub (penerima manfaat ")
    assert "programs: Program tidak dikenal hub: KLJ." in lines[1]
    status = run("--home", home, "status", "--json").json
    assert status["rejected"] == 1
    assert "programs" in status["rejected_changes"][0]["errors"]
    assert "programs:" in run("--home", home, "status").out


def test_help_lists_the_codes_a_field_accepts(run):
    result = run("beneficiary", "add", "--help")

    assert result.code == 0
    for code in ("lansia", "disabilitas", "anak", "fisik", "sensorik"):
        assert code in result.out
    assert "kursi_roda" in run("request", "add", "--help").out
    assert "penyaluran" in run("visit", "add", "--help").out


def test_a_bad_retry_setting_is_one_line(offline, run, monkeypatch):
    monkeypatch.setenv("PENDAMPING_RETRIES", "banyak")

    result = run("--home", offline, "sync")

    assert result.code == EXIT_INVALID
    assert result.err.strip() == "PENDAMPING_RETRIES tidak valid: 'banyak'."
