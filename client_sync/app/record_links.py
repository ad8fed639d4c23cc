"""Where each kind of record has its page in the field app, for links from any page (a
name on Beranda, a conflict's record): ``/penerima/<id>``, ``/kunjungan/<id>``,
``/abf/<id>``. Written as paths, not endpoints, so a list can link to a page another
module serves; templates call ``record_url(entity, id)``."""

from __future__ import annotations

from urllib.parse import quote

from client_sync.app.i18n import gettext
from client_sync.app.shell import bp
from schemas.codes import ENTITY_LABELS

__all__ = ["RECORD_PATHS", "entity_label", "record_url"]

RECORD_PATHS = {
    "beneficiary": "/penerima/",
    "visit": "/kunjungan/",
    "device_request": "/abf/",
}


@bp.app_template_global("record_url")
def record_url(entity: str | None, record_id: str | None) -> str | None:
    """The page of a record, or None for a kind that has none (or no id)."""
    base = RECORD_PATHS.get(entity or "")
    if base is None or not record_id:
        return None
    return base + quote(record_id, safe="")


@bp.app_template_filter("entity_label")
def entity_label(entity: str | None) -> str:
    """A kind of record as the pendamping reads it (schemas.codes.ENTITY_LABELS)."""
    return gettext(ENTITY_LABELS.get(entity or "", entity or ""))
