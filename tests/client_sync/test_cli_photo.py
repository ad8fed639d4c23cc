"""`pendamping photo add | list`, driven through `main([...])` as a pendamping would, offline."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.cli import EXIT_INVALID, main
from tests.conftest import beneficiary
from tests.support.transports import WsgiTransport


@pytest.fixture
def home(hub_app, add_user, tmp_path: Path) -> Path:
    """An enrolled laptop whose recorded hub is unreachable: photos need no network."""
    FieldDevice.enroll(
        tmp_path / "laptop",
        "http://127.0.0.1:9",
        add_user("sari"),
        "laptop-sari",
        lambda _url: WsgiTransport(hub_app),
    ).close()
    return tmp_path / "laptop"


@pytest.fixture
def house(home: Path) -> str:
    with FieldDevice.open(home) as dev:
        return dev.store.add("beneficiary", beneficiary())


def run(capsys, *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out = capsys.readouterr()
    return code, out.out, out.err


def add(capsys, home: Path, record_id: str, photo: Path, kind: str) -> tuple[int, str, str]:
    return run(
        capsys, "--home", home, "photo", "add", "beneficiary", record_id, photo, "--kind", kind
    )


def test_photo_add_prints_the_sha256_last_and_list_shows_it_waiting(home, house, tmp_path, capsys):
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(300_000))

    code, out, err = add(capsys, home, house, photo, "rumah")

    assert code == 0, err
    digest = out.split()[-1]
    assert len(digest) == 64 and "penerima manfaat" in out and "image/jpeg" in out
    code, out, _ = run(capsys, "--home", home, "photo", "list")
    assert code == 0 and digest[:12] in out and "menunggu" in out and "0.0 MiB (0%)" in out
    code, out, _ = run(capsys, "--home", home, "photo", "list", "--json")
    assert json.loads(out)[0]["sha256"] == digest


def test_photo_add_refuses_a_file_that_is_not_a_photo_naming_the_file(
    home, house, tmp_path, capsys
):
    text = tmp_path / "catatan.txt"
    text.write_text("bukan foto")

    code, _, err = add(capsys, home, house, text, "rumah")

    assert code == EXIT_INVALID
    assert err.startswith("file: ") and "JPEG" in err
    assert run(capsys, "--home", home, "photo", "list")[1].strip() == "Belum ada foto."


def test_photo_add_needs_a_known_kind(home, house, tmp_path, capsys):
    photo = tmp_path / "x.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(100))
    code, _, err = add(capsys, home, house, photo, "selfie")
    assert code == EXIT_INVALID and "--kind" in err


def test_status_counts_photos_waiting_and_changes_carried_in_a_bundle(
    home, house, tmp_path, capsys
):
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(1000))
    assert add(capsys, home, house, photo, "rumah")[0] == 0
    assert run(capsys, "--home", home, "export-bundle", tmp_path / "stick.zip")[0] == 0

    code, out, _ = run(capsys, "--home", home, "status")
    _, as_json, _ = run(capsys, "--home", home, "status", "--json")

    assert code == 0
    assert "Sudah di bundle USB, menunggu konfirmasi hub: 2 perubahan" in out
    assert "Foto menunggu dikirim: 1" in out
    info = json.loads(as_json)
    assert (info["in_bundle"], info["photos_waiting"], info["photos_refused"]) == (2, 1, 0)


def test_a_bundle_carries_the_photos_of_a_home_given_as_a_relative_path(
    hub_app, add_user, tmp_path, capsys, monkeypatch
):
    monkeypatch.chdir(tmp_path)
    FieldDevice.enroll(
        "laptop",
        "http://127.0.0.1:9",
        add_user("sari"),
        "laptop-sari",
        lambda _url: WsgiTransport(hub_app),
    ).close()
    with FieldDevice.open("laptop") as dev:
        record = dev.store.add("beneficiary", beneficiary())
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0" + bytes(1000))
    assert add(capsys, Path("laptop"), record, photo, "rumah")[0] == 0

    code, out, err = run(capsys, "--home", "laptop", "export-bundle", "stick.zip")

    assert code == 0, err
    assert "1 foto" in out or '"photos": 1' in out
