"""Verifikasi bulanan: a programme's month in the user's wilayah, each enrolled beneficiary's
state with counts on top; closing the month after a confirm step; the month's XLSX; a
printable list with a header and signature lines.

Every read and the close are :class:`server.office.verification.MonthlyVerification`, the
service `pendamping-hub verification` calls, with the user's scope: a supervisor of `31.71`
neither sees nor closes `31.72`. The close and each download are audited with the user's
name (``verification_close``, ``web_export``). A value the list refuses (a month, a
programme, a wilayah) comes back on the form with its message; nothing is written.
"""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from flask import Response, current_app, g, redirect, request, url_for
from flask_wtf import FlaskForm
from wtforms import HiddenField

from server.audit import AuditEvent
from server.error_map import status_of
from server.exceptions import HubError, Invalid, OutsideScope
from server.office.exports import export_to
from server.office.queries import OfficeQueries
from server.office.verification import CLOSERS, MonthList, MonthlyVerification
from server.scope import Scope, has_role
from server.storage import User
from server.timeutil import utc_iso
from server.web import bp
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.shell import MenuEntry, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.verification", lazy_gettext("Verifikasi bulanan"))

#: rows a page of the list shows (the printable list shows all)
PAGE_ROWS = 100
STATES = {
    "terverifikasi": lazy_gettext("Terverifikasi"),
    "belum": lazy_gettext("Belum diverifikasi"),
    "tidak_layak": lazy_gettext("Tidak layak"),
    "meninggal": lazy_gettext("Meninggal"),
    "pindah": lazy_gettext("Pindah"),
}
AMENDMENTS = {
    "berubah": lazy_gettext("Berubah setelah ditutup"),
    "ditambahkan": lazy_gettext("Terdaftar setelah ditutup"),
    "dikeluarkan": lazy_gettext("Tidak lagi terdaftar"),
}
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class MonthForm(FlaskForm):
    """A POST about one month's list (close it, download it): its CSRF token and the
    list's programme, month and wilayah, as the page showed them."""

    program = HiddenField()
    month = HiddenField()
    wilayah = HiddenField()


def _service() -> MonthlyVerification:
    return MonthlyVerification(OfficeQueries.from_config(storage(), current_app.config))


def _chosen(source: Any, service: MonthlyVerification) -> dict[str, str]:
    programs = service.queries.programs
    return {
        "program": (source.get("program") or programs[0]).strip(),
        "month": (source.get("month") or service.this_month()).strip(),
        "wilayah": (source.get("wilayah") or "").strip(),
    }


def _message(exc: HubError, chosen: dict[str, str]) -> tuple[str, str]:
    """The field a refusal is about and its message in the page's words where it has them."""
    if isinstance(exc, OutsideScope):
        return "wilayah", gettext(
            "Wilayah %(code)s berada di luar wilayah Anda.", code=chosen["wilayah"]
        )
    field = next(iter(exc.errors or {}), "")
    messages = (exc.errors or {}).get(field) or [exc.message]
    return field, str(messages[0])


def _list_or_errors(
    service: MonthlyVerification, chosen: dict[str, str]
) -> tuple[MonthList | None, dict[str, str], int]:
    try:
        found = service.month_list(
            Scope.of(g.web_user), chosen["program"], chosen["month"], chosen["wilayah"]
        )
    except HubError as exc:
        field, message = _message(exc, chosen)
        return None, {field or "program": message}, status_of(exc)
    return found, {}, 200


def _may_close(user: User, found: MonthList, service: MonthlyVerification) -> bool:
    started = found.period.start <= service.queries.now()
    return has_role(user, *CLOSERS) and not found.closed and started and bool(found.rows)


def _context(found: MonthList, service: MonthlyVerification) -> dict[str, Any]:
    return {
        "found": found,
        "month_status": "ditutup" if found.closed else ("sebagian" if found.closes else "terbuka"),
        "closes": [(c, local_time(c.closed_at)) for c in found.closes],
        "area": ", ".join(found.wilayah) if found.wilayah is not None else gettext("semua"),
        "states": STATES,
        "amendments": AMENDMENTS,
        "local_time": local_time,
    }


def _page(
    chosen: dict[str, str],
    status: int = 200,
    errors: dict[str, str] | None = None,
    refused: str | None = None,
    notice: str | None = None,
):
    service = _service()
    found, list_errors, list_status = _list_or_errors(service, chosen)
    errors = {**list_errors, **(errors or {})}
    context: dict[str, Any] = {}
    if found is not None:
        pages = max(1, -(-len(found.rows) // PAGE_ROWS))
        try:
            number = min(max(1, int(request.args.get("page", "1"))), pages)
        except ValueError:
            number = 1
        shown = found.rows[(number - 1) * PAGE_ROWS : number * PAGE_ROWS]
        context = {
            **_context(found, service),
            "rows": service.with_names(shown),
            "page": number,
            "pages": pages,
            "may_close": _may_close(g.web_user, found, service),
            "form": MonthForm(formdata=None, data=chosen),
        }
    return render(
        "web/verification.html",
        status if status != 200 else list_status,
        chosen=chosen,
        programs=service.queries.programs,
        errors=errors,
        refused=refused,
        notice=notice,
        **context,
    )


@bp.route("/verifikasi")
@login_required
def verification():
    service = _service()
    chosen = _chosen(request.args, service)
    notice = None
    if request.args.get("closed"):
        notice = gettext("Bulan ini ditutup; daftarnya dibekukan.")
    return _page(chosen, notice=notice)


@bp.route("/verifikasi/tutup")
@login_required
def verification_confirm():
    """The confirm step: what will be frozen, and the button that does it."""
    service = _service()
    chosen = _chosen(request.args, service)
    found, errors, status = _list_or_errors(service, chosen)
    if found is None:
        return _page(chosen, status, errors)
    return render(
        "web/verification_close.html",
        form=MonthForm(formdata=None, data=chosen),
        chosen=chosen,
        may_close=_may_close(g.web_user, found, service),
        **_context(found, service),
    )


@bp.route("/verifikasi/tutup", methods=["POST"])
@login_required
def verification_close():
    service = _service()
    form = MonthForm()
    chosen = _chosen(form.data, service)
    if not form.validate():
        return _page(chosen, 400)
    try:
        service.close(g.web_user, chosen["program"], chosen["month"], chosen["wilayah"])
    except HubError as exc:
        field, message = _message(exc, chosen)
        if field in ("program", "month", "wilayah") and isinstance(exc, Invalid | OutsideScope):
            return _page(chosen, status_of(exc), {field: message})
        return _page(chosen, status_of(exc), refused=message)
    query: dict[str, Any] = {**chosen, "closed": 1}
    return redirect(url_for("web.verification", **query), 303)


@bp.route("/verifikasi/unduh", methods=["POST"])
@login_required
def verification_download():
    """The month's list as XLSX (the export kind ``verification``), audited."""
    user: User = g.web_user
    service = _service()
    form = MonthForm()
    chosen = _chosen(form.data, service)
    if not form.validate():
        return _page(chosen, 400)
    scope = Scope.of(user)
    queries = service.queries
    buffer = io.BytesIO()
    try:
        where = queries.record_filter(
            scope, month=chosen["month"], wilayah=chosen["wilayah"], program=chosen["program"]
        )
        rows = export_to(queries, scope, "verification", where, "xlsx", buffer)
    except HubError as exc:
        field, message = _message(exc, chosen)
        return _page(chosen, status_of(exc), {field or "program": message})
    detail = {
        "kind": "verification",
        "format": "xlsx",
        "rows": rows,
        "month": chosen["month"],
        "program": chosen["program"],
        "wilayah": chosen["wilayah"] or None,
    }
    with storage().write() as session:
        session.audit(AuditEvent(utc_iso(), user.name, "web_export", detail))
    area = (chosen["wilayah"] or "wilayah").replace("/", "-")
    name = f"verifikasi-{chosen['program']}-{chosen['month']}-{area}-{dt.date.today():%Y%m%d}.xlsx"
    return Response(
        buffer.getvalue(),
        mimetype=_XLSX,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/verifikasi/cetak")
@login_required
def verification_print():
    """Every row of the month's list on one page for printing: a header naming the list
    and who closed it, and signature lines."""
    service = _service()
    chosen = _chosen(request.args, service)
    found, errors, status = _list_or_errors(service, chosen)
    if found is None:
        return _page(chosen, status, errors)
    return render(
        "web/verification_print.html",
        chosen=chosen,
        rows=service.with_names(found.rows),
        printed=local_time(utc_iso()),
        **_context(found, service),
    )
