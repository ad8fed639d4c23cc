"""The code lists of DESIGN.md §3, stored exactly as written here.

Records only ever hold these codes, so a spreadsheet made in Bandung and one made in Kupang
compare without translation. Labels for people live in the user interfaces, except the record
kinds' (:data:`ENTITY_LABELS`), which the hub's CLI and pages and the laptop's CLI all show,
and the fields' (:data:`schemas.labels.FIELD_LABELS`).
"""

from __future__ import annotations

__all__ = [
    "CATEGORIES",
    "DEFAULT_PROGRAMS",
    "DEVICE_STATUSES",
    "DEVICE_TYPES",
    "DISABILITY_TYPES",
    "ENTITIES",
    "ENTITY_LABELS",
    "INITIAL_DEVICE_STATUS",
    "PHOTO_KINDS",
    "PROVINCE_CODES",
    "ROLES",
    "SEXES",
    "VERIFICATION_OUTCOMES",
    "VISIT_PURPOSES",
]

ENTITIES: tuple[str, ...] = ("beneficiary", "visit", "device_request")
#: The record kinds as a pendamping names them.
ENTITY_LABELS: dict[str, str] = {
    "beneficiary": "penerima manfaat",
    "visit": "kunjungan",
    "device_request": "permohonan alat",
}

SEXES: tuple[str, ...] = ("L", "P")
CATEGORIES: tuple[str, ...] = ("lansia", "disabilitas", "anak")
DISABILITY_TYPES: tuple[str, ...] = ("fisik", "intelektual", "mental", "sensorik")
#: The programmes a hub accepts unless its configuration names others (PENDAMPING_HUB_PROGRAMS).
DEFAULT_PROGRAMS: tuple[str, ...] = ("KLJ", "KPDJ", "KAJ", "PKH", "BPNT")
VISIT_PURPOSES: tuple[str, ...] = ("verifikasi", "monitoring", "asesmen", "penyaluran", "lainnya")
#: What a visit found of the beneficiary's eligibility, for the monthly verification
#: (DESIGN.md §8): still eligible, no longer eligible, deceased, moved away.
VERIFICATION_OUTCOMES: tuple[str, ...] = ("layak", "tidak_layak", "meninggal", "pindah")
DEVICE_TYPES: tuple[str, ...] = (
    "kursi_roda",
    "kursi_roda_adaptif",
    "kruk",
    "tongkat",
    "tongkat_putih",
    "walker",
    "alat_bantu_dengar",
    "kaki_palsu",
    "tangan_palsu",
    "lainnya",
)
DEVICE_STATUSES: tuple[str, ...] = (
    "diajukan",
    "diverifikasi",
    "disetujui",
    "diserahkan",
    "ditolak",
    "dibatalkan",
)
INITIAL_DEVICE_STATUS = "diajukan"
#: What a photo attached to a record shows: the house, the ABF handover, a signature, other.
PHOTO_KINDS: tuple[str, ...] = ("rumah", "serah_terima", "tanda_tangan", "lainnya")

ROLES: tuple[str, ...] = ("pendamping", "supervisor", "admin")

#: Kemendagri province codes (the first two digits of every wilayah code and of every NIK),
#: including the Papua provinces formed in 2022.
PROVINCE_CODES: frozenset[str] = frozenset(
    {
        "11",
        "12",
        "13",
        "14",
        "15",
        "16",
        "17",
        "18",
        "19",
        "21",  # Sumatra, Kepulauan Riau
        "31",
        "32",
        "33",
        "34",
        "35",
        "36",  # Jawa
        "51",
        "52",
        "53",  # Bali, Nusa Tenggara
        "61",
        "62",
        "63",
        "64",
        "65",  # Kalimantan
        "71",
        "72",
        "73",
        "74",
        "75",
        "76",  # Sulawesi
        "81",
        "82",  # Maluku
        "91",
        "92",
        "93",
        "94",
        "95",
        "96",  # Papua
    }
)
