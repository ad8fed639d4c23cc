"""`FieldStore`: the laptop's local store, the one owner of its SQL.

Everything a pendamping records is written to the outbox in one SQLite transaction, with a
fresh HLC, before the call returns; it leaves the outbox only after the hub confirmed it
and a pull brought the hub's version back. `get` and `list` show the pulled state with the
outbox applied, so a record is never missing from the laptop between push and pull.

This class is the facade; the SQL lives by subject in the modules beside it, and what a
receipt or a pulled page does is planned by pure functions
(:mod:`~client_sync.store.receipts`, :mod:`~client_sync.store.pages`).
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from client_sync import database
from client_sync.errors import StoreError
from client_sync.store import entry, meta, outbox, pull, read_model, records
from client_sync.store.attachments import Attachments, NewAttachment
from client_sync.store.db import open_db
from client_sync.store.drafts import Drafts
from client_sync.store.exports import Exports
from client_sync.store.meta import Identity
from client_sync.store.outbox import OutboxBatch
from client_sync.store.views import Views
from schemas.hlc import iso_from_ms, wall_ms

__all__ = ["FieldStore"]


class FieldStore:
    """The local SQLite store of one laptop.

    :param path: the database file; created with its folder if missing.
    :param wall: the wall clock in ms, injected so tests control time.
    :param passphrase: encrypts the file with SQLCipher (:mod:`client_sync.database`);
        ``None``: a plain SQLite file.
    :raises client_sync.errors.WrongPassphrase: and the other errors of
        :func:`client_sync.database.connect`.

    `attachments` (the photo queue), `exports` (what went into USB bundles), `views` (the
    field app's reads: search, who is due, Beranda's lists, a beneficiary's page, where
    each record is) and `drafts` (forms half filled) share the store's one connection and
    its transactions. The read model the views ask is rebuilt on open when it is missing
    or of another version (:func:`client_sync.store.read_model.ensure`).
    """

    def __init__(
        self, path: str | Path, wall: Callable[[], int] = wall_ms, passphrase: str | None = None
    ) -> None:
        self.path = Path(path).absolute()  # photos and bundles join paths to its folder
        self._wall = wall
        self._passphrase = passphrase
        self._db = open_db(self.path, passphrase)
        self._conn = self._db.conn
        self.attachments = Attachments(self._db)
        self.exports = Exports(self._db)
        self.views = Views(self._db, wall)
        self.drafts = Drafts(self._db, wall)
        try:
            read_model.ensure(self._db)
        except BaseException:
            self._db.close()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> FieldStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def home(self) -> Path:
        """The laptop's home folder: where the store file, photos and bundles live."""
        return self.path.parent

    @property
    def encrypted(self) -> bool:
        """Whether the file is encrypted (opened with a passphrase)."""
        return bool(self._passphrase)

    def photo_key(self) -> bytes | None:
        """The key that seals kept photos (:mod:`client_sync.sealed`), made on first use and
        kept inside the encrypted store; None when the store is plain."""
        return meta.photo_key(self._db) if self.encrypted else None

    def rekey(self, new_passphrase: str) -> None:
        """Re-encrypt the store under a new passphrase (SQLCipher's ``PRAGMA rekey``).

        :raises client_sync.errors.NotEncrypted: the store is plain.
        """
        try:
            database.rekey(self._conn, new_passphrase)
        except database.Error as exc:
            raise StoreError(f"Kata sandi tidak dapat diganti: {exc}") from exc
        self._passphrase = new_passphrase

    # -- identity --------------------------------------------------------------------------

    def set_identity(self, identity: Identity) -> None:
        """Record the enrolment. Refused if this home is enrolled already."""
        meta.save_identity(self._db, identity)

    @property
    def identity(self) -> Identity:
        """:raises NotEnrolled: no enrolment in this store."""
        return meta.read_identity(self._db)

    # -- recording and reading ---------------------------------------------------------------

    def add(self, entity: str, data: dict[str, Any]) -> str:
        """Record a new beneficiary, visit or device request. :returns: its new id.

        A visit or request takes its beneficiary's kelurahan when none is given.
        :raises InvalidRecord: a field is invalid; the error names it.
        """
        return entry.add(self._db, self._wall, entity, data)

    def update(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change some fields of a record; only those fields travel to the hub.

        :raises RecordNotFound: no such record. :raises InvalidRecord: a field is invalid.
        """
        entry.update(self._db, self._wall, entity, record_id, fields)

    def delete(self, entity: str, record_id: str) -> None:
        """Delete a record: a tombstone goes to the hub; every value stays there, and a
        concurrent edit on another laptop makes it a conflict, not a silent loss.

        :raises RecordNotFound: no such record.
        """
        entry.delete(self._db, self._wall, entity, record_id)

    def get(self, entity: str, record_id: str) -> dict[str, Any]:
        """The record as this laptop sees it. :raises RecordNotFound: no such record."""
        return records.get(self._db, entity, record_id)

    def list(self, entity: str) -> builtins.list[dict[str, Any]]:
        """Every live record of one kind, oldest first."""
        return records.list_records(self._db, entity)

    def returned(self) -> builtins.list[dict[str, Any]]:
        """Visits the office returned for correction (``review.state`` *dikembalikan*) and
        not edited since, oldest first; each carries the office's reason in `review`."""
        return self.views.returned_records()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Several of this store's writes as one: all happen or none (a visit and the
        photos taken with it). A write inside is a savepoint of this transaction."""
        with self._db.atomic():
            yield

    def attach_photo(self, photo: NewAttachment) -> bool:
        """Queue a kept photo and add its sha256 to its record's `attachments`, in one
        transaction: both happen or neither does.

        :returns: whether the record changed (False: the photo was on it already).
        :raises RecordNotFound: no such record. :raises InvalidRecord: the edit is refused.
        """
        with self._db.atomic():
            record = records.get(self._db, photo.entity, photo.record_id)
            self.attachments.add(photo)
            existing = list(record.get("attachments") or [])
            if photo.sha256 in existing:
                return False
            self.update(photo.entity, photo.record_id, {"attachments": [*existing, photo.sha256]})
        return True

    # -- sync side --------------------------------------------------------------------------

    def outbox_marker(self) -> tuple[int, int]:
        """(the newest outbox position, the pending count): changes when anything is
        recorded, so the daemon can tell a new local write from the last one it saw."""
        return outbox.marker(self._db)

    def pending_count(self) -> int:
        return outbox.pending_count(self._db)

    def outbox_batches(self, max_bytes: int | Callable[[], int]) -> Iterator[OutboxBatch]:
        """Pending changes in the order they were made, in batches of about `max_bytes`
        (see :func:`client_sync.store.outbox.batches`)."""
        yield from outbox.batches(self._db, self.identity.device_id, max_bytes)

    def confirm(self, receipts: Sequence[dict[str, Any]], received_at: str | None = None) -> None:
        """Record the hub's receipts. A quiet one is folded into the laptop's copy at once
        (the hub will not echo it); another confirmed change stays visible until pulled.
        What each receipt does: :func:`client_sync.store.receipts.plan_confirm`.

        :param received_at: the hub's time of receipt (its push answer's); without it (an
            older hub) the time these receipts reached this laptop, by its own clock."""
        at = received_at or iso_from_ms(self._wall())
        outbox.confirm(self._db, self.identity.device_id, receipts, at)

    @property
    def pull_cursor(self) -> int:
        """The hub seq up to which this laptop has pulled."""
        return meta.pull_cursor(self._db)

    def apply_pull(
        self,
        records: Sequence[dict[str, Any]],
        next_seq: int,
        conflicts: Sequence[dict[str, Any]] = (),
        exits: Sequence[dict[str, Any]] = (),
    ) -> None:
        """Store one pulled page and move the cursor, in one transaction.

        Not fsynced on its own (``durable=False``): a page lost to a power cut is pulled
        again, and the same transaction only forgets outbox entries the hub already holds.
        What the page does: :func:`client_sync.store.pages.plan_pull_page`.

        :param exits: records that left this laptop's scope (``{"id", "entity", "seq"}``):
            the pulled copy is dropped unless it is newer than the exit (the record came
            back), with the confirmed changes the hub holds of it. A *pending* change of
            such a record stays: the hub will refuse it (`rejected`, naming the kelurahan),
            and the pendamping still sees what was typed.
        """
        pull.apply_page(self._db, self._wall, records, next_seq, conflicts, exits)

    @contextmanager
    def pulling(self) -> Iterator[None]:
        """Around a round's pull (the engine's `pull_all`): a first sync (cursor 0) fills the
        store in bulk and builds the read model's indexes, words and programmes once at the
        end, however the pull ends (:func:`client_sync.store.read_model.begin_bulk`); any
        other pull keeps them page by page, as :meth:`apply_pull` alone does."""
        bulk = read_model.begin_bulk(self._db)
        try:
            yield
        finally:
            if bulk:
                read_model.end_bulk(self._db)

    def conflicts(self, open_only: bool = True) -> builtins.list[dict[str, Any]]:
        """Conflicts on this laptop's changes, as the hub reported them; oldest first."""
        return pull.list_conflicts(self._db, open_only)

    def rejected(self) -> builtins.list[dict[str, Any]]:
        """Changes the hub refused, with its reasons; kept so nothing is silently lost."""
        return outbox.rejected_changes(self._db)

    def note_sync(self, ok: bool, message: str) -> None:
        """Remember when the last sync ran and how it ended, for `pendamping status`."""
        meta.note_sync(self._db, self._wall, ok, message)

    def status(self) -> dict[str, Any]:
        """What `pendamping status` shows."""
        return meta.status(self._db)
