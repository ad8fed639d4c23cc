"""Filing an ABF request: ``/abf/baru?penerima=ID`` (the beneficiary's page links here).

The form's values become the record's fields through :func:`client_sync.abf.form_fields`
(the device type, the reason, the assessment's questions as fields of their own), the same
:func:`client_sync.abf.request_fields` `pendamping request add` uses. Its draft is the
shared one (:mod:`client_sync.app.draft_views`): kept as it is typed (``static/draft.js``),
opened again by ``?draft=ID``, kept with what was typed when a save is refused (each
field's message under it), and turned into the request in the same transaction that
removes it; a form sent twice shows the request made the first time.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from flask import redirect, request, url_for
from flask.typing import ResponseReturnValue

from client_sync.abf import ASSESSMENT, form_fields
from client_sync.app.abf_words import CHOICE_LABELS, DEVICE_LABELS
from client_sync.app.draft_views import finished_record, open_form, save_form
from client_sync.app.i18n import gettext
from client_sync.app.shell import bp, device, error_page, render
from client_sync.errors import InvalidRecord, RecordNotFound
from schemas.codes import DEVICE_TYPES

__all__ = ["FORM_FIELDS"]

#: the form's own inputs (besides csrf_token and draft_id)
FORM_FIELDS = ("beneficiary_id", "device_type", "reason", *(f.name for f in ASSESSMENT))


def _words(messages: Any) -> str:
    """A field's messages as one line (a nested object's, e.g. an assessment key's, too)."""
    if isinstance(messages, dict):
        return " ".join(f"{k}: {_words(v)}" for k, v in messages.items())
    if isinstance(messages, list):
        return " ".join(_words(m) for m in messages)
    return str(messages)


def _typed() -> dict[str, Any]:
    return {name: request.form.get(name, "") for name in FORM_FIELDS}


def _person(beneficiary_id: str) -> dict[str, Any] | None:
    """The beneficiary on this laptop, or None."""
    try:
        return device().store.get("beneficiary", beneficiary_id)
    except RecordNotFound:
        return None


@bp.route("/abf/baru", methods=["GET", "POST"])
def abf_new() -> ResponseReturnValue:
    if request.method == "POST":
        made = finished_record(request.form.get("draft_id"))
        if made is not None:  # the same form sent again (back button): saved already
            return redirect(url_for("field.abf_request", record_id=made), 303)
    form_draft = open_form("device_request", None)
    values: dict[str, Any] = dict(form_draft.values or {})
    if request.method == "POST":
        values = _typed()
    beneficiary_id = str(request.args.get("penerima") or values.get("beneficiary_id") or "").strip()
    values["beneficiary_id"] = beneficiary_id
    person = _person(beneficiary_id) if beneficiary_id else None
    if person is None:
        return error_page(
            gettext("Pilih penerima manfaat dulu"),
            gettext(
                "Permohonan ABF diajukan dari halaman penerima manfaat: buka Penerima "
                "manfaat, pilih orangnya, lalu Ajukan ABF."
            ),
            404 if beneficiary_id else 400,
        )
    form_draft = replace(
        form_draft,
        others=[d for d in form_draft.others if d.fields.get("beneficiary_id") == person["id"]],
    )
    errors: dict[str, str] = {}
    if request.method == "POST":
        # what was typed is kept as the draft first: a refusal below leaves it there
        device().store.drafts.save(form_draft.draft_id, "device_request", values)
        try:
            record_id = save_form(form_draft, values, form_fields(beneficiary_id, values))
        except InvalidRecord as exc:
            errors = {name: _words(found) for name, found in exc.errors.items()}
        else:
            return redirect(url_for("field.abf_request", record_id=record_id, baru=1), 303)
    shown = {f.name for f in ASSESSMENT} | {"device_type", "reason", "assessment"}
    others = {k: v for k, v in errors.items() if k not in shown}
    return render(
        "app/abf_form.html",
        400 if errors else 200,
        person=person,
        values=values,
        errors=errors,
        others=others,
        form_draft=form_draft,
        device_types=[(code, DEVICE_LABELS.get(code, code)) for code in DEVICE_TYPES],
        assessment=ASSESSMENT,
        choices=CHOICE_LABELS,
    )
