"""Permohonan ABF: the assistive-device requests of the user's wilayah by status and age,
each request's history, the supervisor's moves, and the handover sheet.

The list reads :meth:`OfficeQueries.requests` (longest waiting in its status first) and
:meth:`OfficeQueries.requests_by_status`. Each move is one call of the office-writes
service (:class:`server.office.requests.RequestService`, the CLI's `pendamping-hub
request`), made as the logged-in user with the request's seq as the page showed it
(`seen`), so a laptop that moved the same request meanwhile meets the conflict policy
exactly as another laptop would (docs/conflicts.md). A refusal (the lifecycle's, a
missing reason, a bad date, a file that is not a photo) comes back on the move's form
with its message, the typed values kept, and nothing is written. The handover photo is
read from the upload (at most ``ATTACHMENT_MAX_BYTES``) and kept by the service only
once every other field and the status have passed.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, request, url_for

from schemas.codes import DEVICE_STATUSES
from server.error_map import status_of
from server.exceptions import HubError, Invalid, Missing, OutsideScope
from server.office.queries import OfficeQueries
from server.office.requests import TRANSITIONS
from server.scope import Scope
from server.state import hub_state
from server.storage import User
from server.timeutil import utc_iso
from server.web import bp
from server.web.decision_forms import DeliverForm, RejectForm, TransitionForm
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.office_words import STATUS_LABELS, word
from server.web.record_photos import photo_response
from server.web.request_views import request_page, request_row
from server.web.shell import MenuEntry, error_page, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.requests", lazy_gettext("Permohonan ABF"))
PAGE_SIZE = 50
_FORMS: dict[str, type[TransitionForm]] = {
    "verify": TransitionForm,
    "approve": TransitionForm,
    "reject": RejectForm,
    "deliver": DeliverForm,
}
#: the fields each move's form shows a message beside; anything else is the form's own
_FIELDS = ("reason", "handover_date", "received_by", "photo")


@bp.route("/permohonan", endpoint="requests")
@login_required
def requests_page():
    user: User = g.web_user
    scope = Scope.of(user)
    queries = OfficeQueries.from_config(storage(), current_app.config)
    chosen = {k: (request.args.get(k) or "").strip()[:40] for k in ("status", "wilayah")}
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    next_key = None
    status = 200
    try:
        where = queries.record_filter(scope, status=chosen["status"], wilayah=chosen["wilayah"])
    except HubError as exc:
        status = status_of(exc)
        if isinstance(exc, OutsideScope):
            errors["wilayah"] = gettext(
                "Wilayah %(code)s berada di luar wilayah Anda.", code=chosen["wilayah"]
            )
        else:
            name, messages = next(iter((exc.errors or {"": [exc.message]}).items()))
            errors[name] = messages[0]
    else:
        page = queries.requests(scope, where, PAGE_SIZE, request.args.get("after"))
        rows = [request_row(item, age) for item, age in page.items]
        next_key = page.next_key
    kept: dict[str, Any] = {k: v for k, v in chosen.items() if v}
    counts = [
        {
            "status": count.status,
            "label": word(STATUS_LABELS, count.status),
            "count": count.count,
            "age": age,
            "url": url_for("web.requests", **{**kept, "status": count.status}),
        }
        for count, age in queries.requests_by_status(scope)
    ]
    return render(
        "web/requests.html",
        status,
        chosen=chosen,
        errors=errors,
        rows=rows,
        counts=counts,
        statuses=[(code, STATUS_LABELS[code]) for code in DEVICE_STATUSES],
        next_url=url_for("web.requests", **kept, after=next_key) if next_key else None,
        first_url=url_for("web.requests", **kept) if request.args.get("after") else None,
    )


def _not_found():
    return error_page(
        gettext("Tidak ditemukan"),
        gettext("Tidak ada permohonan dengan ID itu di wilayah Anda."),
        404,
    )


def _forms(failed: str | None = None, form: TransitionForm | None = None) -> dict[str, Any]:
    """One blank form per move; the one that failed as it was sent."""
    forms: dict[str, Any] = {verb: cls(formdata=None) for verb, cls in _FORMS.items()}
    if failed and form is not None:
        forms[failed] = form
    return forms


def _detail(record_id: str, status: int = 200, **context: Any):
    user: User = g.web_user
    try:
        found = request_page(storage(), user, record_id)
    except Missing:
        return _not_found()
    done, outcome = request.args.get("selesai"), request.args.get("hasil")
    return render(
        "web/request.html",
        status,
        req=found,
        forms=context.pop("forms", None) or _forms(),
        failed=context.pop("failed", None),
        message=context.pop("message", None),
        done=done if done in TRANSITIONS else None,
        outcome=outcome if outcome in ("applied", "merged", "conflict") else None,
        **context,
    )


@bp.route("/permohonan/<record_id>", endpoint="request_view")
@login_required
def request_view(record_id: str):
    return _detail(record_id)


@bp.route("/permohonan/<record_id>/<verb>", methods=["POST"], endpoint="request_move")
@login_required
def move(record_id: str, verb: str):
    """One of the supervisor's moves: verify, approve, reject, deliver."""
    if verb not in _FORMS:
        abort(404)
    user: User = g.web_user
    form = _FORMS[verb]()
    if not form.validate():
        if form.seen.errors:
            abort(400)  # only a forged or broken form lacks the seq
        return _detail(record_id, 422, forms=_forms(verb, form), failed=verb)
    service = hub_state().requests
    seen = int(form.seen.data or 0)
    try:
        if isinstance(form, DeliverForm):
            done = service.deliver_with_photo(
                user,
                record_id,
                _photo_bytes(form),
                handover_date=(form.handover_date.data or "").strip(),
                received_by=form.received_by.data or "",
                filename=(form.photo.data.filename or "")[:200] or None,
                seen=seen,
                via="web",
            )
        elif isinstance(form, RejectForm):
            done = service.reject(user, record_id, form.reason.data or "", seen=seen, via="web")
        else:
            step = service.verify if verb == "verify" else service.approve
            done = step(user, record_id, seen=seen, via="web")
    except Missing:
        return _not_found()
    except HubError as exc:
        message: str | None = exc.message
        for name, messages in (exc.errors or {}).items():
            field = getattr(form, name, None) if name in _FIELDS else None
            if field is not None:
                field.errors = [messages[0]]
                message = None
            else:
                message = messages[0]
        return _detail(
            record_id, status_of(exc), forms=_forms(verb, form), failed=verb, message=message
        )
    return redirect(
        url_for("web.request_view", record_id=record_id, selesai=verb, hasil=done.outcome), 303
    )


def _photo_bytes(form: DeliverForm) -> bytes:
    """The upload's bytes, at most ``ATTACHMENT_MAX_BYTES``.

    :raises Invalid: larger than that (naming ``photo``).
    """
    limit = int(current_app.config["ATTACHMENT_MAX_BYTES"])
    data = form.photo.data.stream.read(limit + 1)
    if len(data) > limit:
        size = f"{limit // 2**20} MiB" if limit >= 2**20 else f"{max(1, limit // 1024)} KiB"
        raise Invalid.on("photo", gettext("Foto paling besar %(size)s.", size=size))
    return data


@bp.route("/permohonan/<record_id>/berita-acara", endpoint="request_sheet")
@login_required
def handover_sheet(record_id: str):
    """The printable handover sheet (berita acara serah terima) of a delivered request."""
    user: User = g.web_user
    try:
        found = request_page(storage(), user, record_id)
    except Missing:
        return _not_found()
    if found["status"] != "diserahkan":
        return error_page(
            gettext("Belum diserahkan"),
            gettext("Berita acara serah terima hanya ada untuk permohonan yang sudah diserahkan."),
            409,
        )
    return render("web/handover.html", req=found, printed=local_time(utc_iso()))


@bp.route("/permohonan/<record_id>/foto/<sha>", endpoint="request_photo")
@login_required
def photo(record_id: str, sha: str):
    """A photo of the request (the handover's), only for a user whose scope covers it."""
    found = photo_response(
        storage(), hub_state().attachments, Scope.of(g.web_user), "device_request", record_id, sha
    )
    if found is None:
        return error_page(
            gettext("Tidak ditemukan"),
            gettext("Foto itu tidak ada pada permohonan ini di wilayah Anda."),
            404,
        )
    return found
