"""The office's codes as its pages name them: a visit's purpose and review state, an ABF
request's status and device type. Lazy gettext strings, so each reads in the page's
language; a code the hub later adds shows as it is rather than failing."""

from __future__ import annotations

from typing import Any

from server.web.i18n import lazy_gettext as _l

__all__ = ["DEVICE_LABELS", "PURPOSE_LABELS", "REVIEW_LABELS", "STATUS_LABELS", "word"]

PURPOSE_LABELS = {
    "verifikasi": _l("Verifikasi"),
    "monitoring": _l("Monitoring"),
    "asesmen": _l("Asesmen"),
    "penyaluran": _l("Penyaluran"),
    "lainnya": _l("Lainnya"),
}
REVIEW_LABELS = {
    "menunggu": _l("Menunggu tinjauan"),
    "diterima": _l("Diterima"),
    "dikembalikan": _l("Dikembalikan"),
}
STATUS_LABELS = {
    "diajukan": _l("Diajukan"),
    "diverifikasi": _l("Diverifikasi"),
    "disetujui": _l("Disetujui"),
    "diserahkan": _l("Diserahkan"),
    "ditolak": _l("Ditolak"),
    "dibatalkan": _l("Dibatalkan"),
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


def word(labels: dict[str, Any], code: str | None) -> str:
    """The label of `code`, the code itself when it has none, a dash for nothing."""
    if not code:
        return "—"
    return str(labels.get(code, code))
