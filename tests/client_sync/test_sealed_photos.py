"""Photos kept on an encrypted laptop are sealed at rest, and still upload and bundle whole."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from client_sync.bundle import export_bundle
from client_sync.photos import attach
from client_sync.sealed import SEGMENT, SealedError, new_key, open_plain, seal_into
from server.bundle import import_bundle
from tests.conftest import beneficiary

PASSPHRASE = "kopi-tubruk-2026"
NIK = b"3171014508450001"
NAME = b"Ibu Sri Wahyuni"


@pytest.fixture(autouse=True)
def _no_passphrase_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)


def ktp_photo(folder: Path) -> Path:
    """A JPEG whose bytes spell a NIK and a name, as a photo of a KTP may."""
    path = folder / "ktp.jpg"
    noise = hashlib.shake_256(b"ktp").digest(200_000)
    path.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00KTP " + NIK + b" " + NAME + noise)
    return path


def _seal(tmp_path: Path, data: bytes, key: bytes) -> tuple[Path, str]:
    sha = hashlib.sha256(data).hexdigest()
    path = tmp_path / sha
    with path.open("wb") as target:
        seal_into(key, sha, io.BytesIO(data), target)
    return path, sha


@given(
    size=st.integers(0, 3 * SEGMENT + 17),
    reads=st.lists(st.tuples(st.integers(0, 4 * SEGMENT), st.integers(1, 2 * SEGMENT)), max_size=6),
)
def test_a_sealed_file_reads_back_the_same_bytes_from_any_offset(tmp_path_factory, size, reads):
    tmp_path = tmp_path_factory.mktemp("sealed")
    data = hashlib.shake_256(str(size).encode()).digest(size)  # the same bytes on a replay
    key = new_key()
    path, sha = _seal(tmp_path, data, key)
    if size >= 32:  # 32 bytes of plaintext never stand in the sealed file
        assert data[:32] not in path.read_bytes()
    with open_plain(path, key, sha) as plain:
        assert plain.read() == data
        for offset, length in reads:
            plain.seek(offset)
            assert plain.read(length) == data[offset : offset + length]


def test_a_changed_byte_a_wrong_key_or_a_swapped_file_does_not_open(tmp_path):
    data = os.urandom(2 * SEGMENT + 5)
    key = new_key()
    path, sha = _seal(tmp_path, data, key)
    spoiled = bytearray(path.read_bytes())
    spoiled[len(spoiled) // 2] ^= 1
    damaged = tmp_path / "damaged"
    damaged.write_bytes(bytes(spoiled))

    for target, with_key, named in (
        (damaged, key, sha),
        (path, new_key(), sha),
        (path, key, "0" * 64),  # another photo's name: the segments are bound to their file
    ):
        with pytest.raises(SealedError), open_plain(target, with_key, named) as plain:
            plain.read()
    with pytest.raises(SealedError):
        open_plain(path, None, sha)


def test_a_photo_kept_plain_before_encryption_still_opens(tmp_path):
    path = tmp_path / "old"
    path.write_bytes(b"\xff\xd8\xff plain")
    with open_plain(path, new_key(), "x") as plain:
        assert plain.read() == b"\xff\xd8\xff plain"


def test_an_encrypted_laptop_keeps_a_ktp_photo_unreadable_and_still_uploads_it_whole(
    laptops, hub_app: Flask, tmp_path
):
    sari = laptops.enroll("sari", passphrase=PASSPHRASE)
    bid = sari.store.add("beneficiary", beneficiary())
    photo = ktp_photo(tmp_path)
    digest = attach(sari.store, "beneficiary", bid, photo, "lainnya")
    photo.unlink()  # the camera folder's copy is gone; only the laptop's remains

    copy = tmp_path / "copy"
    shutil.copytree(sari.home / "attachments", copy)
    kept = b"".join(p.read_bytes() for p in copy.rglob("*") if p.is_file())
    assert NIK not in kept and NAME not in kept

    result = sari.sync()

    assert result.photos_sent == 1
    blob = Path(hub_app.config["DATA_DIR"]) / "attachments" / "blobs" / digest
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == digest
    assert NIK in blob.read_bytes()  # the hub holds the photo itself, not the sealed file


def test_a_bundle_from_an_encrypted_laptop_carries_the_photo_itself(
    laptops, hub_app: Flask, tmp_path
):
    sari = laptops.enroll("sari", passphrase=PASSPHRASE)
    bid = sari.store.add("beneficiary", beneficiary())
    digest = attach(sari.store, "beneficiary", bid, ktp_photo(tmp_path), "lainnya")

    export_bundle(sari.store, sari.home, tmp_path / "stick.zip")
    state = hub_app.extensions["pendamping"]
    summary = import_bundle(
        state, tmp_path / "stick.zip", attachments=hub_app.extensions["pendamping"].attachments
    )

    assert summary.photos_stored == 1
    blob = Path(hub_app.config["DATA_DIR"]) / "attachments" / "blobs" / digest
    assert hashlib.sha256(blob.read_bytes()).hexdigest() == digest
