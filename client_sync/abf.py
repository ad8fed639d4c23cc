"""An ABF request's fields and status moves, shared by `pendamping request` and the field
app's Permohonan ABF pages, so that both turn what was typed into the same record fields
and answer "may I move this request there?" the same way.

- :func:`request_fields`: the record fields of a new request from its given values (the
  CLI's options, or what :func:`form_fields` made of the app's form);
- :data:`ASSESSMENT`: the structured assessment as form fields (each a key of the record's
  free-form `assessment` object, :class:`schemas.records.DeviceRequestSchema`), and
  :func:`assessment_from_form` reading them, numbers checked and named;
- :func:`moves`: where a role may move a request from its status (:mod:`schemas.lifecycle`);
- :func:`move_request`: the move itself, refused with the lifecycle's own words.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import ValidationError

from client_sync.errors import InvalidRecord
from client_sync.store import FieldStore
from schemas.codes import DEVICE_STATUSES
from schemas.lifecycle import TRANSITIONS, may_set, role_refusal
from schemas.records import load_fields

__all__ = [
    "ASSESSMENT",
    "ASSESSMENT_PREFIX",
    "AssessmentField",
    "assessment_from_form",
    "final",
    "form_fields",
    "move_request",
    "moves",
    "request_fields",
]

#: the form's name of an assessment key: ``assessment.<key>``
ASSESSMENT_PREFIX = "assessment."


@dataclass(frozen=True, slots=True)
class AssessmentField:
    """One question of the ABF assessment: the key it is kept under in the record's
    `assessment`, its label (Indonesian), and what it takes: ``choice`` (one of `choices`),
    ``number`` (`low`..`high`, whole when `whole`), ``text`` (one line) or ``note``."""

    key: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    low: float = 0
    high: float = 0
    whole: bool = False
    hint: str = ""

    @property
    def name(self) -> str:
        """The form's name for it."""
        return ASSESSMENT_PREFIX + self.key


#: The ABF assessment, in the order the form asks it. The values are kept in Indonesian
#: (they are data, read by the office as they are).
ASSESSMENT: tuple[AssessmentField, ...] = (
    AssessmentField(
        "mobilitas",
        "Mobilitas",
        "choice",
        ("mandiri", "terbatas", "perlu alat bantu", "tidak dapat berjalan"),
    ),
    AssessmentField(
        "adl_barthel",
        "Skor ADL (indeks Barthel)",
        "number",
        low=0,
        high=20,
        whole=True,
        hint="0 (bergantung penuh) sampai 20 (mandiri).",
    ),
    AssessmentField("risiko_jatuh", "Risiko jatuh", "choice", ("rendah", "sedang", "tinggi")),
    AssessmentField("dukungan_keluarga", "Dukungan keluarga", "choice", ("ada", "tidak ada")),
    AssessmentField("berat_badan_kg", "Berat badan (kg)", "number", low=1, high=300),
    AssessmentField("tinggi_badan_cm", "Tinggi badan (cm)", "number", low=30, high=250),
    AssessmentField("alat_saat_ini", "Alat bantu yang dipakai sekarang", "text"),
    AssessmentField("akses_rumah", "Akses rumah dan jalan", "note"),
    AssessmentField("catatan", "Catatan asesmen", "note"),
)
_TEXT_MAX = {"text": 200, "note": 2000}


def _number(field: AssessmentField, typed: str) -> int | float:
    """A number as typed on an Indonesian laptop (``62,5`` or ``62.5``), within bounds.

    :raises ValueError: with the message for the field.
    """
    text = typed.strip().replace(",", ".")
    low, high = f"{field.low:g}", f"{field.high:g}"
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not field.low <= value <= field.high:
        raise ValueError(f"Harus angka {low}–{high}.")
    if field.whole:
        if value != int(value):
            raise ValueError(f"Harus bilangan bulat {low}–{high}.")
        return int(value)
    return int(value) if value == int(value) else round(value, 1)


def assessment_from_form(values: Mapping[str, str]) -> dict[str, Any] | None:
    """The `assessment` object from the form's ``assessment.<key>`` values; an empty
    answer is left out, and None when every answer is.

    :raises InvalidRecord: a number out of bounds or a choice not offered, keyed by the
        form's name of the field (``assessment.adl_barthel``); every bad one at once.
    """
    found: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for field in ASSESSMENT:
        typed = (values.get(field.name) or "").strip()
        if not typed:
            continue
        if field.kind == "number":
            try:
                found[field.key] = _number(field, typed)
            except ValueError as exc:
                errors[field.name] = [str(exc)]
        elif field.kind == "choice":
            if typed in field.choices:
                found[field.key] = typed
            else:
                errors[field.name] = [f"Harus salah satu dari: {', '.join(field.choices)}."]
        else:
            most = _TEXT_MAX[field.kind]
            if len(typed) > most:
                errors[field.name] = [f"Terlalu panjang, maksimal {most}."]
            found[field.key] = typed
    if errors:
        raise InvalidRecord(errors)
    return found or None


def request_fields(
    beneficiary_id: str,
    device_type: str | None = None,
    reason: str | None = None,
    assessment: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A new request's record fields: the values given, nothing for what was not."""
    given = {"device_type": device_type, "reason": reason, "assessment": assessment}
    return {"beneficiary_id": beneficiary_id, **{k: v for k, v in given.items() if v is not None}}


def form_fields(beneficiary_id: str, values: Mapping[str, str]) -> dict[str, Any]:
    """A new request's record fields from the app's form (`device_type`, `reason`, and
    the assessment's ``assessment.<key>`` answers).

    :raises InvalidRecord: what the form alone can tell (a number, a choice), together with
        what the record's schema says of the other fields, so every refusal shows at once.
        The schema's full check (and the beneficiary's) is the store's, when it is added.
    """
    reason = (values.get("reason") or "").strip()
    device_type = (values.get("device_type") or "").strip()
    try:
        assessment = assessment_from_form(values)
    except InvalidRecord as exc:
        fields = request_fields(beneficiary_id, device_type or None, reason or None)
        errors = dict(exc.errors)
        try:
            load_fields("device_request", fields, creating=True)
        except ValidationError as more:
            messages = more.normalized_messages()
            if isinstance(messages, dict):
                # the kelurahan is the beneficiary's, taken when the store adds the request
                errors.update({k: v for k, v in messages.items() if k != "kelurahan"})
        raise InvalidRecord(errors) from None
    return request_fields(beneficiary_id, device_type or None, reason or None, assessment)


def final(status: str) -> bool:
    """True when nothing can follow `status` (diserahkan, ditolak, dibatalkan): a move
    there cannot be undone, so a page asks before making it."""
    return not TRANSITIONS.get(status)


def moves(role: str, status: str | None) -> list[str]:
    """The statuses a user of `role` may move a request in `status` to, in the lifecycle's
    order (a pendamping: diverifikasi and dibatalkan, where the lifecycle allows them)."""
    if not status:
        return []
    legal = TRANSITIONS.get(status, frozenset())
    return [s for s in DEVICE_STATUSES if s in legal and may_set(role, s)]


def move_request(store: FieldStore, record_id: str, status: str, seen: str | None = None) -> None:
    """Move request `record_id` to `status` on this laptop (queued for the next sync).

    :param seen: the status the page showed; when the request has moved since (a pull
        brought the office's move), nothing happens and the refusal says so.
    :raises InvalidRecord: on ``status``: the laptop's role may not set it (the hub's very
        words, :func:`schemas.lifecycle.role_refusal`), the request is no longer in `seen`,
        or the lifecycle does not allow the move (the store's check).
    :raises RecordNotFound: no such request.
    """
    role = store.identity.role
    refusal = role_refusal(role, status)
    if refusal is not None:
        raise InvalidRecord({"status": [refusal]})
    if seen is not None:
        current = store.get("device_request", record_id).get("status")
        if current != seen:
            raise InvalidRecord(
                {"status": [f"Status permohonan sudah berubah menjadi {current}; periksa lagi."]}
            )
    store.update("device_request", record_id, {"status": status})
