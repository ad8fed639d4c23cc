"""The district office moves ABF requests: verify, approve, reject, record the handover.

Each transition is a hub-made change (:mod:`server.office.writes`) checked by the laptop's
own admission (:func:`server.admission.admit`: the fields against
:class:`schemas.records.DeviceRequestSchema`, who may set which status,
:func:`schemas.lifecycle.may_set`) and merged by the same policy (server/merge.py): on the
request as the page showed it (`seen`), a laptop's move the hub took since is concurrent,
so an incompatible pair (approve/reject, deliver/cancel) or a move no longer legal becomes a
conflict in the queue with both sides, never a silent overwrite.

For the web pages and the CLI::

    requests = hub_state().requests
    requests.approve(user, rid, seen=812, via="web")
    requests.reject(user, rid, "Sudah menerima kursi roda tahun lalu.", via="web")
    sha = requests.store_photo(user, rid, uploaded_bytes, filename="serah.jpg")
    requests.deliver(user, rid, handover_date="2026-11-23", received_by="Ibu Sri",
                     photo_sha256=sha, via="web")
    requests.history(user, rid)   # the status history and every change, who and when

Any refusal (:mod:`server.exceptions`, naming the field) writes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from marshmallow import ValidationError

from schemas.lifecycle import is_legal_transition, may_set
from schemas.media import SNIFF_BYTES, sniff_media_type
from schemas.review import clean_note
from server.admission import admit
from server.attachments import AttachmentStore
from server.audit import AuditEvent
from server.exceptions import Invalid, Missing, NotAllowed, StateConflict
from server.office.writes import OFFICE_DEVICE, OfficeTransaction, check_ids, require_office
from server.scope import Scope
from server.storage import Device, HubStorage, NotFound, RecordRow, User

__all__ = ["TRANSITIONS", "RequestService", "Transition"]

#: the office's verbs (CLI, pages) and the status each moves a request to
TRANSITIONS: dict[str, str] = {
    "verify": "diverifikasi",
    "approve": "disetujui",
    "reject": "ditolak",
    "deliver": "diserahkan",
}
#: a handover may be dated at most this far past the hub's UTC date (WIT is UTC+9)
_HANDOVER_AHEAD = dt.timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Transition:
    """What one transition did.

    `outcome` is the merge's: ``applied``; ``merged`` (a concurrent compatible move from
    the field was kept too); or ``conflict`` (the two cannot both stand: the request keeps
    a legal status, `status`, and the other move waits in the review queue).
    """

    request_id: str
    requested: str
    status: str
    outcome: str
    seq: int


class RequestService:
    """ABF transitions by the office over any :class:`HubStorage`.

    :param attachments: where a handover photo is kept (the tus uploads' store).
    :param now: the hub's wall clock as ISO text.
    """

    def __init__(
        self,
        storage: HubStorage,
        attachments: AttachmentStore,
        now: Callable[[], str],
        max_skew_ms: int,
    ) -> None:
        self.storage = storage
        self.attachments = attachments
        self._now = now
        self._max_skew_ms = max_skew_ms

    # -- the transitions ------------------------------------------------------------------

    def verify(
        self, user: User, request_id: str, *, seen: int | None = None, via: str = "web"
    ) -> Transition:
        """*diverifikasi*. See :meth:`move`."""
        return self.move(user, request_id, "diverifikasi", {}, seen=seen, via=via)

    def approve(
        self, user: User, request_id: str, *, seen: int | None = None, via: str = "web"
    ) -> Transition:
        """*disetujui*. See :meth:`move`."""
        return self.move(user, request_id, "disetujui", {}, seen=seen, via=via)

    def reject(
        self,
        user: User,
        request_id: str,
        reason: str,
        *,
        seen: int | None = None,
        via: str = "web",
    ) -> Transition:
        """*ditolak* with a reason (required, ≤ 1,000 characters; ``reason``). See :meth:`move`."""
        try:
            note = clean_note(reason, required=True)
        except ValidationError as exc:
            raise Invalid.on("reason", str(exc.messages[0])) from None
        return self.move(user, request_id, "ditolak", {"reject_reason": note}, seen=seen, via=via)

    def deliver(
        self,
        user: User,
        request_id: str,
        *,
        handover_date: str,
        received_by: str,
        photo_sha256: str,
        seen: int | None = None,
        via: str = "web",
    ) -> Transition:
        """*diserahkan*: the handover's date (not in the future), who received the device
        (required, ≤ 200 characters) and the handover photo, uploaded first (tus, or
        :meth:`store_photo`) and named by its sha256, which joins the request's
        `attachments`. See :meth:`move`.

        :raises Invalid: naming ``handover_date``, ``received_by`` or ``photo``.
        """
        fields = self._handover(handover_date, received_by)
        if not isinstance(photo_sha256, str) or self.attachments.blob_path(photo_sha256) is None:
            raise Invalid.on("photo", "Foto serah terima belum diunggah ke hub.")
        return self.move(
            user, request_id, "diserahkan", fields, seen=seen, via=via, photo=photo_sha256
        )

    def deliver_with_photo(
        self,
        user: User,
        request_id: str,
        photo: bytes,
        *,
        handover_date: str,
        received_by: str,
        filename: str | None = None,
        seen: int | None = None,
        via: str = "web",
    ) -> Transition:
        """:meth:`deliver` with the photo's bytes (a browser's form, the CLI's file): every
        field and the request's status are checked before the photo is kept, so bad input
        keeps nothing. (A move refused in between, by a laptop's change arriving at that
        moment, leaves the photo kept and unused, as a laptop's photo of a refused record.)
        """
        self._handover(handover_date, received_by)
        row = self._visible(user, request_id)
        current = row.data.get("status")
        if seen is None and not is_legal_transition(str(current), "diserahkan"):
            raise StateConflict.on(
                "status", f"Perubahan status {current} → diserahkan tidak diizinkan."
            )
        sha256 = self.store_photo(user, request_id, photo, filename, via=via)
        return self.deliver(
            user,
            request_id,
            handover_date=handover_date,
            received_by=received_by,
            photo_sha256=sha256,
            seen=seen,
            via=via,
        )

    def _handover(self, handover_date: Any, received_by: Any) -> dict[str, Any]:
        """The handover's fields, checked. :raises Invalid: naming the field."""
        try:
            name = clean_note(received_by, required=True, max_len=200, multiline=False)
        except ValidationError as exc:
            raise Invalid.on("received_by", str(exc.messages[0])) from None
        _check_handover_date(handover_date, self._now())
        return {"handover_date": handover_date, "received_by": name}

    def move(
        self,
        user: User,
        request_id: str,
        status: str,
        fields: dict[str, Any],
        *,
        seen: int | None = None,
        via: str = "web",
        photo: str | None = None,
    ) -> Transition:
        """Move one request to `status`, with the transition's `fields`, in one transaction.

        :param seen: the request's seq as the page showed it; None: as it is now (the CLI).
        :param photo: a sha256 to add to the request's `attachments`.
        :raises NotAllowed: `user` is not office staff, or their role may not set `status`.
        :raises Invalid: a field that breaks the schema (named), or a bad `seen`.
        :raises Missing: no such request within the user's wilayah (``request_id``).
        :raises StateConflict: deleted, already in `status`, or the move is not legal from
            the status the user saw (``status``).
        """
        require_office(user)
        if not may_set(user.role, status):
            raise NotAllowed.on(
                "status", f"Peran {user.role} tidak boleh mengubah status menjadi {status}."
            )
        [rid] = check_ids([request_id], "request_id", limit=1)
        if seen is not None and (type(seen) is not int or seen < 0):
            raise Invalid.on("seen", "Harus nomor urut (seq) permohonan.")
        with self.storage.write() as session:
            tx = OfficeTransaction(session, user, self._now(), self._max_skew_ms)
            [row] = tx.rows([rid], "device_request", "request_id", "Permohonan")
            before = row.data.get("status")
            if before == status:
                raise StateConflict.on("status", f"Permohonan ini sudah berstatus {status}.")
            if photo is not None:
                held = list(row.data.get("attachments") or [])
                fields = {**fields, "attachments": [*held, photo] if photo not in held else held}
            change = {
                "entity": "device_request",
                "op": "put",
                "fields": {"status": status, **fields},
            }
            office = Device(OFFICE_DEVICE, user, "kantor", tx.now)
            try:
                admitted = admit(office, tx.scope, change, row, frozenset(), tx.writer.row)
            except ValidationError as exc:
                errors = _messages(exc)
                name, [first, *_] = next(iter(errors.items()))
                raise Invalid(f"{name}: {first}", errors) from None
            written = tx.write(row, admitted, seen)
            after = written.row.data.get("status")
            tx.finish(
                "request_transition",
                {
                    "request_id": rid,
                    "from": before,
                    "to": status,
                    "status": after,
                    "outcome": written.outcome,
                    **({"photo": photo} if photo else {}),
                },
                via,
            )
        return Transition(rid, status, str(after), written.outcome, written.seq)

    # -- the handover photo ---------------------------------------------------------------

    def store_photo(
        self,
        user: User,
        request_id: str,
        data: bytes,
        filename: str | None = None,
        *,
        via: str = "web",
    ) -> str:
        """Keep an uploaded photo's bytes (a browser's form) as the tus path keeps a
        laptop's: checked against the hub's types and size, verified, content-addressed.
        :returns: its sha256, for :meth:`deliver`.

        :raises NotAllowed, Missing: as :meth:`move` (the request must be the user's to see).
        :raises Invalid: empty, too large, or not a JPEG, PNG or WebP (``photo``).
        """
        require_office(user)
        [rid] = check_ids([request_id], "request_id", limit=1)
        self._visible(user, rid)
        if not isinstance(data, bytes | bytearray) or not data:
            raise Invalid.on("photo", "Berkas foto kosong.")
        media_type = sniff_media_type(bytes(data[:SNIFF_BYTES]))
        if media_type is None:
            raise Invalid.on("photo", "Berkas bukan foto JPEG, PNG atau WebP.")
        sha256 = hashlib.sha256(data).hexdigest()
        try:
            upload = self.attachments.create(OFFICE_DEVICE, sha256, len(data), media_type, filename)
            if not upload.complete:
                self.attachments.append(
                    OFFICE_DEVICE, upload.upload_id, upload.offset, bytes(data[upload.offset :])
                )
        except Invalid as exc:
            raise type(exc).on("photo", exc.message) from None
        with self.storage.write() as session:
            session.audit(
                AuditEvent(
                    self._now(),
                    user.name,
                    "office_photo",
                    {
                        "request_id": rid,
                        "sha256": sha256,
                        "size": len(data),
                        "media_type": media_type,
                        "via": via,
                    },
                    OFFICE_DEVICE,
                )
            )
        return sha256

    # -- reading --------------------------------------------------------------------------

    def history(self, user: User, request_id: str) -> dict[str, Any]:
        """A request's path: its status history (from, to, who, device, when, seq, as the
        hub keeps it) and every change the hub took for it, oldest first (who, from which
        device, when it arrived, what it set, and the merge's outcome).

        :raises NotAllowed, Missing: as :meth:`move`.
        """
        require_office(user)
        [rid] = check_ids([request_id], "request_id", limit=1)
        row = self._visible(user, rid)
        changes = []
        for change in self.storage.iter_changes(rid):
            receipt = orjson.loads(change.receipt_json)
            if receipt.get("status") == "rejected":
                continue
            changes.append(
                {
                    "seq": receipt.get("seq"),
                    "at": change.received_at,
                    "by": change.author_id,
                    "device": change.device_id,
                    "fields": orjson.loads(change.fields_json),
                    "outcome": receipt.get("status"),
                }
            )
        return {
            "request_id": rid,
            "status": row.data.get("status"),
            "status_history": list(row.data.get("status_history") or []),
            "changes": changes,
        }

    def _visible(self, user: User, request_id: str) -> RecordRow:
        """:raises Missing: no such request within the user's wilayah (a deleted one is
        still shown: its history stays readable)."""
        require_office(user)
        [request_id] = check_ids([request_id], "request_id", limit=1)
        try:
            row = self.storage.get_record(request_id)
        except NotFound:
            row = None
        if (
            row is None
            or row.entity != "device_request"
            or not Scope.of(user).covers(row.kelurahan)
        ):
            raise Missing.on("request_id", f"Permohonan tidak ditemukan: {request_id}.")
        return row


def _check_handover_date(value: Any, now_iso: str) -> None:
    """:raises Invalid: not a date, or later than the hub's date allows (``handover_date``)."""
    try:
        day = dt.date.fromisoformat(value) if isinstance(value, str) and len(value) == 10 else None
    except ValueError:
        day = None
    if day is None:
        raise Invalid.on("handover_date", "Tanggal harus berbentuk YYYY-MM-DD.")
    today = dt.datetime.fromisoformat(now_iso.replace("Z", "+00:00")).date()
    if day > today + _HANDOVER_AHEAD:
        raise Invalid.on("handover_date", "Tanggal serah terima tidak boleh di masa depan.")


def _messages(exc: ValidationError) -> dict[str, list[str]]:
    found = exc.normalized_messages()
    return {
        str(name): [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
        for name, msgs in found.items()
    }
