"""The language switch both web faces share: the office's pages (server/web) and the
laptop's field app (client_sync/app).

Bahasa Indonesia by default, English through ``?lang=``, the choice kept in a cookie; the
Indonesian text is the message id and each side's ``.po`` is compiled in memory
(:class:`schemas.po_catalogue.CompiledCatalogues`). One :class:`LanguageSwitch` per side,
each with its own catalogue folder and cookie (cookies ignore the port, and both may run on
127.0.0.1).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from babel.support import NullTranslations
from flask import Flask, Response, request
from flask_babel import Babel, Domain, get_locale

from schemas.po_catalogue import CompiledCatalogues

__all__ = ["DEFAULT_LANG", "LANGS", "LanguageSwitch"]

#: the languages of the pages, each named in its own language (for the switch)
LANGS = {"id": "Bahasa Indonesia", "en": "English"}
DEFAULT_LANG = "id"
_YEAR_S = 365 * 24 * 3600


class _CatalogueDomain(Domain):
    """One side's one domain: each language's ``.po`` compiled once per process."""

    def __init__(self, translations: Path) -> None:
        super().__init__(domain="messages")
        self._catalogues = CompiledCatalogues(translations)

    def get_translations(self) -> NullTranslations:
        return self._catalogues.get(str(get_locale() or DEFAULT_LANG))


class LanguageSwitch:
    """flask-babel for one side: which catalogue, which cookie, how strict a cookie.

    :param translations: the folder holding ``<lang>/LC_MESSAGES/messages.po``.
    :param cookie: the cookie that keeps the choice.
    :param samesite: the cookie's SameSite (the office: ``Lax``, so a link from elsewhere
        keeps the language; the field app: ``Strict``).
    """

    def __init__(self, translations: Path, cookie: str, samesite: str) -> None:
        self.translations = translations
        self.cookie = cookie
        self._samesite = samesite

    def select(self) -> str:
        """The language of this request: ``?lang=``, else the cookie, else Indonesian."""
        asked = request.args.get("lang") or request.cookies.get(self.cookie)
        return asked if asked in LANGS else DEFAULT_LANG

    @staticmethod
    def current_lang() -> str:
        """The language of the page being rendered."""
        return str(get_locale() or DEFAULT_LANG)

    def remember_choice(self, response: Response) -> Response:
        """Keep a language chosen with ``?lang=`` in the cookie, for the pages that follow."""
        asked = request.args.get("lang")
        if asked in LANGS and request.cookies.get(self.cookie) != asked:
            response.set_cookie(
                self.cookie,
                asked,
                max_age=_YEAR_S,
                httponly=True,
                samesite=self._samesite,
                path="/",
            )
        return response

    def init_app(self, app: Flask) -> None:
        """flask-babel for `app`, choosing the language of each request."""
        translations = self.translations

        class _SideBabel(Babel):
            @cached_property
            def domain_instance(self) -> Domain:
                return _CatalogueDomain(translations)

        app.config.setdefault("BABEL_DEFAULT_LOCALE", DEFAULT_LANG)
        _SideBabel(app, locale_selector=self.select)
