"""Photos on the laptop: attaching at the doorstep, and the tus upload that survives cuts.

The laptop and the hub run in one process through :class:`WsgiTransport`; a wrapper counts
the bytes each PATCH carries, and :class:`FlakyTransport` cuts the link mid-photo. Test data
is made in `tmp_path` (noise behind a JPEG marker), never kept in the repository.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

import pytest
from flask import Flask

from client_sync import FieldDevice
from client_sync.engine import SyncResult, pull_all, push_outbox
from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.hub import HubClient
from client_sync.photos import InvalidPhoto, attach, list_photos, pending_files, upload_pending
from client_sync.transport import RawResponse
from server.app import create_app
from tests.conftest import beneficiary, visit
from tests.support.transports import FlakyTransport, WsgiTransport

CHUNK = 256 * 1024
FIVE_MB = 5 * 1024 * 1024


def write_jpeg(folder: Path, size: int, name: str = "foto.jpg", seed: int = 0) -> Path:
    """A file of `size` bytes that sniffs as a JPEG: the marker, then noise."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    path = folder / name
    path.write_bytes(head + hashlib.shake_256(str(seed).encode()).digest(size - len(head)))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class CountingTransport:
    """Passes requests on and remembers the size of every PATCH the hub took."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.patched: list[int] = []
        self.methods: list[str] = []

    def send(self, method: str, path: str, **kwargs) -> RawResponse:
        self.methods.append(method)
        response = self.inner.send(method, path, **kwargs)
        if method == "PATCH" and response.status == 204:
            self.patched.append(len(kwargs.get("body") or b""))
        return response

    def close(self) -> None:
        self.inner.close()


class EchoingTransport(CountingTransport):
    """Sends the n-th PATCH twice, as urllib3 does when a read times out after the hub
    took it, and hands back the second answer."""

    def __init__(self, inner, n: int) -> None:
        super().__init__(inner)
        self.n = n

    def send(self, method: str, path: str, **kwargs) -> RawResponse:
        response = super().send(method, path, **kwargs)
        if method == "PATCH" and self.methods.count("PATCH") == self.n:
            return self.inner.send(method, path, **kwargs)
        return response


def nth_patch(n: int, mode: str):
    """A FlakyTransport rule that fails the n-th PATCH, in `mode`, and nothing else."""
    seen = {"patches": 0}

    def fail(_call: int, method: str, _path: str) -> str | None:
        if method != "PATCH":
            return None
        seen["patches"] += 1
        return mode if seen["patches"] == n else None

    return fail


@pytest.fixture
def hub_config() -> Mapping[str, object]:
    """Settings for this module's hub; a test parametrizes it to change the limits."""
    return {}


@pytest.fixture
def hub_app(tmp_path: Path, hub_config):
    app = create_app({"DATA_DIR": tmp_path / "hub", "TESTING": True, **hub_config})
    yield app
    app.extensions["pendamping"].storage.close()


@pytest.fixture
def siti(laptops) -> FieldDevice:
    return laptops.enroll("siti")


@pytest.fixture
def camera(tmp_path: Path) -> Path:
    folder = tmp_path / "kamera"
    folder.mkdir()
    return folder


@pytest.fixture
def synced_house(siti: FieldDevice) -> str:
    """A beneficiary the hub already holds."""
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    return bid


def hub_for(dev: FieldDevice, transport) -> HubClient:
    return HubClient(transport, dev.store.identity.token)


def blob(hub_app: Flask, digest: str) -> Path:
    return Path(hub_app.config["DATA_DIR"]) / "attachments" / "blobs" / digest


def push_records(dev: FieldDevice) -> None:
    """Push and pull the records only: a whole `sync()` would send the photos too."""
    hub = hub_for(dev, dev._transport_factory(dev.store.identity.hub_url))
    push_outbox(dev.store, hub, SyncResult())
    pull_all(dev.store, hub, SyncResult())


def attach_and_sync(dev: FieldDevice, bid: str, photo: Path, kind: str = "rumah") -> str:
    digest = attach(dev.store, "beneficiary", bid, photo, kind)
    push_records(dev)  # the reference reaches the hub first
    return digest


# -- attaching ------------------------------------------------------------------------------


def test_attaching_keeps_a_copy_queues_it_and_references_it_in_the_record(siti, camera):
    bid = siti.store.add("beneficiary", beneficiary())
    photo = write_jpeg(camera, 40_000)

    digest = attach(siti.store, "beneficiary", bid, photo, "rumah")

    kept = siti.home / "attachments" / digest
    assert digest == sha(photo) and kept.read_bytes() == photo.read_bytes()
    assert siti.store.get("beneficiary", bid)["attachments"] == [digest]
    assert [(p.sha256, p.path, p.media_type, p.size) for p in pending_files(siti.store)] == [
        (digest, kept, "image/jpeg", 40_000)
    ]
    row = list_photos(siti.store)[0]
    assert (row["kind"], row["state"], row["bytes_sent"]) == ("rumah", "pending", 0)


def test_the_handover_photo_and_the_signature_join_a_device_request(siti, camera):
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "kruk"})
    handover = attach(
        siti.store, "device_request", rid, write_jpeg(camera, 3000, "a.jpg", 1), "serah_terima"
    )
    signature = attach(
        siti.store, "device_request", rid, write_jpeg(camera, 3000, "b.jpg", 2), "tanda_tangan"
    )

    assert siti.store.get("device_request", rid)["attachments"] == [handover, signature]


def test_attaching_the_same_photo_twice_keeps_one_copy_and_one_reference(siti, camera):
    vid = siti.store.add("visit", visit(siti.store.add("beneficiary", beneficiary())))
    photo = write_jpeg(camera, 5000)

    first = attach(siti.store, "visit", vid, photo, "lainnya")
    second = attach(siti.store, "visit", vid, photo, "lainnya")

    assert first == second
    assert siti.store.get("visit", vid)["attachments"] == [first]
    assert len(list_photos(siti.store)) == 1


@pytest.mark.parametrize(
    ("content", "kind", "field"),
    [
        (b"bukan foto, hanya teks biasa", "rumah", "file"),
        (b"", "rumah", "file"),
        (b"GIF89a" + b"\x00" * 50, "rumah", "file"),
        (b"\xff\xd8\xff" + b"\x00" * 50, "selfie", "kind"),
    ],
)
def test_a_file_that_is_not_a_photo_or_a_kind_not_known_is_refused_and_nothing_queued(
    siti, camera, content, kind, field
):
    bid = siti.store.add("beneficiary", beneficiary())
    path = camera / "berkas"
    path.write_bytes(content)
    pending = siti.store.pending_count()

    with pytest.raises(InvalidPhoto) as refused:
        attach(siti.store, "beneficiary", bid, path, kind)

    assert field in refused.value.errors
    assert list_photos(siti.store) == [] and siti.store.pending_count() == pending
    assert "attachments" not in siti.store.get("beneficiary", bid)


def test_a_photo_over_the_size_limit_is_refused_naming_the_file(siti, camera):
    bid = siti.store.add("beneficiary", beneficiary())
    with pytest.raises(InvalidPhoto) as refused:
        attach(siti.store, "beneficiary", bid, write_jpeg(camera, 3000), "rumah", max_bytes=2000)
    assert "file" in refused.value.errors
    assert not (siti.home / "attachments").exists() or not any(
        (siti.home / "attachments").iterdir()
    )


def test_a_photo_for_a_record_that_does_not_exist_is_refused(siti, camera):
    with pytest.raises(RecordNotFound):
        attach(
            siti.store,
            "visit",
            "9f1e0000-0000-4000-8000-000000000000",
            write_jpeg(camera, 900),
            "rumah",
        )
    assert list_photos(siti.store) == []


def test_a_photo_its_record_cannot_take_is_neither_queued_nor_kept(siti, camera):
    full = [hashlib.sha256(str(n).encode()).hexdigest() for n in range(50)]
    bid = siti.store.add("beneficiary", beneficiary(attachments=full))
    pending = siti.store.pending_count()

    with pytest.raises(InvalidRecord) as refused:
        attach(siti.store, "beneficiary", bid, write_jpeg(camera, 900), "rumah")

    assert "attachments" in refused.value.errors
    assert list_photos(siti.store) == []
    assert siti.store.pending_count() == pending
    assert siti.store.get("beneficiary", bid)["attachments"] == full
    assert not any((siti.home / "attachments").glob("*"))


# -- uploading ------------------------------------------------------------------------------


def test_a_photo_of_a_synced_record_uploads_and_the_hub_holds_it_whole(
    siti, synced_house, camera, hub_app
):
    photo = write_jpeg(camera, 700_000)
    digest = attach_and_sync(siti, synced_house, photo)
    photo.unlink()  # the camera's copy may go: the laptop kept its own
    seen: list[int] = []

    summary = upload_pending(
        siti.store,
        hub_for(siti, WsgiTransport(hub_app)),
        progress=lambda _sha, offset, _size: seen.append(offset),
    )

    assert (summary.sent, summary.bytes_sent, summary.refused) == (1, 700_000, 0)
    assert (summary.pending, summary.interrupted) == (0, False)
    assert seen == [CHUNK, 2 * CHUNK, 700_000]
    assert hashlib.sha256(blob(hub_app, digest).read_bytes()).hexdigest() == digest
    row = list_photos(siti.store)[0]
    assert (row["state"], row["bytes_sent"], row["error"]) == ("uploaded", 700_000, None)
    assert row["uploaded_at"]
    assert pending_files(siti.store) == []
    assert upload_pending(siti.store, hub_for(siti, WsgiTransport(hub_app))).sent == 0


def test_a_photo_waits_while_its_record_is_still_pending_in_the_outbox(siti, camera, hub_app):
    bid = siti.store.add("beneficiary", beneficiary())
    attach(siti.store, "beneficiary", bid, write_jpeg(camera, 5000), "rumah")
    transport = CountingTransport(WsgiTransport(hub_app))

    waiting = upload_pending(siti.store, hub_for(siti, transport))

    assert (waiting.sent, waiting.pending) == (0, 1)
    assert transport.methods == []
    push_records(siti)
    assert upload_pending(siti.store, hub_for(siti, transport)).sent == 1


def test_a_sync_round_sends_the_record_then_its_photo(siti, camera, hub_app):
    bid = siti.store.add("beneficiary", beneficiary())
    digest = attach(siti.store, "beneficiary", bid, write_jpeg(camera, 50_000), "rumah")

    result = siti.sync()

    assert (result.pushed, result.photos_sent, result.photos_waiting) == (2, 1, 0)
    assert result.photo_bytes == 50_000
    assert blob(hub_app, digest).exists()


@pytest.mark.parametrize("lost", ["request", "response"])
def test_a_5mb_photo_cut_at_80_percent_resumes_sending_at_most_a_quarter(
    siti, synced_house, camera, hub_app, lost
):
    photo = write_jpeg(camera, FIVE_MB)
    digest = attach_and_sync(siti, synced_house, photo)
    cut = FlakyTransport(WsgiTransport(hub_app), nth_patch(17, lost))

    first = upload_pending(siti.store, hub_for(siti, cut))

    assert (first.sent, first.interrupted, first.pending) == (0, True, 1)
    assert first.bytes_sent == 16 * CHUNK  # 80%: what the hub confirmed
    assert list_photos(siti.store)[0]["state"] == "pending"

    resumed = CountingTransport(WsgiTransport(hub_app))
    second = upload_pending(siti.store, hub_for(siti, resumed))

    assert second.sent == 1
    assert resumed.methods[0] == "HEAD"  # the URL was kept: no new creation
    assert sum(resumed.patched) == second.bytes_sent <= FIVE_MB // 4
    assert hashlib.sha256(blob(hub_app, digest).read_bytes()).hexdigest() == digest


def test_a_hub_that_lost_the_upload_gets_it_created_again(siti, synced_house, camera, hub_app):
    digest = attach_and_sync(siti, synced_house, write_jpeg(camera, 3 * CHUNK))
    upload_pending(
        siti.store, hub_for(siti, FlakyTransport(WsgiTransport(hub_app), nth_patch(2, "request")))
    )
    uploads = Path(hub_app.config["DATA_DIR"]) / "attachments" / "uploads"
    for leftover in uploads.iterdir():
        leftover.unlink()  # the office restored an old backup

    summary = upload_pending(siti.store, hub_for(siti, WsgiTransport(hub_app)))

    assert (summary.sent, summary.bytes_sent) == (1, 3 * CHUNK)
    assert blob(hub_app, digest).is_file()


def test_a_photo_the_hub_already_holds_is_marked_sent_without_sending_a_byte(
    laptops, siti, synced_house, camera, hub_app
):
    photo = write_jpeg(camera, 9000)
    attach_and_sync(siti, synced_house, photo)
    upload_pending(siti.store, hub_for(siti, WsgiTransport(hub_app)))
    budi = laptops.enroll("budi")
    budi.sync()
    attach_and_sync(budi, synced_house, photo, "lainnya")
    transport = CountingTransport(WsgiTransport(hub_app))

    summary = upload_pending(budi.store, hub_for(budi, transport))

    assert (summary.sent, summary.bytes_sent, transport.patched) == (1, 0, [])


@pytest.mark.parametrize("hub_config", [{"ATTACHMENT_TYPES": ["image/jpeg"]}])
def test_a_photo_the_hub_refuses_is_marked_refused_with_its_message_and_kept(
    siti, synced_house, camera, hub_app
):
    png = camera / "ttd.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x01" * 500)
    digest = attach_and_sync(siti, synced_house, png, "tanda_tangan")

    summary = upload_pending(siti.store, hub_for(siti, WsgiTransport(hub_app)))

    assert (summary.sent, summary.refused, summary.pending) == (0, 1, 0)
    row = list_photos(siti.store)[0]
    assert row["state"] == "refused" and "image/png" in row["error"]
    assert (siti.home / "attachments" / digest).is_file()


def test_a_photo_spoiled_on_the_laptop_is_refused_after_the_hub_finds_the_mismatch(
    siti, synced_house, camera, hub_app
):
    digest = attach_and_sync(siti, synced_house, write_jpeg(camera, 2000))
    kept = siti.home / "attachments" / digest
    kept.write_bytes(kept.read_bytes()[:-1] + b"\x00")  # a failing disk

    summary = upload_pending(siti.store, hub_for(siti, WsgiTransport(hub_app)))

    assert summary.refused == 1
    assert "sha256" in list_photos(siti.store)[0]["error"]
    assert kept.is_file() and not blob(hub_app, digest).exists()


def test_a_chunk_resent_after_it_had_landed_gets_409_and_the_laptop_asks_where_to_go_on(
    siti, synced_house, camera, hub_app
):
    digest = attach_and_sync(siti, synced_house, write_jpeg(camera, 3 * CHUNK))
    transport = EchoingTransport(WsgiTransport(hub_app), n=2)

    summary = upload_pending(siti.store, hub_for(siti, transport))

    assert (summary.sent, summary.interrupted) == (1, False)
    assert transport.methods == ["POST", "HEAD", "PATCH", "PATCH", "HEAD", "PATCH"]
    assert hashlib.sha256(blob(hub_app, digest).read_bytes()).hexdigest() == digest


def test_a_busy_hub_stops_the_round_and_the_photo_keeps_waiting(
    siti, synced_house, camera, hub_app
):
    attach_and_sync(siti, synced_house, write_jpeg(camera, 2 * CHUNK))

    class Busy(CountingTransport):
        def send(self, method: str, path: str, **kwargs) -> RawResponse:
            if method == "PATCH":
                return RawResponse(429, b'{"error": "too_many_requests"}', {"Retry-After": "5"})
            return super().send(method, path, **kwargs)

    summary = upload_pending(siti.store, hub_for(siti, Busy(WsgiTransport(hub_app))))

    assert (summary.interrupted, summary.refused, summary.pending) == (True, 0, 1)
    assert list_photos(siti.store)[0]["state"] == "pending"
