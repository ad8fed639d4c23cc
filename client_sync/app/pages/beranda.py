"""Beranda: the home page at ``/``, what the store already says about this laptop's work.

For now: changes and photos waiting to be sent, visits the office returned, the last sync
and its outcome, open conflicts on this laptop's changes (all from ``FieldStore.status``,
the same figures as `pendamping status`). Who is due today comes with the store's
coverage query.
"""

from __future__ import annotations

from flask.typing import ResponseReturnValue

from client_sync.app.i18n import lazy_gettext
from client_sync.app.shell import Page, bp, render, status_strip

__all__ = ["PAGE"]

PAGE = Page("field.beranda", lazy_gettext("Beranda"))


@bp.get("/")
def beranda() -> ResponseReturnValue:
    return render("app/beranda.html", info=status_strip())
