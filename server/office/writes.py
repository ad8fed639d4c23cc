"""One office action as hub-made changes: the core the review and the ABF services share.

An office write is a *change* like a laptop's: it goes through the same writer
(:class:`server.writer.BatchWriter`: the merge of :mod:`server.merge`, the conflict queue,
the status history, a seq and a change-log row each) with an HLC from the hub's own clock,
in one transaction with the audit entry that names the office user. So it reaches every
laptop in scope on its next pull, and a laptop that changed the same record offline meets
it under the conflict policy (docs/conflicts.md), never as a silent overwrite.

It is not sent through :meth:`server.sync.SyncService.push`, and why (docs/office.md,
"Office writes"): a push is a laptop's envelope (a registered device row it touches, per
change receipts where one refusal leaves the rest written, and a refusal of the hub's own
fields such as a visit's `review`), while an office action must land whole or not at all.
The parts that make the policy the same are shared: the writer, the hub clock, and
:func:`server.admission.admit` for a request's fields.

The writes carry ``device_id`` :data:`OFFICE_DEVICE` (``hub``, the node of the hub's
clock, as conflict resolutions do) and the office user's name as author; the audit entry
names the user and how the action came (``web`` or ``cli:<os user>``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from schemas.ids import new_id
from server.audit import AuditEvent
from server.exceptions import Invalid, Missing, NotAllowed, StateConflict
from server.hubclock import HubClock
from server.merge import Refusal
from server.scope import Scope, has_role
from server.storage import ConflictRow, RecordRow, User, WriteSession
from server.writer import BatchWriter, Write

__all__ = [
    "MAX_BATCH",
    "OFFICE_DEVICE",
    "OFFICE_ROLES",
    "OfficeTransaction",
    "Written",
    "check_ids",
    "require_office",
]

#: the device a hub-made change names: the hub's clock node, as a resolution's
OFFICE_DEVICE = "hub"
#: who works in the office: reviews visits and moves ABF requests
OFFICE_ROLES: tuple[str, ...] = ("supervisor", "admin")
#: the most records one office action writes (one transaction; a bulk accept)
MAX_BATCH = 500


def require_office(user: User) -> None:
    """:raises NotAllowed: `user` is not a supervisor or an admin."""
    if not has_role(user, *OFFICE_ROLES):
        raise NotAllowed(
            f"Peran {user.role} tidak boleh melakukan ini; hanya supervisor dan admin kantor."
        )


def check_ids(ids: Iterable[Any], field: str, limit: int = MAX_BATCH) -> list[str]:
    """The ids as given, without repeats, each a canonical UUID.

    :raises Invalid: none, more than `limit`, or one that is not an id (naming `field`).
    """
    if isinstance(ids, str):
        ids = [ids]
    unique = list(dict.fromkeys(ids))
    if not unique:
        raise Invalid.on(field, "Pilih setidaknya satu data.")
    if len(unique) > limit:
        raise Invalid.on(field, f"Paling banyak {limit} data sekali jalan ({len(unique)} dipilih).")
    bad = [str(i)[:40] for i in unique if not _is_uuid(i)]
    if bad:
        raise Invalid.on(field, f"Bukan id yang sah: {', '.join(bad[:5])}.")
    return unique


def _is_uuid(value: Any) -> bool:
    if not isinstance(value, str) or len(value) != 36:
        return False
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Written:
    """What one office change did: the merge's outcome (``applied``, ``merged`` or
    ``conflict``), the seq it got, the record after it, and the conflicts it raised."""

    record_id: str
    outcome: str
    seq: int
    row: RecordRow
    conflicts: tuple[ConflictRow, ...]


class OfficeTransaction:
    """The writes of one office action, inside one :meth:`HubStorage.write` session.

    :param session: the open write session (the caller's ``with storage.write()``).
    :param user: the office user acting (the changes' author, the audit's actor).
    :param now: the hub's wall clock as ISO text.
    """

    def __init__(self, session: WriteSession, user: User, now: str, max_skew_ms: int) -> None:
        self.session = session
        self.user = user
        self.scope = Scope.of(user)
        self.writer = BatchWriter(session, now)
        self.clock = HubClock(session, max_skew_ms)  # its node is OFFICE_DEVICE
        self.first_seq = self.writer.seq + 1

    @property
    def now(self) -> str:
        return self.writer.received_at

    def rows(self, ids: Sequence[str], entity: str, field: str, label: str) -> list[RecordRow]:
        """The live records `ids` of `entity` within the user's wilayah, in order.

        :raises Missing: any is unknown, another entity, or outside the wilayah (not told
            apart, as everywhere: a supervisor learns nothing of another district).
        :raises StateConflict: any is deleted.
        """
        self.writer.load(ids)
        found: list[RecordRow] = []
        missing: list[str] = []
        deleted: list[str] = []
        for record_id in ids:
            row = self.writer.row(record_id)
            if row is None or row.entity != entity or not self.scope.covers(row.kelurahan):
                missing.append(record_id)
            elif row.deleted:
                deleted.append(record_id)
            else:
                found.append(row)
        if missing:
            raise Missing.on(field, f"{label} tidak ditemukan: {_some(missing)}.")
        if deleted:
            raise StateConflict.on(field, f"{label} sudah dihapus: {_some(deleted)}.")
        return found

    def write(self, row: RecordRow, fields: dict[str, Any], base_seq: int | None = None) -> Written:
        """One hub change to `row`, by default made on top of the record as it is now.

        :param base_seq: the record's seq as the office user saw it (the page they acted
            on): a laptop's change the hub took after it is concurrent, and the merge's
            rules (and the conflict queue) decide, exactly as for a laptop's change.
        :raises StateConflict: the merge refuses it (an illegal status move), naming the field.
        """
        write = Write(
            new_id(),
            row.entity,
            row.id,
            fields,
            self.clock.now(),
            row.seq if base_seq is None else base_seq,
            OFFICE_DEVICE,
            self.user.name,
        )
        done = self.writer.apply_logged(write)
        if isinstance(done, Refusal):
            raise StateConflict.on(done.field, done.message)
        merged, seq, raised = done
        return Written(row.id, merged.status, seq, self.writer.records[row.id], tuple(raised))

    def finish(self, action: str, detail: Mapping[str, Any], via: str) -> None:
        """Save the writes, the hub's clock and the audit entry naming the user, in the
        session's transaction (the caller's ``with`` commits all of it or none)."""
        self.writer.save()
        self.clock.save()
        last = self.writer.seq
        self.session.audit(
            AuditEvent(
                self.now,
                self.user.name,
                action,
                {
                    **detail,
                    "via": via,
                    "seq": [self.first_seq, last] if last >= self.first_seq else None,
                },
                OFFICE_DEVICE,
            )
        )


def _some(ids: Sequence[str]) -> str:
    shown = ", ".join(ids[:5])
    return shown + (f" dan {len(ids) - 5} lainnya" if len(ids) > 5 else "")
