"""The pages' languages: Bahasa Indonesia by default, English through the switch.

flask-babel with the catalogue in ``server/web/translations/<lang>/LC_MESSAGES/messages.po``.
The message ids are the Indonesian text itself, so Indonesian needs no catalogue and a
string without an English translation still reads correctly in Indonesian. The ``.po``
files are the source; they are compiled in memory with babel's own API the first time a
language is asked for in a process (no ``.mo`` committed, nothing written to disk, no
shell-out; :mod:`schemas.po_catalogue`). The choice comes from ``?lang=`` (kept in the
``lang`` cookie, which outlives a login, unlike the session) and otherwise the cookie; see
docs/web.md for adding a string.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from babel.support import NullTranslations
from flask import Flask, Response, request
from flask_babel import Babel, Domain, get_locale, gettext, lazy_gettext, ngettext

from schemas.po_catalogue import CompiledCatalogues

__all__ = [
    "DEFAULT_LANG",
    "LANGS",
    "LANG_COOKIE",
    "TRANSLATIONS",
    "current_lang",
    "gettext",
    "init_app",
    "lazy_gettext",
    "ngettext",
    "remember_choice",
]

#: the languages of the pages, each named in its own language (for the switch)
LANGS = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANG = "id"
LANG_COOKIE = "lang"
#: the catalogues' sources
TRANSLATIONS = Path(__file__).with_name("translations")
_YEAR_S = 365 * 24 * 3600


class _CatalogueDomain(Domain):
    """The pages' one domain: each language's ``.po`` compiled once per process."""

    def __init__(self) -> None:
        super().__init__(domain="messages")
        self._catalogues = CompiledCatalogues(TRANSLATIONS)

    def get_translations(self) -> NullTranslations:
        return self._catalogues.get(str(get_locale() or DEFAULT_LANG))


class _PagesBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _CatalogueDomain()


def _select_lang() -> str:
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else DEFAULT_LANG


def current_lang() -> str:
    """The language of the page being rendered."""
    return str(get_locale() or DEFAULT_LANG)


def remember_choice(response: Response) -> Response:
    """Keep a language chosen with ``?lang=`` in its cookie, for the pages that follow."""
    asked = request.args.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=_YEAR_S, httponly=True, samesite="Lax", path="/"
        )
    return response


def init_app(app: Flask) -> None:
    """flask-babel for the app, choosing the language of each request."""
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANG)
    _PagesBabel(app, locale_selector=_select_lang)
