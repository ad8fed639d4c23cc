"""Push and pull: the hub side of one sync round, between the views and the storage.

A push is checked change by change (one bad change never sinks the batch), merged by the
conflict policy and written in one transaction. Every change gets a receipt, stored with it,
so a batch resent after a dropped connection gets the very same receipts back and writes
nothing.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import orjson
from marshmallow import ValidationError

from schemas.ids import new_id
from schemas.records import preload_fields
from schemas.review import REVIEW_FIELD
from schemas.sync import load_change
from server.admission import admit
from server.audit import AuditEvent, digest
from server.hubclock import HubClock
from server.merge import Refusal
from server.scope import Scope
from server.storage import ConflictRow, Device, DeviceReport, HubStorage, PullPage, WriterBusy
from server.writer import BatchWriter, Write

__all__ = ["PushOrigin", "PushOutcome", "SyncService", "conflict_view"]

#: How long a pull's note of the laptop's report waits for the writer before it is left
#: for a later pull: a read must not queue behind the morning's pushes.
REPORT_WAIT_S = 0.05


def _encode_fields(fields: Any) -> str:
    """A change's fields as stored. A refused change may hold what orjson will not write
    (nesting past its limit); it is kept as far as the stdlib can, else as a marker."""
    try:
        return orjson.dumps(fields, option=orjson.OPT_NON_STR_KEYS).decode()
    except orjson.JSONEncodeError:
        try:
            return json.dumps(fields, default=repr)
        except (RecursionError, ValueError):
            return '{"_tidak_terbaca": true}'


def _rejected(change_id: Any, errors: dict[str, Any]) -> dict[str, Any]:
    return {
        "change_id": change_id if isinstance(change_id, str) else None,
        "status": "rejected",
        "errors": errors,
    }


def _same_json(left: Any, right: Any) -> bool:
    """The same JSON, not merely equal in Python (where 1 == 1.0 == True)."""
    return orjson.dumps(left, option=orjson.OPT_SORT_KEYS) == orjson.dumps(
        right, option=orjson.OPT_SORT_KEYS
    )


def _seconds_between(earlier: str, later: str) -> float:
    try:
        return (
            dt.datetime.fromisoformat(later) - dt.datetime.fromisoformat(earlier)
        ).total_seconds()
    except (TypeError, ValueError):
        return float("inf")


def _reopens(change: Mapping[str, Any], writer: BatchWriter) -> bool:
    """A laptop's edit of a visit the office reviewed puts the visit back into review."""
    if change["entity"] != "visit" or change.get("op") == "delete":
        return False
    held = writer.records.get(change["record_id"])
    return held is not None and held.data.get(REVIEW_FIELD) is not None


def _reopen_review(writer: BatchWriter, clock: HubClock, record_id: str) -> None:
    """Clear the visit's review (*menunggu* again) with a hub change right after the
    pendamping's edit, in its transaction: its own seq and change-log row, so every laptop
    pulls it and the office sees when and why (docs/office.md, "Office writes")."""
    row = writer.records[record_id]
    write = Write(
        new_id(),
        "visit",
        record_id,
        {REVIEW_FIELD: None},
        clock.now(),
        row.seq,
        "hub",
        "hub",
    )
    done = writer.apply(write)
    if isinstance(done, Refusal):  # a field the hub owns on a seen record: never refused
        return
    merged, seq, _raised = done
    receipt = {"change_id": write.change_id, "status": merged.status, "seq": seq}
    writer.log(write, f'{{"{REVIEW_FIELD}":null}}', receipt)


def conflict_view(row: ConflictRow) -> dict[str, Any]:
    """A conflict as the API, the CLI and the laptops see it."""
    return {
        "conflict_id": row.conflict_id,
        "kind": row.kind,
        "entity": row.entity,
        "record_id": row.record_id,
        "other_record_id": row.other_record_id,
        "kelurahan": row.kelurahan,
        "field": row.field,
        "kept": {
            "value": row.kept_value,
            "hlc": row.kept_hlc,
            "device": row.kept_device,
            "author": row.kept_author,
        },
        "lost": {
            "value": row.lost_value,
            "hlc": row.lost_hlc,
            "device": row.lost_device,
            "author": row.lost_author,
            "change_id": row.lost_change,
        },
        "seq": row.seq,
        "created_at": row.created_at,
        "resolved_at": row.resolved_at,
        "resolved_by": row.resolved_by,
        "resolution": row.resolution,
    }


@dataclass(frozen=True, slots=True)
class _Prepared:
    """A change as far as a push checks it before its write transaction."""

    change: dict[str, Any]
    #: its fields loaded by :func:`schemas.records.preload_fields`; None leaves them to admit
    fields: dict[str, Any] | None
    #: those fields as stored (JSON text)
    fields_json: str | None
    #: they are exactly what the laptop sent (only worked out for a quiet push)
    as_sent: bool


@dataclass(slots=True)
class PushOutcome:
    """One receipt per change, in order; `duplicates` counts the changes seen before (their
    receipts are the original ones), `fresh` the receipts written by this push, per status."""

    receipts: list[dict[str, Any]] = field(default_factory=list)
    duplicates: int = 0
    fresh: Counter[str] = field(default_factory=Counter)
    #: the hub's clock when it wrote the batch (its write transaction's time)
    received_at: str | None = None


@dataclass(frozen=True, slots=True)
class PushOrigin:
    """How a push reached the hub when not over the network from its laptop: its audit
    entry names `actor` and `action` instead, with `detail` added (a bundle's digest)."""

    actor: str
    action: str
    detail: Mapping[str, Any] = field(default_factory=dict)


def _push_audit(
    device: Device,
    outcome: PushOutcome,
    fresh: Counter[str],
    seqs: tuple[int, int],
    at: str,
    origin: PushOrigin | None,
) -> AuditEvent:
    """The audit entry of one push: counts, the seq range and a digest, never a value."""
    first, last = seqs
    detail: dict[str, Any] = {
        "changes": len(outcome.receipts),
        "statuses": dict(sorted(fresh.items())),
        "duplicates": outcome.duplicates,
        "seq": [first, last] if last >= first else None,
        "receipts_sha256": digest(outcome.receipts),
    }
    if origin is None:
        return AuditEvent(at, device.user.name, "push", detail, device.device_id)
    return AuditEvent(
        at, origin.actor, origin.action, {**detail, **origin.detail}, device.device_id
    )


class SyncService:
    """The hub's push and pull, over any :class:`HubStorage`.

    :param programs: programme codes a beneficiary may carry.
    :param now: the hub's wall clock as an ISO string; injected for tests.
    :param max_skew_ms: how far ahead of the hub a laptop's clock may run before it is clamped.
    """

    def __init__(
        self,
        storage: HubStorage,
        programs: Sequence[str],
        now: Callable[[], str],
        max_skew_ms: int = 5 * 60 * 1000,
    ) -> None:
        self.storage = storage
        self.programs = frozenset(programs)
        self.max_skew_ms = max_skew_ms
        self._now = now

    # -- push -----------------------------------------------------------------------------

    def push(
        self,
        device: Device,
        raw_changes: Sequence[Any],
        report: DeviceReport | None = None,
        origin: PushOrigin | None = None,
        quiet: bool = False,
        turn: Callable[[int], AbstractContextManager[object]] | None = None,
    ) -> PushOutcome:
        """Apply a batch of changes from `device`. :returns: one receipt per change, in order.

        One audit entry records the batch, in its transaction.

        :param report: what the laptop said of itself (version, queue), kept on the device.
        :param origin: who brought the batch in, when not the laptop itself (a bundle).
        :param quiet: the laptop stamps its own copy of a write applied as sent (it asked
            for compact receipts), so such writes are not echoed to it; older clients,
            which do not, get every record back in their pulls.
        :param turn: waits for the hub's writer, given the number of changes to write
            (:meth:`server.throttle.WriteGate.turn`); entered only around the write
            transaction, so that preparing a batch never holds another push up.
        """
        outcome = PushOutcome()
        scope = Scope.of(device.user)  # once per push, not per change
        # Everything that does not need the stored records happens before the write
        # transaction: the envelope, the fields against their schema, their JSON. The
        # transaction (the hub's one writer) holds only the merge and the SQL.
        prepared = [self._prepare(device, raw, outcome, quiet) for raw in raw_changes]
        wanted = [p for p in prepared if p is not None]
        waiting = turn(len(wanted)) if turn is not None else nullcontext()
        with waiting, self.storage.write() as session:
            seen = session.receipts_for([p.change["change_id"] for p in wanted])
            ids = {p.change["record_id"] for p in wanted}
            ids.update(
                p.change["fields"]["beneficiary_id"]
                for p in wanted
                if isinstance(p.change["fields"].get("beneficiary_id"), str)
            )
            writer = BatchWriter(session, self._now())
            writer.load(ids)
            clock = HubClock(session, self.max_skew_ms)
            first_seq = writer.seq + 1
            fresh = outcome.fresh
            if len(wanted) < len(prepared):  # refused before the transaction
                fresh["rejected"] = len(prepared) - len(wanted)
            for index, prep in enumerate(prepared):
                if prep is None:
                    continue
                change = prep.change
                if change["change_id"] in seen:
                    outcome.receipts[index] = orjson.loads(seen[change["change_id"]])
                    outcome.duplicates += 1
                    continue
                receipt, fields_json, write = self._one(device, scope, prep, writer, clock, quiet)
                if write is None or write.hlc != change["hlc"]:  # logged as the laptop sent it
                    write = self._write(change, {}, change["hlc"])
                seen[change["change_id"]] = writer.log(write, fields_json, receipt)
                if receipt["status"] != "rejected" and _reopens(change, writer):
                    _reopen_review(writer, clock, change["record_id"])
                outcome.receipts[index] = receipt
                fresh[receipt["status"]] += 1
            writer.save()
            clock.save()
            session.touch_device(device.device_id, writer.received_at, True, report)
            outcome.received_at = writer.received_at
            session.audit(
                _push_audit(
                    device, outcome, fresh, (first_seq, writer.seq), writer.received_at, origin
                )
            )
        return outcome

    def _prepare(
        self, device: Device, raw: Any, outcome: PushOutcome, quiet: bool
    ) -> _Prepared | None:
        """The change's envelope and its fields loaded as far as they can be without the
        stored record; or None with a rejected receipt already in place."""
        try:
            change = load_change(raw)
        except ValidationError as exc:
            change_id = raw.get("change_id") if isinstance(raw, dict) else None
            outcome.receipts.append(_rejected(change_id, exc.normalized_messages()))
            return None
        if change["device_id"] != device.device_id:
            outcome.receipts.append(
                _rejected(
                    change["change_id"],
                    {"device_id": ["Tidak sama dengan perangkat yang mengirim."]},
                )
            )
            return None
        outcome.receipts.append({})
        if change.get("op") == "delete":
            return _Prepared(change, None, None, False)
        try:  # the fields as sent: compared below, and searched once for control characters
            sent: bytes | None = orjson.dumps(change["fields"])
        except TypeError:  # not JSON (orjson's error is a TypeError); the schema says why
            sent = None
        fields = preload_fields(change["entity"], change["fields"], sent)
        if fields is None:  # invalid, or not for the fast path: admit loads it and says why
            return _Prepared(change, None, None, False)
        encoded = orjson.dumps(fields)
        as_sent = quiet and (encoded == sent or _same_json(fields, change["fields"]))
        return _Prepared(change, fields, encoded.decode(), as_sent)

    def _one(
        self,
        device: Device,
        scope: Scope,
        prep: _Prepared,
        writer: BatchWriter,
        clock: HubClock,
        quiet: bool,
    ) -> tuple[dict[str, Any], str, Write | None]:
        """Admit and merge one change. :returns: its receipt, its fields as stored, and the
        write that was merged (None when it was refused)."""
        change = prep.change
        change_id = change["change_id"]
        row = writer.row(change["record_id"])
        try:
            fields = admit(
                device, scope, change, row, self.programs, writer.row, preloaded=prep.fields
            )
        except ValidationError as exc:
            refused = _rejected(change_id, exc.normalized_messages())
            return refused, _encode_fields(change["fields"]), None
        if fields is prep.fields and prep.fields_json is not None:
            fields_json, exact = prep.fields_json, prep.as_sent  # nothing changed since
        else:  # redirected to a merge survivor, a default added, or loaded just now
            fields_json = orjson.dumps(fields).decode()
            exact = quiet and _same_json(fields, change["fields"])
        hlc = clock.admit(change["hlc"])
        write = self._write(change, fields, hlc, exact=exact)
        done = writer.apply(write)
        if isinstance(done, Refusal):
            return _rejected(change_id, {done.field: [done.message]}), _encode_fields(fields), None
        merged, seq, _raised = done
        receipt: dict[str, Any] = {"change_id": change_id, "status": merged.status, "seq": seq}
        if hlc != change["hlc"]:
            receipt["hlc"] = hlc  # clamped: the laptop's clock runs too far ahead
        if writer.records[write.record_id].quiet_device == device.device_id and not _reopens(
            change, writer
        ):
            receipt["quiet"] = True  # not echoed: the laptop stamps its own copy
        return receipt, fields_json, write

    @staticmethod
    def _write(
        change: dict[str, Any], fields: dict[str, Any], hlc: str, exact: bool = False
    ) -> Write:
        op = change.get("op", "put")
        return Write(
            change["change_id"],
            change["entity"],
            change["record_id"],
            fields,
            hlc,
            change["base_seq"],
            change["device_id"],
            change["author_id"],
            True if op == "delete" else None,
            exact,
        )

    def note_pull(self, device: Device, report: DeviceReport | None) -> None:
        """A pull is a sync too: note it as the device's last sync, with what the laptop
        reported of itself. A pull is a read, so this writes only when the laptop reports
        something new or the last sync noted is over a minute old (the office's pages
        show minutes): at most one write a minute for a laptop that pulls every second,
        and none while pushes hold the writer."""
        now = self._now()
        changed = report is not None and (
            device.client_version != report.client_version or device.queue_size != report.queue_size
        )
        if not changed and device.last_sync_at and _seconds_between(device.last_sync_at, now) < 60:
            return
        # A pull never queues behind pushes for this note: when the writer is not free at
        # once the note waits for a later pull (a push notes its own sync).
        try:
            with self.storage.waiting_for_writer(REPORT_WAIT_S), self.storage.write() as session:
                session.touch_device(device.device_id, now, True, report)
                if report is not None:
                    session.audit(
                        AuditEvent(
                            now,
                            device.user.name,
                            "device_report",
                            {
                                "client_version": report.client_version,
                                "queue_size": report.queue_size,
                            },
                            device.device_id,
                        )
                    )
        except WriterBusy:
            pass  # the writer is taken by pushes: noted by the next pull that finds it free

    # -- pull -----------------------------------------------------------------------------

    def pull(self, device: Device, since: int, limit: int) -> tuple[PullPage, list[dict]]:
        """Records in the device's scope above `since`, oldest first, and the conflicts on
        the device's own changes raised or settled in the same span. The page's `exits`
        name the records that left the device's scope in that span (moved to a kelurahan
        outside it), so the laptop drops its copy.

        A record whose last write was this device's quiet one is left out: the laptop
        stamped its own copy from the receipt, so echoing it would only cost the link."""
        prefixes = Scope.of(device.user).prefixes
        page = self.storage.pull(prefixes, since, limit, device.device_id)
        # A conflict's seq is that of a write to a record in scope, so the page's span
        # covers it; a laptop that pulls every page hears of every conflict once.
        conflicts = self.storage.conflicts_for_device(device.device_id, since, page.next, prefixes)
        return page, [conflict_view(c) for c in conflicts]
