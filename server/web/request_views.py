"""What Permohonan ABF shows, built from the office's reads and the office-writes service:
the list's rows, a request's page (its data, status history and changes, the moves the
user may make from its status), and the handover sheet.

Kept apart from the page's views (server/web/pages/abf.py). No SQL: rows come from
:meth:`OfficeQueries.requests`, a request from :meth:`HubStorage.get_record` and its
history from :meth:`server.office.requests.RequestService.history`, which also applies the
user's scope (:class:`~server.exceptions.Missing` outside it).
"""

from __future__ import annotations

from typing import Any

from flask import url_for

from schemas.labels import field_label
from schemas.lifecycle import is_legal_transition, may_set
from server.office.requests import TRANSITIONS
from server.office.writes import OFFICE_DEVICE
from server.scope import Scope
from server.state import hub_state
from server.storage import HubStorage, NotFound, User
from server.storage.office import RequestItem
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.office_words import DEVICE_LABELS, STATUS_LABELS, word
from server.web.visit_views import beneficiary_url

__all__ = ["OUTCOME_LABELS", "date_text", "moves_for", "request_page", "request_row"]

OUTCOME_LABELS = {
    "applied": lazy_gettext("diterapkan"),
    "merged": lazy_gettext("digabung"),
    "conflict": lazy_gettext("konflik"),
}
#: the fields a change's summary leaves out (they say nothing a person reads)
_QUIET = frozenset({"status_history", "created_at", "updated_at", "kelurahan"})


def date_text(text: Any) -> str:
    """``2026-01-05`` as ``05-01-2026``; anything else as it is, nothing as a dash."""
    if not isinstance(text, str) or len(text) < 10:
        return "—"
    year, month, day = text[:4], text[5:7], text[8:10]
    return f"{day}-{month}-{year}"


def request_row(item: RequestItem, age: int) -> dict[str, Any]:
    """One row of the list."""
    return {
        "id": item.id,
        "device": word(DEVICE_LABELS, item.device_type),
        "name": item.beneficiary_name or "—",
        "nik": item.beneficiary_nik,
        "beneficiary_url": beneficiary_url(item.beneficiary_id),
        "kelurahan": item.kelurahan,
        "status": item.status,
        "status_label": word(STATUS_LABELS, item.status),
        "since": local_time(item.since),
        "age": age,
        "pendamping": item.author or "—",
        "filed": local_time(item.created_at),
    }


def moves_for(user: User, status: str | None, deleted: bool) -> list[str]:
    """The office's verbs the user may take from `status`, in the lifecycle's order."""
    if deleted or not status:
        return []
    return [
        verb
        for verb, target in TRANSITIONS.items()
        if target != status and is_legal_transition(status, target) and may_set(user.role, target)
    ]


def _fields_text(fields: dict[str, Any]) -> str:
    parts = []
    for name, value in fields.items():
        if name in _QUIET:
            continue
        if name == "status":
            value = word(STATUS_LABELS, value)
        elif name == "device_type":
            value = word(DEVICE_LABELS, value)
        elif name == "attachments" and isinstance(value, list):
            value = gettext("%(n)s foto", n=len(value))
        elif isinstance(value, str) and len(value) > 80:
            value = value[:80] + "…"
        parts.append(f"{gettext(field_label(name))}: {value}")
    return "; ".join(parts) or "—"


def _device_names(storage: HubStorage, ids: set[str]) -> dict[str, str]:
    """Each laptop by its name (the hub's own changes as the office's), its id when the hub
    no longer knows it."""
    names = {}
    for device_id in ids:
        if device_id == OFFICE_DEVICE:
            names[device_id] = gettext("kantor (hub)")
            continue
        try:
            names[device_id] = storage.get_device(device_id).name
        except NotFound:
            names[device_id] = device_id
    return names


def request_page(storage: HubStorage, user: User, record_id: str) -> dict[str, Any]:
    """All a request's page (and its handover sheet) shows.

    :raises Missing: no such request within the user's wilayah.
    """
    history = hub_state().requests.history(user, record_id)
    row = storage.get_record(history["request_id"])
    data = row.data
    scope = Scope.of(user)
    person: dict[str, Any] = {}
    bid = data.get("beneficiary_id")
    if bid:
        try:
            owner = storage.get_record(bid)
        except NotFound:
            owner = None
        if owner is not None and scope.covers(owner.kelurahan):
            person = owner.data
    names = _device_names(
        storage,
        {str(s.get("device")) for s in history["status_history"] if s.get("device")}
        | {str(c["device"]) for c in history["changes"] if c["device"]},
    )
    steps = [
        {
            "from": word(STATUS_LABELS, step.get("from")),
            "to": word(STATUS_LABELS, step.get("to")),
            "to_code": step.get("to"),
            "by": step.get("by") or "—",
            "device": names.get(str(step.get("device")), "—"),
            "at": local_time(step.get("at")),
        }
        for step in history["status_history"]
    ]
    changes = [
        {
            "seq": change["seq"],
            "at": local_time(change["at"]),
            "by": change["by"] or "—",
            "device": names.get(str(change["device"]), "—"),
            "fields": _fields_text(change["fields"] or {}),
            "outcome": word(OUTCOME_LABELS, change["outcome"]),
        }
        for change in history["changes"]
    ]

    def who(status: str) -> str | None:
        found = [s["by"] for s in history["status_history"] if s.get("to") == status]
        return found[-1] if found else None

    status = data.get("status")
    return {
        "id": row.id,
        "seq": row.seq,
        "deleted": row.deleted,
        "status": status,
        "status_label": word(STATUS_LABELS, status),
        "device": word(DEVICE_LABELS, data.get("device_type")),
        "reason": data.get("reason"),
        "reject_reason": data.get("reject_reason"),
        "handover_date": date_text(data.get("handover_date")),
        "received_by": data.get("received_by"),
        "name": person.get("name") or "—",
        "nik": person.get("nik"),
        "address": person.get("address"),
        "beneficiary_url": beneficiary_url(bid),
        "kelurahan": row.kelurahan,
        "pendamping": row.author or "—",
        "filed": local_time(row.created_at),
        "photos": [
            url_for("web.request_photo", record_id=row.id, sha=sha)
            for sha in data.get("attachments") or ()
        ],
        "steps": steps,
        "changes": changes,
        "approved_by": who("disetujui"),
        "delivered_by": who("diserahkan"),
        "moves": moves_for(user, status, row.deleted),
    }
