"""A photo whose last chunk landed but was never finished is not marked sent."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask

from client_sync.photos import attach, list_photos
from server.attachments import AttachmentStore
from tests.conftest import beneficiary


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

    store: AttachmentStore = hub_app.extensions["pendamping"].attachments
    (row,) = list_photos(siti.store)
    assert row["state"] == "uploaded"  # the laptop will never send it again...
    assert store.blob_path(digest) is not None, "...yet the hub holds no such photo"
