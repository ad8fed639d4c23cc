"""The field app's menu pages, one module each, in menu order.

To add a page: write ``client_sync/app/pages/NAME.py`` (routes on
:data:`client_sync.app.shell.bp`, ``PAGE = Page("field.VIEW", lazy_gettext("Label"))``),
its template ``client_sync/app/templates/app/NAME.html`` extending ``app/base.html``, then
import it here and add its ``PAGE`` to :data:`PAGES`. docs/field-app.md, "Adding a page".
"""

from __future__ import annotations

from client_sync.app import record_links  # noqa: F401 (the record_url and entity_label filters)
from client_sync.app.pages import abf, abf_form, beranda, konflik, kunjungan, penerima  # noqa: F401
from client_sync.app.shell import Page

__all__ = ["PAGES"]

#: the header's menu, in order; the first is the home page at ``/``
PAGES: list[Page] = [
    beranda.PAGE,
    penerima.PAGE,
    kunjungan.PAGE,
    abf.PAGE,
    konflik.PAGE,
]
