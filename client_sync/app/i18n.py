"""The field app's languages: Bahasa Indonesia by default, English through the switch.

The office's habit (server/web/i18n.py) with the app's own catalogue in
``client_sync/app/translations/en/LC_MESSAGES/messages.po``: the Indonesian text is the
message id, the ``.po`` is compiled in memory by :mod:`schemas.po_catalogue`, the choice
comes from ``?lang=`` and is kept in a cookie. See docs/field-app.md, "Adding a string".
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext, lazy_gettext, ngettext

from schemas.language_switch import DEFAULT_LANG, LANGS, LanguageSwitch

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

#: not "lang": the office's pages may run on 127.0.0.1 too, and cookies ignore the port
LANG_COOKIE = "pendamping_app_lang"
#: the catalogues' sources
TRANSLATIONS = Path(__file__).with_name("translations")

_SWITCH = LanguageSwitch(TRANSLATIONS, LANG_COOKIE, samesite="Strict")
current_lang = _SWITCH.current_lang
remember_choice = _SWITCH.remember_choice
init_app = _SWITCH.init_app
