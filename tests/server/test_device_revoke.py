"""`pendamping-hub device revoke ID`: the laptop's every call answers 401 device_revoked."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.app import create_app
from server.audit import verify
from server.enrolment import issue_code, redeem_code
from server.storage import User
from server.timeutil import utc_iso


@pytest.fixture
def laptop(data_dir: Path) -> tuple[str, str]:
    """An enrolled laptop of siti: (device id, token)."""
    app = create_app({"DATA_DIR": data_dir, "TESTING": True})
    storage = app.extensions["pendamping"].storage
    storage.add_user(User("siti", "pendamping", ("31.71.01",)), utc_iso())
    device, token = redeem_code(storage, issue_code(storage, "siti", 24), "laptop-siti")
    storage.close()
    return device.device_id, token


def pull_status(data_dir: Path, token: str) -> tuple[int, str]:
    app = create_app({"DATA_DIR": data_dir, "TESTING": True})
    try:
        response = app.test_client().get(
            "/api/v1/sync/pull", headers={"Authorization": f"Bearer {token}"}
        )
        return response.status_code, response.get_json().get("error", "")
    finally:
        app.extensions["pendamping"].storage.close()


def audit_entries(data_dir: Path) -> list:
    app = create_app({"DATA_DIR": data_dir, "TESTING": True})
    try:
        return list(app.extensions["pendamping"].storage.iter_audit())
    finally:
        app.extensions["pendamping"].storage.close()


def test_a_revoked_laptop_gets_401_device_revoked_on_every_call(hub, laptop, data_dir):
    device_id, token = laptop
    assert pull_status(data_dir, token)[0] == 200

    result = hub("device", "revoke", device_id, "--reason", "laptop hilang di angkot")

    assert result.code == 0, result.err
    assert "laptop-siti (siti) dicabut" in result.out
    assert pull_status(data_dir, token) == (401, "device_revoked")
    assert "DICABUT" in hub("device", "list").out


def test_revoking_is_audited_with_who_and_why(hub, laptop, data_dir):
    device_id, _ = laptop
    hub("device", "revoke", device_id, "--reason", "laptop hilang")

    entry = audit_entries(data_dir)[-1]

    assert (entry.action, entry.device_id) == ("revoke_device", device_id)
    assert entry.actor.startswith("cli:")
    assert '"reason":"laptop hilang"' in entry.detail and '"user":"siti"' in entry.detail
    assert verify(audit_entries(data_dir)) == []


def test_revoking_twice_says_it_already_was_and_audits_once(hub, laptop, data_dir):
    device_id, _ = laptop
    hub("device", "revoke", device_id)
    before = len(audit_entries(data_dir))

    again = hub("device", "revoke", device_id)

    assert again.code == 0
    assert "sudah dicabut sejak" in again.out
    assert len(audit_entries(data_dir)) == before


def test_revoking_an_unknown_device_is_one_line_and_exit_1(hub, laptop):
    result = hub("device", "revoke", "00000000-0000-4000-8000-000000000000")

    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
    assert "Tidak ada laptop dengan ID" in result.err
