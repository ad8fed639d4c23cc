"""`pendamping wipe`: the laptop's data goes only once the hub holds it, or when forced.

Laptops are enrolled in-process (their recorded hub URL is not reachable); they sync through
the Python API, and `wipe` itself needs no network.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.bundle import export_bundle
from client_sync.cli import main
from client_sync.photos import attach
from tests.conftest import beneficiary


@dataclass
class Run:
    code: int
    out: str
    err: str


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    def invoke(*args: str | Path) -> Run:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return invoke


@pytest.fixture
def siti(laptops, monkeypatch: pytest.MonkeyPatch) -> FieldDevice:
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)
    dev = laptops.enroll("siti")
    yield dev
    dev.close()


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Callable[[str], None]:
    """Pretend stdin is a terminal on which the user types `text`."""

    def type_in(text: str) -> None:
        monkeypatch.setattr("client_sync.cli.wipe.interactive", lambda: True)
        monkeypatch.setattr("sys.stdin", io.StringIO(text))

    return type_in


def store_files(home: Path) -> list[str]:
    return sorted(p.name for p in home.glob("store.sqlite3*")) if home.exists() else []


def test_a_laptop_whose_work_is_all_on_the_hub_is_wiped_with_yes(siti: FieldDevice, run):
    siti.store.add("beneficiary", beneficiary())
    siti.sync()
    siti.close()

    result = run("--home", siti.home, "wipe", "--yes")

    assert result.code == 0, result.err
    assert "store.sqlite3" in result.out
    assert store_files(siti.home) == []


def test_wiping_asks_first_and_no_keeps_everything(siti: FieldDevice, run, terminal):
    siti.sync()
    siti.close()
    terminal("n\n")

    result = run("--home", siti.home, "wipe")

    assert result.code == 1
    assert "Tidak ada yang dihapus" in result.err
    assert "store.sqlite3" in store_files(siti.home)
    terminal("y\n")
    assert run("--home", siti.home, "wipe").code == 0
    assert store_files(siti.home) == []


def test_without_a_terminal_or_yes_nothing_is_wiped(siti: FieldDevice, run):
    siti.close()

    result = run("--home", siti.home, "wipe")

    assert result.code == 1
    assert "--yes" in result.err
    assert "store.sqlite3" in store_files(siti.home)


def test_undelivered_work_is_listed_and_nothing_is_wiped(siti: FieldDevice, run):
    siti.store.add("beneficiary", beneficiary())
    siti.store.add("beneficiary", beneficiary(nik="3171012201500002", name="Pak Harun"))
    siti.close()

    result = run("--home", siti.home, "wipe", "--yes")

    assert result.code == 1
    assert "2 perubahan belum terkirim" in result.err
    assert "export-bundle" in result.err and "--force" in result.err
    assert "Traceback" not in result.err
    with FieldDevice.open(siti.home) as again:
        assert again.store.pending_count() == 2


def test_changes_only_in_an_unconfirmed_bundle_and_refused_ones_count_as_undelivered(
    siti: FieldDevice, run, tmp_path: Path
):
    siti.store.add("beneficiary", beneficiary())
    siti.store.add("beneficiary", beneficiary(nik="3171012201500002", programs=["TIDAKADA"]))
    siti.sync()  # the unknown programme is refused by the hub
    siti.store.add("beneficiary", beneficiary(nik="3171016712800003", name="Ibu Ani"))
    export_bundle(siti.store, siti.home, tmp_path / "stick.zip")
    siti.close()

    result = run("--home", siti.home, "wipe")

    assert result.code == 1
    assert "1 perubahan belum terkirim ke hub (1 di antaranya hanya ada di bundle USB" in result.err
    assert "1 perubahan ditolak hub" in result.err


def test_a_photo_not_uploaded_counts_as_undelivered(siti: FieldDevice, run, tmp_path: Path):
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2000))
    attach(siti.store, "beneficiary", bid, photo, "rumah")
    siti.store._conn.execute("UPDATE outbox SET state = 'acked'")  # only the photo is left
    siti.close()

    result = run("--home", siti.home, "wipe", "--yes")

    assert result.code == 1
    assert "1 foto belum terunggah" in result.err


def test_force_lists_the_loss_then_wants_the_users_name(siti: FieldDevice, run, terminal):
    siti.store.add("beneficiary", beneficiary())
    siti.close()
    terminal("budi\n")

    wrong = run("--home", siti.home, "wipe", "--force")

    assert wrong.code == 1
    assert "1 perubahan belum terkirim" in wrong.out
    assert "Nama tidak cocok" in wrong.err
    assert "store.sqlite3" in store_files(siti.home)

    terminal("siti\n")
    right = run("--home", siti.home, "wipe", "--force")

    assert right.code == 0, right.err
    assert store_files(siti.home) == []


def test_force_with_yes_wipes_store_and_photos_for_scripts(siti: FieldDevice, run, tmp_path: Path):
    bid = siti.store.add("beneficiary", beneficiary())
    photo = tmp_path / "rumah.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + os.urandom(2000))
    attach(siti.store, "beneficiary", bid, photo, "rumah")
    siti.close()
    assert (siti.home / "attachments").is_dir()

    result = run("--home", siti.home, "wipe", "--force", "--yes")

    assert result.code == 0, result.err
    assert "attachments/ (1 berkas)" in result.out
    assert not (siti.home / "attachments").exists()
    assert store_files(siti.home) == []


def test_wiping_a_home_that_was_never_enrolled_says_so(run, tmp_path: Path):
    result = run("--home", tmp_path / "nothing", "wipe", "--yes")

    assert result.code == 1
    assert len(result.err.strip().splitlines()) == 1
