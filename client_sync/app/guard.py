"""Who may drive the app: the checks every request passes, in this order.

1. The Host header is ``127.0.0.1:PORT`` or ``localhost:PORT`` (a page on another site that
   resolves its own name to 127.0.0.1, DNS rebinding, is refused).
2. The session cookie proves the browser came through this start's secret URL
   (``/masuk?kunci=…``, opened by `pendamping app`), which is then dropped from the address;
   without it a plain refusal page, so another local user or a web page cannot drive it.
3. Every POST carries flask-wtf's CSRF token (forms: a hidden field; JSON: the
   ``X-CSRFToken`` header from the page's ``<meta name="csrf-token">``).
4. The store is unlocked, unless the request is for the unlock or enrolment page, a
   static file or the language switch; after the idle time it locks itself first.
"""

from __future__ import annotations

import hmac
from urllib.parse import urlsplit

from flask import (
    Flask,
    Response,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from client_sync.app.draft_views import hold_while_locked
from client_sync.app.i18n import current_lang, remember_choice
from client_sync.app.state import app_state

__all__ = ["ENTER_PATH", "PROGRESS_PATH", "bypasses_store", "csrf", "init_app"]

ENTER_PATH = "/masuk"
PROGRESS_PATH = "/sinkron/kemajuan.json"
#: endpoints that work while the store is locked
_LOCKED_OK = {"field.unlock", "field.enrol", "static", "field.refused"}
csrf = CSRFProtect()


def bypasses_store(path: str) -> bool:
    """Requests that touch no store and may run beside a page (see keeper.StoreThread)."""
    return path.startswith("/static/") or path == PROGRESS_PATH


def _host_ok() -> bool:
    port = current_app.config["APP_PORT"]
    return request.host in {f"127.0.0.1:{port}", f"localhost:{port}"}


def _refuse(status: int) -> Response:
    """The plain refusal page: Indonesian, no details, no trace."""
    body = render_template("app/refused.html", status=status)
    return Response(body, status, {"Content-Type": "text/html; charset=utf-8"})


def _check() -> ResponseReturnValue | None:
    if not _host_ok():
        return _refuse(403)
    if request.path == ENTER_PATH:
        return _enter()
    if session.get("masuk") is not True:
        return _refuse(403)
    if request.method == "POST":
        csrf.protect()
    if bypasses_store(request.path):
        # not on the store thread, and not activity: an open sync page polling its
        # progress must not keep the app unlocked
        return None
    state = app_state()
    keeper = state.keeper
    keeper.lock_if_idle()
    keeper.touch()
    if keeper.device is None and request.endpoint not in _LOCKED_OK:
        if request.method == "POST":
            hold_while_locked()  # what the form carries becomes its draft on unlocking
        target = "field.unlock" if keeper.enrolled else "field.enrol"
        return redirect(url_for(target, next=_back_to()), 303)
    return None


def _back_to() -> str:
    """Where to return after unlocking: this page, or for a POST the page it came from."""
    if request.method == "GET":
        return request.full_path.rstrip("?")
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path.startswith("/"):
        return referrer.path + (f"?{referrer.query}" if referrer.query else "")
    return "/"


def _enter() -> ResponseReturnValue:
    """Trade this start's secret for the session cookie, and drop it from the address."""
    given = request.args.get("kunci", "")
    if not hmac.compare_digest(given.encode(), app_state().start_secret.encode()):
        return _refuse(403)
    session.clear()
    session["masuk"] = True
    if request.headers.get("Sec-Fetch-Site", "none") in {"none", "same-origin"}:
        return redirect("/", 303)
    # Opened from another site, i.e. the opener page in the laptop's home (serve.py): a
    # redirect would carry on that navigation, and a SameSite=Strict cookie is not sent on
    # it. A page of this app that moves on to "/" starts a navigation of its own.
    page = render_template("app/entering.html")
    return Response(
        page, 200, {"Content-Type": "text/html; charset=utf-8", "Referrer-Policy": "no-referrer"}
    )


def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'self'; img-src 'self' blob: data:; script-src 'self';"
        " connect-src 'self'; media-src 'self' blob:; form-action 'self';"
        " frame-ancestors 'none'; base-uri 'none'"
    )
    response.headers["Content-Language"] = current_lang()
    return remember_choice(response)


def init_app(app: Flask) -> None:
    """The checks before every request and the headers after; CSRF checked by
    :func:`_check` itself, after the host and the cookie."""
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the session lives as long as this start
    csrf.init_app(app)
    app.before_request(_check)
    app.after_request(_headers)
