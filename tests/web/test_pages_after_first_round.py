"""What a new user tripped on in the pages (issue 15, item 7), on the Flask test client:
the hub's root in a browser, the last sync after a pull or a bundle, a laptop that never
synced, a conflict form re-shown after an error, and the logout message."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from flask import Flask

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from schemas.codes import DEFAULT_PROGRAMS
from server.bundle import import_bundle
from server.scope import EVERYWHERE
from server.storage import DeviceReport, HubStorage
from server.sync import SyncService
from tests.conftest import Laptops, beneficiary
from tests.web.conftest import Web, csrf_of, make_silent

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def laptop_row(page: str, laptop: FieldDevice) -> str:
    """The laptops-table row of one laptop, its tags dropped."""
    device_id = laptop.store.identity.device_id
    found = re.search(rf'<tr class="([^"]*)"\s+data-device="{device_id}">(.*?)</tr>', page, re.S)
    assert found, f"no row for {laptop.store.identity.device_name}"
    return found.group(1) + " | " + " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


@pytest.fixture
def siti(laptops: Laptops):
    laptop = laptops.enroll("siti")
    yield laptop
    laptop.close()


# -- the root ------------------------------------------------------------------------------


def test_a_browser_at_the_hubs_root_is_sent_to_the_pages(web: Web):
    response = web.client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 303 and response.headers["Location"] == "/web/"
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept", [None, "*/*", "application/json"])
def test_an_api_client_at_the_hubs_root_gets_the_json_it_always_got(web: Web, accept):
    response = web.client.get("/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 404
    assert response.json == {"code": 404, "error": "not_found", "message": "Tidak ditemukan."}


# -- the last sync -------------------------------------------------------------------------


def test_a_sync_with_nothing_to_push_moves_the_last_sync(
    web: Web, add_web_user, siti: FieldDevice, hub_storage: HubStorage
):
    siti.store.add("beneficiary", beneficiary())
    siti.sync()
    make_silent(hub_storage, siti, days=9)
    assert siti.sync().pushed == 0  # a pull alone
    synced = hub_storage.get_device(siti.store.identity.device_id).last_sync_at
    assert synced and datetime.now(UTC) - datetime.fromisoformat(synced) < timedelta(minutes=1)
    add_web_user()
    web.login()
    classes, text = laptop_row(web.page("/web/perangkat"), siti).split(" | ")
    wib = datetime.fromisoformat(synced).astimezone(timezone(timedelta(hours=7)))
    assert f"{wib:%d-%m-%Y %H:%M} WIB" in text and "aktif" in text
    assert "silent" not in classes


class Clock:
    """The hub's wall clock, as ISO text, moved by the test."""

    def __init__(self, iso: str) -> None:
        self.now = iso

    def __call__(self) -> str:
        return self.now


def test_pulls_note_the_last_sync_at_most_once_a_minute(siti: FieldDevice, hub_storage):
    clock = Clock("2026-11-23T08:00:00.000Z")
    service = SyncService(hub_storage, DEFAULT_PROGRAMS, clock, 60_000)
    device_id = siti.store.identity.device_id

    def pull() -> str | None:
        service.note_pull(hub_storage.get_device(device_id), DeviceReport("0.3.0", 0))
        return hub_storage.get_device(device_id).last_sync_at

    audited = len(list(hub_storage.iter_audit()))
    assert pull() == "2026-11-23T08:00:00.000Z"
    clock.now = "2026-11-23T08:00:59.000Z"
    assert pull() == "2026-11-23T08:00:00.000Z"  # 59 s later: nothing written
    assert len(list(hub_storage.iter_audit())) == audited + 1
    clock.now = "2026-11-23T08:01:01.000Z"
    assert pull() == "2026-11-23T08:01:01.000Z"


def test_a_pull_without_report_headers_counts_as_a_sync_too(siti: FieldDevice, hub_storage):
    service = SyncService(hub_storage, DEFAULT_PROGRAMS, lambda: "2026-11-23T08:00:00.000Z", 0)
    device_id = siti.store.identity.device_id
    service.note_pull(hub_storage.get_device(device_id), None)
    assert hub_storage.get_device(device_id).last_sync_at == "2026-11-23T08:00:00.000Z"


def test_an_imported_bundle_counts_as_a_sync(
    siti: FieldDevice, hub_app: Flask, hub_storage: HubStorage, tmp_path: Path
):
    device_id = siti.store.identity.device_id
    assert hub_storage.get_device(device_id).last_sync_at is None
    siti.store.add("beneficiary", beneficiary())
    bundle = export_bundle(siti.store, siti.home, tmp_path / "siti.zip").path
    import_bundle(hub_app.extensions["pendamping"], bundle)
    assert hub_storage.get_device(device_id).last_sync_at is not None


# -- a laptop that never synced ------------------------------------------------------------


def test_a_laptop_that_never_synced_is_silent(
    web: Web, add_web_user, laptops: Laptops, hub_storage: HubStorage
):
    never = laptops.enroll("siti")
    used = laptops.enroll("budi")
    used.sync()
    add_web_user()
    web.login()
    page = web.page("/web/perangkat")

    assert "1 laptop yang diam" in page
    classes, text = laptop_row(page, never).split(" | ")
    assert "silent" in classes
    assert "belum pernah" in text and "laptop yang diam (belum pernah sinkron)" in text
    assert "silent" not in laptop_row(page, used).split(" | ")[0]
    never.close()
    used.close()


def test_a_revoked_laptop_that_never_synced_is_not_silent(
    web: Web, add_web_user, siti: FieldDevice, hub_app: Flask
):
    hub_app.extensions["pendamping"].devices.revoke(siti.store.identity.device_id, actor="admin")
    add_web_user()
    web.login()
    classes, text = laptop_row(web.page("/web/perangkat"), siti).split(" | ")
    assert "silent" not in classes and "dicabut" in text


# -- a form re-shown after an error --------------------------------------------------------


def checked(page: str, name: str) -> list[str]:
    """The values of the checked radio buttons called `name`."""
    return re.findall(rf'name="{re.escape(name)}" value="([^"]*)" checked', page)


def test_a_refused_value_comes_back_with_its_choice_and_its_text(
    web: Web, add_web_user, raise_conflict
):
    raised = raise_conflict(field="phone", values=("0811-1111-1111", "0822-2222-2222"))
    add_web_user()
    web.login()
    prefix = f"c{raised.conflict_id}"
    token = csrf_of(web.client.get("/web/conflicts"))
    response = web.client.post(
        f"/web/conflicts/{raised.conflict_id}/resolve",
        data={f"{prefix}-csrf_token": token, f"{prefix}-choice": "value", f"{prefix}-value": "x"},
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nomor telepon tidak valid." in page
    assert checked(page, f"{prefix}-choice") == ["value"]
    assert re.search(rf'<input [^>]*name="{prefix}-value" [^>]*value="x"', page)


def test_a_form_failing_its_own_checks_keeps_the_chosen_survivor(
    web: Web, add_web_user, laptops: Laptops, hub_app: Flask
):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    siti.store.add("beneficiary", beneficiary())
    siti.sync()
    second = budi.store.add("beneficiary", beneficiary(name="Sri W."))
    budi.sync()
    [conflict] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)
    add_web_user()
    web.login()
    prefix = f"c{conflict['conflict_id']}"
    token = csrf_of(web.client.get("/web/conflicts"))
    response = web.client.post(
        f"/web/conflicts/{conflict['conflict_id']}/resolve",
        data={f"{prefix}-csrf_token": token, f"{prefix}-survivor": second},  # no choice
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Pilih keputusan yang tersedia untuk konflik ini." in page
    assert checked(page, f"{prefix}-survivor") == [second]
    siti.close()
    budi.close()


def test_a_value_too_long_is_named(web: Web, add_web_user, raise_conflict):
    raised = raise_conflict()
    add_web_user()
    web.login()
    prefix = f"c{raised.conflict_id}"
    token = csrf_of(web.client.get("/web/conflicts"))
    response = web.client.post(
        f"/web/conflicts/{raised.conflict_id}/resolve",
        data={
            f"{prefix}-csrf_token": token,
            f"{prefix}-choice": "value",
            f"{prefix}-value": "J" * 2001,
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Nilai baru paling panjang 2000 karakter." in page
    assert checked(page, f"{prefix}-choice") == ["value"]


# -- logging out ---------------------------------------------------------------------------


def test_the_logout_message_is_a_notice_not_an_error(web: Web, add_web_user):
    add_web_user()
    web.login()
    token = csrf_of(web.client.get("/web/"))
    landing = web.client.post("/web/logout", data={"csrf_token": token}).headers["Location"]
    page = web.page(landing)
    assert '<p class="notice" role="status">Anda sudah keluar.</p>' in page
    assert 'role="alert"' not in page
