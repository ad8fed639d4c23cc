"""Kunjungan: the visits of the user's wilayah, filtered, and their review.

The list reads :meth:`OfficeQueries.visits` (newest first, 50 a page, keyset cursor, the
filters checked in one index); a visit's page reads the record. Each decision is one call
of the office-writes service (:class:`server.office.review.ReviewService`, the CLI's
`pendamping-hub review`), made as the logged-in user, with the seq each visit had on the
page (`seen`): a visit the pendamping changed since is refused, nobody accepts what they
did not read. A refusal (a return without a reason) comes back on the form with the
field's message, the typed reason kept, and nothing written. Bulk accept takes the waiting
visits of the filtered list, at most :data:`~server.office.writes.MAX_BATCH` (500) a
time, after a confirm step that says how many; the confirm step carries exactly the
visits it counted.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app, g, redirect, request, url_for
from flask_wtf.csrf import generate_csrf

from schemas.codes import VISIT_PURPOSES
from schemas.review import WAITING
from server.error_map import status_of
from server.exceptions import HubError, Missing, OutsideScope
from server.office.queries import REVIEW_STATES, OfficeQueries
from server.office.writes import MAX_BATCH
from server.scope import Scope
from server.state import hub_state
from server.storage import User
from server.storage.office import RecordFilter
from server.web import bp
from server.web.decision_forms import BulkAcceptForm, ReviewForm
from server.web.i18n import gettext, lazy_gettext
from server.web.office_words import PURPOSE_LABELS, REVIEW_LABELS
from server.web.record_photos import photo_response
from server.web.shell import MenuEntry, error_page, login_required, render, storage
from server.web.visit_views import (
    Filters,
    clean_query,
    pendamping_of,
    visit_detail,
    visit_row,
)

__all__ = ["MENU"]

MENU = MenuEntry("web.visits", lazy_gettext("Kunjungan"))
#: visits a page of the list
PAGE_SIZE = 50


def _queries() -> OfficeQueries:
    return OfficeQueries.from_config(storage(), current_app.config)


def _where(queries: OfficeQueries, scope: Scope, filters: Filters, **override: str) -> Any:
    values = {**filters.values, **override}
    return queries.record_filter(
        scope,
        month=values.get("month"),
        day=values.get("day"),
        wilayah=values.get("wilayah"),
        pendamping=values.get("pendamping"),
        purpose=values.get("purpose"),
        review_state=values.get("review_state"),
    )


def _refusal(exc: HubError, filters: Filters) -> tuple[str, str]:
    """(field, message) of a filter the queries refused, in the page's words where it
    has them."""
    if isinstance(exc, OutsideScope):
        code = filters.get("wilayah")
        return "wilayah", gettext("Wilayah %(code)s berada di luar wilayah Anda.", code=code)
    name, messages = next(iter((exc.errors or {"": [exc.message]}).items()))
    return (name or "", messages[0])


def _list(
    filters: Filters,
    status: int = 200,
    *,
    row_error: dict[str, Any] | None = None,
    notice: str | None = None,
):
    user: User = g.web_user
    scope = Scope.of(user)
    queries = _queries()
    errors: dict[str, str] = {}
    rows: list[dict[str, Any]] = []
    total = 0
    next_key = None
    try:
        where = _where(queries, scope, filters)
    except HubError as exc:
        field, message = _refusal(exc, filters)
        errors[field] = message
        status = max(status, status_of(exc))
    else:
        page = queries.visits(scope, where, PAGE_SIZE, filters.get("after") or None)
        rows = [visit_row(item) for item in page.items]
        total, next_key = page.total or 0, page.next_key
    state = filters.get("review_state")
    return render(
        "web/visits.html",
        status,
        filters=filters.values,
        errors=errors,
        rows=rows,
        total=total,
        next_url=url_for("web.visits", **filters.query(after=next_key)) if next_key else None,
        first_url=(
            url_for("web.visits", **filters.query(page=False)) if filters.get("after") else None
        ),
        bulk_url=(
            url_for("web.visits_bulk", **filters.query(page=False))
            if not errors and state in ("", WAITING)
            else None
        ),
        back=filters.query_string(),
        pendamping=pendamping_of(storage(), user),
        purposes=[(code, PURPOSE_LABELS.get(code, code)) for code in VISIT_PURPOSES],
        states=[(code, REVIEW_LABELS.get(code, code)) for code in REVIEW_STATES],
        token=generate_csrf(),
        row_error=row_error or {},
        notice=notice or _notice(),
        max_batch=MAX_BATCH,
    )


def _notice() -> str | None:
    """The answer of the last decision, after its redirect (``?selesai=...&n=...``)."""
    done, count = request.args.get("selesai"), request.args.get("n", "")
    n = int(count) if count.isascii() and count.isdigit() and len(count) < 6 else 0
    if done == "terima":
        return gettext("Kunjungan diterima.")
    if done == "kembalikan":
        return gettext(
            "Kunjungan dikembalikan ke pendamping; laptopnya menerimanya pada sinkron berikutnya."
        )
    if done == "massal":
        return gettext("%(n)s kunjungan diterima.", n=n)
    return None


@bp.route("/kunjungan", endpoint="visits")
@login_required
def visits_page():
    return _list(Filters.of(request.args))


@bp.route("/kunjungan/<record_id>", endpoint="visit")
@login_required
def visit_page(record_id: str):
    return _detail(record_id)


def _detail(
    record_id: str, status: int = 200, form: ReviewForm | None = None, message: str | None = None
):
    try:
        visit = visit_detail(storage(), Scope.of(g.web_user), record_id)
    except Missing:
        return _not_found()
    back = clean_query(request.values.get("back")) if request.method == "POST" else None
    return render(
        "web/visit.html",
        status,
        visit=visit,
        form=form or ReviewForm(formdata=None),
        message=message,
        notice=_notice(),
        back=back.query_string() if back else request.args.get("back", ""),
    )


def _not_found():
    return error_page(
        gettext("Tidak ditemukan"),
        gettext("Tidak ada kunjungan dengan ID itu di wilayah Anda."),
        404,
    )


@bp.route("/kunjungan/<record_id>/tinjau", methods=["POST"], endpoint="visit_review")
@login_required
def review(record_id: str):
    """Accept or return one visit, from the list (`view=list`) or from its page."""
    user: User = g.web_user
    form = ReviewForm()
    filters = clean_query(form.back.data)
    from_list = request.form.get("view") == "list"
    if not form.validate():
        abort(400)  # only a forged or broken form lacks the action or the seq
    reviews = hub_state().reviews
    seen = {record_id: int(form.seen.data or 0)}
    try:
        if form.action.data == "terima":
            reviews.accept(user, [record_id], seen=seen, via="web")
        else:
            reviews.send_back(user, [record_id], form.reason.data or "", seen=seen, via="web")
    except Missing:
        return _not_found()
    except HubError as exc:
        messages = exc.errors or {}
        message = (messages.get("reason") or messages.get("visit_ids") or [exc.message])[0]
        if from_list:
            error = {"id": record_id, "message": message, "reason": form.reason.data or ""}
            return _list(filters, status_of(exc), row_error=error)
        if "reason" in messages:
            form.reason.errors = [message]
            return _detail(record_id, status_of(exc), form)
        return _detail(record_id, status_of(exc), form, message)
    done = "terima" if form.action.data == "terima" else "kembalikan"
    if from_list:
        return redirect(url_for("web.visits", **filters.query(), selesai=done), 303)
    back = filters.query_string()
    return redirect(url_for("web.visit", record_id=record_id, selesai=done, back=back), 303)


# -- bulk accept ------------------------------------------------------------------------


def _bulk(filters: Filters, status: int = 200, message: str | None = None):
    """The confirm step: the waiting visits of the filtered list, newest first, at most
    :data:`MAX_BATCH`, counted and carried by the form."""
    user: User = g.web_user
    scope = Scope.of(user)
    queries = _queries()
    state = filters.get("review_state")
    found: list[Any] = []
    total = 0
    refused = None
    if state not in ("", WAITING):
        refused = gettext("Hanya kunjungan yang menunggu tinjauan yang dapat diterima sekaligus.")
    else:
        try:
            where: RecordFilter = _where(queries, scope, filters, review_state=WAITING)
        except HubError as exc:
            refused = _refusal(exc, filters)[1]
            status = max(status, status_of(exc))
        else:
            page = queries.visits(scope, where, MAX_BATCH)
            found, total = page.items, page.total or 0
    form = BulkAcceptForm(formdata=None)
    form.visits.data = ",".join(f"{v.id}:{v.seq}" for v in found)
    form.back.data = filters.query_string(page=False)
    return render(
        "web/visits_bulk.html",
        status,
        count=len(found),
        total=total,
        sample=[visit_row(v) for v in found[:10]],
        form=form,
        refused=refused,
        message=message,
        chosen=_described(filters),
        list_url=url_for("web.visits", **filters.query(page=False)),
        max_batch=MAX_BATCH,
    )


def _described(filters: Filters) -> list[tuple[str, str]]:
    """The filters in words, for the confirm step."""
    labels = {
        "month": gettext("Bulan"),
        "day": gettext("Tanggal"),
        "pendamping": gettext("Pendamping"),
        "wilayah": gettext("Wilayah atau kelurahan"),
        "purpose": gettext("Tujuan"),
    }
    shown = []
    for key, label in labels.items():
        value = filters.get(key)
        if value:
            shown.append((label, str(PURPOSE_LABELS.get(value, value))))
    return shown


@bp.route("/kunjungan/terima-semua", methods=["GET", "POST"], endpoint="visits_bulk")
@login_required
def bulk_accept():
    if request.method == "GET":
        return _bulk(Filters.of(request.args))
    user: User = g.web_user
    form = BulkAcceptForm()
    filters = clean_query(form.back.data)
    if not form.validate():
        abort(400)
    seen: dict[str, int] = {}
    for part in (form.visits.data or "").split(","):
        vid, _, seq = part.partition(":")
        if not (seq.isascii() and seq.isdigit()) or len(seq) > 18:
            abort(400)
        seen[vid] = int(seq)
    try:
        done = hub_state().reviews.accept(user, list(seen), seen=seen, via="web")
    except Missing:
        return _not_found()
    except HubError as exc:
        message = next(iter((exc.errors or {}).values()), [exc.message])[0]
        return _bulk(filters, status_of(exc), message)
    return redirect(
        url_for("web.visits", **filters.query(page=False), selesai="massal", n=len(done.written)),
        303,
    )


# -- photos -------------------------------------------------------------------------------


@bp.route("/kunjungan/<record_id>/foto/<sha>", endpoint="visit_photo")
@login_required
def photo(record_id: str, sha: str):
    """A photo of the visit, only for a user whose scope covers it; 404 otherwise."""
    found = photo_response(
        storage(), hub_state().attachments, Scope.of(g.web_user), "visit", record_id, sha
    )
    if found is None:
        return error_page(
            gettext("Tidak ditemukan"),
            gettext("Foto itu tidak ada pada kunjungan ini di wilayah Anda."),
            404,
        )
    return found
