"""Filing an ABF request: ``/abf/baru?penerima=ID`` (the beneficiary's page links here).

The form's values become the record's fields through :func:`client_sync.abf.form_fields`
(the device type, the reason, the assessment's questions as fields of their own), the same
:func:`client_sync.abf.request_fields` `pendamping request add` uses. A draft keeps the form
as typed (issue 13 item 6): ``?draft=ID`` opens a kept one, the form's hidden ``draft_id``
names it, and a POST keeps the typed values as the draft before saving the record, which
removes the draft in the same transaction (``store.drafts.save_as_record``); a refused save
shows each field's message under it, keeps what was typed, and keeps the draft. The form is
marked for the shared as-you-type autosave (``data-draft-kind="request"``).
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import current_app, redirect, request, url_for
from flask.typing import ResponseReturnValue

from client_sync.abf import ASSESSMENT, form_fields
from client_sync.app.abf_words import CHOICE_LABELS, DEVICE_LABELS
from client_sync.app.i18n import gettext
from client_sync.app.shell import bp, device, error_page, render
from client_sync.errors import InvalidRecord, RecordNotFound
from schemas.codes import DEVICE_TYPES

__all__ = ["FORM_FIELDS"]

#: the form's own inputs (besides csrf_token and draft_id)
FORM_FIELDS = ("beneficiary_id", "device_type", "reason", *(f.name for f in ASSESSMENT))
#: drafts this process already saved as requests: a form sent twice (the back button, a
#: double click) shows the request made the first time instead of making a second one
_FINISHED = "pendamping_abf_finished"


def _finished() -> dict[str, str]:
    done: dict[str, str] = current_app.extensions.setdefault(_FINISHED, {})
    return done


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
    try:
        return device().store.get("beneficiary", beneficiary_id)
    except RecordNotFound:
        return None


@bp.route("/abf/baru", methods=["GET", "POST"])
def abf_new() -> ResponseReturnValue:
    store = device().store
    draft_id = request.values.get("draft_id") or request.args.get("draft") or ""
    kept = None
    if draft_id:
        try:
            kept = store.drafts.get(draft_id)
        except RecordNotFound:
            kept = None
        if kept is not None and kept.kind != "device_request":
            kept, draft_id = None, ""
    if len(draft_id) > 100:
        draft_id = ""
    values: dict[str, Any] = dict(kept.fields) if kept is not None else {}
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
    errors: dict[str, str] = {}
    if request.method == "POST":
        made = _finished().get(draft_id)
        if made is not None:
            return redirect(url_for("field.abf_request", record_id=made), 303)
        draft_id = draft_id or str(uuid.uuid4())
        store.drafts.save(draft_id, "device_request", values)  # what was typed, kept first
        try:
            record_id = store.drafts.save_as_record(draft_id, form_fields(beneficiary_id, values))
        except InvalidRecord as exc:
            errors = {name: _words(found) for name, found in exc.errors.items()}
        else:
            _finished()[draft_id] = record_id
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
        draft_id=draft_id or str(uuid.uuid4()),
        resumed=kept if request.method == "GET" else None,
        device_types=[(code, DEVICE_LABELS.get(code, code)) for code in DEVICE_TYPES],
        assessment=ASSESSMENT,
        choices=CHOICE_LABELS,
    )
