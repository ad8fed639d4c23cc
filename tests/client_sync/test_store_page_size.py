"""The encrypted store's page size: 16 KiB for a new store, 4 KiB kept for one made before,
and either opened with one key derivation (issue 11: the first sync writes at close to the
floor)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlcipher3 import dbapi2 as sqlcipher

from client_sync import database
from client_sync.errors import NotEnrolled, WrongPassphrase
from client_sync.store import FieldStore, Identity
from tests.conftest import beneficiary

PASSPHRASE = "kopi-tubruk-2026"
#: Not ASCII, and typed decomposed (NFD): the raw key must be SQLCipher's own derivation.
ACCENTED = "Cafe\u0301 kelurahan Kramat Jati"


def enrolled(path: Path, passphrase: str) -> FieldStore:
    """The store at `path`, with an identity on first open (recording needs one)."""
    store = FieldStore(path, passphrase=passphrase)
    try:
        store.identity  # noqa: B018
    except NotEnrolled:
        store.set_identity(
            Identity("laptop-1", "token", "http://hub", "siti", "pendamping", ("31.71.01",))
        )
    return store


def legacy_store(path: Path, passphrase: str) -> str:
    """A store as the laptop made it before issue 11: SQLCipher's default 4 KiB pages, keyed
    by the passphrase literal; one beneficiary in it. :returns: the beneficiary's id."""
    conn = sqlcipher.connect(str(path), isolation_level=None)
    conn.execute(f"PRAGMA key = {database._literal(passphrase)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.close()
    with enrolled(path, passphrase) as store:
        assert page_size(store) == database.LEGACY_PAGE_SIZE
        return store.add("beneficiary", beneficiary(name="Ibu Lama"))


def page_size(store: FieldStore) -> int:
    return int(store._conn.execute("PRAGMA page_size").fetchone()[0])


@pytest.fixture
def derivations(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """The salts the passphrase was derived for, one entry per key derivation we run."""
    salts: list[bytes] = []
    real = database.raw_key

    def counted(passphrase: str, salt: bytes) -> bytes:
        salts.append(salt)
        return real(passphrase, salt)

    monkeypatch.setattr(database, "raw_key", counted)
    return salts


def test_a_new_encrypted_store_has_16_kib_pages(tmp_path):
    with enrolled(tmp_path / "store.sqlite3", PASSPHRASE) as store:
        store.add("beneficiary", beneficiary())
        assert page_size(store) == database.PAGE_SIZE

    with FieldStore(tmp_path / "store.sqlite3", passphrase=PASSPHRASE) as again:
        assert page_size(again) == database.PAGE_SIZE
        assert len(again.list("beneficiary")) == 1


@pytest.mark.parametrize("passphrase", [PASSPHRASE, ACCENTED])
def test_a_store_made_before_keeps_its_4_kib_pages_and_its_records(
    tmp_path, derivations, passphrase
):
    path = tmp_path / "store.sqlite3"
    bid = legacy_store(path, passphrase)
    derivations.clear()

    with FieldStore(path, passphrase=passphrase) as store:
        assert store.get("beneficiary", bid)["name"] == "Ibu Lama"
        store.add("beneficiary", beneficiary(name="Ibu Baru"))
        assert page_size(store) == database.LEGACY_PAGE_SIZE

    assert derivations == [path.read_bytes()[:16]]  # one derivation for both page sizes


def test_reopening_a_new_store_derives_its_key_once(tmp_path, derivations):
    path = tmp_path / "store.sqlite3"
    FieldStore(path, passphrase=PASSPHRASE).close()
    assert derivations == []  # a new store: SQLCipher derives it as it creates the file

    FieldStore(path, passphrase=PASSPHRASE).close()

    assert len(derivations) == 1


@pytest.mark.parametrize("made", ["legacy", "new"])
def test_a_wrong_passphrase_is_still_refused_at_either_page_size(tmp_path, made):
    path = tmp_path / "store.sqlite3"
    if made == "legacy":
        legacy_store(path, PASSPHRASE)
    else:
        FieldStore(path, passphrase=PASSPHRASE).close()

    with pytest.raises(WrongPassphrase):
        database.connect(path, "bukan-kata-sandinya")


def test_a_plain_store_encrypted_later_gets_16_kib_pages(tmp_path):
    path = tmp_path / "store.sqlite3"
    with enrolled(path, "") as plain:
        bid = plain.add("beneficiary", beneficiary(name="Ibu Polos"))

    database.encrypt_plain(path, PASSPHRASE)

    with FieldStore(path, passphrase=PASSPHRASE) as store:
        assert page_size(store) == database.PAGE_SIZE
        assert store.get("beneficiary", bid)["name"] == "Ibu Polos"


def test_a_rekeyed_store_opens_with_the_new_passphrase_only(tmp_path):
    path = tmp_path / "store.sqlite3"
    legacy_store(path, PASSPHRASE)
    with FieldStore(path, passphrase=PASSPHRASE) as store:
        store.rekey(ACCENTED)

    with pytest.raises(WrongPassphrase):
        database.connect(path, PASSPHRASE)
    with FieldStore(path, passphrase=ACCENTED) as store:
        assert len(store.list("beneficiary")) == 1
