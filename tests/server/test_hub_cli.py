"""`pendamping-hub` administration, through `server.cli.main` on a temporary data folder."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.app import create_app
from server.passwords import verify_password
from server.storage import NotFound
from tests.support.hub_cli import Run


@pytest.fixture
def served(data_dir: Path) -> Iterator[Callable[[], Flask]]:
    """A hub app on the same data folder, made on demand after the CLI has run."""
    apps: list[Flask] = []

    def make() -> Flask:
        apps.append(create_app({"DATA_DIR": data_dir, "TESTING": True}))
        return apps[-1]

    yield make
    for app in apps:
        app.extensions["pendamping"].storage.close()


def assert_one_clean_line(run: Run) -> None:
    assert run.code != 0
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert "Traceback" not in run.err + run.out


def test_init_creates_the_database_and_can_run_again(hub, data_dir: Path):
    first = hub("init")
    assert first.code == 0
    assert (data_dir / "hub.sqlite3").exists()
    second = hub("init")
    assert second.code == 0
    assert second.out == first.out


def test_init_keeps_existing_users(hub):
    hub("init")
    hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    hub("init")
    assert hub("enroll-code", "ani").code == 0


def test_user_add_reports_the_user_its_role_and_scope(hub):
    run = hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01,31.71.02")
    assert run.code == 0
    assert "ani" in run.out
    assert "31.71.01, 31.71.02" in run.out


def test_adding_a_user_twice_fails_with_one_line_and_no_traceback(hub):
    assert hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01").code == 0
    again = hub("user", "add", "ani", "--role", "supervisor", "--wilayah", "31.71")
    assert_one_clean_line(again)
    assert "ani" in again.err


@pytest.mark.parametrize(
    "wilayah",
    ["99.71", "31.7", "31-71-01", "kota"],
    ids=[
        "an unknown province is refused",
        "a partial segment is refused",
        "dashes are refused",
        "a name is refused",
    ],
)
def test_a_bad_wilayah_is_refused_naming_the_option(hub, wilayah):
    run = hub("user", "add", "ani", "--role", "pendamping", "--wilayah", wilayah)
    assert run.code != 0
    assert "--wilayah" in run.err
    assert wilayah in run.err
    assert "Traceback" not in run.err


def test_a_bad_wilayah_is_one_line_on_stderr(hub):
    assert_one_clean_line(hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "99"))


@pytest.mark.parametrize("role", ["pendamping", "supervisor"])
def test_a_user_other_than_admin_needs_a_wilayah(hub, role, served):
    run = hub("user", "add", "ani", "--role", role)
    assert run.code != 0
    assert "--wilayah" in run.err
    assert "Traceback" not in run.err
    storage = served().extensions["pendamping"].storage
    with pytest.raises(NotFound):
        storage.get_user("ani")


def test_an_admin_needs_no_wilayah(hub):
    run = hub("user", "add", "kantor", "--role", "admin")
    assert run.code == 0
    assert "semua" in run.out


def test_an_unknown_role_is_refused(hub):
    run = hub("user", "add", "ani", "--role", "camat", "--wilayah", "31.71.01")
    assert run.code != 0
    assert "--role" in run.err


def test_an_enrolment_code_for_an_unknown_user_fails_with_one_line(hub):
    assert_one_clean_line(hub("enroll-code", "nobody"))


def test_an_enrolment_code_is_the_last_word_printed_and_enrols_a_laptop(hub, served):
    hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    run = hub("enroll-code", "ani")
    assert run.code == 0
    code = run.out.split()[-1]

    response = (
        served()
        .test_client()
        .post("/api/v1/enroll", json={"code": code, "device_name": "Laptop Ani"})
    )

    assert response.status_code == 201
    assert response.get_json()["user"] == "ani"


def test_device_list_json_shows_each_enrolled_laptop(hub, served):
    hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub("enroll-code", "ani").out.split()[-1]
    enrolled = (
        served()
        .test_client()
        .post("/api/v1/enroll", json={"code": code, "device_name": "Laptop Ani"})
        .get_json()
    )

    run = hub("device", "list", "--json")

    assert run.code == 0
    (device,) = json.loads(run.out)
    assert device["device_id"] == enrolled["device_id"]
    assert (device["name"], device["user"], device["role"]) == ("Laptop Ani", "ani", "pendamping")
    assert device["wilayah"] == ["31.71.01"]
    assert device["last_sync_at"] is None
    assert "token" not in json.dumps(device)


def test_device_list_of_a_new_hub_is_empty(hub):
    assert json.loads(hub("device", "list", "--json").out) == []
    assert hub("device", "list").out.strip() == "Belum ada laptop."


def test_stats_json_counts_records_devices_and_open_conflicts(hub):
    run = hub("stats", "--json")
    assert run.code == 0
    stats = json.loads(run.out)
    assert stats["records"] == {"beneficiary": 0, "visit": 0, "device_request": 0}
    assert (stats["devices"], stats["open_conflicts"]) == (0, 0)


def test_stats_json_counts_what_laptops_pushed(hub, served):
    hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub("enroll-code", "ani").out.split()[-1]
    client = served().test_client()
    enrolled = client.post("/api/v1/enroll", json={"code": code, "device_name": "L"}).get_json()
    change = {
        "change_id": "3f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11",
        "entity": "beneficiary",
        "record_id": "4f2b8c1e-0a4d-4c6e-9b1f-2d7e5a9c0b11",
        "base_seq": None,
        "fields": {"name": "Ibu Sri", "sex": "P", "kelurahan": "31.71.01.1001"},
        "hlc": f"0001732345678901:000000:{enrolled['device_id']}",
        "device_id": enrolled["device_id"],
        "author_id": "ani",
    }
    pushed = client.post(
        "/api/v1/sync/push",
        json={"protocol": 1, "schema_version": 1, "changes": [change]},
        headers={"Authorization": f"Bearer {enrolled['token']}"},
    )
    assert pushed.get_json()["receipts"][0]["status"] == "applied"

    stats = json.loads(hub("stats", "--json").out)

    assert stats["records"] == {"beneficiary": 1, "visit": 0, "device_request": 0}
    assert stats["devices"] == 1
    assert stats["open_conflicts"] == 0


def test_an_unknown_command_fails_without_a_traceback(hub):
    run = hub("frobnicate")
    assert run.code != 0
    assert "Traceback" not in run.err


def test_device_list_shows_the_queue_and_version_a_laptop_reported(hub, served):
    hub("user", "add", "ani", "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub("enroll-code", "ani").out.split()[-1]
    client = served().test_client()
    token = client.post("/api/v1/enroll", json={"code": code, "device_name": "Laptop Ani"})
    headers = {
        "Authorization": f"Bearer {token.get_json()['token']}",
        "Pendamping-Client": "0.2.0",
        "Pendamping-Queue": "17",
    }
    assert client.get("/api/v1/sync/pull", headers=headers).status_code == 200

    (device,) = json.loads(hub("device", "list", "--json").out)
    line = hub("device", "list").out

    assert (device["client_version"], device["queue_size"]) == ("0.2.0", 17)
    assert "antrean: 17" in line and "versi: 0.2.0" in line


# -- passwords for the web pages (docs/web.md) ---------------------------------------------


@pytest.fixture
def stdin(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Feed `text` to the command's stdin."""
    return lambda text: monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_a_supervisor_is_added_with_a_password_from_stdin(hub, stdin, served):
    stdin("kata-sandi-kantor-31\n")
    run = hub("user", "add", "bu-kasi", "--role", "supervisor", "--wilayah", "31.71",
              "--password-stdin")  # fmt: skip
    assert run.code == 0 and "dengan kata sandi" in run.out
    stored = served().extensions["pendamping"].storage.get_user("bu-kasi").password_hash
    assert stored.startswith("$argon2id$") and "kata-sandi-kantor-31" not in stored


def test_a_password_shorter_than_ten_characters_is_refused_and_adds_nobody(hub, stdin, served):
    stdin("pendek\n")
    run = hub("user", "add", "bu-kasi", "--role", "supervisor", "--wilayah", "31.71",
              "--password-stdin")  # fmt: skip
    assert_one_clean_line(run)
    assert "minimal 10 karakter" in run.err
    with pytest.raises(NotFound):
        served().extensions["pendamping"].storage.get_user("bu-kasi")


def test_a_pendamping_gets_no_password(hub, stdin):
    stdin("kata-sandi-kantor-31\n")
    run = hub("user", "add", "siti", "--role", "pendamping", "--wilayah", "31.71.01",
              "--password-stdin")  # fmt: skip
    assert_one_clean_line(run)
    assert "laptop yang terdaftar" in run.err
    assert_one_clean_line(hub("user", "password", "siti", "--password-stdin"))


def test_user_password_sets_and_changes_a_password_and_audits_it(hub, stdin, served):
    assert hub("user", "add", "bu-kasi", "--role", "supervisor", "--wilayah", "31.71").code == 0
    stdin("kata-sandi-pertama\n")
    assert hub("user", "password", "bu-kasi", "--password-stdin").code == 0
    stdin("kata-sandi-kedua-22\r\n")
    assert hub("user", "password", "bu-kasi", "--password-stdin").code == 0
    storage = served().extensions["pendamping"].storage
    assert verify_password(storage.get_user("bu-kasi").password_hash, "kata-sandi-kedua-22")
    actions = [(e.action, e.detail) for e in storage.iter_audit()]
    assert actions[-1] == ("set_password", '{"user":"bu-kasi"}')


def test_user_password_of_an_unknown_user_is_one_line(hub, stdin):
    stdin("kata-sandi-kantor-31\n")
    assert_one_clean_line(hub("user", "password", "nobody", "--password-stdin"))
