"""Registering and editing a beneficiary, with the NIK checked as it is typed.

The form's values become record fields through :mod:`client_sync.record_fields` (shared with
`pendamping beneficiary add/edit`), the NIK is read and compared by
:mod:`client_sync.nik_check` (while typing, through :func:`nik_check`; and again on save),
and the form keeps a draft as it is typed (:mod:`client_sync.app.draft_views`). A save is
refused with the record schema's own message under the field, the typed values kept (and
the draft). A NIK that disagrees with the birth date or sex typed, or that another
beneficiary on this laptop already has, is not refused (the schema accepts it) but asks
for a confirmation first.
"""

from __future__ import annotations

from typing import Any

from flask import abort, jsonify, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import ValidationError

from client_sync.app.draft_views import (
    FormDraft,
    finished_record,
    form_values,
    open_form,
    register_resume,
    save_form,
)
from client_sync.app.i18n import lazy_gettext
from client_sync.app.shell import bp, device, render
from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.nik_check import NikReport, check_typed_nik
from client_sync.record_fields import (
    BENEFICIARY_FORM_FIELDS,
    BENEFICIARY_LISTS,
    OTHER_PROGRAMS,
    beneficiary_fields,
    beneficiary_form,
)
from client_sync.store.drafts import Draft
from schemas.codes import CATEGORIES, DEFAULT_PROGRAMS, DISABILITY_TYPES
from schemas.records import load_fields

__all__ = ["CATEGORY_LABELS", "DISABILITY_LABELS", "SEX_LABELS", "flat_errors"]

SEX_LABELS = {"L": lazy_gettext("Laki-laki"), "P": lazy_gettext("Perempuan")}
CATEGORY_LABELS = {
    "lansia": lazy_gettext("Lansia"),
    "disabilitas": lazy_gettext("Penyandang disabilitas"),
    "anak": lazy_gettext("Anak"),
}
DISABILITY_LABELS = {
    "fisik": lazy_gettext("Fisik"),
    "intelektual": lazy_gettext("Intelektual"),
    "mental": lazy_gettext("Mental"),
    "sensorik": lazy_gettext("Sensorik"),
}
#: the form's boxes, so a refusal of another field shows above the form
_FORM_NAMES = frozenset(BENEFICIARY_FORM_FIELDS + BENEFICIARY_LISTS)
_CONFIRM = "confirm_nik"


def _resume(draft: Draft) -> str:
    if draft.record_id:
        return url_for("field.beneficiary_edit", record_id=draft.record_id, draft=draft.draft_id)
    return url_for("field.beneficiary_new", draft=draft.draft_id)


register_resume("beneficiary", _resume)


def flat_errors(errors: dict[str, Any]) -> dict[str, list[str]]:
    """A schema's errors by field as plain lines (a list field's errors come per item)."""
    out: dict[str, list[str]] = {}
    for name, found in errors.items():
        lines: list[str] = []
        stack = [found]
        while stack:
            item = stack.pop(0)
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, (list, tuple)):
                stack.extend(item)
            else:
                lines.append(str(item))
        out[str(name)] = lines
    return out


def _report(values: dict[str, Any], record_id: str | None) -> NikReport:
    def text(name: str) -> str:
        value = values.get(name)
        return value if isinstance(value, str) else ""

    return check_typed_nik(
        device().store.views,
        text("nik"),
        birth_date=text("birth_date"),
        sex=text("sex"),
        exclude=record_id,
    )


def _needs_confirm(report: NikReport, fields: dict[str, Any], creating: bool) -> bool:
    """A warning worth a second look: only when the NIK, birth date or sex is new or changed."""
    if report.error or not (report.warnings or report.holders):
        return False
    return creating or bool({"nik", "birth_date", "sex"} & fields.keys())


def _form(record_id: str | None) -> ResponseReturnValue:
    store = device().store
    current = None
    if record_id is not None:
        try:
            current = store.get("beneficiary", record_id)
        except RecordNotFound:
            abort(404)
    if request.method == "POST":
        done = finished_record(request.form.get("draft_id"))
        if done is not None:  # the same form sent again: it is saved already
            return redirect(url_for("field.beneficiary", record_id=done, disimpan=1), 303)
    form_draft = open_form("beneficiary", record_id)
    errors: dict[str, list[str]] = {}
    report = NikReport("")
    confirm = False
    if request.method == "POST":
        values = form_values()
        fields = beneficiary_fields(values, current)
        report = _report(values, record_id)
        if current is not None and not fields:
            store.drafts.discard(form_draft.draft_id)
            return redirect(url_for("field.beneficiary", record_id=record_id, sama=1), 303)
        confirm = _needs_confirm(report, fields, current is None) and not values.get(_CONFIRM)
        if not confirm:
            try:
                saved = save_form(form_draft, values, fields)
            except InvalidRecord as exc:
                errors = flat_errors(exc.errors)
            else:
                return redirect(url_for("field.beneficiary", record_id=saved, disimpan=1), 303)
        else:  # keep what was typed while the pendamping looks again, and say now
            # what the schema would refuse too, so one look covers everything
            store.drafts.save(form_draft.draft_id, "beneficiary", values, record_id)
            try:
                load_fields("beneficiary", fields, creating=current is None)
            except ValidationError as exc:
                errors = flat_errors(exc.messages if isinstance(exc.messages, dict) else {})
    else:
        values = form_draft.values or (beneficiary_form(current) if current else {})
        if values.get("nik"):
            report = _report(values, record_id)
    return render(
        "app/penerima_form.html",
        400 if errors else 200,
        **_context(form_draft, values, current, errors, report, confirm),
    )


def _context(
    form_draft: FormDraft,
    values: dict[str, Any],
    current: dict[str, Any] | None,
    errors: dict[str, list[str]],
    report: NikReport,
    confirm: bool,
) -> dict[str, Any]:
    chosen = values.get("programs") or []
    chosen = [chosen] if isinstance(chosen, str) else list(chosen)
    programs = list(dict.fromkeys([*DEFAULT_PROGRAMS, *(current or {}).get("programs", [])]))
    programs += [p for p in chosen if p not in programs]
    identity = device().store.identity
    return {
        "form_draft": form_draft,
        "v": values,
        "current": current,
        "errors": errors,
        "others": {k: m for k, m in errors.items() if k not in _FORM_NAMES},
        "report": report,
        "confirm": confirm,
        "programs": programs,
        "categories": [(c, CATEGORY_LABELS.get(c, c)) for c in CATEGORIES],
        "disabilities": [(d, DISABILITY_LABELS.get(d, d)) for d in DISABILITY_TYPES],
        "sexes": SEX_LABELS,
        "other_programs": OTHER_PROGRAMS,
        "wilayah_codes": list(identity.wilayah),
        "listed": lambda name: _as_list(values.get(name)),
    }


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value or [] if isinstance(v, str)]


@bp.route("/penerima/baru", methods=["GET", "POST"])
def beneficiary_new() -> ResponseReturnValue:
    """Register a beneficiary."""
    return _form(None)


@bp.route("/penerima/<record_id>/ubah", methods=["GET", "POST"])
def beneficiary_edit(record_id: str) -> ResponseReturnValue:
    """Edit a beneficiary: only the changed fields travel."""
    return _form(record_id)


@bp.get("/penerima/nik.json")
def nik_check() -> ResponseReturnValue:
    """What a NIK typed says (nik.js): the schema's message, or its reading, the warnings,
    the values it offers and who on this laptop has it; ``html`` is the same block the form
    shows after a save without JS."""
    args = request.args
    exclude = args.get("exclude") or None
    report = check_typed_nik(
        device().store.views,
        args.get("nik", ""),
        birth_date=args.get("birth_date", ""),
        sex=args.get("sex", ""),
        exclude=exclude,
    )
    html = render_template("app/_nik.html", report=report, sexes=SEX_LABELS)
    return jsonify(**report.as_json(), html=html)
