"""`pendamping-hub user list`, `--version`, and the lists shown safely when stored names hold
control characters (issue 15, items 5 and 8)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from client_sync.cli import cli as laptop_cli
from server.app import create_app
from server.cli import cli as hub_cli
from server.enrolment import issue_code, redeem_code
from server.state import hub_state
from server.storage import User
from server.web.lockout import user_key
from tests.support.hub_cli import Run

ESC = "\x1b"
#: a laptop name stored before the schema refused it: a newline, then red text
ODD_DEVICE = f"laptop\n{ESC}[31mMERAH"
ODD_USER = f"budi{ESC}[2J\u202e"


@pytest.fixture
def app(data_dir: Path, hub: Callable[..., Run]) -> Iterator[Flask]:
    """The hub app on the CLI's data folder (initialised by the CLI first)."""
    assert hub("init").code == 0
    made = create_app({"DATA_DIR": data_dir, "TESTING": True})
    yield made
    hub_state(made).storage.close()


def enrol(app: Flask, user: str, device_name: str) -> str:
    """Enrol a laptop for `user` straight through the service (no schema): its device id."""
    storage = hub_state(app).storage
    device, _token = redeem_code(storage, issue_code(storage, user, 24), device_name)
    return device.device_id


def test_user_list_shows_each_user_role_wilayah_laptops_password_and_lock(hub, app):
    hub("user", "add", "siti", "--role", "pendamping", "--wilayah", "31.71.01,31.71.02")
    hub("user", "add", "pusat", "--role", "admin")
    enrol(app, "siti", "laptop-siti")
    hub("device", "revoke", enrol(app, "siti", "laptop-lama"))
    lockout = hub_state(app).lockout
    for _ in range(lockout.max_failures):
        lockout.failed(user_key("Pusat"))  # typed with another case: the same lock

    shown = hub("user", "list")
    listed = json.loads(hub("user", "list", "--json").out)

    assert shown.code == 0
    pusat, siti = shown.out.splitlines()
    assert pusat.split()[:4] == ["pusat", "admin", "wilayah:", "semua"]
    assert "laptop: 0 aktif" in pusat and "web: tidak" in pusat
    assert "login web terkunci 15 menit lagi" in pusat
    assert siti.split()[:5] == ["siti", "pendamping", "wilayah:", "31.71.01,", "31.71.02"]
    assert "laptop: 1 aktif, 1 dicabut" in siti and siti.endswith(" aktif")
    assert [u["name"] for u in listed] == ["pusat", "siti"]
    assert listed[1] == {
        "name": "siti",
        "role": "pendamping",
        "wilayah": ["31.71.01", "31.71.02"],
        "web_password": False,
        "devices_active": 1,
        "devices_revoked": 1,
        "locked_for_s": 0,
    }
    assert 0 < listed[0]["locked_for_s"] <= 15 * 60


def test_user_list_of_a_new_hub_says_there_is_nobody(hub):
    assert hub("user", "list").out.strip() == "Belum ada pengguna."


def test_device_and_user_lists_show_stored_control_characters_escaped(hub, app):
    hub_state(app).storage.add_user(User(ODD_USER, "pendamping", ("31.71.01",)), "2026-11-23")
    enrol(app, ODD_USER, ODD_DEVICE)

    devices, users = hub("device", "list"), hub("user", "list")
    devices_json = hub("device", "list", "--json").out

    for shown in (devices.out, users.out, devices_json):
        assert ESC not in shown and "\u202e" not in shown
    assert len(devices.out.splitlines()) == 1 and len(users.out.splitlines()) == 1
    assert "laptop\\n\\x1b[31mMERAH" in devices.out
    assert "budi\\x1b[2J\\u202e" in devices.out and "budi\\x1b[2J\\u202e" in users.out
    (device,) = json.loads(devices_json)  # the JSON still says exactly what is stored
    assert (device["name"], device["user"]) == (ODD_DEVICE, ODD_USER)


@pytest.mark.parametrize("name", ["budi\nsiti", f"budi{ESC}[31m", "budi\x00", "   "])
def test_user_add_refuses_a_name_with_control_characters(hub, name):
    run = hub("user", "add", name, "--role", "pendamping", "--wilayah", "31.71.01")
    assert run.code == 1
    assert run.err.startswith("Galat: Nama pengguna")
    assert hub("user", "list").out.strip() == "Belum ada pengguna."


def test_enrolment_refuses_a_laptop_name_with_a_newline_and_keeps_the_code(hub, app):
    hub("user", "add", "siti", "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub("enroll-code", "siti").out.split()[-1]
    client = app.test_client()

    refused = client.post("/api/v1/enroll", json={"code": code, "device_name": "a\nb"})
    taken = client.post("/api/v1/enroll", json={"code": code, "device_name": "laptop-siti"})

    assert refused.status_code == 422
    assert list(refused.get_json()["errors"]) == ["device_name"]
    assert taken.status_code == 201


@pytest.mark.parametrize(
    ("cli", "expected"), [(hub_cli, "pendamping-hub"), (laptop_cli, "pendamping")]
)
def test_both_commands_say_their_version(cli, expected):
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"{expected} {version('pendamping-sync')}\n"
