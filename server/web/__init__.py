"""The district office's web pages under /web/: the shell, its pages, and its languages.

Server-rendered Jinja with autoescape, no JavaScript. A login is Flask's signed session
cookie holding the user's name and login time (and flask-wtf's CSRF secret). CSRF checks
apply to this blueprint alone (``WTF_CSRF_CHECK_DEFAULT`` is off), so the token-only API
under /api/v1 is untouched whatever blueprints are added to it. What every page shares is
:mod:`server.web.shell`; each page is a module of :mod:`server.web.pages`; the languages
are :mod:`server.web.i18n`'s. See docs/web.md.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, request, url_for
from flask.typing import ResponseReturnValue
from flask_wtf.csrf import CSRFProtect

from schemas.error_codes import ErrorCode
from server.errors import ApiError

__all__ = ["bp", "csrf", "init_app"]

bp = Blueprint(
    "web",
    __name__,
    url_prefix="/web",
    template_folder="templates",
    static_folder="static",
)
csrf = CSRFProtect()


def init_app(app: Flask) -> None:
    """CSRF protection and languages for the pages, and the blueprint. (Their login
    lockout is part of :class:`server.state.HubState`.)"""
    from server.web import i18n

    # flask-wtf would otherwise check every POST of the app, the laptops' API included;
    # the blueprint calls `csrf.protect()` on its own requests instead.
    app.config["WTF_CSRF_CHECK_DEFAULT"] = False
    csrf.init_app(app)
    i18n.init_app(app)
    app.register_blueprint(bp)
    app.add_url_rule("/", "root", _root)


def _root() -> ResponseReturnValue:
    """A person who opens the hub's address in a browser lands on the pages; an API client
    (a laptop, curl, a monitor) gets the JSON 404 it always got at `/`."""
    if request.accept_mimetypes.best_match(["application/json", "text/html"]) == "text/html":
        response = redirect(url_for("web.dashboard"), 303)
        response.vary.add("Accept")
        return response
    raise ApiError(ErrorCode.NOT_FOUND, "Tidak ditemukan.", headers={"Vary": "Accept"})


from server.web import pages  # noqa: E402, F401  (routes the blueprint)
