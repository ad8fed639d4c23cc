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

LANG_COOKIE = "lang"
#: the catalogues' sources
TRANSLATIONS = Path(__file__).with_name("translations")

_SWITCH = LanguageSwitch(TRANSLATIONS, LANG_COOKIE, samesite="Lax")
current_lang = _SWITCH.current_lang
remember_choice = _SWITCH.remember_choice
init_app = _SWITCH.init_app
