"""Opening the app: the unlock page (the store's passphrase), the enrolment page for a new
laptop, and "Kunci". None of them is a menu page.

Enrolment calls :meth:`FieldDevice.enroll` exactly as `pendamping enroll` does: the address
read by :func:`client_sync.hub_url.parse_hub_url`, the transport from
:func:`client_sync.cli.home.transport_factory`, a passphrase of at least
:data:`client_sync.cli.home.MIN_PASSPHRASE` characters typed twice, and a hub's refusal worded
by :func:`client_sync.cli.failures.enrol_failure`. The passphrase lives only in this
process's memory (the keeper), never on disk or in a log.
"""

from __future__ import annotations

from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import InputRequired

from client_sync.app.draft_views import resume_held
from client_sync.app.i18n import gettext, lazy_gettext
from client_sync.app.shell import bp, local_path, render
from client_sync.app.state import app_state
from client_sync.cli.failures import Failure, enrol_failure, failure_for
from client_sync.cli.home import MIN_PASSPHRASE, transport_factory
from client_sync.device import FieldDevice
from client_sync.errors import ClientError, InvalidHubUrl, NotEnrolled, SyncError
from client_sync.hub_url import parse_hub_url

__all__ = ["EnrolForm", "LockForm", "UnlockForm"]


class UnlockForm(FlaskForm):
    passphrase = PasswordField(lazy_gettext("Kata sandi penyimpanan"))


class LockForm(FlaskForm):
    """The header's "Kunci" button: a form of its own, for its CSRF token."""


class EnrolForm(FlaskForm):
    hub_url = StringField(lazy_gettext("Alamat hub"), [InputRequired()])
    code = StringField(lazy_gettext("Kode sekali pakai dari kantor dinas"), [InputRequired()])
    passphrase = PasswordField(lazy_gettext("Kata sandi penyimpanan baru"), [InputRequired()])
    again = PasswordField(lazy_gettext("Ulangi kata sandi"), [InputRequired()])


def _next() -> str:
    """Where to go after unlocking: a path on this app, never another site."""
    return local_path(request.values.get("next"))


@bp.route("/buka", methods=["GET", "POST"])
def unlock() -> ResponseReturnValue:
    keeper = app_state().keeper
    if not keeper.enrolled:
        return redirect(url_for("field.enrol"), 303)
    if keeper.device is not None:
        return redirect(_next(), 303)
    form = UnlockForm()
    error = None
    plain = not keeper.needs_passphrase
    if plain or form.validate_on_submit():
        try:
            keeper.unlock("" if plain else form.passphrase.data or "")
        except NotEnrolled:
            return redirect(url_for("field.enrol"), 303)
        except ClientError as exc:  # WrongPassphrase: the store's own words
            error = failure_for(exc).lines[0]
        else:
            return redirect(resume_held() or _next(), 303)
    return render("app/unlock.html", 200 if error is None else 400, form=form, error=error)


@bp.route("/daftar", methods=["GET", "POST"])
def enrol() -> ResponseReturnValue:
    keeper = app_state().keeper
    if keeper.device is not None:
        return redirect("/", 303)
    form = EnrolForm()
    errors: dict[str, str] = {}
    note = None
    if form.validate_on_submit():
        device, errors, note = _enrol(form)
        if device is not None:
            keeper.adopt(device, form.passphrase.data or "")
            return redirect("/", 303)
    elif request.method == "POST":
        errors = {name: gettext("Wajib diisi.") for name in form.errors}
    status = 400 if errors else 200
    return render("app/enrol.html", status, form=form, errors=errors, note=note)


def _enrol(form: EnrolForm) -> tuple[FieldDevice | None, dict[str, str], str | None]:
    """Enrol as `pendamping enroll` does. :returns: the device, or the errors by field."""
    keeper = app_state().keeper
    try:
        address = parse_hub_url(form.hub_url.data or "")
    except InvalidHubUrl as exc:
        return None, {"hub_url": str(exc)}, None
    note = (
        gettext("Alamat hub ditulis tanpa http://; dipakai %(url)s.", url=address.url)
        if address.assumed_http
        else None
    )
    passphrase = form.passphrase.data or ""
    if len(passphrase) < MIN_PASSPHRASE:
        message = gettext("Terlalu pendek: kata sandi minimal %(n)d karakter.", n=MIN_PASSPHRASE)
        return None, {"passphrase": message}, note
    if form.again.data != passphrase:
        return None, {"again": gettext("Kedua kata sandi tidak sama.")}, note
    try:
        factory = app_state().transport_factory or transport_factory()
        device = FieldDevice.enroll(
            keeper.home, address.url, (form.code.data or "").strip(), None, factory, passphrase
        )
    except SyncError as exc:
        return None, {"code": enrol_failure(exc).lines[0]}, note
    except (Failure, ClientError, OSError) as exc:
        return None, {"hub_url": failure_for(exc).lines[0]}, note
    return device, {}, note


@bp.post("/kunci")
def lock() -> ResponseReturnValue:
    """Close the store and forget the passphrase now."""
    app_state().keeper.lock()
    return redirect(url_for("field.unlock"), 303)


def lock_form() -> Any:
    return LockForm()
