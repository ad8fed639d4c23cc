"""Pendamping & perangkat: each pendamping of the wilayah with their laptops, and what the
office does for them without the command line: add a pendamping, change their wilayah,
issue an enrolment code (shown once), revoke a laptop after a confirm step.

Each action is one call of the service the CLI uses (:class:`server.users.UserService`,
:func:`server.enrolment.issue_code`, :class:`server.devices.DeviceService`), made as the
logged-in user: the service checks the wilayah and writes the audit entry with their name.
A refused value comes back on its form with the field's message; nothing is written.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import current_app, g, redirect, request, url_for
from flask_wtf.csrf import generate_csrf

from server.enrolment import issue_code
from server.error_map import status_of
from server.exceptions import HubError, Missing, NameTaken, OutsideScope, StateConflict
from server.scope import Scope
from server.state import hub_state
from server.storage import User
from server.users import acts_on
from server.web import bp
from server.web.forms import AddPendampingForm, RevokeForm, WilayahForm, wilayah_codes
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import laptop_row
from server.web.roster import read_roster
from server.web.shell import MenuEntry, error_page, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.devices", lazy_gettext("Pendamping & perangkat"))


def _field_message(exc: HubError, field: str, name: str, codes: tuple[str, ...]) -> str:
    """The refusal's message for `field`, in the page's language where the page words it
    (a bad code's own message is the shared validator's, in Indonesian)."""
    if isinstance(exc, NameTaken):
        return gettext("Pengguna %(name)s sudah ada.", name=name)
    if isinstance(exc, OutsideScope):
        scope = Scope.of(g.web_user)
        code = next((c for c in codes if not scope.covers(c)), ", ".join(codes))
        return gettext("Wilayah %(code)s berada di luar wilayah Anda.", code=code)
    if isinstance(exc, StateConflict):
        return gettext(
            "Wilayah %(name)s tidak dapat diubah selama laptopnya masih terdaftar: laptop itu "
            "tidak akan menerima data lama wilayah barunya. Cabut laptopnya setelah datanya "
            "terkirim, ubah wilayahnya, lalu daftarkan laptopnya lagi dengan kode baru.",
            name=name,
        )
    if not codes:
        return gettext("Isi kode wilayah, mis. 31.71.01.")
    messages = (exc.errors or {}).get(field) or [exc.message]
    return messages[0]


def _page(
    status: int = 200,
    *,
    add_form: AddPendampingForm | None = None,
    wilayah_form: tuple[str, WilayahForm] | None = None,
    code: dict[str, Any] | None = None,
    error: str | None = None,
):
    """The page; a form sent back with an error is shown as sent, with its message."""
    user: User = g.web_user
    silent_days = int(current_app.config["WEB_SILENT_DAYS"])
    people = read_roster(storage(), user, datetime.now(UTC), silent_days)
    laptops = [laptop for person in people for laptop in person.laptops]
    # Each row's forms are plain inputs sharing the page's one CSRF token: rendering two
    # WTForms fields per row cost half of the page's time with 200 pendamping.
    values = {p.user.name: ", ".join(p.user.wilayah) for p in people if p.may_act}
    errors: dict[str, list[str]] = {}
    if wilayah_form is not None:
        name, form = wilayah_form
        values[name] = form.wilayah.data or ""
        errors[name] = [str(e) for e in form.wilayah.errors]
    notice = None
    if request.args.get("ditambah"):
        notice = gettext(
            "Pendamping %(name)s ditambahkan. Buat kode pendaftaran untuk laptopnya.",
            name=request.args["ditambah"],
        )
    elif request.args.get("wilayah"):
        notice = gettext("Wilayah %(name)s diubah.", name=request.args["wilayah"])
    open_conflicts = len(hub_state().conflicts.list(Scope.of(user), True, 1000))
    return render(
        "web/devices.html",
        status,
        people=people,
        laptops=laptops,
        silent=sum(1 for laptop in laptops if laptop["silent"]),
        silent_days=silent_days,
        open_conflicts=open_conflicts,
        add_form=add_form or AddPendampingForm(formdata=None),
        wilayah_values=values,
        wilayah_errors=errors,
        csrf=generate_csrf(),
        code=code,
        notice=notice,
        error=error,
    )


def _no_such_pendamping(name: str):
    message = gettext("Tidak ada pendamping %(name)s di wilayah Anda.", name=name)
    return error_page(gettext("Tidak ditemukan"), message, 404)


@bp.route("/perangkat")
@login_required
def devices():
    return _page()


@bp.route("/perangkat/tambah", methods=["POST"])
@login_required
def add_pendamping():
    form = AddPendampingForm()
    if not form.validate():
        return _page(422, add_form=form)
    name = (form.name.data or "").strip()
    codes = wilayah_codes(form.wilayah.data)
    try:
        hub_state().users.add_pendamping_as(g.web_user, name, codes)
    except HubError as exc:
        field = "name" if "name" in (exc.errors or {}) else "wilayah"
        getattr(form, field).errors = [_field_message(exc, field, name, codes)]
        return _page(status_of(exc), add_form=form)
    return redirect(url_for("web.devices", ditambah=name), 303)


@bp.route("/perangkat/<name>/wilayah", methods=["POST"])
@login_required
def set_wilayah(name: str):
    form = WilayahForm(prefix=f"w-{name}")
    if not form.validate():
        return _page(422, wilayah_form=(name, form))
    users = hub_state().users
    codes = wilayah_codes(form.wilayah.data)
    try:
        person = users.pendamping_of(g.web_user, name)
        enrolled = any(
            d.revoked_at is None for d in storage().list_devices() if d.user.name == person.name
        )
        users.set_wilayah_as(g.web_user, name, codes, enrolled=enrolled)
    except Missing:
        return _no_such_pendamping(name)
    except HubError as exc:
        form.wilayah.errors = [_field_message(exc, "wilayah", name, codes)]
        return _page(status_of(exc), wilayah_form=(name, form))
    return redirect(url_for("web.devices", wilayah=name), 303)


@bp.route("/perangkat/<name>/kode", methods=["POST"])
@login_required
def enroll_code(name: str):
    """Issue a one-time code for the pendamping's laptop, shown once on the page that
    answers this POST (never in an address, never stored but as its hash)."""
    # its token was checked, as with every POST of the pages (server/web/shell.py)
    try:
        person = hub_state().users.pendamping_of(g.web_user, name)
    except Missing:
        return _no_such_pendamping(name)
    ttl = float(current_app.config["ENROLL_CODE_TTL_HOURS"])
    code = issue_code(storage(), person.name, ttl, actor=g.web_user.name)
    return _page(code={"user": person.name, "code": code, "hours": f"{ttl:g}"})


def _revocable(device_id: str) -> dict[str, Any]:
    """The laptop as its row shows it, when the user may revoke it.

    :raises Missing: no such laptop in the user's wilayah (a 404 page)."""
    outside = Missing(gettext("Tidak ada laptop dengan ID %(id)s di wilayah Anda.", id=device_id))
    try:
        found = hub_state().devices.get(device_id)
    except Missing:
        raise outside from None
    if not acts_on(g.web_user, found.user):
        raise outside
    silent_days = int(current_app.config["WEB_SILENT_DAYS"])
    return laptop_row(found, datetime.now(UTC), silent_days)


@bp.route("/perangkat/laptop/<device_id>/cabut", methods=["GET", "POST"])
@login_required
def revoke(device_id: str):
    """GET: the confirm step (what is revoked, what it means, a reason). POST: revoke."""
    try:
        laptop = _revocable(device_id)
    except Missing as exc:
        return error_page(gettext("Tidak ditemukan"), exc.message, 404)
    form = RevokeForm() if request.method == "POST" else RevokeForm(formdata=None)
    if request.method == "GET" or not form.validate():
        return render(
            "web/revoke.html", 200 if request.method == "GET" else 422, laptop=laptop, form=form
        )
    done = hub_state().devices.revoke_as(g.web_user, device_id, form.reason.data or None)
    return render("web/revoked.html", laptop=laptop, revoked_now=done.revoked_now)
