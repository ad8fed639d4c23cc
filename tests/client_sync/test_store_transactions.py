"""The store's one connection and its transactions: a write inside another becomes a
savepoint of it, so attaching a photo (queue it, edit the record) commits once or not at
all, on plain SQLite and on SQLCipher alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from client_sync.store.db import open_db


class Boom(Exception):
    pass


@pytest.fixture(params=[None, "kata sandi"], ids=["plain", "sqlcipher"])
def db(request, tmp_path: Path):
    opened = open_db(tmp_path / "store.sqlite3", request.param)
    yield opened
    opened.close()


def test_a_failed_inner_write_is_undone_and_the_outer_one_still_commits(db):
    with db.atomic():
        db.set_meta(outer="1")
        with pytest.raises(Boom), db.atomic():
            db.set_meta(inner="1")
            raise Boom

    assert (db.meta("outer"), db.meta("inner")) == ("1", None)


def test_a_failed_outer_write_undoes_the_inner_one_it_included(db):
    with pytest.raises(Boom), db.atomic():
        with db.atomic():
            db.set_meta(inner="1")
        raise Boom

    assert db.meta("inner") is None
    with db.atomic():  # and the connection is ready for the next transaction
        db.set_meta(after="1")
    assert db.meta("after") == "1"
