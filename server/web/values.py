"""Record values as the office reads them on the pages: dates as ``DD-MM-YYYY``, lists
joined, the sex by its word, a photo list by its count. Jinja escapes what these return."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from server.web.i18n import gettext, lazy_gettext, ngettext

__all__ = ["date_text", "value_text"]

_SEXES = {"L": lazy_gettext("laki-laki"), "P": lazy_gettext("perempuan")}
_DATES = frozenset({"birth_date"})


def date_text(text: Any) -> str:
    """``1945-08-05`` as ``05-08-1945``; anything else as it is, nothing as a dash."""
    if not isinstance(text, str) or not text:
        return "—"
    try:
        return f"{datetime.fromisoformat(text):%d-%m-%Y}"
    except ValueError:
        return text


def value_text(field: str, value: Any) -> str:
    """A field's value as text for a page."""
    if value is None or value == "" or value == []:
        return "—"
    if field == "sex" and value in _SEXES:
        return str(_SEXES[value])
    if field in _DATES:
        return date_text(value)
    if field == "attachments" and isinstance(value, list):
        return ngettext("%(num)d foto", "%(num)d foto", len(value))
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(value)
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return gettext("ya") if value else gettext("tidak")
    return json.dumps(value, ensure_ascii=False)
