"""tus photo uploads on the hub through the Flask test client: every answer, every refusal.

Each call goes through :func:`call`, which fails the test on any 5xx and checks that every
error carries the hub's JSON body and every answer the tus version.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import openapi_spec_validator
import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from server.attachments import upload_id_for

CREATE = "/api/v1/attachments"
OCTETS = "application/offset+octet-stream"


def jpeg(size: int, seed: int = 0) -> bytes:
    """`size` bytes that sniff as a JPEG: the marker, then noise."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    return head + hashlib.shake_256(str(seed).encode()).digest(size - len(head))


PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(200)
WEBP = b"RIFF\x00\x10\x00\x00WEBPVP8 " + os.urandom(200)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def metadata(**values: str) -> str:
    return ",".join(f"{k} {base64.b64encode(v.encode()).decode()}" for k, v in values.items())


@dataclass
class Laptop:
    """One enrolled device, speaking tus through the test client."""

    client: FlaskClient
    token: str
    device_id: str

    def call(self, method: str, path: str, body: bytes | None = None, **headers) -> TestResponse:
        sent = {"Authorization": f"Bearer {self.token}", "Tus-Resumable": "1.0.0"}
        sent.update({k.replace("_", "-"): v for k, v in headers.items() if v is not None})
        return call(self.client, method, path, body, sent)

    def create(self, data: bytes, media_type: str = "image/jpeg", **extra) -> TestResponse:
        return self.call(
            "POST",
            CREATE,
            Upload_Length=str(extra.pop("length", len(data))),
            Upload_Metadata=metadata(sha256=extra.pop("sha256", sha(data)), media_type=media_type),
            **extra,
        )

    def patch(self, location: str, offset: int, chunk: bytes, **extra) -> TestResponse:
        headers = {"Content_Type": OCTETS, "Upload_Offset": str(offset), **extra}
        return self.call("PATCH", location, chunk, **headers)

    def head(self, location: str) -> TestResponse:
        return self.call("HEAD", location)

    def upload(self, data: bytes, chunk: int = 1000, media_type: str = "image/jpeg") -> str:
        location = self.create(data, media_type).headers["Location"]
        for offset in range(0, len(data), chunk):
            assert self.patch(location, offset, data[offset : offset + chunk]).status_code == 204
        return location


def call(client: FlaskClient, method: str, path: str, body: bytes | None, headers) -> TestResponse:
    response = client.open(path, method=method, data=body, headers=headers)
    assert response.status_code < 500, response.get_data(as_text=True)
    assert response.headers.get("Tus-Resumable") == "1.0.0"
    if response.status_code >= 400 and method != "HEAD":
        error = response.get_json()
        assert {"code", "error", "message"} <= set(error), error
    return response


@pytest.fixture
def enroll(hub_app: Flask, add_user) -> Callable[[str], Laptop]:
    def make(name: str) -> Laptop:
        client = hub_app.test_client()
        answer = client.post(
            "/api/v1/enroll", json={"code": add_user(name), "device_name": f"laptop-{name}"}
        ).get_json()
        return Laptop(client, answer["token"], answer["device_id"])

    return make


@pytest.fixture
def siti(enroll) -> Laptop:
    return enroll("siti")


@pytest.fixture
def blobs(hub_app: Flask) -> Path:
    return Path(hub_app.config["DATA_DIR"]) / "attachments" / "blobs"


@pytest.fixture
def uploads(hub_app: Flask) -> Path:
    return Path(hub_app.config["DATA_DIR"]) / "attachments" / "uploads"


# -- discovery and creation -----------------------------------------------------------------


def test_options_says_tus_1_0_with_creation_and_the_size_limit(hub_app: Flask):
    response = call(hub_app.test_client(), "OPTIONS", CREATE, None, {})
    assert response.status_code == 204
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.headers["Tus-Extension"] == "creation"
    assert response.headers["Tus-Max-Size"] == str(20 * 1024 * 1024)


def test_creating_an_upload_answers_201_with_its_location_and_head_says_nothing_yet(
    siti: Laptop,
):
    data = jpeg(5000)
    created = siti.create(data)
    location = created.headers["Location"]
    assert created.status_code == 201
    assert location == f"/api/v1/attachments/{upload_id_for(siti.device_id, sha(data))}"

    head = siti.head(location)
    assert head.status_code == 200
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("0", "5000")
    assert head.headers["Cache-Control"] == "no-store"


def test_an_upload_in_chunks_ends_as_a_blob_named_by_its_sha256(siti: Laptop, blobs, uploads):
    data = jpeg(2500)
    location = siti.create(data, filename=None).headers["Location"]

    first = siti.patch(location, 0, data[:1000])
    last = siti.patch(location, 1000, data[1000:])

    assert (first.status_code, first.headers["Upload-Offset"]) == (204, "1000")
    assert (last.status_code, last.headers["Upload-Offset"]) == (204, "2500")
    assert sha((blobs / sha(data)).read_bytes()) == sha(data)
    meta = json.loads((blobs / f"{sha(data)}.json").read_text())
    assert meta["size"] == 2500 and meta["media_type"] == "image/jpeg"
    assert meta["device_id"] == siti.device_id and meta["uploaded_at"]
    assert not list(uploads.glob("*.part"))
    assert siti.head(location).headers["Upload-Offset"] == "2500"


def test_a_broken_off_upload_resumes_from_the_offset_the_hub_holds(siti: Laptop, blobs):
    data = jpeg(4000)
    location = siti.create(data).headers["Location"]
    siti.patch(location, 0, data[:3000])  # then the link died

    offset = int(siti.head(location).headers["Upload-Offset"])
    siti.patch(location, offset, data[offset:])

    assert offset == 3000
    assert (blobs / sha(data)).read_bytes() == data


def test_creating_the_same_photo_again_finds_the_same_upload_and_keeps_its_bytes(siti: Laptop):
    data = jpeg(3000)
    location = siti.create(data).headers["Location"]
    siti.patch(location, 0, data[:1200])

    again = siti.create(data)

    assert (again.status_code, again.headers["Location"]) == (201, location)
    assert siti.head(location).headers["Upload-Offset"] == "1200"


def test_a_photo_the_hub_already_holds_needs_no_byte_from_a_second_laptop(siti: Laptop, enroll):
    data = WEBP
    siti.upload(data, media_type="image/webp")
    budi = enroll("budi")

    created = budi.create(data, media_type="image/webp")
    head = budi.head(created.headers["Location"])

    assert created.status_code == 201
    assert head.headers["Upload-Offset"] == head.headers["Upload-Length"] == str(len(data))


def test_a_long_filename_is_kept_to_its_first_200_characters(siti: Laptop, uploads):
    data = jpeg(3000)
    response = siti.call(
        "POST",
        CREATE,
        Upload_Length=str(len(data)),
        Upload_Metadata=metadata(sha256=sha(data), media_type="image/jpeg", filename="r" * 5000),
    )
    assert response.status_code == 201
    (sidecar,) = uploads.glob("*.json")
    assert json.loads(sidecar.read_text())["filename"] == "r" * 200


def test_a_finished_upload_keeps_nothing_in_uploads(siti: Laptop, enroll, blobs, uploads):
    data = jpeg(2500)
    location = siti.upload(data)
    budi = enroll("budi")
    again = budi.create(data)  # a photo the hub holds: complete from the start

    assert list(uploads.iterdir()) == []
    assert siti.head(location).headers["Upload-Offset"] == "2500"
    assert budi.head(again.headers["Location"]).headers["Upload-Offset"] == "2500"
    assert budi.head(location).status_code == 404  # siti's upload, not budi's
    assert list(uploads.iterdir()) == []
    assert sorted(p.name for p in blobs.iterdir()) == [sha(data), f"{sha(data)}.json"]


def test_files_a_finished_upload_left_behind_go_at_its_next_head(siti: Laptop, uploads):
    data = jpeg(2500)
    location = siti.upload(data)
    upload_id = location.rsplit("/", 1)[1]
    (uploads / f"{upload_id}.json").write_text(  # as a hub before this change left it
        json.dumps(
            {
                "device_id": siti.device_id,
                "sha256": sha(data),
                "media_type": "image/jpeg",
                "upload_length": 2500,
                "created_at": "2026-11-23T00:00:00Z",
            }
        )
    )

    assert siti.head(location).headers["Upload-Offset"] == "2500"
    assert list(uploads.iterdir()) == []


def test_a_second_creation_naming_another_length_starts_the_upload_afresh(siti: Laptop):
    data = jpeg(3000)
    location = siti.create(data).headers["Location"]
    siti.patch(location, 0, data[:1000])

    siti.create(data, length=2999)

    head = siti.head(location)
    assert (head.headers["Upload-Offset"], head.headers["Upload-Length"]) == ("0", "2999")


# -- refusals -------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "0.2.2", "2.0.0"])
def test_a_request_without_tus_1_0_0_is_412_listing_the_version_spoken(siti: Laptop, version):
    response = siti.create(jpeg(100), Tus_Resumable=version or "")
    assert response.status_code == 412
    assert response.headers["Tus-Version"] == "1.0.0"
    assert response.get_json()["error"] == "tus_version_unsupported"
    assert "Tus-Resumable" in response.get_json()["errors"]


def test_a_request_without_a_token_is_401(hub_app: Flask):
    response = call(hub_app.test_client(), "POST", CREATE, None, {"Tus-Resumable": "1.0.0"})
    assert response.status_code == 401


def test_a_photo_over_the_limit_is_413_before_any_byte_is_sent(siti: Laptop):
    response = siti.create(b"", length=20 * 1024 * 1024 + 1, sha256="a" * 64)
    assert response.status_code == 413
    assert response.get_json()["error"] == "too_large"
    assert "Upload-Length" in response.get_json()["errors"]


def test_a_media_type_not_taken_is_415_naming_media_type(siti: Laptop):
    response = siti.create(jpeg(100), media_type="image/gif")
    assert response.status_code == 415
    assert response.get_json()["error"] == "media_type_not_allowed"
    assert "media_type" in response.get_json()["errors"]


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        (
            {"Upload_Length": "banyak", "Upload_Metadata": metadata(sha256="a" * 64)},
            "Upload-Length",
        ),
        ({"Upload_Length": "-5"}, "Upload-Length"),
        (
            {
                "Upload_Length": "0",
                "Upload_Metadata": metadata(sha256="a" * 64, media_type="image/png"),
            },
            "Upload-Length",
        ),
        ({"Upload_Length": "10", "Upload_Metadata": "sha256 !!!"}, "Upload-Metadata"),
        ({"Upload_Length": "10", "Upload_Metadata": metadata(media_type="image/png")}, "sha256"),
        ({"Upload_Length": "10", "Upload_Metadata": metadata(sha256="a" * 64)}, "media_type"),
        (
            {
                "Upload_Length": "10",
                "Upload_Metadata": metadata(sha256="ABC", media_type="image/png"),
            },
            "sha256",
        ),
    ],
)
def test_a_creation_with_bad_headers_is_422_naming_the_header(siti: Laptop, headers, field):
    response = siti.call("POST", CREATE, **headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


def test_a_patch_at_the_wrong_offset_is_409_and_writes_nothing(siti: Laptop):
    data = jpeg(3000)
    location = siti.create(data).headers["Location"]
    siti.patch(location, 0, data[:1000])

    response = siti.patch(location, 500, data[500:1500])

    assert response.status_code == 409
    assert "Upload-Offset" in response.get_json()["errors"]
    assert siti.head(location).headers["Upload-Offset"] == "1000"


def test_a_patch_that_is_not_offset_octets_is_415(siti: Laptop):
    data = jpeg(3000)
    location = siti.create(data).headers["Location"]
    response = siti.patch(location, 0, data, Content_Type="application/octet-stream")
    assert response.status_code == 415
    assert response.get_json()["error"] == "bad_content_type"


def test_a_patch_without_an_offset_is_422_naming_it(siti: Laptop):
    location = siti.create(jpeg(100)).headers["Location"]
    response = siti.call("PATCH", location, b"x", Content_Type=OCTETS)
    assert response.status_code == 422
    assert "Upload-Offset" in response.get_json()["errors"]


def test_bytes_beyond_the_announced_length_are_413(siti: Laptop):
    data = jpeg(1000)
    location = siti.create(data).headers["Location"]
    response = siti.patch(location, 0, data + b"extra")
    assert response.status_code == 413
    assert siti.head(location).headers["Upload-Offset"] == "0"


def test_a_sha256_mismatch_at_the_end_is_460_and_the_upload_is_discarded(
    siti: Laptop, blobs, uploads
):
    data = jpeg(2000)
    spoiled = data[:-1] + b"\x00"
    location = siti.create(data).headers["Location"]
    siti.patch(location, 0, spoiled[:1000])

    response = siti.patch(location, 1000, spoiled[1000:])

    assert response.status_code == 460
    assert response.get_json()["error"] == "checksum_mismatch"
    assert "sha256" in response.get_json()["errors"]
    assert siti.head(location).status_code == 404
    assert not list(blobs.iterdir()) and not list(uploads.iterdir())
    assert siti.create(data).headers["Location"] == location
    assert siti.head(location).headers["Upload-Offset"] == "0"


def test_bytes_that_are_not_the_declared_type_are_refused_at_the_first_chunk(siti: Laptop):
    data = jpeg(3000)
    location = siti.create(data, media_type="image/png").headers["Location"]

    response = siti.patch(location, 0, data[:1000])

    assert response.status_code == 415
    assert response.get_json()["error"] == "media_type_mismatch"
    assert "media_type" in response.get_json()["errors"]
    assert siti.head(location).status_code == 404


def test_the_type_is_checked_at_the_end_when_the_first_chunk_was_too_short_to_tell(
    siti: Laptop, blobs
):
    data = PNG
    location = siti.create(data, media_type="image/webp").headers["Location"]
    assert siti.patch(location, 0, data[:4]).status_code == 204

    response = siti.patch(location, 4, data[4:])

    assert response.status_code == 415
    assert not (blobs / sha(data)).exists()


def test_another_devices_upload_is_404_to_head_and_patch(siti: Laptop, enroll):
    data = jpeg(2000)
    location = siti.create(data).headers["Location"]
    budi = enroll("budi")

    assert budi.head(location).status_code == 404
    assert budi.patch(location, 0, data).status_code == 404
    assert siti.head(location).headers["Upload-Offset"] == "0"


@pytest.mark.parametrize("upload_id", ["0" * 32, "A" * 32, "abc", "." * 32])
def test_an_unknown_or_malformed_upload_id_is_404(siti: Laptop, upload_id):
    assert siti.head(f"{CREATE}/{upload_id}").status_code == 404
    assert siti.patch(f"{CREATE}/{upload_id}", 0, b"x").status_code == 404


def test_an_upload_id_that_climbs_out_of_the_folder_reaches_no_file(siti: Laptop):
    response = siti.client.head(
        f"{CREATE}/..%2F..%2Fhub.sqlite3",
        headers={"Authorization": f"Bearer {siti.token}", "Tus-Resumable": "1.0.0"},
    )
    assert response.status_code == 404


def test_the_openapi_spec_lists_the_tus_endpoints(hub_app: Flask):
    spec = hub_app.test_client().get("/openapi.json").get_json()
    assert set(spec["paths"][CREATE]) >= {"options", "post"}
    assert set(spec["paths"][f"{CREATE}/{{upload_id}}"]) >= {"head", "patch"}
    openapi_spec_validator.validate(spec)
