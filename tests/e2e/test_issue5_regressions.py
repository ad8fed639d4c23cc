"""Defects a review of the poor-link work found, each fixed and pinned here.

A photo whose last chunk landed but was never finished; zip headers the stdlib refuses in
ways the bundle reader did not expect; quiet writes applied to a client that never asked.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import struct
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from client_sync.photos import attach, list_photos
from server.attachments import AttachmentStore
from server.bundle import BundleRefused, import_bundle
from tests.conftest import beneficiary

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


def write_jpeg(folder: Path, size: int, name: str = "foto.jpg", seed: int = 0) -> Path:
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    path = folder / name
    path.write_bytes(head + hashlib.shake_256(str(seed).encode()).digest(size - len(head)))
    return path


# -- (1) a photo marked sent that the hub does not have -----------------------------------------


def test_a_photo_whose_last_chunk_landed_but_was_never_finished_is_not_marked_sent(
    laptops, hub_app: Flask, tmp_path: Path, monkeypatch
):
    siti = laptops.enroll("siti")
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    camera = tmp_path / "kamera"
    camera.mkdir()
    digest = attach(siti.store, "beneficiary", bid, write_jpeg(camera, 40_000), "rumah")

    # The hub appends and fsyncs the last chunk, then fails before the blob is in place
    # (disk full writing blobs/<sha>.json, a Windows sharing violation on os.replace, or a
    # power cut between the two): the .part file is whole, blobs/<sha256> does not exist.
    real_finish = AttachmentStore._finish
    failures = {"left": 1}

    def finish_fails_once(self, upload):
        if failures["left"]:
            failures["left"] -= 1
            raise OSError(28, "No space left on device")
        return real_finish(self, upload)

    monkeypatch.setattr(AttachmentStore, "_finish", finish_fails_once)
    siti.sync()  # the last PATCH gets a 500: the round stops, the photo waits
    siti.sync()  # next round: HEAD says Upload-Offset == Upload-Length
    siti.sync()

    store: AttachmentStore = hub_app.extensions["pendamping.attachments"]
    (row,) = list_photos(siti.store)
    assert row["state"] == "uploaded"  # the laptop will never send it again...
    assert store.blob_path(digest) is not None, "...yet the hub holds no such photo"


# -- (2) hostile bundle files: a stack trace instead of BundleRefused ----------------------------


def _tiny_zip() -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("manifest.json", b'{"format": "pendamping-bundle"}')
        bundle.writestr("manifest.hmac", b"00" * 32)
    return bytearray(buffer.getvalue())


def _central_flag_bit_5() -> bytes:
    """manifest.json flagged 'compressed patched data' in the central directory."""
    data = _tiny_zip()
    at = data.find(b"PK\x01\x02")
    (flags,) = struct.unpack_from("<H", data, at + 8)
    struct.pack_into("<H", data, at + 8, flags | 0x20)
    return bytes(data)


def _local_utf8_name_not_utf8() -> bytes:
    """manifest.json's local header says UTF-8 name, and its name bytes are not UTF-8."""
    data = _tiny_zip()
    at = data.find(b"PK\x03\x04")
    (flags,) = struct.unpack_from("<H", data, at + 6)
    struct.pack_into("<H", data, at + 6, flags | 0x800)
    data[data.find(b"manifest.json", at)] = 0xFF
    return bytes(data)


@pytest.mark.parametrize("make", [_central_flag_bit_5, _local_utf8_name_not_utf8])
def test_a_hostile_zip_header_is_refused_as_a_bundle_not_a_crash(
    hub_app: Flask, tmp_path: Path, make
):
    path = tmp_path / "hostile.zip"
    path.write_bytes(make())
    with pytest.raises(BundleRefused):
        import_bundle(hub_app.extensions["pendamping"], path)


# -- (3) protocol: quiet writes for a client that never asked for them ----------------------------


def test_a_client_that_asks_for_full_receipts_still_gets_its_records_back_in_pull(
    laptops, hub_app: Flask
):
    ani = laptops.enroll("ani")
    bid = ani.store.add("beneficiary", beneficiary())
    (batch,) = ani.store.outbox_batches(10**7)
    # The push body of a client before issue 5: no "receipts" key (docs/protocol.md: "Old
    # clients that do not ask get the full form"). Such a client does not fold receipts;
    # it keeps the change 'acked' until the record comes back in a pull.
    body = (
        '{"protocol":1,"schema_version":1,"changes":[' + ",".join(batch.changes_json) + "]}"
    ).encode()
    headers = {
        "Authorization": f"Bearer {ani.store.identity.token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    client = hub_app.test_client()
    pushed = client.post(PUSH, data=gzip.compress(body), headers=headers)
    assert pushed.status_code == 200 and "receipts" in pushed.get_json()

    auth = {"Authorization": headers["Authorization"]}
    page = client.get(PULL, query_string={"since": 0}, headers=auth).get_json()
    assert bid in [r["id"] for r in page["records"]]
