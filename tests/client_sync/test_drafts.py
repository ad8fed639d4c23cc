"""Drafts: a form half filled is kept in the encrypted store as it is typed, survives a
closed store and a killed process, never enters the outbox, and becomes its record in one
transaction only when the record's schema accepts it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from client_sync.errors import InvalidRecord, RecordNotFound
from tests.client_sync.field_store_support import Clock, open_store, person

PASSPHRASE = "kunci rahasia"


def outbox_size(store) -> int:
    return store._db.conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]


def test_a_draft_is_saved_as_typed_listed_resumed_and_never_sent(tmp_path: Path):
    clock = Clock()
    store = open_store(tmp_path / "s.db", clock, passphrase=PASSPHRASE)
    store.drafts.save("d1", "beneficiary", {"name": "Sit"})
    clock.ms += 1000
    saved = store.drafts.save("d1", "beneficiary", {"name": "Siti", "nik": "31710"})
    assert saved.fields == {"name": "Siti", "nik": "31710"}
    assert saved.created_at < saved.updated_at
    clock.ms += 1000
    store.drafts.save("d2", "visit", {"purpose": "monitoring"})
    assert [d.draft_id for d in store.drafts.list()] == ["d2", "d1"]  # last typed first
    assert [d.draft_id for d in store.drafts.list(kind="beneficiary")] == ["d1"]
    assert outbox_size(store) == 0 and store.pending_count() == 0
    store.close()

    reopened = open_store(tmp_path / "s.db", clock, passphrase=PASSPHRASE)
    assert reopened.drafts.get("d1").fields == {"name": "Siti", "nik": "31710"}
    assert reopened.drafts.discard("d2") is True
    assert reopened.drafts.discard("d2") is False
    assert reopened.drafts.count() == 1
    reopened.close()


def test_saving_a_draft_makes_the_record_and_removes_the_draft_in_one_go(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    store.drafts.save("d1", "beneficiary", {"name": "Siti"})
    with pytest.raises(InvalidRecord) as refused:
        store.drafts.save_as_record("d1")  # sex and kelurahan missing
    assert set(refused.value.errors) == {"sex", "kelurahan"}
    assert store.drafts.get("d1").fields == {"name": "Siti"}  # kept as it was
    assert outbox_size(store) == 0 and store.list("beneficiary") == []

    record_id = store.drafts.save_as_record("d1", person("Siti"))
    assert store.get("beneficiary", record_id)["name"] == "Siti"
    assert store.drafts.list() == [] and store.pending_count() == 1
    with pytest.raises(RecordNotFound):
        store.drafts.save_as_record("d1")

    # a draft that edits a record becomes an edit of it
    store.drafts.save("d2", "beneficiary", {"phone": "0812 3456 7890"}, record_id=record_id)
    assert store.drafts.save_as_record("d2") == record_id
    assert store.get("beneficiary", record_id)["phone"] == "0812 3456 7890"


def test_a_draft_that_cannot_be_kept_is_refused_naming_the_field(tmp_path: Path):
    store = open_store(tmp_path / "s.db")
    with pytest.raises(InvalidRecord) as bad:
        store.drafts.save("", "kunjungan", {"x": float("nan")})
    assert set(bad.value.errors) == {"draft_id", "kind", "fields"}
    with pytest.raises(InvalidRecord) as big:
        store.drafts.save("d", "visit", {"findings": "x" * 300_000})
    assert set(big.value.errors) == {"fields"}
    assert store.drafts.list() == []


def test_a_draft_survives_the_app_being_killed_right_after_typing(tmp_path: Path):
    path = tmp_path / "s.db"
    open_store(path, passphrase=PASSPHRASE).close()
    child = textwrap.dedent(
        f"""
        import sys, time
        from client_sync.store import FieldStore
        store = FieldStore({str(path)!r}, passphrase={PASSPHRASE!r})
        store.drafts.save("mid-form", "visit", {{"findings": "Ibu Sri batuk sejak"}})
        print("saved", flush=True)
        time.sleep(60)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, text=True, cwd=Path.cwd()
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "saved"
    finally:
        process.kill()  # SIGKILL on POSIX, TerminateProcess on Windows
        process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
    store = open_store(path, passphrase=PASSPHRASE)
    assert store.drafts.get("mid-form").fields == {"findings": "Ibu Sri batuk sejak"}
    store.close()
