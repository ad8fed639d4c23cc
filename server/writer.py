"""Turn admitted changes into record rows, change-log rows and conflict rows, in one session.

Both a laptop's push and a supervisor's resolution go through :class:`BatchWriter`, so a
resolution is a change like any other: it gets a seq, lands in the change log, and reaches
every laptop through pull. The merge rule itself is :func:`server.merge.merge_change`; this
module adds what needs the storage: who wrote the value that lost, the status history, and
whether a NIK is already carried by another beneficiary.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

from schemas.stamps import stamp_record
from server.merge import (
    Incoming,
    Loss,
    MergeResult,
    Refusal,
    Stamp,
    merge_change,
    node_of,
)
from server.storage import ChangeRow, ConflictRow, RecordRow, ScopeExit, WriteSession

__all__ = ["BatchWriter", "Write"]


class Write(NamedTuple):
    """One change, admitted, as the writer needs it (immutable; a NamedTuple because a
    frozen dataclass costs ~1 us to build, twice per change of a push)."""

    change_id: str
    entity: str
    record_id: str
    fields: dict[str, Any]
    hlc: str
    base_seq: int | None
    device_id: str
    author_id: str
    delete: bool | None = None
    #: the admitted fields are exactly those the laptop sent (nothing canonicalised or
    #: redirected), so the laptop can stamp its own copy if the write is applied as is
    exact: bool = False


def _stamps(row: RecordRow) -> dict[str, Stamp]:
    return {name: Stamp(hlc, row.seqs.get(name, row.seq)) for name, hlc in row.clocks.items()}


class BatchWriter:
    """The writes of one transaction: records, change log and conflicts, saved together."""

    def __init__(self, session: WriteSession, received_at: str) -> None:
        self.session = session
        self.received_at = received_at
        self.records: dict[str, RecordRow] = {}
        self._absent: set[str] = set()
        self.seq = session.last_seq()
        self._touched: dict[str, RecordRow] = {}
        self._changes: list[ChangeRow] = []
        self._conflicts: list[ConflictRow] = []
        self._exits: list[ScopeExit] = []
        self._users: dict[str, str] = {}
        self._niks: dict[str, list[str]] = {}

    def load(self, record_ids: Iterable[str]) -> None:
        """Read many records in one go, ahead of :meth:`row` asking for them one by one."""
        wanted = [rid for rid in set(record_ids) if rid not in self.records]
        self.records.update(self.session.records_for(wanted))
        self._absent.update(rid for rid in wanted if rid not in self.records)

    def row(self, record_id: str) -> RecordRow | None:
        """The record as this batch sees it (with the batch's own writes)."""
        if record_id not in self.records and record_id not in self._absent:
            self.load([record_id])
        return self.records.get(record_id)

    def apply(self, write: Write) -> tuple[MergeResult, int, list[ConflictRow]] | Refusal:
        """Merge one write into its record. :returns: the result, the seq it got, and the
        conflicts it raised; or the refusal, and nothing is written."""
        row = self.row(write.record_id)
        seq = self.seq + 1
        if row is None:
            merged = merge_change({}, {}, False, self._incoming(write), seq)
        else:
            merged = merge_change(row.data, _stamps(row), row.deleted, self._incoming(write), seq)
        if isinstance(merged, Refusal):
            return merged
        self.seq = seq
        new_row = self._new_row(write, row, merged, seq)
        self.records[new_row.id] = self._touched[new_row.id] = new_row
        if row is not None and row.kelurahan and new_row.kelurahan != row.kelurahan:
            # laptops that covered the old kelurahan but not the new one drop their copy
            self._exits.append(ScopeExit(seq, row.id, row.entity, row.kelurahan, new_row.kelurahan))
        raised = [self._conflict(write, new_row, loss, seq) for loss in merged.losses]
        raised += self._duplicates(write, row, new_row, seq)
        self._conflicts += raised
        if raised:
            merged.status = "conflict"
            new_row.quiet_device = None  # the laptop hears of it through the pull
        return merged, seq, raised

    def log(self, write: Write, fields_json: str, receipt: dict[str, Any]) -> str:
        """Keep a change with its receipt in the change log. :returns: the receipt JSON."""
        receipt_json = orjson.dumps(receipt, option=orjson.OPT_NON_STR_KEYS).decode()
        self._changes.append(
            ChangeRow(
                write.change_id,
                write.device_id,
                write.author_id,
                write.entity,
                write.record_id,
                write.hlc,
                fields_json,
                self.received_at,
                receipt_json,
            )
        )
        return receipt_json

    def apply_logged(self, write: Write) -> tuple[MergeResult, int, list[ConflictRow]] | Refusal:
        """:meth:`apply` a change the hub makes itself (a resolution, an office write) and,
        when it is taken, log it with the receipt a laptop's change would get."""
        done = self.apply(write)
        if isinstance(done, Refusal):
            return done
        merged, seq, _raised = done
        receipt = {
            "change_id": write.change_id,
            "status": merged.status,
            "seq": seq,
            "base_seq": write.base_seq,
        }
        self.log(write, orjson.dumps(write.fields).decode(), receipt)
        return done

    def save(self) -> None:
        self.session.save(self._touched.values(), self._changes, self._conflicts)
        if self._exits:
            self.session.add_scope_exits(self._exits)

    # -- building rows ----------------------------------------------------------------------

    @staticmethod
    def _incoming(write: Write) -> Incoming:
        return Incoming(write.fields, write.hlc, write.base_seq, write.delete)

    def _new_row(
        self, write: Write, row: RecordRow | None, merged: MergeResult, seq: int
    ) -> RecordRow:
        data = merged.data
        created, updated = stamp_record(
            data,
            hlc=write.hlc,
            seq=seq,
            author_id=write.author_id,
            device_id=write.device_id,
            transition=merged.transition,
            created_before=row.created_at if row else None,
            updated_before=row.updated_at if row else None,
        )
        kelurahan = data.get("kelurahan") or (row.kelurahan if row else "")
        return RecordRow(
            write.record_id,
            write.entity,
            kelurahan,
            seq,
            merged.deleted,
            data,
            {name: s.hlc for name, s in merged.stamps.items()},
            created,
            updated,
            {name: s.seq for name, s in merged.stamps.items() if s.seq != seq},
            write.device_id if self._quiet(write, row, merged) else None,
            row.author if row is not None else self._author(write),
        )

    @staticmethod
    def _quiet(write: Write, row: RecordRow | None, merged: MergeResult) -> bool:
        """The writing laptop holds exactly this new state: it had the record as it was
        (pulled at `base_seq`, or its own quiet write before), and its change went in as
        sent. Its pulls skip the record; it stamps its copy from the receipt instead."""
        if not write.exact or merged.status != "applied" or merged.losses:
            return False
        return (
            row is None
            or (write.base_seq is not None and row.seq <= write.base_seq)
            or row.quiet_device == write.device_id
        )

    def _author(self, write: Write) -> str | None:
        """Who creates a record: the user of the device that sent the change (the hub's
        own knowledge, not the change's claimed `author_id`); for a hub-made write, the
        office user it names."""
        if write.device_id == "hub":
            return write.author_id
        return self._user(write.device_id)

    def _user(self, device_id: str | None) -> str | None:
        if device_id is None or device_id == "hub":
            return None
        if device_id not in self._users:
            self._users.update(self.session.users_of_devices([device_id]))
        return self._users.get(device_id)

    def _conflict(self, write: Write, row: RecordRow, loss: Loss, seq: int) -> ConflictRow:
        """Both sides of a loss: the incoming change's, and the held value's writer's."""
        mine = (write.device_id, write.author_id, write.change_id)
        held_device = node_of(loss.lost_hlc if not loss.incoming_lost else loss.kept_hlc)
        theirs = (held_device, self._user(held_device), None)
        lost, kept = (mine, theirs) if loss.incoming_lost else (theirs, mine)
        return ConflictRow(
            row.id,
            row.entity,
            loss.field,
            loss.kind,
            loss.kept_value,
            loss.kept_hlc,
            loss.lost_value,
            loss.lost_hlc,
            lost[2],
            lost[0],
            lost[1],
            self.received_at,
            kelurahan=row.kelurahan,
            seq=seq,
            kept_device=kept[0],
            kept_author=kept[1],
        )

    def _duplicates(
        self, write: Write, old: RecordRow | None, row: RecordRow, seq: int
    ) -> list[ConflictRow]:
        """A second live beneficiary with a NIK the hub already holds is queued for review."""
        if row.entity != "beneficiary":
            return []
        old_nik = old.data.get("nik") if old is not None and not old.deleted else None
        nik = row.data.get("nik") if not row.deleted else None
        if old_nik == nik:
            return []
        if old_nik is not None and row.id in (former := self._holders(old_nik)):
            former.remove(row.id)
        if nik is None:
            return []
        holders = self._holders(nik)
        others = [other for other in holders if other != row.id]
        if row.id not in holders:
            holders.append(row.id)
        if not others:
            return []
        return [
            ConflictRow(
                row.id,
                row.entity,
                "nik",
                "duplicate_person",
                None,
                None,
                nik,
                write.hlc,
                write.change_id,
                write.device_id,
                write.author_id,
                self.received_at,
                kelurahan=row.kelurahan,
                seq=seq,
                other_record_id=others[0],
            )
        ]

    def _holders(self, nik: str) -> list[str]:
        if nik not in self._niks:
            found = self.session.beneficiaries_with_nik([nik]).get(nik, [])
            # Rows this batch already changed override what the database says.
            found = [rid for rid in found if rid not in self._touched]
            found += [
                rid
                for rid, r in self._touched.items()
                if r.entity == "beneficiary" and not r.deleted and r.data.get("nik") == nik
            ]
            self._niks[nik] = found
        return self._niks[nik]
