"""USB bundles on the laptop: `export_bundle`, `confirm_exported` and `pendamping export-bundle`.

A bundle carries the outbox to the office on a stick; the changes stay pending until the
hub's receipts say otherwise, and the next sync asks for those receipts instead of pushing
the changes again.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import os
import sqlite3
import zipfile
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from client_sync import FieldDevice
from client_sync.bundle import confirm_exported, export_bundle, exported_pending
from client_sync.cli import main
from client_sync.hub import HubClient
from client_sync.photos import attach, list_photos, upload_pending
from client_sync.transport import RawResponse
from schemas.bundle_format import bundle_key
from server.bundle import import_bundle
from tests.conftest import beneficiary, visit
from tests.support.transports import WsgiTransport


@pytest.fixture(autouse=True)
def _stick(tmp_path: Path) -> None:
    """A folder standing for the USB stick."""
    (tmp_path / "stick").mkdir()


@pytest.fixture
def transport(hub_app) -> WsgiTransport:
    """One in-process transport whose requests the tests can inspect."""
    return WsgiTransport(hub_app)


@pytest.fixture
def siti(laptops, transport) -> Iterator[FieldDevice]:
    dev = laptops.enroll("siti", transport_factory=lambda _url: transport)
    yield dev
    dev.close()


def record_work(dev: FieldDevice) -> list[str]:
    """A beneficiary, an edit and a visit. :returns: the outbox's change ids, in order."""
    bid = dev.store.add("beneficiary", beneficiary())
    dev.store.update("beneficiary", bid, {"phone": "081234567890"})
    dev.store.add("visit", visit(bid))
    return [c for batch in dev.store.outbox_batches(1 << 20) for c in batch.change_ids]


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as bundle:
        return {name: bundle.read(name) for name in bundle.namelist()}


def test_the_bundle_holds_the_outbox_as_a_push_body_with_a_signed_manifest(siti, tmp_path):
    ids = record_work(siti)
    summary = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")
    files = members(summary.path)

    assert sorted(files) == ["changes.json", "manifest.hmac", "manifest.json"]
    body = json.loads(files["changes.json"])
    assert body["protocol"] == 1 and body["schema_version"] == 1
    assert [c["change_id"] for c in body["changes"]] == ids
    manifest = json.loads(files["manifest.json"])
    me = siti.store.identity
    assert manifest == {
        "format": "pendamping-bundle",
        "version": 1,
        "device_id": me.device_id,
        "user": "siti",
        "hub_url": me.hub_url,
        "created_at": summary.created_at,
        "changes": 3,
        "files": {"changes.json": hashlib.sha256(files["changes.json"]).hexdigest()},
    }
    key = hashlib.sha256(me.token.encode()).digest()
    assert key == bundle_key(me.token)
    expected = hmac.new(key, files["manifest.json"], hashlib.sha256).hexdigest()
    assert files["manifest.hmac"].decode() == expected
    assert (summary.changes, summary.photos, summary.size) == (3, 0, summary.path.stat().st_size)


def test_the_changes_are_written_a_batch_at_a_time_and_stay_in_order(siti, tmp_path):
    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(40):
        siti.store.update("beneficiary", bid, {"address": f"Jl. Melati {n}"})
    summary = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip", batch_bytes=300)

    changes = json.loads(members(summary.path)["changes.json"])["changes"]
    assert summary.changes == len(changes) == 41
    assert [c["fields"].get("address") for c in changes[1:]] == [
        f"Jl. Melati {n}" for n in range(40)
    ]


def test_exported_changes_stay_pending_until_the_hub_confirms_them(siti, tmp_path):
    record_work(siti)
    export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")

    assert siti.store.status()["pending"] == 3
    assert exported_pending(siti.store) == 3
    assert siti.store.list("beneficiary")[0]["sync"] == "pending"


def test_nothing_pending_writes_no_file(siti, tmp_path):
    summary = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")

    assert summary.path is None and summary.changes == 0
    assert list((tmp_path / "stick").iterdir()) == []


def test_a_folder_as_target_gets_a_file_named_after_the_user(siti, tmp_path):
    record_work(siti)
    summary = export_bundle(siti.store, siti.home, tmp_path / "stick")

    assert summary.path.parent == tmp_path / "stick"
    assert summary.path.name.startswith("bundle-siti-") and summary.path.suffix == ".zip"


def test_a_failed_write_leaves_neither_a_half_bundle_nor_its_temporary_file(
    siti, tmp_path, monkeypatch
):
    record_work(siti)
    target = tmp_path / "stick" / "b.zip"

    def stick_full(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", stick_full)
    with pytest.raises(OSError) as failed:
        export_bundle(siti.store, siti.home, target)

    assert str(target) in str(failed.value) and "penuh" in str(failed.value)
    assert ".tmp" not in str(failed.value)
    assert list((tmp_path / "stick").iterdir()) == []
    assert exported_pending(siti.store) == 0
    assert siti.store.status()["pending"] == 3


def test_a_second_export_carries_everything_still_pending(siti, tmp_path):
    record_work(siti)
    export_bundle(siti.store, siti.home, tmp_path / "stick" / "a.zip")
    siti.store.add("beneficiary", beneficiary(name="Pak Harun", nik="3171010101800001"))
    summary = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")

    assert summary.changes == 4
    assert exported_pending(siti.store) == 4


# -- after the office imported the bundle ------------------------------------------------------


def test_after_import_the_next_sync_confirms_the_bundle_without_pushing_it_again(
    siti, tmp_path, hub_app, transport
):
    ids = record_work(siti)
    path = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip").path
    import_bundle(hub_app.extensions["pendamping"], path)
    transport.requests.clear()
    pushed: list[str] = []
    send = transport.send

    def watching(method, path, *, body=None, headers=None, params=None):
        if path == "/api/v1/sync/push" and body:
            pushed.extend(c["change_id"] for c in orjson.loads(gzip.decompress(body))["changes"])
        return send(method, path, body=body, headers=headers, params=params)

    transport.send = watching
    hub = HubClient(transport, siti.store.identity.token)
    assert confirm_exported(siti.store, hub) == 3
    siti.sync()

    assert ("POST", "/api/v1/sync/receipts") in transport.requests
    assert not set(ids) & set(pushed)
    status = siti.store.status()
    assert (status["pending"], status["awaiting_pull"], status["rejected"]) == (0, 0, 0)
    assert exported_pending(siti.store) == 0
    assert [b["sync"] for b in siti.store.list("beneficiary")] == ["synced"]


def test_a_bundle_not_yet_imported_is_simply_pushed(siti, tmp_path, transport):
    record_work(siti)
    export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")
    hub = HubClient(transport, siti.store.identity.token)

    assert confirm_exported(siti.store, hub) == 0
    result = siti.sync()

    assert result.pushed == 3
    assert siti.store.status()["pending"] == 0


def test_nothing_exported_asks_the_hub_nothing(siti, transport):
    record_work(siti)
    transport.requests.clear()

    assert confirm_exported(siti.store, HubClient(transport, siti.store.identity.token)) == 0
    assert transport.requests == []


def test_receipts_are_asked_in_chunks(siti, tmp_path, hub_app, transport):
    record_work(siti)
    path = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip").path
    import_bundle(hub_app.extensions["pendamping"], path)
    transport.requests.clear()
    hub = HubClient(transport, siti.store.identity.token)

    assert confirm_exported(siti.store, hub, chunk_size=2) == 3
    assert transport.requests.count(("POST", "/api/v1/sync/receipts")) == 2


def test_a_refused_change_in_the_bundle_is_kept_with_the_hubs_reasons(
    siti, tmp_path, hub_app, transport
):
    siti.store.add("beneficiary", beneficiary(programs=["ZZZ"]))
    path = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip").path
    import_bundle(hub_app.extensions["pendamping"], path)

    assert confirm_exported(siti.store, HubClient(transport, siti.store.identity.token)) == 1
    [refused] = siti.store.rejected()
    assert "programs" in refused["errors"]


# -- the command -------------------------------------------------------------------------------


def run(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_export_bundle_command_says_what_went_in_and_where_to_take_it(siti, tmp_path, capsys):
    record_work(siti)
    target = tmp_path / "stick" / "b.zip"

    code, out, err = run(capsys, "--home", siti.home, "export-bundle", target)

    assert code == 0, err
    assert "3 perubahan, 0 foto" in out and "kantor dinas" in out
    assert target.is_file()


def test_export_bundle_command_with_nothing_pending_writes_nothing(siti, tmp_path, capsys):
    code, out, _err = run(capsys, "--home", siti.home, "export-bundle", tmp_path / "stick" / "b")

    assert code == 0
    assert "Tidak ada perubahan" in out
    assert list((tmp_path / "stick").iterdir()) == []


def test_export_bundle_command_prints_json(siti, tmp_path, capsys):
    record_work(siti)
    code, out, _err = run(
        capsys, "--home", siti.home, "export-bundle", tmp_path / "stick" / "b.zip", "--json"
    )

    assert code == 0
    assert json.loads(out)["changes"] == 3


def test_export_bundle_into_a_missing_folder_fails_with_one_line(siti, tmp_path, capsys):
    record_work(siti)
    code, out, err = run(
        capsys, "--home", siti.home, "export-bundle", tmp_path / "no-stick" / "b.zip"
    )

    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert exported_pending(siti.store) == 0


def test_a_windows_drive_path_on_linux_names_the_folder_not_a_temporary_file(
    siti, tmp_path, capsys, monkeypatch
):
    """`E:/…` on Linux or macOS is a folder `E:` under the current one, which is not there."""
    record_work(siti)
    monkeypatch.chdir(tmp_path)

    code, out, err = run(capsys, "--home", siti.home, "export-bundle", "E:/siti-2026-11-23.zip")

    assert code == 1, out
    [line] = err.strip().splitlines()
    assert "Folder E: " in line and "tidak ada" in line
    assert "E:\\ di Windows" in line and "/media/" in line
    assert ".tmp" not in line and "Errno" not in line
    assert not (tmp_path / "E:").exists()
    assert exported_pending(siti.store) == 0 and siti.store.status()["pending"] == 3


def test_export_bundle_command_on_an_unenrolled_home_exits_1(tmp_path, capsys):
    code, _out, err = run(capsys, "--home", tmp_path / "nowhere", "export-bundle", tmp_path / "b")

    assert code == 1 and "enroll" in err


def test_the_export_table_exists_after_migration(siti):
    with sqlite3.connect(siti.store.path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(bundle_exports)")]
    assert columns == ["change_id", "bundle", "exported_at"]


# -- photos ------------------------------------------------------------------------------------

JPEG = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40


def test_pending_photos_travel_in_the_bundle_and_are_not_uploaded_again(
    siti, tmp_path, hub_app, transport
):
    bid = siti.store.add("beneficiary", beneficiary())
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(JPEG)
    sha = attach(siti.store, "beneficiary", bid, photo, "rumah")
    path = export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip").path

    assert members(path)[f"photos/{sha}"] == JPEG
    manifest = json.loads(members(path)["manifest.json"])
    assert manifest["files"][f"photos/{sha}"] == sha

    state = hub_app.extensions["pendamping"]
    summary = import_bundle(state, path, attachments=hub_app.extensions["pendamping"].attachments)
    assert (summary.photos, summary.photos_stored, summary.photo_errors) == (1, 1, [])

    hub = HubClient(transport, siti.store.identity.token)
    assert confirm_exported(siti.store, hub) == 2
    transport.requests.clear()
    siti.sync()
    upload_pending(siti.store, hub)  # (the engine may have done so already)

    assert [p["state"] for p in list_photos(siti.store)] == ["uploaded"]
    assert not [r for r in transport.requests if r[0] == "PATCH"]  # not one byte sent again


class OlderHub:
    """A hub from before bundles: every receipts request is a 404."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str]] = []

    def send(self, method, path, *, body=None, headers=None, params=None) -> RawResponse:
        self.requests.append((method, path))
        return RawResponse(404, b'{"code":404,"error":"not_found","message":"Tidak ditemukan."}')

    def close(self) -> None:
        pass


def test_a_hub_without_the_receipts_endpoint_leaves_the_changes_to_the_push(siti, tmp_path):
    record_work(siti)
    export_bundle(siti.store, siti.home, tmp_path / "stick" / "b.zip")
    older = OlderHub()

    assert confirm_exported(siti.store, HubClient(older, "token")) == 0
    assert older.requests == [("POST", "/api/v1/sync/receipts")]
    assert siti.store.status()["pending"] == 3


def test_the_sync_line_says_how_many_changes_a_bundle_already_delivered():
    from client_sync.engine import SyncResult

    result = SyncResult(confirmed_by_bundle=3)

    assert result.extras_text() == "; 3 sudah diterima hub lewat bundle USB"
    assert SyncResult().extras_text() == ""
