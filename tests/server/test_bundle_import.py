"""USB bundles at the hub: `import_bundle`, `POST /sync/receipts`, `pendamping-hub import-bundle`.

A bundle is applied as its laptop's push, with the same receipts; importing it twice changes
nothing; anything suspicious is refused with its own message before anything is written.
"""

from __future__ import annotations

import gzip
import hashlib
import hmac
import json
import sqlite3
import struct
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import orjson
import pytest

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from client_sync.hub import HubClient
from client_sync.photos import attach
from server.bundle import BundleLimits, BundleRefused, ImportSummary, import_bundle
from server.cli import main
from server.storage import HubStorage
from tests.conftest import beneficiary, visit
from tests.support.transports import WsgiTransport

REVOKED_AT = "2026-11-23T00:00:00Z"


@pytest.fixture
def siti(laptops) -> Iterator[FieldDevice]:
    dev = laptops.enroll("siti")
    yield dev
    dev.close()


@pytest.fixture
def bundle(siti: FieldDevice, tmp_path: Path) -> Path:
    """Siti's bundle: a beneficiary, a visit, and a beneficiary the hub will refuse."""
    bid = siti.store.add("beneficiary", beneficiary())
    siti.store.add("visit", visit(bid))
    siti.store.add("beneficiary", beneficiary(nik="3171010101800001", programs=["ZZZ"]))
    return export_bundle(siti.store, siti.home, tmp_path / "siti.zip").path


@pytest.fixture
def importing(hub_app) -> Callable[..., ImportSummary]:
    def run(path: Path, **options) -> ImportSummary:
        return import_bundle(hub_app.extensions["pendamping"], path, **options)

    return run


def snapshot(storage: HubStorage) -> dict:
    """What an import may change: counts, the last seq, and every change row's receipt."""
    figures = storage.stats()
    with sqlite3.connect(storage.path) as db:
        changes = db.execute("SELECT change_id, receipt FROM changes ORDER BY rowid").fetchall()
        records = db.execute("SELECT id, seq FROM records ORDER BY id").fetchall()
    return {"stats": figures, "changes": changes, "records": records}


def rewrite(source: Path, target: Path, replace: dict[str, bytes] | None = None, **add) -> Path:
    """A copy of a bundle with some members replaced and others added (as bytes)."""
    replace = replace or {}
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for info in old.infolist():
            data = replace.get(info.filename, old.read(info.filename))
            new.writestr(info.filename, data, info.compress_type)
        for name, data in add.items():
            new.writestr(name, data)
    return target


def read(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zipped:
        return zipped.read(name)


def signed(manifest: bytes, token_hash: str) -> bytes:
    return hmac.new(bytes.fromhex(token_hash), manifest, hashlib.sha256).hexdigest().encode()


def outbox_batch(dev: FieldDevice):
    [batch] = list(dev.store.outbox_batches(1 << 20))
    return batch


# -- applying ----------------------------------------------------------------------------------


def test_import_applies_every_change_with_the_receipts_a_push_would_give(
    siti, bundle, importing, hub_app, hub_storage
):
    summary = importing(bundle)

    assert (summary.changes, summary.applied, summary.rejected, summary.duplicates) == (3, 2, 1, 0)
    assert (summary.user, summary.device_id) == ("siti", siti.store.identity.device_id)
    # The laptop pushing the same changes afterwards gets these very receipts back, as a
    # resent push does: each was stored with its change when the bundle was applied.
    batch = outbox_batch(siti)
    hub = HubClient(WsgiTransport(hub_app), siti.store.identity.token)
    receipts = hub.push(batch)
    assert [r["status"] for r in receipts] == ["applied", "applied", "rejected"]
    assert "programs" in receipts[2]["errors"]
    stored = hub_storage.receipts_of_device(siti.store.identity.device_id, batch.change_ids)
    assert [orjson.loads(stored[c]) for c in batch.change_ids[:2]] == receipts[:2]
    assert receipts[0]["seq"] == hub_storage.get_record(receipts_record(batch, 0)).seq


def receipts_record(batch, index: int) -> str:
    return orjson.loads(batch.changes_json[index])["record_id"]


def test_importing_twice_changes_nothing(bundle, importing, hub_storage):
    importing(bundle)
    before = snapshot(hub_storage)

    again = importing(bundle)

    assert snapshot(hub_storage) == before
    assert (again.changes, again.duplicates) == (3, 3)
    assert (again.applied, again.rejected) == (0, 0)  # nothing written this time


def test_changes_are_applied_in_slices(siti, tmp_path, importing, hub_storage, monkeypatch):
    import server.bundle

    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(4):
        siti.store.update("beneficiary", bid, {"address": f"Jl. Melati {n}"})
    path = export_bundle(siti.store, siti.home, tmp_path / "b.zip").path
    monkeypatch.setattr(server.bundle, "SLICE", 2)

    summary = importing(path)

    assert (summary.changes, summary.applied + summary.merged) == (5, 5)
    assert hub_storage.get_record(bid).data["address"] == "Jl. Melati 3"


@pytest.mark.parametrize(("slice_size", "readings"), [(2000, 1), (2, 2)])
def test_a_bundle_of_one_slice_is_read_once_a_larger_one_twice(
    bundle, importing, monkeypatch, slice_size, readings
):
    import server.bundle

    read = []
    real = server.bundle.iter_changes
    monkeypatch.setattr(
        server.bundle, "iter_changes", lambda m, lim: read.append(1) or real(m, lim)
    )
    monkeypatch.setattr(server.bundle, "SLICE", slice_size)

    summary = importing(bundle)

    assert (summary.applied, summary.rejected) == (2, 1)
    assert len(read) == readings


def test_an_empty_outbox_bundle_is_a_valid_bundle(siti, bundle, importing, tmp_path):
    # Not written by export-bundle (it writes nothing then), but well formed all the same.
    manifest = json.loads(read(bundle, "manifest.json"))
    body = b'{"protocol":1,"schema_version":1,"changes":[\n]}\n'
    manifest.update(changes=0, files={"changes.json": hashlib.sha256(body).hexdigest()})
    data = json.dumps(manifest).encode()
    key = hashlib.sha256(siti.store.identity.token.encode()).hexdigest()
    path = rewrite(
        bundle,
        tmp_path / "empty.zip",
        {"changes.json": body, "manifest.json": data, "manifest.hmac": signed(data, key)},
    )

    assert importing(path).changes == 0


# -- refusals: each its own message, and nothing written ---------------------------------------


def refused(importing, path: Path, storage: HubStorage, **options) -> BundleRefused:
    before = snapshot(storage)
    with pytest.raises(BundleRefused) as caught:
        importing(path, **options)
    assert snapshot(storage) == before
    return caught.value


def test_a_changed_byte_in_the_changes_is_refused_naming_the_file(
    bundle, importing, hub_storage, tmp_path
):
    body = read(bundle, "changes.json").replace(b"Ibu Sri Wahyuni", b"Ibu Sri Wahyunj", 1)
    path = rewrite(bundle, tmp_path / "x.zip", {"changes.json": body})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_checksum" and "changes.json" in str(error)


def test_an_edited_manifest_is_refused_as_changed(bundle, importing, hub_storage, tmp_path):
    manifest = read(bundle, "manifest.json").replace(b'"user": "siti"', b'"user": "budi"')
    path = rewrite(bundle, tmp_path / "x.zip", {"manifest.json": manifest})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_signature"
    assert "bundle diubah atau bukan dari laptop ini" in str(error)


def test_a_bundle_signed_with_another_devices_key_is_refused(
    bundle, importing, hub_storage, laptops, tmp_path
):
    budi = laptops.enroll("budi")
    budi_key = hub_storage.device_token_hash(budi.store.identity.device_id)
    budi.close()
    manifest = read(bundle, "manifest.json")
    path = rewrite(bundle, tmp_path / "x.zip", {"manifest.hmac": signed(manifest, budi_key)})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_signature"


def test_a_member_named_outside_the_bundle_is_refused(bundle, importing, hub_storage, tmp_path):
    path = rewrite(bundle, tmp_path / "x.zip", **{"../evil": b"boo"})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_member" and "../evil" in str(error)


def test_a_member_the_manifest_does_not_list_is_refused(bundle, importing, hub_storage, tmp_path):
    photo = "photos/" + "ab" * 32
    path = rewrite(bundle, tmp_path / "x.zip", **{photo: b"\xff\xd8\xff"})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_manifest" and photo in str(error)


def test_a_member_larger_than_its_limit_is_refused(bundle, importing, hub_storage):
    error = refused(importing, bundle, hub_storage, limits=BundleLimits(changes_bytes=100))

    assert error.slug == "too_large" and "changes.json" in str(error)


def test_a_member_whose_header_understates_its_size_is_not_read_past_it(
    bundle, importing, hub_storage, tmp_path
):
    # Central directory says changes.json is 10 bytes; reading stops there and the CRC fails.
    path = tmp_path / "liar.zip"
    with zipfile.ZipFile(bundle) as old, zipfile.ZipFile(path, "w") as new:
        for name in old.namelist():
            new.writestr(name, old.read(name), zipfile.ZIP_STORED)
    data = bytearray(path.read_bytes())
    entry = data.index(b"PK\x01\x02")  # the first central directory entry: changes.json
    assert data[entry + 46 : entry + 46 + 12] == b"changes.json"
    struct.pack_into("<I", data, entry + 24, 10)  # uncompressed size
    path.write_bytes(bytes(data))

    error = refused(importing, path, hub_storage)
    assert error.slug == "damaged" and "changes.json" in str(error)


def test_a_file_that_is_not_a_zip_is_refused(importing, hub_storage, tmp_path):
    path = tmp_path / "notes.zip"
    path.write_text("bukan zip", encoding="utf-8")

    error = refused(importing, path, hub_storage)
    assert error.slug == "not_zip" and "bukan zip" in str(error)


def test_a_zip_without_a_manifest_is_not_a_bundle(importing, hub_storage, tmp_path):
    path = tmp_path / "photos.zip"
    with zipfile.ZipFile(path, "w") as zipped:
        zipped.writestr("foto.jpg", b"\xff\xd8\xff")

    error = refused(importing, path, hub_storage)
    assert error.slug == "not_bundle"


def test_a_bundle_from_an_unknown_device_is_refused(bundle, importing, hub_storage, tmp_path):
    manifest = json.loads(read(bundle, "manifest.json"))
    manifest["device_id"] = "00000000-0000-4000-8000-000000000000"
    path = rewrite(bundle, tmp_path / "x.zip", {"manifest.json": json.dumps(manifest).encode()})

    error = refused(importing, path, hub_storage)
    assert error.slug == "unknown_device" and manifest["device_id"] in str(error)


def revoke(storage: HubStorage, device_id: str) -> None:
    with sqlite3.connect(storage.path) as db:
        db.execute("UPDATE devices SET revoked_at = ? WHERE device_id = ?", (REVOKED_AT, device_id))


def test_a_revoked_devices_bundle_needs_allow_revoked(siti, bundle, importing, hub_storage):
    revoke(hub_storage, siti.store.identity.device_id)

    error = refused(importing, bundle, hub_storage)
    assert error.slug == "device_revoked" and "--allow-revoked" in str(error)

    summary = importing(bundle, allow_revoked=True)
    assert summary.revoked and summary.applied == 2


# -- the receipts endpoint ---------------------------------------------------------------------


def ask(client, token: str, body) -> tuple[int, dict]:
    response = client.post(
        "/api/v1/sync/receipts",
        data=gzip.compress(orjson.dumps(body)),
        headers={
            "Authorization": f"Bearer {token}",
            "Content-Type": "application/json",
            "Content-Encoding": "gzip",
        },
    )
    return response.status_code, response.get_json()


def test_receipts_answer_only_for_this_devices_known_changes(
    siti, bundle, importing, hub_app, laptops
):
    importing(bundle)
    ids = list(outbox_batch(siti).change_ids)
    unknown = "11111111-1111-4111-8111-111111111111"
    client = hub_app.test_client()

    status, body = ask(client, siti.store.identity.token, {"change_ids": [unknown, *ids]})
    assert status == 200
    assert [r["change_id"] for r in body["receipts"]] == ids

    budi = laptops.enroll("budi")
    status, body = ask(client, budi.store.identity.token, {"change_ids": ids})
    budi.close()
    assert (status, body) == (200, {"receipts": []})


@pytest.mark.parametrize(
    "change_ids", [["not-a-uuid"], ["11111111-1111-4111-8111-111111111111"] * 5001, "x"]
)
def test_receipts_refuse_a_bad_list_naming_the_field(siti, hub_app, change_ids):
    status, body = ask(hub_app.test_client(), siti.store.identity.token, {"change_ids": change_ids})

    assert status == 422
    assert "change_ids" in body["errors"]


def test_receipts_need_a_device_token(hub_app):
    status, _body = ask(hub_app.test_client(), "nope", {"change_ids": []})

    assert status == 401


# -- the command -------------------------------------------------------------------------------


@pytest.fixture
def hub_cli(tmp_path: Path, capsys) -> Callable[..., tuple[int, str, str]]:
    """`pendamping-hub --data <the hub_app's folder> ARGS...`."""

    def run(*args) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(["--data", str(tmp_path / "hub"), *[str(a) for a in args]])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_import_bundle_command_reports_what_it_applied(bundle, hub_cli):
    code, out, err = hub_cli("import-bundle", bundle)

    assert code == 0, err
    assert "laptop-siti (siti)" in out and "3 perubahan" in out
    assert "2 diterapkan" in out and "1 ditolak" in out


def test_import_bundle_command_twice_says_nothing_changed(bundle, hub_cli):
    hub_cli("import-bundle", bundle)
    code, out, _err = hub_cli("import-bundle", bundle, "--json")

    assert code == 0
    assert json.loads(out)["duplicates"] == 3
    assert "tidak ada yang berubah" in hub_cli("import-bundle", bundle)[1]


def test_a_reimported_bundle_counts_nothing_applied_as_its_sentence_says(bundle, hub_cli):
    hub_cli("import-bundle", bundle)

    code, out, _err = hub_cli("import-bundle", bundle)

    assert code == 0
    lines = out.splitlines()
    assert lines[1] == "0 diterapkan, 0 digabung, 0 konflik, 0 ditolak."
    assert lines[2] == "Semua perubahan sudah pernah diterima; tidak ada yang berubah."
    assert "Lihat `pendamping-hub conflicts list`" not in out


def test_import_bundle_command_refuses_with_one_line(bundle, hub_cli, tmp_path):
    path = rewrite(bundle, tmp_path / "x.zip", **{"../evil": b"boo"})
    code, out, err = hub_cli("import-bundle", path)

    assert code == 1
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert "Bundle ditolak" in err and "../evil" in err


def test_import_bundle_command_takes_a_revoked_laptop_only_when_told(
    siti, bundle, hub_cli, hub_storage
):
    revoke(hub_storage, siti.store.identity.device_id)

    code, _out, err = hub_cli("import-bundle", bundle)
    assert code == 1 and "dicabut" in err

    code, out, err = hub_cli("import-bundle", bundle, "--allow-revoked")
    assert code == 0, err
    assert "sudah dicabut" in out


def test_a_photo_whose_bytes_differ_from_the_manifest_is_refused_naming_it(
    siti, bundle, importing, hub_storage, tmp_path
):
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + b"x" * 500)
    bid = siti.store.list("beneficiary")[0]["id"]
    sha = attach(siti.store, "beneficiary", bid, photo, "rumah")
    fresh = export_bundle(siti.store, siti.home, tmp_path / "with-photo.zip").path
    name = f"photos/{sha}"
    path = rewrite(fresh, tmp_path / "x.zip", {name: b"\xff\xd8\xff\xe0" + b"y" * 500})

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_checksum" and name in str(error)


def test_a_compressed_photo_is_refused_before_it_can_inflate(
    siti, bundle, importing, hub_storage, tmp_path
):
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(1000))
    bid = siti.store.list("beneficiary")[0]["id"]
    sha = attach(siti.store, "beneficiary", bid, photo, "rumah")
    fresh = export_bundle(siti.store, siti.home, tmp_path / "with-photo.zip").path
    path = tmp_path / "deflated.zip"
    with zipfile.ZipFile(fresh) as old, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as new:
        for name in old.namelist():
            new.writestr(name, old.read(name))

    error = refused(importing, path, hub_storage)
    assert error.slug == "bad_member" and f"photos/{sha}" in str(error)


def test_import_bundle_command_takes_month_end_bundles_in_one_call(
    bundle, laptops, hub_cli, hub_storage, tmp_path
):
    budi = laptops.enroll("budi")
    try:
        budi.store.add("beneficiary", beneficiary(nik="3171014508450002"))
        second = export_bundle(budi.store, budi.home, tmp_path / "budi.zip").path
    finally:
        budi.close()
    evil = rewrite(bundle, tmp_path / "evil.zip", **{"../evil": b"boo"})

    code, out, err = hub_cli("import-bundle", bundle, evil, second, "--json")

    assert code == 1 and "Traceback" not in out + err
    assert "evil.zip: Bundle ditolak" in err and "1 dari 3 bundle ditolak" in err
    done = json.loads(out)
    assert [d["file"] for d in done] == [str(bundle), str(evil), str(second)]
    assert (done[0]["applied"], done[2]["applied"]) == (2, 1)
    assert done[1]["refused"] == "bad_member"
    assert hub_storage.stats()["changes"] == 4  # siti's three, budi's one; nothing of evil
