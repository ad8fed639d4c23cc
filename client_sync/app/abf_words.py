"""An ABF request's codes as the field app names them: its status and its device type, and
the answers of the assessment's choices. Lazy gettext strings, so each reads in the page's
language; a code the hub later adds shows as it is rather than failing. (The office's pages
name the same codes in ``server.web.office_words``; the laptop does not import the hub.)"""

from __future__ import annotations

from typing import Any

from client_sync.app.i18n import lazy_gettext as _l

__all__ = ["CHOICE_LABELS", "DEVICE_LABELS", "MOVE_LABELS", "STATUS_LABELS", "word"]

STATUS_LABELS = {
    "diajukan": _l("Diajukan"),
    "diverifikasi": _l("Diverifikasi"),
    "disetujui": _l("Disetujui"),
    "diserahkan": _l("Diserahkan"),
    "ditolak": _l("Ditolak"),
    "dibatalkan": _l("Dibatalkan"),
}
#: the button that moves a request to a status
MOVE_LABELS = {
    "diverifikasi": _l("Verifikasi permohonan"),
    "disetujui": _l("Setujui"),
    "diserahkan": _l("Catat serah terima"),
    "ditolak": _l("Tolak"),
    "dibatalkan": _l("Batalkan permohonan"),
}
DEVICE_LABELS = {
    "kursi_roda": _l("Kursi roda"),
    "kursi_roda_adaptif": _l("Kursi roda adaptif"),
    "kruk": _l("Kruk"),
    "tongkat": _l("Tongkat"),
    "tongkat_putih": _l("Tongkat putih"),
    "walker": _l("Walker"),
    "alat_bantu_dengar": _l("Alat bantu dengar"),
    "kaki_palsu": _l("Kaki palsu"),
    "tangan_palsu": _l("Tangan palsu"),
    "lainnya": _l("Alat lainnya"),
}
#: the assessment's offered answers (client_sync.abf.ASSESSMENT), kept in Indonesian
CHOICE_LABELS = {
    "mandiri": _l("mandiri"),
    "terbatas": _l("terbatas"),
    "perlu alat bantu": _l("perlu alat bantu"),
    "tidak dapat berjalan": _l("tidak dapat berjalan"),
    "rendah": _l("rendah"),
    "sedang": _l("sedang"),
    "tinggi": _l("tinggi"),
    "ada": _l("ada"),
    "tidak ada": _l("tidak ada"),
}


def word(labels: dict[str, Any], code: Any) -> str:
    """The label of `code`, the code itself when it has none, a dash for nothing."""
    if code is None or code == "":
        return "—"
    return str(labels.get(code, code))
