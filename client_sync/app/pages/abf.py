"""Permohonan ABF: this laptop's requests by status, and one request's page with its status
history and the moves a pendamping may make (filing a new one: :mod:`.abf_form`).

What a role may do is :func:`client_sync.abf.moves` (schemas/lifecycle.py); a move is
:func:`client_sync.abf.move_request`, the very call of `pendamping request status`, refused
with the lifecycle's (or the hub's role rule's) own words. A move into a final status
(dibatalkan) cannot be undone, so it asks first, on a page of its own (no JS needed).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from client_sync.abf import ASSESSMENT, final, move_request, moves
from client_sync.app.abf_words import CHOICE_LABELS, DEVICE_LABELS, MOVE_LABELS, STATUS_LABELS
from client_sync.app.i18n import gettext, lazy_gettext, ngettext
from client_sync.app.shell import Page, bp, device, error_page, render
from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.store.request_views import RequestPage
from schemas.codes import DEVICE_STATUSES, INITIAL_DEVICE_STATUS

__all__ = ["PAGE", "PAGE_SIZE"]

PAGE = Page("field.abf_list", lazy_gettext("Permohonan ABF"))
#: requests per page of a status's list
PAGE_SIZE = 50


@bp.app_template_filter("status_age")
def status_age(since: str | None) -> str:
    """How long a request has held its status: *hari ini*, *1 hari*, *12 hari*."""
    if not since:
        return "—"
    try:
        at = dt.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return "—"
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    days = (dt.datetime.now(dt.UTC) - at).days
    if days < 1:
        return gettext("hari ini")
    return ngettext("%(num)d hari", "%(num)d hari", days)


def _not_found() -> ResponseReturnValue:
    return error_page(
        gettext("Permohonan tidak ditemukan"),
        gettext("Permohonan ini tidak ada di laptop ini."),
        404,
    )


@bp.get("/abf")
def abf_list() -> ResponseReturnValue:
    """The requests of one status (``?status=``; default: the first that has any), the
    earliest filed first, a page at a time (``?after=CREATED|ID``)."""
    store = device().store
    reads = store.views.requests
    counts = reads.counts()
    status = request.args.get("status") or next(
        (s for s in DEVICE_STATUSES if counts.get(s)), INITIAL_DEVICE_STATUS
    )
    if status not in counts:
        status = INITIAL_DEVICE_STATUS
    after = None
    cursor = request.args.get("after", "")
    if "|" in cursor:
        created, _, rid = cursor.partition("|")
        after = (created, rid)
    items = reads.listed(status, PAGE_SIZE + 1, after)
    more = len(items) > PAGE_SIZE
    items = items[:PAGE_SIZE]
    drafts = [
        {"draft": d, "name": _owner_name(d.fields.get("beneficiary_id"))}
        for d in store.drafts.list("device_request")
    ]
    return render(
        "app/abf_list.html",
        counts=counts,
        shown=status,
        items=items,
        places=store.views.where_many([i.id for i in items]),
        next_after=f"{items[-1].key[0]}|{items[-1].key[1]}" if more else None,
        drafts=drafts,
        labels=STATUS_LABELS,
        devices=DEVICE_LABELS,
    )


def _owner_name(beneficiary_id: Any) -> str | None:
    if not isinstance(beneficiary_id, str) or not beneficiary_id:
        return None
    try:
        return device().store.get("beneficiary", beneficiary_id).get("name")
    except RecordNotFound:
        return None


def _assessment_rows(record: dict[str, Any]) -> list[tuple[str, str]]:
    """The assessment as label and answer: the form's questions in order, then any other
    key (written by the CLI as JSON) as it is."""
    given = record.get("assessment")
    if not isinstance(given, dict):
        return []
    rows, known = [], set()
    for field in ASSESSMENT:
        known.add(field.key)
        if field.key in given:
            value = given[field.key]
            shown = str(CHOICE_LABELS.get(value, value)) if isinstance(value, str) else value
            rows.append((gettext(field.label), str(shown)))
    rows += [(str(k), str(v)) for k, v in given.items() if k not in known]
    return rows


def _request_page(
    page: RequestPage, status: int = 200, error: str | None = None, done: str | None = None
) -> ResponseReturnValue:
    store = device().store
    record = page.record
    current = record.get("status")
    offered = moves(store.identity.role, current if isinstance(current, str) else None)
    return render(
        "app/abf_request.html",
        status,
        page=page,
        record=record,
        assessment=_assessment_rows(record),
        moves=[{"to": s, "label": MOVE_LABELS.get(s, s), "final": final(s)} for s in offered],
        error=error,
        done=done,
        labels=STATUS_LABELS,
        devices=DEVICE_LABELS,
    )


@bp.get("/abf/<record_id>")
def abf_request(record_id: str) -> ResponseReturnValue:
    try:
        page = device().store.views.requests.page(record_id)
    except RecordNotFound:
        return _not_found()
    moved = request.args.get("pindah")
    if moved in DEVICE_STATUSES:
        done = gettext(
            "Status diubah menjadi %(status)s; tersimpan di laptop, terkirim pada sinkron "
            "berikutnya.",
            status=STATUS_LABELS[moved],
        )
    elif request.args.get("baru"):
        done = gettext("Permohonan tersimpan di laptop; terkirim pada sinkron berikutnya.")
    else:
        done = None
    return _request_page(page, done=done)


@bp.post("/abf/<record_id>/status")
def abf_move(record_id: str) -> ResponseReturnValue:
    """Move the request; a final status asks first unless the form says ``yakin=1``."""
    store = device().store
    status = request.form.get("status", "")
    seen = request.form.get("seen") or None
    try:
        page = store.views.requests.page(record_id)
    except RecordNotFound:
        return _not_found()
    if status in DEVICE_STATUSES and final(status) and request.form.get("yakin") != "1":
        return render(
            "app/abf_confirm.html",
            page=page,
            to=status,
            seen=seen,
            move=MOVE_LABELS.get(status, status),
            labels=STATUS_LABELS,
            devices=DEVICE_LABELS,
        )
    try:
        move_request(store, record_id, status, seen)
    except InvalidRecord as exc:
        messages: Any = exc.errors.get("status") or next(iter(exc.errors.values()), [])
        text = " ".join(messages) if isinstance(messages, list) else str(messages)
        return _request_page(store.views.requests.page(record_id), 400, error=text)
    except RecordNotFound:
        return _not_found()
    return redirect(url_for("field.abf_request", record_id=record_id, pindah=status), 303)
