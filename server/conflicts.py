"""The review queue: list conflicts, and settle one with a change that reaches every laptop.

A resolution is written like a laptop's change (through :class:`server.writer.BatchWriter`,
stamped with the hub's clock, made on top of the current version so it raises no new
conflict), so it gets a seq, sits in the change log, and every laptop pulls it.

Choices, by kind:

=====================  ====================================================================
``field``              ``keep`` (the value that stayed), ``take_lost``, or ``value`` (a
                       value the supervisor types, validated like any field)
``status``             ``keep``, or ``take_lost`` when that transition is legal now
``delete``             ``keep`` (the record stays deleted) or ``take_lost`` (restore it)
``duplicate_person``   ``merge`` (into `survivor`, by default the record that was there
                       first: visits and requests move to it, the other becomes a
                       tombstone) or ``distinct`` (two people; close it)
=====================  ====================================================================
"""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from typing import Any

from marshmallow import ValidationError

from schemas.ids import new_id
from schemas.records import load_fields
from server.audit import AuditEvent
from server.exceptions import Invalid, Missing, OutsideScope, StateConflict
from server.hubclock import HubClock
from server.merge import Refusal
from server.scope import Scope, require_conflict_reviewer
from server.storage import ConflictRow, HubStorage, NotFound, RecordRow, User
from server.sync import conflict_view
from server.writer import BatchWriter, Write

__all__ = ["CHOICES", "ConflictService"]

CHOICES: dict[str, tuple[str, ...]] = {
    "field": ("keep", "take_lost", "value"),
    "status": ("keep", "take_lost"),
    "delete": ("keep", "take_lost"),
    "duplicate_person": ("merge", "distinct"),
}
_FILLABLE = ("nik", "birth_date", "address", "dtsen_id", "phone")


class ConflictService:
    """Lists and settles conflicts over any :class:`HubStorage`.

    :param now: the hub's wall clock as an ISO string.
    """

    def __init__(
        self, storage: HubStorage, now: Callable[[], str], max_skew_ms: int, programs: Sequence[str]
    ) -> None:
        self.storage = storage
        self.programs = frozenset(programs)
        self._now = now
        self._max_skew_ms = max_skew_ms

    def list(
        self,
        scope: Scope,
        open_only: bool = True,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[dict[str, Any]]:
        """Conflicts on records within `scope` (:data:`~server.scope.EVERYWHERE` for the
        office's terminal), oldest first."""
        return [
            conflict_view(c)
            for c in self.storage.list_conflicts(scope.prefixes, open_only, limit, after_id)
        ]

    def list_for(
        self, user: User, open_only: bool = True, limit: int = 100, after_id: int = 0
    ) -> builtins.list[dict[str, Any]]:
        """Conflicts within `user`'s wilayah, for a supervisor or an admin.

        :raises NotAllowed: `user` is neither (:data:`~server.scope.CONFLICT_REVIEWERS`).
        """
        require_conflict_reviewer(user)
        return self.list(Scope.of(user), open_only, limit, after_id)

    def resolve_as(
        self,
        user: User,
        conflict_id: int,
        choice: str,
        value: Any = None,
        survivor: str | None = None,
        *,
        device_id: str | None = None,
    ) -> dict[str, Any]:
        """Settle a conflict for a supervisor or an admin, within their wilayah.

        :param device_id: the laptop the decision came through, for the audit entry.
        :raises NotAllowed: `user` is neither (:data:`~server.scope.CONFLICT_REVIEWERS`).
        """
        require_conflict_reviewer(user)
        return self.resolve(
            conflict_id, user.name, Scope.of(user), choice, value, survivor, device_id=device_id
        )

    def resolve(
        self,
        conflict_id: int,
        by: str,
        scope: Scope,
        choice: str,
        value: Any = None,
        survivor: str | None = None,
        *,
        actor: str | None = None,
        device_id: str | None = None,
    ) -> dict[str, Any]:
        """Settle one conflict. :returns: the conflict as settled.

        Its audit entry names `actor` (by default `by`) and the device it came through; it
        says what was chosen and the seqs written, never the value.

        :param scope: what the resolver may touch (:data:`~server.scope.EVERYWHERE` for the
            office's terminal).
        :raises Missing: unknown, or outside `scope`.
        :raises StateConflict: already settled, or no longer possible.
        :raises OutsideScope: it would write a record outside `scope`.
        :raises Invalid: a choice or value that does not fit.
        """
        with self.storage.write() as session:
            try:
                conflict = session.conflict(conflict_id)
            except NotFound:
                raise Missing("Konflik tidak ditemukan.") from None
            if not scope.covers(conflict.kelurahan):
                raise Missing("Konflik tidak ditemukan.")
            if conflict.resolved_at is not None:
                raise StateConflict.on("conflict_id", "Konflik ini sudah diselesaikan.")
            if choice not in CHOICES[conflict.kind]:
                raise Invalid.on(
                    "choice",
                    f"Pilihan untuk konflik {conflict.kind}: {', '.join(CHOICES[conflict.kind])}.",
                )
            writer = BatchWriter(session, self._now())
            clock = HubClock(session, self._max_skew_ms)
            wrote = _Resolution(writer, clock, by, conflict, self.programs, scope).run(
                choice, value, survivor
            )
            seq = wrote[-1]
            writer.save()
            clock.save()
            resolution = {"choice": choice, "seqs": wrote}
            if choice == "value":
                resolution["value"] = value
            if survivor is not None:
                resolution["survivor"] = survivor
            session.resolve_conflict(conflict_id, writer.received_at, by, seq, resolution)
            detail: dict[str, Any] = {
                "conflict_id": conflict_id,
                "kind": conflict.kind,
                "entity": conflict.entity,
                "record_id": conflict.record_id,
                "field": conflict.field,
                "choice": choice,
                "by": by,
                "seq": [wrote[0], seq],
            }
            if survivor is not None:
                detail["survivor"] = survivor
            session.audit(
                AuditEvent(writer.received_at, actor or by, "resolve_conflict", detail, device_id)
            )
            return conflict_view(session.conflict(conflict_id))


class _Resolution:
    """The writes one resolution makes."""

    def __init__(
        self,
        writer: BatchWriter,
        clock: HubClock,
        by: str,
        conflict: ConflictRow,
        programs: frozenset[str],
        scope: Scope,
    ) -> None:
        self.writer = writer
        self.clock = clock
        self.by = by
        self.conflict = conflict
        self.programs = programs
        self.scope = scope

    def run(self, choice: str, value: Any, survivor: str | None) -> list[int]:
        c = self.conflict
        if choice in ("keep", "distinct"):
            # Nothing to change, but the record is written again (same values, new seq) so
            # the settlement travels with it: every laptop's next pull hears of it.
            return [self._write(c.record_id, {})]
        if c.kind == "duplicate_person":
            return self._merge_people(survivor)
        if c.kind == "delete":
            return [self._write(c.record_id, {}, delete=False, base_seq=c.seq)]
        if choice == "value":
            try:
                value = load_fields(c.entity, {c.field: value}, creating=False)[c.field]
            except ValidationError as exc:
                messages = exc.normalized_messages().get(c.field, ["Nilai tidak valid."])
                raise Invalid.on(
                    "value", str(messages[0] if isinstance(messages, list) else messages)
                ) from None
        else:
            value = c.lost_value
        if c.field == "programs" and set(value or ()) - self.programs:
            unknown = ", ".join(sorted(set(value) - self.programs))
            raise Invalid.on("value", f"Program tidak dikenal hub: {unknown}.")
        return [self._write(c.record_id, {c.field: value}, base_seq=c.seq)]

    def _merge_people(self, survivor: str | None) -> list[int]:
        c = self.conflict
        pair = (c.record_id, c.other_record_id)
        keep_id = survivor or c.other_record_id
        if keep_id not in pair:
            raise Invalid.on("survivor", "Harus salah satu dari dua penerima manfaat konflik ini.")
        gone_id = pair[1] if keep_id == pair[0] else pair[0]
        # A pair missing its other record (None) has nobody to merge with: a state conflict.
        keep = None if keep_id is None else self.writer.row(keep_id)
        gone = None if gone_id is None else self.writer.row(gone_id)
        if keep_id is None or gone_id is None or keep is None or gone is None:
            raise StateConflict.on("survivor", "Salah satu penerima manfaat sudah tidak ada.")
        if keep.deleted or gone.deleted:
            raise StateConflict.on("survivor", "Salah satu penerima manfaat sudah tidak ada.")
        missing = {
            f: gone.data[f]
            for f in _FILLABLE
            if keep.data.get(f) in (None, "") and gone.data.get(f) not in (None, "")
        }
        seqs = [
            self._write(child.id, {"beneficiary_id": keep_id, "kelurahan": keep.kelurahan})
            for child in self.writer.session.records_of_beneficiary(gone_id)
        ]
        seqs.append(self._write(gone_id, {"merged_into": keep_id}, delete=True))
        if missing:  # after the tombstone, so a NIK moved over is not a duplicate again
            seqs.append(self._write(keep_id, missing))
        return seqs

    def _check_scope(self, *kelurahan: Any) -> None:
        """Every record a resolution writes, where it is and where it goes, lies in the
        resolver's wilayah: merging two people or setting a kelurahan must not reach into
        another district. :raises OutsideScope: naming the kelurahan outside."""
        for place in kelurahan:
            if place is not None and not self.scope.covers(str(place)):
                raise OutsideScope.on(
                    "kelurahan",
                    f"Penyelesaian ini menyentuh data di {place}, di luar wilayah Anda; "
                    "minta kantor yang membawahi keduanya.",
                )

    def _write(
        self,
        record_id: str,
        fields: dict[str, Any],
        delete: bool | None = None,
        base_seq: int | None = None,
    ) -> int:
        """One hub change. By default on top of the record as it is now; a resolution that
        brings a value back passes the conflict's seq instead, so an edit made after the
        conflict is not overwritten silently but meets the policy (and the queue) again."""
        row: RecordRow | None = self.writer.row(record_id)
        if row is None:
            raise StateConflict.on("record_id", "Data konflik ini tidak ada lagi di hub.")
        self._check_scope(row.kelurahan, fields.get("kelurahan"))
        write = Write(
            new_id(),
            row.entity,
            record_id,
            fields,
            self.clock.now(),
            row.seq if base_seq is None else base_seq,
            "hub",
            self.by,
            delete,
        )
        done = self.writer.apply_logged(write)
        if isinstance(done, Refusal):
            raise StateConflict.on(done.field, done.message)
        return done[1]
