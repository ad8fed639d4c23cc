"""The provinces' names by their Kemendagri code (the first two digits of a NIK and of every
wilayah code), for showing what a NIK says. Codes are :data:`schemas.codes.PROVINCE_CODES`.

The Papua codes 91-96 are named as one region: a NIK keeps the code of the province that
issued it, and the 2022 division of Papua renumbered those codes, so a NIK's 91 or 94 may
name either the old or the new province. No I/O.
"""

from __future__ import annotations

__all__ = ["PROVINCE_NAMES", "province_name"]

_PAPUA = "Tanah Papua"

PROVINCE_NAMES: dict[str, str] = {
    "11": "Aceh",
    "12": "Sumatera Utara",
    "13": "Sumatera Barat",
    "14": "Riau",
    "15": "Jambi",
    "16": "Sumatera Selatan",
    "17": "Bengkulu",
    "18": "Lampung",
    "19": "Kepulauan Bangka Belitung",
    "21": "Kepulauan Riau",
    "31": "DKI Jakarta",
    "32": "Jawa Barat",
    "33": "Jawa Tengah",
    "34": "DI Yogyakarta",
    "35": "Jawa Timur",
    "36": "Banten",
    "51": "Bali",
    "52": "Nusa Tenggara Barat",
    "53": "Nusa Tenggara Timur",
    "61": "Kalimantan Barat",
    "62": "Kalimantan Tengah",
    "63": "Kalimantan Selatan",
    "64": "Kalimantan Timur",
    "65": "Kalimantan Utara",
    "71": "Sulawesi Utara",
    "72": "Sulawesi Tengah",
    "73": "Sulawesi Selatan",
    "74": "Sulawesi Tenggara",
    "75": "Gorontalo",
    "76": "Sulawesi Barat",
    "81": "Maluku",
    "82": "Maluku Utara",
    **{code: _PAPUA for code in ("91", "92", "93", "94", "95", "96")},
}


def province_name(code: str) -> str:
    """The name of province `code`; the code itself when it is not one."""
    return PROVINCE_NAMES.get(code, code)
