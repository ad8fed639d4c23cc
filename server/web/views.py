"""The pages: login and logout, the laptops of the supervisor's wilayah, the review queue.

Each view reads the session, calls the storage or :class:`server.conflicts.ConflictService`
(the same one the API uses) and renders a template; no SQL here. A supervisor sees and
settles only what lies in their wilayah; an admin sees everything.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import math
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from flask import (
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from schemas.protocol import MAX_SEQ, RETRY_AFTER_HEADER
from server.audit import AuditEvent
from server.conflicts import CHOICES
from server.error_map import status_of
from server.exceptions import HubError, Invalid
from server.passwords import PASSWORD_ROLES, hash_password, needs_rehash, verify_password
from server.scope import Scope, has_role
from server.state import hub_state
from server.storage import HubStorage, NotFound, User
from server.timeutil import utc_iso
from server.web import bp, csrf
from server.web.cards import CardReader
from server.web.forms import CHOICE_LABELS, VALUE_MAX, LoginForm, LogoutForm, ResolveForm
from server.web.laptops import laptop_row, local_time
from server.web.lockout import user_key

__all__: list[str] = []

log = logging.getLogger(__name__)
F = TypeVar("F", bound=Callable[..., Any])

WRONG_LOGIN = "Nama pengguna atau kata sandi salah."
LOCKED = "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam {minutes} menit."
#: what a resolve form that fails its own checks says, by the field at fault
_FORM_ERRORS = {
    "choice": "Pilih keputusan yang tersedia untuk konflik ini.",
    "value": f"Nilai baru paling panjang {VALUE_MAX} karakter.",
    "survivor": "Pilih data yang dipertahankan.",
}
_PAGE = 50
#: the number of digits of the largest id a query value may name (SQLite's INTEGER)
_MAX_ID_DIGITS = len(str(MAX_SEQ))


# -- every request of the blueprint ----------------------------------------------------------


@bp.before_request
def _protect() -> None:
    """CSRF on every POST of the pages (raises CSRFError: 400)."""
    csrf.protect()


@bp.after_request
def _headers(response):
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
    return response


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError):
    log.info("web: CSRF refused: %s", error.description)
    return (
        render_template(
            "web/error.html",
            title="Formulir tidak berlaku",
            message="Formulir ini kedaluwarsa atau tidak sah. Muat ulang halamannya, lalu "
            "coba lagi.",
        ),
        400,
    )


# -- who is logged in ------------------------------------------------------------------------


def _storage() -> HubStorage:
    return hub_state().storage


def _session_user() -> User | None:
    """The logged-in user, or None: no login, a login older than the session lifetime, or
    a user who since lost the role or the password."""
    name, at, login_ms = session.get("user"), session.get("login_at"), session.get("login_ms")
    if not isinstance(name, str) or not isinstance(at, int) or not isinstance(login_ms, int):
        return None
    age = time.time() - at
    if not -60 <= age <= current_app.permanent_session_lifetime.total_seconds():
        return None
    try:
        user = _storage().get_user(name)
    except NotFound:
        return None
    if not has_role(user, *PASSWORD_ROLES) or not user.password_hash:
        return None
    if session.get("pw") != _fingerprint(user.password_hash):
        return None  # the password changed since this login
    if login_ms <= _storage().web_sessions_after(name):
        return None  # the user logged out (anywhere) since this login
    return user


def _fingerprint(password_hash: str) -> str:
    """Names a password hash without carrying it, so a password change ends old logins."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def login_required(view: F) -> F:
    """Send anybody not logged in to the login page; `g.web_user` is the user otherwise."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = _session_user()
        if user is None:
            session.clear()
            return redirect(url_for("web.login"), 303)
        g.web_user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _scope_label(user: User | None) -> str:
    """What the page header says the user sees: their wilayah, or everything."""
    scope = Scope.of(user) if user else None
    return ", ".join(scope.prefixes) if scope and scope.prefixes is not None else "semua"


def _render(template: str, status: int = 200, **context: Any):
    user = g.get("web_user")
    return (
        render_template(
            template,
            user=user,
            scope=_scope_label(user),
            logout_form=LogoutForm() if user else None,
            **context,
        ),
        status,
    )


# -- login and logout ------------------------------------------------------------------------


def _check_password(name: str, password: str) -> User | None:
    """The user, when `name` may log in with `password`; one argon2 check in every case."""
    try:
        user: User | None = _storage().get_user(name)
    except NotFound:
        user = None
    stored = user.password_hash if user and has_role(user, *PASSWORD_ROLES) else None
    if not verify_password(stored, password) or user is None:
        return None
    if needs_rehash(user.password_hash or ""):
        event = AuditEvent(utc_iso(), user.name, "set_password", {"user": name, "rehash": True})
        _storage().set_password_hash(user.name, hash_password(password), audit=event)
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and _session_user() is not None:
        return redirect(url_for("web.dashboard"), 303)
    form = LoginForm()
    message, status, headers = None, 200, {}
    notice = None
    if request.method == "GET" and request.args.get("keluar"):
        notice = "Anda sudah keluar."
    if form.validate_on_submit():
        name = (form.name.data or "").strip()  # DataRequired: never empty here
        keys = (user_key(name), f"ip:{request.remote_addr}")
        lockout = hub_state().lockout
        user = None
        if not lockout.locked_for(*keys):
            user = _check_password(name, form.password.data or "")
            if user is None:
                lockout.failed(*keys)
                # not the name typed: it is sometimes the password, typed in the wrong box
                log.warning("web: failed login from %s", request.remote_addr)
        if user is not None:
            lockout.succeeded(keys[0])
            with _storage().write() as write:
                write.audit(
                    AuditEvent(utc_iso(), user.name, "web_login", {"ip": request.remote_addr})
                )
            session.clear()  # a fresh session (and CSRF secret) for the new login
            session["user"] = user.name
            session["login_at"] = int(time.time())
            session["login_ms"] = time.time_ns() // 1_000_000
            session["pw"] = _fingerprint(user.password_hash or "")
            session.permanent = True
            return redirect(url_for("web.dashboard"), 303)
        wait = lockout.locked_for(*keys)
        if wait:
            message, status = LOCKED.format(minutes=max(1, math.ceil(wait / 60))), 429
            headers = {RETRY_AFTER_HEADER: str(math.ceil(wait))}
        else:
            message = WRONG_LOGIN
    elif request.method == "POST":
        message = "Isi nama pengguna dan kata sandi."
    form.password.data = None
    page, code = _render("web/login.html", status, form=form, message=message, notice=notice)
    return page, code, headers


@bp.route("/logout", methods=["POST"])
def logout():
    """End this user's every web session, not only this browser's cookie: a copy of the
    cookie taken elsewhere stops working too."""
    user = _session_user()
    if user is not None:
        now_ms = time.time_ns() // 1_000_000
        _storage().end_web_sessions(
            user.name, now_ms, AuditEvent(utc_iso(), user.name, "web_logout", {})
        )
    session.clear()
    return redirect(url_for("web.login", keluar=1), 303)


# -- the laptops -----------------------------------------------------------------------------


@bp.route("/")
@login_required
def dashboard():
    user: User = g.web_user
    scope = Scope.of(user)
    silent_days = int(current_app.config["WEB_SILENT_DAYS"])
    now = datetime.now(UTC)
    laptops = [
        laptop_row(d, now, silent_days)
        for d in _storage().list_devices()
        if scope.covers_any(d.user.wilayah)
    ]
    open_conflicts = len(hub_state().conflicts.list(scope, True, 1000))
    return _render(
        "web/dashboard.html",
        laptops=laptops,
        silent=sum(1 for laptop in laptops if laptop["silent"]),
        silent_days=silent_days,
        open_conflicts=open_conflicts,
    )


# -- the review queue ------------------------------------------------------------------------


def _conflict_item(
    conflict: dict[str, Any], reader: CardReader, posted: ResolveForm | None
) -> dict[str, Any]:
    """One card: the conflict, what :class:`CardReader` says of it, and its form, which
    keeps what the supervisor chose and typed when it comes back after an error."""
    kind = conflict["kind"]
    card = reader.card(conflict)
    choices = list(CHOICE_LABELS.get(kind, {}).items())
    form = posted or ResolveForm(prefix=f"c{conflict['conflict_id']}", formdata=None)
    offered = [value for value, _ in choices]
    survivors = [value for value, _ in card["survivors"]]
    return {
        **conflict,
        **card,
        "created": local_time(conflict["created_at"]),
        "form": form,
        "choices": choices,
        "chosen": _picked(form.choice.data, offered),
        "survivor_chosen": _picked(form.survivor.data, survivors),
        "takes_value": "value" in CHOICES[kind],
    }


def _picked(posted: str | None, offered: list[str]) -> str | None:
    """The option to show selected: the one posted, when offered; else the first."""
    return posted if posted in offered else next(iter(offered), None)


def _query_id(name: str) -> int | None:
    """A query value that names a row id: ASCII digits only, at most 19 of them, clamped to
    SQLite's INTEGER; None when absent or anything else ('²', 5,000 digits, '-1', ' 7')."""
    text = request.args.get(name, "")
    if not text or len(text) > _MAX_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return min(int(text), MAX_SEQ)


def _conflicts_page(
    status: int = 200,
    error: str | None = None,
    done: int | None = None,
    posted: tuple[int, ResolveForm] | None = None,
):
    """The queue; `posted` is a conflict's form sent back with an error, shown as sent."""
    user: User = g.web_user
    scope = Scope.of(user)
    after = _query_id("after") or 0
    listed = hub_state().conflicts.list(scope, True, _PAGE + 1, after)
    more = len(listed) > _PAGE
    reader = CardReader(_storage(), scope, local_time)
    items = [
        _conflict_item(c, reader, posted[1] if posted and posted[0] == c["conflict_id"] else None)
        for c in listed[:_PAGE]
    ]
    return _render(
        "web/conflicts.html",
        status,
        conflicts=items,
        next_after=items[-1]["conflict_id"] if more and items else None,
        error=error,
        done=done,
    )


@bp.route("/conflicts")
@login_required
def conflicts():
    return _conflicts_page(done=_query_id("selesai"))


def _typed_value(text: str | None) -> Any:
    """What the supervisor typed as JSON (a list, a number), or None when it is not."""
    try:
        parsed = json.loads(text or "")
    except ValueError:
        return None
    return None if isinstance(parsed, str) else parsed


@bp.route("/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@login_required
def resolve(conflict_id: int):
    user: User = g.web_user
    form = ResolveForm(prefix=f"c{conflict_id}")
    if not form.validate():
        wrong = next((name for name in _FORM_ERRORS if name in form.errors), "choice")
        return _conflicts_page(
            422, error=f"Konflik #{conflict_id}: {_FORM_ERRORS[wrong]}", posted=(conflict_id, form)
        )
    service = hub_state().conflicts
    choice: str = form.choice.data or ""  # DataRequired: never empty after validate()
    value = form.value.data if choice == "value" else None

    def settle(value: Any) -> None:
        service.resolve_as(user, conflict_id, choice, value, form.survivor.data or None)

    try:
        try:
            settle(value)
        except Invalid as exc:
            # Text first (a phone number stays text); then the same typed as JSON, for a
            # list of programmes or a number, when the field refused the text.
            typed = _typed_value(value) if choice == "value" else None
            if status_of(exc) != 422 or typed is None:
                raise
            settle(typed)
    except HubError as exc:
        return _conflicts_page(
            status_of(exc),
            error=f"Konflik #{conflict_id}: {exc.message}",
            posted=(conflict_id, form),
        )
    return redirect(url_for("web.conflicts", selesai=conflict_id), 303)
