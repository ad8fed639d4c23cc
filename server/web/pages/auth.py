"""Login and logout: the only pages without a login, and outside the menu."""

from __future__ import annotations

import logging
import math
import time

from flask import redirect, request, session, url_for

from schemas.protocol import RETRY_AFTER_HEADER
from server.audit import AuditEvent
from server.passwords import PASSWORD_ROLES, hash_password, needs_rehash, verify_password
from server.scope import has_role
from server.state import hub_state
from server.storage import NotFound, User
from server.timeutil import utc_iso
from server.web import bp
from server.web.forms import LoginForm
from server.web.i18n import gettext, lazy_gettext
from server.web.lockout import user_key
from server.web.shell import fingerprint, render, session_user, storage

__all__ = ["WRONG_LOGIN"]

log = logging.getLogger(__name__)

WRONG_LOGIN = lazy_gettext("Nama pengguna atau kata sandi salah.")


def _check_password(name: str, password: str) -> User | None:
    """The user, when `name` may log in with `password`; one argon2 check in every case."""
    try:
        user: User | None = storage().get_user(name)
    except NotFound:
        user = None
    stored = user.password_hash if user and has_role(user, *PASSWORD_ROLES) else None
    if not verify_password(stored, password) or user is None:
        return None
    if needs_rehash(user.password_hash or ""):
        event = AuditEvent(utc_iso(), user.name, "set_password", {"user": name, "rehash": True})
        storage().set_password_hash(user.name, hash_password(password), audit=event)
    return user


@bp.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and session_user() is not None:
        return redirect(url_for("web.dashboard"), 303)
    form = LoginForm()
    message, status, headers = None, 200, {}
    notice = None
    if request.method == "GET" and request.args.get("keluar"):
        notice = gettext("Anda sudah keluar.")
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
            with storage().write() as write:
                write.audit(
                    AuditEvent(utc_iso(), user.name, "web_login", {"ip": request.remote_addr})
                )
            session.clear()  # a fresh session (and CSRF secret) for the new login
            session["user"] = user.name
            session["login_at"] = int(time.time())
            session["login_ms"] = time.time_ns() // 1_000_000
            session["pw"] = fingerprint(user.password_hash or "")
            session.permanent = True
            return redirect(url_for("web.dashboard"), 303)
        wait = lockout.locked_for(*keys)
        if wait:
            minutes = max(1, math.ceil(wait / 60))
            message = gettext(
                "Terlalu banyak percobaan masuk yang gagal. Coba lagi dalam %(minutes)d menit.",
                minutes=minutes,
            )
            status = 429
            headers = {RETRY_AFTER_HEADER: str(math.ceil(wait))}
        else:
            message = str(WRONG_LOGIN)
    elif request.method == "POST":
        message = gettext("Isi nama pengguna dan kata sandi.")
    form.password.data = None
    page, code = render("web/login.html", status, form=form, message=message, notice=notice)
    return page, code, headers


@bp.route("/logout", methods=["POST"])
def logout():
    """End this user's every web session, not only this browser's cookie: a copy of the
    cookie taken elsewhere stops working too."""
    user = session_user()
    if user is not None:
        now_ms = time.time_ns() // 1_000_000
        storage().end_web_sessions(
            user.name, now_ms, AuditEvent(utc_iso(), user.name, "web_logout", {})
        )
    session.clear()
    return redirect(url_for("web.login", keluar=1), 303)
