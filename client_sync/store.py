"""The laptop's local store: what was last pulled from the hub, plus the outbox on top.

Everything a pendamping records is written to the outbox in one SQLite transaction, with a
fresh HLC, before the call returns; it leaves the outbox only after the hub confirmed it
and a pull brought the hub's version back. `get` and `list` show the pulled state with the
outbox applied, so a record is never missing from the laptop between push and pull.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from marshmallow import ValidationError

from client_sync import database
from client_sync.errors import InvalidRecord, NotEnrolled, RecordNotFound, StoreError
from client_sync.fold import fold_quiet, is_quiet
from client_sync.migrations import apply_migrations
from client_sync.sealed import new_key
from schemas.codes import ENTITIES
from schemas.hlc import HybridClock, Timestamp, iso_from_ms, wall_ms
from schemas.lifecycle import is_legal_transition
from schemas.migrations import ensure_wal
from schemas.records import SERVER_FIELDS, load_fields
from schemas.validators import in_scope

__all__ = ["FieldStore", "Identity", "OutboxBatch"]

_compact = {"ensure_ascii": False, "separators": (",", ":")}
_LINKED = ("visit", "device_request")  # records that belong to a beneficiary
_VIEW_FIELDS = frozenset({"id", "created_at", "updated_at", "sync"})  # shown, never sent


@dataclass(frozen=True, slots=True)
class Identity:
    """Who this laptop is to the hub, as enrolment left it."""

    device_id: str
    token: str
    hub_url: str
    user: str
    role: str
    wilayah: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutboxBatch:
    """Changes ready to push: each already encoded as the JSON the wire carries."""

    change_ids: tuple[str, ...]
    changes_json: tuple[str, ...]

    @property
    def size(self) -> int:
        return sum(len(c) for c in self.changes_json)


class FieldStore:
    """The local SQLite store of one laptop.

    :param path: the database file; created with its folder if missing.
    :param wall: the wall clock in ms, injected so tests control time.
    :param passphrase: encrypts the file with SQLCipher (:mod:`client_sync.database`);
        ``None``: a plain SQLite file.
    :raises client_sync.errors.WrongPassphrase: and the other errors of
        :func:`client_sync.database.connect`.
    """

    def __init__(
        self, path: str | Path, wall: Callable[[], int] = wall_ms, passphrase: str | None = None
    ) -> None:
        self.path = Path(path).absolute()  # photos and bundles join paths to its folder
        self._wall = wall
        self._passphrase = passphrase
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = database.connect(self.path, passphrase)
            ensure_wal(self._conn)
            self._conn.execute("PRAGMA synchronous = FULL")
            self._conn.execute("PRAGMA foreign_keys = ON")
            apply_migrations(self._conn)
        except database.Error as exc:
            raise StoreError(f"Penyimpanan lokal {self.path} tidak dapat dibuka: {exc}") from exc

    def close(self) -> None:
        self._conn.close()

    @property
    def encrypted(self) -> bool:
        """Whether the file is encrypted (opened with a passphrase)."""
        return bool(self._passphrase)

    def connect(self) -> sqlite3.Connection:
        """A new connection of its own to this store's file, with the same passphrase."""
        return database.connect(self.path, self._passphrase)

    def photo_key(self) -> bytes | None:
        """The key that seals kept photos (:mod:`client_sync.sealed`), made on first use and
        kept inside the encrypted store; None when the store is plain."""
        if not self.encrypted:
            return None
        found = self._meta("photo_key")
        if found is None:
            with self._atomic() as conn:
                found = self._meta("photo_key") or new_key().hex()
                self._set_meta(conn, photo_key=found)
        return bytes.fromhex(found)

    def rekey(self, new_passphrase: str) -> None:
        """Re-encrypt the store under a new passphrase (SQLCipher's ``PRAGMA rekey``).

        :raises client_sync.errors.NotEncrypted: the store is plain.
        """
        try:
            database.rekey(self._conn, new_passphrase)
        except database.Error as exc:
            raise StoreError(f"Kata sandi tidak dapat diganti: {exc}") from exc
        self._passphrase = new_passphrase

    def __enter__(self) -> FieldStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _atomic(self, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """One write transaction (`BEGIN IMMEDIATE`); rolls back on any exception.

        :param durable: fsync at commit (the default). Only data the hub can send again
            may be written with ``False``.
        """
        if not durable:
            self._conn.execute("PRAGMA synchronous = NORMAL")
        try:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except database.Error as exc:
                raise StoreError(f"Penyimpanan lokal sibuk atau rusak: {exc}") from exc
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")
        finally:
            if not durable:
                self._conn.execute("PRAGMA synchronous = FULL")

    # -- meta and identity ----------------------------------------------------------------

    def _meta(self, key: str, default: str | None = None) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def _set_meta(self, conn: sqlite3.Connection, **values: Any) -> None:
        conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [(k, v if isinstance(v, str) else json.dumps(v)) for k, v in values.items()],
        )

    def set_identity(self, identity: Identity) -> None:
        """Record the enrolment. Refused if this home is enrolled already."""
        with self._atomic() as conn:
            if self._meta("device_id") is not None:
                raise StoreError("Laptop ini sudah terdaftar; gunakan folder --home lain.")
            self._set_meta(
                conn,
                device_id=identity.device_id,
                token=identity.token,
                hub_url=identity.hub_url,
                user=identity.user,
                role=identity.role,
                wilayah=list(identity.wilayah),
            )

    @property
    def identity(self) -> Identity:
        """:raises NotEnrolled: no enrolment in this store."""
        rows = dict(self._conn.execute("SELECT key, value FROM meta").fetchall())
        if "device_id" not in rows:
            raise NotEnrolled("Laptop belum terdaftar: jalankan `pendamping enroll` dahulu.")
        return Identity(
            rows["device_id"],
            rows["token"],
            rows["hub_url"],
            rows["user"],
            rows["role"],
            tuple(json.loads(rows["wilayah"])),
        )

    # -- recording --------------------------------------------------------------------------

    def add(self, entity: str, data: dict[str, Any]) -> str:
        """Record a new beneficiary, visit or device request. :returns: its new id.

        A visit or request takes its beneficiary's kelurahan when none is given.
        :raises InvalidRecord: a field is invalid; the error names it.
        """
        self._check_entity(entity)
        data = dict(data)
        if entity in _LINKED and isinstance(data.get("beneficiary_id"), str):
            owner = self._check_owner(data, default_kelurahan=True)
            data.setdefault("kelurahan", owner["kelurahan"])
        if entity == "visit":
            data.setdefault("caseworker_id", self._meta("user"))
        fields = self._validate(entity, data, creating=True)
        self._check_scope(fields)
        record_id = str(uuid.uuid4())
        self._queue(entity, record_id, None, fields)
        return record_id

    def update(self, entity: str, record_id: str, fields: dict[str, Any]) -> None:
        """Change some fields of a record; only those fields travel to the hub.

        :raises RecordNotFound: no such record. :raises InvalidRecord: a field is invalid.
        """
        self._check_entity(entity)
        current = self.get(entity, record_id)
        clean = self._validate(entity, fields, creating=False)
        if (
            entity == "device_request"
            and "status" in clean
            and not is_legal_transition(current["status"], clean["status"])
        ):
            raise InvalidRecord(
                {
                    "status": [
                        f"Perubahan status {current['status']} → {clean['status']} tidak diizinkan."
                    ]
                }
            )
        self._check_scope(clean)
        if entity in _LINKED and {"beneficiary_id", "kelurahan"} & clean.keys():
            self._check_owner({**current, **clean})
        if current["sync"] == "rejected":
            # The hub never took this record: send it again whole, as a new create.
            whole = {k: v for k, v in current.items() if k not in _VIEW_FIELDS}
            whole.update(clean)
            self._queue(
                entity,
                record_id,
                None,
                self._validate(entity, whole, creating=True),
                supersede=True,
            )
            return
        row = self._conn.execute("SELECT seq FROM pulled WHERE id = ?", (record_id,)).fetchone()
        self._queue(entity, record_id, row[0] if row else None, clean)

    def delete(self, entity: str, record_id: str) -> None:
        """Delete a record: a tombstone goes to the hub; every value stays there, and a
        concurrent edit on another laptop makes it a conflict, not a silent loss.

        :raises RecordNotFound: no such record.
        """
        self._check_entity(entity)
        self.get(entity, record_id)
        row = self._conn.execute("SELECT seq FROM pulled WHERE id = ?", (record_id,)).fetchone()
        self._queue(entity, record_id, row[0] if row else None, {}, op="delete")

    def _check_owner(self, data: dict[str, Any], default_kelurahan: bool = False) -> dict:
        """The beneficiary a visit or request belongs to; its kelurahan must be theirs.

        :param default_kelurahan: a missing kelurahan will be taken from the beneficiary.
        """
        owner = self._find("beneficiary", data["beneficiary_id"])
        if owner is None:
            raise InvalidRecord({"beneficiary_id": ["Penerima manfaat tidak ditemukan."]})
        kelurahan = data.get("kelurahan")
        if not (kelurahan is None and default_kelurahan) and kelurahan != owner["kelurahan"]:
            raise InvalidRecord(
                {
                    "kelurahan": [
                        f"Harus sama dengan kelurahan penerima manfaat ({owner['kelurahan']})."
                    ]
                }
            )
        return owner

    def _check_scope(self, fields: dict[str, Any]) -> None:
        """Refuse a kelurahan outside this laptop's wilayah now, not at the next sync."""
        identity = self.identity
        kelurahan = fields.get("kelurahan")
        if kelurahan is None or identity.role == "admin":
            return
        if not any(in_scope(kelurahan, w) for w in identity.wilayah):
            raise InvalidRecord(
                {
                    "kelurahan": [
                        f"{kelurahan} di luar wilayah Anda ({', '.join(identity.wilayah) or '-'})."
                    ]
                }
            )

    def _check_entity(self, entity: str) -> None:
        if entity not in ENTITIES:
            raise InvalidRecord({"entity": [f"Harus salah satu dari: {', '.join(ENTITIES)}."]})

    @staticmethod
    def _validate(entity: str, data: dict[str, Any], creating: bool) -> dict[str, Any]:
        bad = SERVER_FIELDS.intersection(data)
        if bad:
            raise InvalidRecord({f: ["Diisi oleh hub, tidak boleh diisi."] for f in sorted(bad)})
        try:
            return load_fields(entity, data, creating=creating)
        except ValidationError as exc:
            raise InvalidRecord(exc.normalized_messages()) from None

    def _queue(
        self,
        entity: str,
        record_id: str,
        base_seq: int | None,
        fields: dict[str, Any],
        supersede: bool = False,
        op: str = "put",
    ) -> None:
        """Put one change in the outbox with a fresh HLC, in one durable transaction.

        :param supersede: the change replaces the record's refused changes, which are
            kept (as history) but no longer shown.
        """
        identity = self.identity
        with self._atomic() as conn:
            if supersede:
                conn.execute(
                    "UPDATE outbox SET state = 'superseded' WHERE record_id = ?"
                    " AND state = 'rejected'",
                    (record_id,),
                )
            last = self._meta("hlc")
            clock = HybridClock(
                identity.device_id, Timestamp.parse(last) if last else None, self._wall
            )
            hlc = clock.now().encode()
            conn.execute(
                "INSERT INTO outbox (change_id, entity, record_id, base_seq, fields, hlc,"
                " author_id, created_at, op) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    str(uuid.uuid4()),
                    entity,
                    record_id,
                    base_seq,
                    json.dumps(fields, **_compact),
                    hlc,
                    identity.user,
                    iso_from_ms(self._wall()),
                    op,
                ),
            )
            self._set_meta(conn, hlc=hlc)

    # -- reading ----------------------------------------------------------------------------

    def get(self, entity: str, record_id: str) -> dict[str, Any]:
        """The record as this laptop sees it. :raises RecordNotFound: no such record."""
        found = self._find(entity, record_id)
        if found is None:
            raise RecordNotFound(f"Tidak ada {entity} dengan id {record_id}.")
        return found

    def list(self, entity: str) -> list[dict[str, Any]]:
        """Every live record of one kind, oldest first."""
        self._check_entity(entity)
        pulled = self._conn.execute(
            "SELECT id, deleted, data FROM pulled WHERE entity = ?", (entity,)
        ).fetchall()
        outbox = self._conn.execute(
            "SELECT record_id, fields, hlc, state, op FROM outbox WHERE entity = ?"
            " AND state IN ('pending', 'acked', 'rejected') ORDER BY position",
            (entity,),
        ).fetchall()
        return self._overlay(pulled, outbox)

    def _find(self, entity: str, record_id: str) -> dict[str, Any] | None:
        pulled = self._conn.execute(
            "SELECT id, deleted, data FROM pulled WHERE id = ? AND entity = ?", (record_id, entity)
        ).fetchall()
        outbox = self._conn.execute(
            "SELECT record_id, fields, hlc, state, op FROM outbox"
            " WHERE record_id = ? AND entity = ?"
            " AND state IN ('pending', 'acked', 'rejected') ORDER BY position",
            (record_id, entity),
        ).fetchall()
        found = self._overlay(pulled, outbox)
        return found[0] if found else None

    @staticmethod
    def _overlay(pulled: Sequence[tuple], outbox: Sequence[tuple]) -> list[dict[str, Any]]:
        """Pulled records with the outbox applied in order.

        A refused change is shown only on a record the hub never took (no pulled copy),
        marked ``sync: rejected``: the pendamping's work stays visible and can be corrected,
        while a refused edit of a hub record does not pretend to be its value.
        """
        view: dict[str, dict[str, Any]] = {}
        gone = set()
        for record_id, deleted, data in pulled:
            if deleted:
                gone.add(record_id)
            view[record_id] = {"id": record_id, **json.loads(data), "sync": "synced"}
        hub_held = set(view)
        for record_id, fields, hlc, state, op in outbox:
            if state == "rejected" and record_id in hub_held:
                continue
            if op == "delete":
                gone.add(record_id)
                continue
            stamp = iso_from_ms(Timestamp.parse(hlc).ms)
            record = view.setdefault(record_id, {"id": record_id, "created_at": stamp})
            record.update(json.loads(fields))
            record["updated_at"] = max(record.get("updated_at") or stamp, stamp)
            record["sync"] = "rejected" if state == "rejected" else "pending"
        records = [r for rid, r in view.items() if rid not in gone]
        records.sort(key=lambda r: (r.get("created_at") or "", r["id"]))
        return records

    # -- sync side --------------------------------------------------------------------------

    def outbox_marker(self) -> tuple[int, int]:
        """(the newest outbox position, the pending count): changes when anything is
        recorded, so the daemon can tell a new local write from the last one it saw."""
        newest = self._conn.execute("SELECT COALESCE(MAX(position), 0) FROM outbox").fetchone()
        return int(newest[0]), self.pending_count()

    def pending_count(self) -> int:
        return self._conn.execute("SELECT COUNT(*) FROM outbox WHERE state = 'pending'").fetchone()[
            0
        ]

    def outbox_batches(self, max_bytes: int | Callable[[], int]) -> Iterator[OutboxBatch]:
        """Pending changes in the order they were made, in batches of about `max_bytes`
        (or of what `max_bytes()` says when each batch starts, so the size can adapt).

        Reads the outbox a slice at a time, so a laptop with 100,000 queued changes never
        holds them all in memory. A batch always has at least one change.
        """
        device_id = self.identity.device_id
        after = 0
        while True:
            ids: list[str] = []
            encoded: list[str] = []
            size = 0
            limit = max_bytes() if callable(max_bytes) else max_bytes
            while size < limit:
                rows = self._conn.execute(
                    "SELECT position, change_id, entity, record_id, base_seq, fields, hlc,"
                    " author_id, op FROM outbox WHERE state = 'pending' AND position > ?"
                    " ORDER BY position LIMIT 256",
                    (after,),
                ).fetchall()
                if not rows:
                    break
                for (
                    position,
                    change_id,
                    entity,
                    record_id,
                    base_seq,
                    fields,
                    hlc,
                    author,
                    op,
                ) in rows:
                    text = (
                        f'{{"change_id":"{change_id}","entity":"{entity}",'
                        f'"record_id":"{record_id}","base_seq":{json.dumps(base_seq)},'
                        f'"fields":{fields},"hlc":"{hlc}","device_id":"{device_id}",'
                        f'"author_id":{json.dumps(author, ensure_ascii=False)}'
                        + (',"op":"delete"}' if op == "delete" else "}")
                    )
                    ids.append(change_id)
                    encoded.append(text)
                    size += len(text)
                    after = position
                    if size >= limit:
                        break
            if not ids:
                return
            yield OutboxBatch(tuple(ids), tuple(encoded))

    def confirm(self, receipts: Sequence[dict[str, Any]]) -> None:
        """Record the hub's receipts. A quiet one is folded into the laptop's copy at once
        (the hub will not echo it); another confirmed change stays visible until pulled."""
        acked, rejected = [], []
        for receipt in receipts:
            if is_quiet(receipt):
                continue
            if receipt["status"] == "rejected":
                rejected.append((json.dumps(receipt, **_compact), receipt["change_id"]))
            else:
                acked.append(
                    (receipt.get("seq"), json.dumps(receipt, **_compact), receipt["change_id"])
                )
        with self._atomic() as conn:
            fold_quiet(conn, self.identity.device_id, receipts)
            conn.executemany(
                "UPDATE outbox SET state = 'acked', acked_seq = ?, receipt = ?"
                " WHERE change_id = ? AND state = 'pending'",
                acked,
            )
            conn.executemany(
                "UPDATE outbox SET state = 'rejected', receipt = ?"
                " WHERE change_id = ? AND state = 'pending'",
                rejected,
            )

    @property
    def pull_cursor(self) -> int:
        """The hub seq up to which this laptop has pulled."""
        return int(self._meta("pull_cursor", "0") or 0)

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

        :param exits: records that left this laptop's scope (``{"id", "entity", "seq"}``):
            the pulled copy is dropped unless it is newer than the exit (the record came
            back), with the confirmed changes the hub holds of it. A *pending* change of
            such a record stays: the hub will refuse it (`rejected`, naming the kelurahan),
            and the pendamping still sees what was typed.
        """
        newest = max((r["hlc"] for r in records if r.get("hlc")), default=None)
        with self._atomic(durable=False) as conn:
            last = self._meta("hlc")
            clock = HybridClock(
                self._meta("device_id") or "local",
                Timestamp.parse(last) if last else None,
                self._wall,
            )
            if newest:
                clock.observe(Timestamp.parse(newest))
            conn.executemany(
                "INSERT INTO pulled (id, entity, seq, deleted, data) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (id) DO UPDATE SET entity = excluded.entity, seq = excluded.seq,"
                " deleted = excluded.deleted, data = excluded.data"
                " WHERE excluded.seq > pulled.seq",  # never older over newer
                [
                    (
                        r["id"],
                        r["entity"],
                        r["seq"],
                        int(r["deleted"]),
                        orjson.dumps(r["data"]).decode(),
                    )
                    for r in records
                ],
            )
            for gone in exits:
                conn.execute(
                    "DELETE FROM pulled WHERE id = ? AND seq <= ?", (gone["id"], gone["seq"])
                )
                conn.execute(
                    "DELETE FROM outbox WHERE record_id = ? AND state = 'acked'"
                    " AND acked_seq <= ? AND NOT EXISTS (SELECT 1 FROM pulled WHERE id = ?)",
                    (gone["id"], gone["seq"], gone["id"]),
                )
            cursor = max(next_seq, self.pull_cursor)
            # A confirmed change is forgotten once the laptop holds the hub's copy of its
            # record at or after the change's seq, not merely once the cursor passed it.
            conn.execute(
                "DELETE FROM outbox WHERE state = 'acked' AND acked_seq <= ? AND EXISTS"
                " (SELECT 1 FROM pulled p WHERE p.id = outbox.record_id"
                " AND p.seq >= outbox.acked_seq)",
                (cursor,),
            )
            conn.executemany(
                "INSERT INTO conflicts (conflict_id, record_id, resolved, data) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (conflict_id) DO UPDATE SET resolved = excluded.resolved,"
                " data = excluded.data",
                [
                    (
                        c["conflict_id"],
                        c["record_id"],
                        int(c.get("resolved_at") is not None),
                        orjson.dumps(c).decode(),
                    )
                    for c in conflicts
                ],
            )
            self._set_meta(conn, pull_cursor=str(cursor), hlc=clock.last.encode())

    def conflicts(self, open_only: bool = True) -> list[dict[str, Any]]:
        """Conflicts on this laptop's changes, as the hub reported them; oldest first."""
        where = "WHERE resolved = 0 " if open_only else ""
        rows = self._conn.execute(
            f"SELECT data FROM conflicts {where}ORDER BY conflict_id"
        ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def note_sync(self, ok: bool, message: str) -> None:
        """Remember when the last sync ran and how it ended, for `pendamping status`."""
        with self._atomic() as conn:
            values = {
                "last_sync_at": iso_from_ms(self._wall()),
                "last_sync_outcome": "ok" if ok else "failed",
                "last_sync_message": message,
            }
            if ok:
                values["last_success_at"] = values["last_sync_at"]
            self._set_meta(conn, **values)

    def rejected(self) -> list[dict[str, Any]]:
        """Changes the hub refused, with its reasons; kept so nothing is silently lost."""
        rows = self._conn.execute(
            "SELECT change_id, entity, record_id, fields, receipt, created_at FROM outbox"
            " WHERE state = 'rejected' ORDER BY position"
        ).fetchall()
        return [
            {
                "change_id": c,
                "entity": e,
                "record_id": r,
                "fields": json.loads(f),
                "errors": json.loads(rc).get("errors", {}),
                "created_at": at,
            }
            for c, e, r, f, rc, at in rows
        ]

    def status(self) -> dict[str, Any]:
        """What `pendamping status` shows."""
        counts = dict(
            self._conn.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state").fetchall()
        )
        return {
            "device_id": self._meta("device_id"),
            "user": self._meta("user"),
            "hub_url": self._meta("hub_url"),
            "pending": counts.get("pending", 0),
            "awaiting_pull": counts.get("acked", 0),
            "rejected": counts.get("rejected", 0),
            "conflicts": self._conn.execute(
                "SELECT COUNT(*) FROM conflicts WHERE resolved = 0"
            ).fetchone()[0],
            "pull_cursor": self.pull_cursor,
            "last_sync_at": self._meta("last_sync_at"),
            "last_sync_outcome": self._meta("last_sync_outcome"),
            "last_sync_message": self._meta("last_sync_message"),
            "last_success_at": self._meta("last_success_at"),
        }
