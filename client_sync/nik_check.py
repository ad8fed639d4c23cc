"""A NIK typed into a beneficiary form, checked as the pendamping types it and again on save.

One function for both moments (the app's ``nik.js`` asks it through a JSON endpoint, the
save asks it before writing), so what is said while typing is what the save says:

- the NIK itself: the record schema's own message when it is not one
  (:func:`schemas.nik.read_nik`, which uses :func:`schemas.validators.validate_nik`);
- what it says: province, kabupaten/kota, kecamatan, birth date and sex;
- what was typed beside it compared with that (:func:`schemas.nik.check_nik`: only a
  warning, the schema accepts a NIK issued with an error), and the values it offers for
  the birth date and sex when those boxes are empty;
- the beneficiaries already on this laptop with the same NIK
  (``FieldStore.views.nik_holders``), but the one being edited.

No SQL here: the store answers the last question.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Protocol

from marshmallow import ValidationError

from schemas.nik import NikReading, check_nik
from schemas.provinces import province_name

__all__ = ["NikHolders", "NikReport", "check_typed_nik"]


class NikHolders(Protocol):
    """What :func:`check_typed_nik` needs of the store (``FieldStore.views``)."""

    def nik_holders(self, nik: str, exclude: str | None = None) -> list[Any]: ...


@dataclass(frozen=True, slots=True)
class NikReport:
    """What a typed NIK says. `error`: the schema's message when it is not a NIK (then
    nothing else is filled); `warnings`: by field, what disagrees with the NIK;
    `offer`: by field, the value the NIK gives an empty box; `holders`: the others on this
    laptop with this NIK (``BeneficiaryHit``)."""

    nik: str
    error: str | None = None
    reading: NikReading | None = None
    warnings: dict[str, list[str]] = field(default_factory=dict)
    offer: dict[str, str] = field(default_factory=dict)
    holders: list[Any] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        """For the JSON endpoint: plain values only."""
        reading = None
        if self.reading is not None:
            r = self.reading
            day, month = r.birth_day_month
            reading = {
                "province": r.province,
                "province_name": province_name(r.province),
                "kabupaten": r.kabupaten,
                "kecamatan": r.kecamatan,
                "sex": r.sex,
                "birth_date": r.birth_date.isoformat() if r.birth_date else None,
                "birth_ddmmyy": f"{day:02d}-{month:02d}-{r.birth_yy:02d}",
            }
        return {
            "nik": self.nik,
            "ok": self.error is None and bool(self.nik),
            "error": self.error,
            "reading": reading,
            "warnings": self.warnings,
            "offer": self.offer,
            "holders": [
                {"id": h.id, "name": h.name, "kelurahan": h.kelurahan} for h in self.holders
            ],
        }


def check_typed_nik(
    views: NikHolders,
    nik: str,
    *,
    birth_date: str = "",
    sex: str = "",
    exclude: str | None = None,
    today: dt.date | None = None,
) -> NikReport:
    """Check the NIK `nik` typed beside `birth_date` and `sex` (form text, maybe empty).

    An empty NIK is no error (not everyone has an e-KTP yet).

    :param exclude: the id of the beneficiary being edited (their own NIK is no duplicate).
    """
    typed = (nik or "").strip()
    if not typed:
        return NikReport("")
    try:
        checked = check_nik(typed, birth_date=birth_date or None, sex=sex or None, today=today)
    except ValidationError as exc:
        messages = exc.messages
        found = messages.get("nik") if isinstance(messages, dict) else messages
        text = " ".join(str(m) for m in found) if isinstance(found, list) else str(found)
        return NikReport(typed, error=text)
    reading = checked.reading
    offer: dict[str, str] = {}
    if not (birth_date or "").strip() and reading.birth_date is not None:
        offer["birth_date"] = reading.birth_date.isoformat()
    if not (sex or "").strip():
        offer["sex"] = reading.sex
    return NikReport(
        typed,
        reading=reading,
        warnings=dict(checked.warnings),
        offer=offer,
        holders=list(views.nik_holders(typed, exclude=exclude)),
    )
