"""The field app's languages: Bahasa Indonesia by default, English through the switch.

The office's habit (server/web/i18n.py) with the app's own catalogue in
``client_sync/app/translations/en/LC_MESSAGES/messages.po``: the Indonesian text is the
message id, the ``.po`` is compiled in memory by :mod:`schemas.po_catalogue`, the choice
comes from ``?lang=`` and is kept in a cookie. See docs/field-app.md, "Adding a string".
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

LANGS = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANG = "id"
#: not "lang": the office's pages may run on 127.0.0.1 too, and cookies ignore the port
LANG_COOKIE = "pendamping_app_lang"
TRANSLATIONS = Path(__file__).with_name("translations")
_YEAR_S = 365 * 24 * 3600


class _AppDomain(Domain):
    def __init__(self) -> None:
        super().__init__(domain="messages")
        self._catalogues = CompiledCatalogues(TRANSLATIONS)

    def get_translations(self) -> NullTranslations:
        return self._catalogues.get(str(get_locale() or DEFAULT_LANG))


class _AppBabel(Babel):
    @cached_property
    def domain_instance(self) -> Domain:
        return _AppDomain()


def _select_lang() -> str:
    asked = request.args.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in LANGS else DEFAULT_LANG


def current_lang() -> str:
    return str(get_locale() or DEFAULT_LANG)


def remember_choice(response: Response) -> Response:
    """Keep a language chosen with ``?lang=`` in its cookie."""
    asked = request.args.get("lang")
    if asked in LANGS and request.cookies.get(LANG_COOKIE) != asked:
        response.set_cookie(
            LANG_COOKIE, asked, max_age=_YEAR_S, httponly=True, samesite="Strict", path="/"
        )
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANG)
    _AppBabel(app, locale_selector=_select_lang)
