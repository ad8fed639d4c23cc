"""The encrypted laptop store (SQLCipher): a lost laptop's home folder gives nothing away.

The proof is a byte-for-byte copy of the home, taken while the store is open (with its WAL
and shared-memory files) and after it closed, searched for a SQLite header, a NIK and a name.
The same search on a plain home finds all three, so the search itself is known to work.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from client_sync import FieldDevice, database
from client_sync.bundle import export_bundle
from client_sync.cli import main
from client_sync.device import STORE_FILE
from client_sync.errors import NotEncrypted, PassphraseRequired, WrongPassphrase
from client_sync.photos import attach, list_photos
from tests.client_sync.test_photos import write_jpeg
from tests.conftest import beneficiary, visit

PASSPHRASE = "kopi-tubruk-2026"
NIK = "3171014508450001"
NAME = "Ibu Sri Wahyuni"
ADDRESS = "Jl. Melati Nomor 4"
SECRETS = (b"SQLite format 3", NIK.encode(), NAME.encode(), ADDRESS.encode())


@pytest.fixture(autouse=True)
def _no_passphrase_from_outside(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PENDAMPING_PASSPHRASE", "PENDAMPING_NEW_PASSPHRASE", "PENDAMPING_HOME"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def sari(laptops) -> Iterator[FieldDevice]:
    """An encrypted laptop holding a beneficiary, with a visit and a photo."""
    dev = laptops.enroll("sari", passphrase=PASSPHRASE)
    bid = dev.store.add("beneficiary", beneficiary(name=NAME, nik=NIK, address=ADDRESS))
    dev.store.add("visit", visit(bid))
    attach(dev.store, "beneficiary", bid, write_jpeg(laptops.tmp_path, 40_000), "rumah")
    yield dev
    dev.close()


def copy_home(home: Path, to: Path) -> dict[str, bytes]:
    """Every file of `home`, byte for byte, as a thief with the disk would have them."""
    shutil.copytree(home, to)
    return {str(p.relative_to(to)): p.read_bytes() for p in to.rglob("*") if p.is_file()}


def readable(files: dict[str, bytes]) -> list[tuple[str, bytes]]:
    return [(name, s) for name, data in files.items() for s in SECRETS if s in data]


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_copied_encrypted_home_holds_no_sqlite_header_nik_or_name(sari, tmp_path):
    open_copy = copy_home(sari.home, tmp_path / "while-open")
    assert open_copy.get(STORE_FILE + "-wal"), "the WAL should hold the recent writes"
    assert STORE_FILE + "-shm" in open_copy
    assert any(name.startswith("attachments") for name in open_copy)

    sari.close()
    closed_copy = copy_home(sari.home, tmp_path / "after-close")

    assert readable(open_copy) == []
    assert readable(closed_copy) == []


def test_the_same_search_finds_everything_in_a_plain_home(laptops, tmp_path):
    with laptops.enroll("polos", passphrase="") as dev:
        dev.store.add("beneficiary", beneficiary(name=NAME, nik=NIK, address=ADDRESS))
        found = {s for _name, s in readable(copy_home(dev.home, tmp_path / "copy"))}
    assert found == set(SECRETS)


def test_the_rollback_journal_is_encrypted_too(sari, tmp_path):
    sari.close()
    path = tmp_path / "journal" / STORE_FILE
    path.parent.mkdir()
    shutil.copy(sari.home / STORE_FILE, path)
    conn = database.connect(path, PASSPHRASE)
    conn.execute("PRAGMA journal_mode = PERSIST")  # keeps the journal's pages after commit
    conn.execute("UPDATE pulled SET seq = seq")
    conn.execute("UPDATE outbox SET position = position")
    conn.close()
    journal = Path(f"{path}-journal").read_bytes()
    assert len(journal) > 4096
    assert readable({"journal": journal}) == []


def test_a_wrong_passphrase_is_one_line_through_the_cli(sari, capsys, monkeypatch):
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", "bukan-kata-sandinya")

    code, out, err = run(capsys, "--home", sari.home, "list")

    assert (code, out, err) == (1, "", "Kata sandi penyimpanan salah.\n")


def test_an_encrypted_store_without_a_passphrase_is_one_line(sari, capsys):
    code, _out, err = run(capsys, "--home", sari.home, "status")

    assert code == 1
    assert err == f"{database.REQUIRED}\n"


def test_the_right_passphrase_from_the_environment_opens_it(sari, capsys, monkeypatch):
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)

    code, out, err = run(capsys, "--home", sari.home, "list")

    assert (code, err) == (0, "")
    assert NAME in out and NIK in out


def test_the_api_raises_the_same_errors(sari):
    sari.close()
    with pytest.raises(WrongPassphrase, match="Kata sandi penyimpanan salah"):
        FieldDevice.open(sari.home, passphrase="salah-salah")
    with pytest.raises(PassphraseRequired):
        FieldDevice.open(sari.home, passphrase="")


def test_a_plain_store_opened_with_a_passphrase_is_not_left_plain(laptops, capsys, monkeypatch):
    laptops.enroll("polos", passphrase="").close()
    home = laptops.tmp_path / "laptop-polos"
    with pytest.raises(NotEncrypted):
        FieldDevice.open(home, passphrase=PASSPHRASE)
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)

    code, _out, err = run(capsys, "--home", home, "list")

    assert code == 1 and "pendamping passphrase set" in err
    assert len(err.splitlines()) == 1
    assert database.is_plain(home / STORE_FILE)


def test_passphrase_set_encrypts_a_plain_store_in_place(laptops, capsys, monkeypatch, tmp_path):
    with laptops.enroll("polos", passphrase="") as dev:
        bid = dev.store.add("beneficiary", beneficiary(name=NAME, nik=NIK, address=ADDRESS))
        home = dev.home
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)

    code, out, err = run(capsys, "--home", home, "passphrase", "set")

    assert (code, err) == (0, ""), err
    assert "kini terenkripsi" in out
    assert readable(copy_home(home, tmp_path / "copy")) == []
    with FieldDevice.open(home) as dev:
        assert dev.store.get("beneficiary", bid)["nik"] == NIK
        assert dev.store.pending_count() == 1


def test_passphrase_change_rekeys_and_the_old_one_no_longer_opens(sari, capsys, monkeypatch):
    bid = sari.store.list("beneficiary")[0]["id"]
    sari.close()
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PENDAMPING_NEW_PASSPHRASE", "teh-manis-hangat")

    code, out, err = run(capsys, "--home", sari.home, "passphrase", "change")

    assert (code, err) == (0, ""), err
    assert "diganti" in out
    with pytest.raises(WrongPassphrase):
        FieldDevice.open(sari.home, passphrase=PASSPHRASE)
    with FieldDevice.open(sari.home, passphrase="teh-manis-hangat") as dev:
        assert dev.store.get("beneficiary", bid)["name"] == NAME
        assert len(dev.store.list("visit")) == 1


def test_a_short_new_passphrase_is_refused(sari, capsys, monkeypatch):
    sari.close()
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PENDAMPING_NEW_PASSPHRASE", "pendek")

    code, _out, err = run(capsys, "--home", sari.home, "passphrase", "change")

    assert (code, err) == (
        2,
        "PENDAMPING_NEW_PASSPHRASE terlalu pendek: kata sandi penyimpanan minimal 8 karakter.\n",
    )
    FieldDevice.open(sari.home, passphrase=PASSPHRASE).close()


def test_enroll_without_a_terminal_needs_a_passphrase_or_no_passphrase(
    live_hub, add_user, tmp_path, capsys, monkeypatch
):
    code, _out, err = run(capsys, "--home", tmp_path / "a", "enroll", live_hub, add_user("ani"))
    assert code == 2 and "PENDAMPING_PASSPHRASE" in err and len(err.splitlines()) == 1
    assert not (tmp_path / "a" / STORE_FILE).exists()

    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)
    code, _out, err = run(capsys, "--home", tmp_path / "a", "enroll", live_hub, add_user("ani2"))
    assert (code, err) == (0, "")
    assert database.is_encrypted(tmp_path / "a" / STORE_FILE)

    monkeypatch.delenv("PENDAMPING_PASSPHRASE")
    code, _out, err = run(
        capsys, "--home", tmp_path / "b", "enroll", live_hub, add_user("ani3"), "--no-passphrase"
    )
    assert code == 0 and err.startswith("Peringatan: penyimpanan laptop ini TIDAK terenkripsi")
    assert database.is_plain(tmp_path / "b" / STORE_FILE)


def test_a_failed_enrolment_leaves_no_store_behind(laptops, hub_app, tmp_path):
    from client_sync.errors import HubRefused
    from tests.support.transports import WsgiTransport

    with pytest.raises(HubRefused):
        FieldDevice.enroll(
            tmp_path / "x",
            "http://hub.test",
            "AAAA-AAAA-AAAA",
            transport_factory=lambda _url: WsgiTransport(hub_app),
            passphrase=PASSPHRASE,
        )
    assert list((tmp_path / "x").iterdir()) == []


def test_two_encrypted_laptops_sync_end_to_end(laptops):
    with (
        laptops.enroll("siti", passphrase=PASSPHRASE) as siti,
        laptops.enroll("budi", passphrase="lain-lagi-kata-sandinya") as budi,
    ):
        bid = siti.store.add("beneficiary", beneficiary(name=NAME, nik=NIK))
        siti.store.add("visit", visit(bid))
        assert siti.sync().pushed == 2
        assert budi.sync().pulled == 2
        assert budi.store.get("beneficiary", bid)["nik"] == NIK
        budi.store.update("beneficiary", bid, {"phone": "081234567890"})
        budi.sync()
        siti.sync()
        assert siti.store.get("beneficiary", bid)["phone"] == "081234567890"
        assert siti.store.pending_count() == budi.store.pending_count() == 0


def test_photos_and_bundles_work_with_an_encrypted_store(sari, tmp_path):
    assert [p["state"] for p in list_photos(sari.store)] == ["pending"]

    summary = export_bundle(sari.store, sari.home, tmp_path / "bundle.zip")

    assert (summary.changes, summary.photos) == (3, 1)
    sari.sync()
    assert [p["state"] for p in list_photos(sari.store)] == ["uploaded"]


def test_the_daemon_with_a_wrong_passphrase_stops_at_once_in_one_line(sari, capsys, monkeypatch):
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", "bukan-kata-sandinya")

    code, _out, err = run(capsys, "--home", sari.home, "daemon", "--once")

    assert (code, err) == (1, "Kata sandi penyimpanan salah.\n")


def test_the_daemon_runs_a_round_on_an_encrypted_store(laptops, capsys, monkeypatch):
    laptops.enroll("rina", passphrase=PASSPHRASE).close()
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    home = laptops.tmp_path / "laptop-rina"

    code, _out, err = run(capsys, "--home", home, "daemon", "--once")

    # the store opened; "http://hub.test" is not served, so the round itself cannot finish
    assert code == 3 and "Hub tidak dapat dihubungi" in err, err
