"""The Kunjungan pages' words for the codes a visit holds (purposes, verification outcomes,
photo kinds, the standard assessment's items and choices) and the list's filters, in the
pendamping's language (the English is in the app's catalogue). The codes themselves are the
schema's (schemas.codes) and client_sync.visit_form's; a test holds that each has a label.
"""

from __future__ import annotations

from client_sync.app.i18n import lazy_gettext

__all__ = [
    "CHOICE_LABELS",
    "ITEM_LABELS",
    "OUTCOMES",
    "PHOTO_KIND_LABELS",
    "PURPOSES",
    "SHOWS",
    "SHOW_LABELS",
]

PURPOSES = {
    "verifikasi": lazy_gettext("Verifikasi"),
    "monitoring": lazy_gettext("Pemantauan"),
    "asesmen": lazy_gettext("Asesmen"),
    "penyaluran": lazy_gettext("Penyaluran bantuan"),
    "lainnya": lazy_gettext("Lainnya"),
}
OUTCOMES = {
    "layak": lazy_gettext("Layak: masih memenuhi syarat"),
    "tidak_layak": lazy_gettext("Tidak layak lagi"),
    "meninggal": lazy_gettext("Meninggal dunia"),
    "pindah": lazy_gettext("Pindah"),
}
PHOTO_KIND_LABELS = {
    "rumah": lazy_gettext("Rumah"),
    "serah_terima": lazy_gettext("Serah terima alat"),
    "tanda_tangan": lazy_gettext("Tanda tangan"),
    "lainnya": lazy_gettext("Lainnya"),
}
ITEM_LABELS = {
    "adl_barthel": lazy_gettext("Indeks Barthel (kemandirian sehari-hari, 0–20)"),
    "mobilitas": lazy_gettext("Mobilitas"),
    "risiko_jatuh": lazy_gettext("Risiko jatuh"),
    "dukungan_keluarga": lazy_gettext("Dukungan keluarga"),
    "kondisi_rumah": lazy_gettext("Kondisi rumah"),
}
CHOICE_LABELS = {
    "mandiri": lazy_gettext("mandiri"),
    "terbatas": lazy_gettext("terbatas"),
    "perlu alat bantu": lazy_gettext("perlu alat bantu"),
    "tirah baring": lazy_gettext("tirah baring"),
    "rendah": lazy_gettext("rendah"),
    "sedang": lazy_gettext("sedang"),
    "tinggi": lazy_gettext("tinggi"),
    "ada": lazy_gettext("ada"),
    "tidak ada": lazy_gettext("tidak ada"),
    "layak": lazy_gettext("layak"),
    "kurang layak": lazy_gettext("kurang layak"),
    "tidak layak": lazy_gettext("tidak layak"),
}
#: the list's filters as the address names them -> store.views.visits' `show`
SHOWS = {"semua": "all", "dikembalikan": "returned", "menunggu": "waiting"}
SHOW_LABELS = {
    "semua": lazy_gettext("Semua"),
    "dikembalikan": lazy_gettext("Dikembalikan kantor"),
    "menunggu": lazy_gettext("Menunggu dikirim"),
}
