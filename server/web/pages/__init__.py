"""The office's pages, one module each, and the header's menu built from one list.

The whole office, in the menu's order: Ringkasan, Pendamping & perangkat, Penerima
manfaat, Kunjungan, Permohonan ABF, Cakupan, Verifikasi bulanan, Ekspor & bundle, Konflik.
:data:`PAGES` lists those that exist; a page module routes its views on
:data:`server.web.bp`, uses :mod:`server.web.shell` (``login_required``, ``render``) and
names its menu entry as ``MENU``. Adding a page is its module and one line here, at its
place in that order. /web/ shows the first page listed.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module
from typing import Any

from flask import current_app
from flask.typing import ResponseReturnValue

from server.web import bp
from server.web.pages import auth  # noqa: F401  (login and logout: not in the menu)
from server.web.shell import MenuEntry, login_required

__all__ = ["MENU", "PAGES"]

#: the pages in the menu, in the office's order (module names of this package)
PAGES: tuple[str, ...] = (
    "summary",  # Ringkasan
    "devices",  # Pendamping & perangkat
    "beneficiaries",  # Penerima manfaat
    "visits",  # Kunjungan
    "abf",  # Permohonan ABF
    "coverage",  # Cakupan
    "verification",  # Verifikasi bulanan
    "bundles",  # Ekspor & bundle
    "conflicts",  # Konflik
)

MENU: tuple[MenuEntry, ...] = tuple(import_module(f"{__name__}.{name}").MENU for name in PAGES)


@bp.route("/")
@login_required
def dashboard() -> ResponseReturnValue:
    """/web/: the first page of the menu, under the address the office bookmarked."""
    view: Callable[[], Any] = current_app.view_functions[MENU[0].endpoint]
    return view()
