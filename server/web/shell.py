"""What every page shares: who is logged in, the scope label, rendering with the header's
menu, the response headers, CSRF, and the error page (never a stack trace).

A page module (server/web/pages/) routes its views on :data:`server.web.bp`, wraps them in
:func:`login_required`, renders with :func:`render` and names its menu entry as ``MENU``
(a :class:`MenuEntry`); the menu is built from ``server.web.pages.PAGES``, one list.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlencode

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from server.error_map import status_of
from server.exceptions import HubError
from server.passwords import PASSWORD_ROLES
from server.scope import Scope, has_role
from server.state import hub_state
from server.storage import HubStorage, NotFound, StorageError, User
from server.web import bp, csrf
from server.web.forms import LogoutForm
from server.web.i18n import LANGS, current_lang, gettext, lazy_gettext, remember_choice

__all__ = [
    "MenuEntry",
    "error_page",
    "fingerprint",
    "login_required",
    "render",
    "scope_label",
    "session_user",
    "storage",
]

log = logging.getLogger("server.web")
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True, slots=True)
class MenuEntry:
    """A page in the header's menu: its endpoint and its label (a lazy gettext string)."""

    endpoint: str
    label: Any


# -- every request of the blueprint ----------------------------------------------------------


@bp.before_request
def _protect() -> None:
    """CSRF on every POST of the pages (raises CSRFError: 400). A bundle upload may be
    larger than an API body: its own limit is set before the form is read."""
    if request.endpoint == "web.bundle_upload":
        request.max_content_length = int(current_app.config["WEB_BUNDLE_MAX_BYTES"])
    csrf.protect()
    # No text a person types holds a NUL; PostgreSQL cannot even compare one (a login
    # name or a search with it would be a storage failure there): refused as a bad request.
    if any(
        "\x00" in text
        for pairs in (request.args, request.form)
        for item in pairs.items(multi=True)
        for text in item
    ):
        abort(400)


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
    response.headers["Content-Language"] = current_lang()
    return remember_choice(response)


def error_page(title: str, message: str, status: int):
    """The pages' error page, in the page's language, with the menu when logged in."""
    return render("web/error.html", status, title=title, message=message)


@bp.errorhandler(CSRFError)
def _csrf_failed(error: CSRFError):
    log.info("web: CSRF refused: %s", error.description)
    return error_page(
        gettext("Formulir tidak berlaku"),
        gettext("Formulir ini kedaluwarsa atau tidak sah. Muat ulang halamannya, lalu coba lagi."),
        400,
    )


_HTTP_TITLES = {
    404: lazy_gettext("Halaman tidak ditemukan"),
    405: lazy_gettext("Cara membuka halaman ini tidak didukung"),
    413: lazy_gettext("Berkas terlalu besar"),
}


@bp.errorhandler(Exception)
def _failed(error: Exception):
    """Anything a page lets through: a refusal with its message, an HTTP error with its
    status, a bug or a failing disk as a plain page (the trace goes to the hub's log)."""
    if isinstance(error, HubError):
        return error_page(gettext("Tidak dapat diproses"), error.message, status_of(error))
    if isinstance(error, HTTPException):
        code = error.code or 500
        title = _HTTP_TITLES.get(code, lazy_gettext("Permintaan tidak dapat diproses"))
        if code == 413:
            limit = int(current_app.config["WEB_BUNDLE_MAX_BYTES"]) // (1024 * 1024)
            message = gettext("Berkas lebih besar dari %(mib)d MiB.", mib=limit)
        else:
            message = gettext("Periksa alamatnya, atau kembali ke halaman sebelumnya.")
        return error_page(str(title), message, code)
    if isinstance(error, StorageError) and not isinstance(error, NotFound):
        log.error("web: storage failed: %s", error)
        message = gettext(
            "Penyimpanan hub sedang bermasalah; tidak ada yang tersimpan. Coba lagi nanti."
        )
        return error_page(gettext("Hub sedang bermasalah"), message, 503)
    log.exception("web: unhandled error on %s", request.path)
    return error_page(
        gettext("Terjadi kesalahan di hub"),
        gettext(
            "Halaman ini tidak dapat ditampilkan. Kesalahannya sudah dicatat di log hub; "
            "beri tahu admin jika terus terjadi."
        ),
        500,
    )


# -- who is logged in ------------------------------------------------------------------------


def storage() -> HubStorage:
    return hub_state().storage


def session_user() -> User | None:
    """The logged-in user, or None: no login, a login older than the session lifetime, or
    a user who since lost the role or the password."""
    name, at, login_ms = session.get("user"), session.get("login_at"), session.get("login_ms")
    if not isinstance(name, str) or not isinstance(at, int) or not isinstance(login_ms, int):
        return None
    age = time.time() - at
    if not -60 <= age <= current_app.permanent_session_lifetime.total_seconds():
        return None
    try:
        user = storage().get_user(name)
    except NotFound:
        return None
    if not has_role(user, *PASSWORD_ROLES) or not user.password_hash:
        return None
    if session.get("pw") != fingerprint(user.password_hash):
        return None  # the password changed since this login
    if login_ms <= storage().web_sessions_after(name):
        return None  # the user logged out (anywhere) since this login
    return user


def fingerprint(password_hash: str) -> str:
    """Names a password hash without carrying it, so a password change ends old logins."""
    return hashlib.sha256(password_hash.encode("utf-8")).hexdigest()[:16]


def login_required(view: F) -> F:
    """Send anybody not logged in to the login page; `g.web_user` is the user otherwise."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        user = session_user()
        if user is None:
            session.clear()
            return redirect(url_for("web.login"), 303)
        g.web_user = user
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def scope_label(user: User | None) -> str:
    """What the page header says the user sees: their wilayah, or everything."""
    scope = Scope.of(user) if user else None
    if scope and scope.prefixes is not None:
        return ", ".join(scope.prefixes)
    return gettext("semua")


def _menu() -> list[dict[str, Any]]:
    """The header's menu: every page of ``server.web.pages.PAGES``, the current one marked."""
    from server.web.pages import MENU  # the pages import this module

    views = current_app.view_functions
    here = request.endpoint
    if here == "web.dashboard" and MENU:
        here = MENU[0].endpoint  # /web/ shows the first page
    # every view of a page's module (its forms' answers too) marks that page's entry
    module = getattr(views.get(here or ""), "__module__", None)
    return [
        {
            "url": url_for(e.endpoint),
            "label": str(e.label),
            "current": getattr(views[e.endpoint], "__module__", None) == module,
        }
        for e in MENU
    ]


def render(template: str, status: int = 200, **context: Any):
    """Render `template` inside the shell: the user, their scope, the menu, the logout
    form and the language switch."""
    user = g.get("web_user")
    lang = current_lang()
    menu = _menu() if user else []
    # the switch reloads this page; the answer to a form goes to its page instead
    here = request.path
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    if kept:  # a list's filters (programme, month) stay as they are in the other language
        here += "?" + urlencode(kept)
    if request.method != "GET":
        here = next((item["url"] for item in menu if item["current"]), url_for("web.login"))
    return (
        render_template(
            template,
            user=user,
            scope=scope_label(user),
            logout_form=LogoutForm() if user else None,
            menu=menu,
            switch_path=here,
            lang=lang,
            other_langs=[(code, name) for code, name in LANGS.items() if code != lang],
            **context,
        ),
        status,
    )
