"""Drafts for every form of the field app: a form half filled is kept in the store as it is
typed, and a form page opens a kept draft again (issue 13 item 6, "never lost").

How a form opts in (docs/field-app.md, "Drafts"):

- the page view calls :func:`open_form` (the draft id, and the values to fill the form with:
  a kept draft's when the address says ``?draft=ID``, so resuming works without JS);
- its template marks the form ``<form data-draft-kind="beneficiary|visit|request"
  data-draft-record="RECORD_ID">``, puts ``{{ draft_inputs(form_draft) }}`` inside it and
  loads ``static/draft.js``, which saves the form's fields as they are typed to
  :func:`draft_save` (JSON, debounced, and once more when the page is hidden);
- on POST the view calls :func:`save_form`: the typed values are kept as the draft first
  (so a refused save keeps them, with or without JS), then ``drafts.save_as_record`` turns
  the draft into the record in one transaction.

The drafts themselves, their SQL and their transactions are :mod:`client_sync.store.drafts`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from flask import current_app, jsonify, redirect, request, url_for
from flask.typing import ResponseReturnValue

from client_sync.app.i18n import gettext, lazy_gettext
from client_sync.app.shell import bp, device, local_path, render
from client_sync.app.state import app_state
from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.store.drafts import Draft
from schemas.ids import new_id

__all__ = [
    "DRAFT_KINDS",
    "FormDraft",
    "draft_label",
    "drafts_of",
    "finished_record",
    "form_values",
    "hold_while_locked",
    "open_form",
    "register_resume",
    "resume_held",
    "resume_url",
    "save_form",
]

#: a form's ``data-draft-kind`` -> the record kind its draft makes
DRAFT_KINDS: dict[str, str] = {
    "beneficiary": "beneficiary",
    "visit": "visit",
    "request": "device_request",
    "device_request": "device_request",
}
#: what a draft makes, as the list of drafts names it
KIND_LABELS = {
    "beneficiary": lazy_gettext("Penerima manfaat"),
    "visit": lazy_gettext("Kunjungan"),
    "device_request": lazy_gettext("Permohonan ABF"),
}
_FORM_FIELDS_SKIPPED = frozenset({"csrf_token", "draft_id", "draft_kind", "draft_record"})
#: drafts turned into records by this process: a late autosave must not bring one back
_FINISHED = "pendamping_finished_drafts"
_FINISHED_MAX = 10_000

#: draft id -> the `seq` of its last autosave kept by this process
_SEQS = "pendamping_draft_seqs"

#: kind -> the address of the form that resumes a draft (pages register their own)
_RESUME: dict[str, Callable[[Draft], str]] = {}


def register_resume(kind: str, url_of: Callable[[Draft], str]) -> None:
    """Say which page resumes drafts of `kind` (a record kind): ``url_of(draft)`` is its
    address with ``?draft=ID``. A page module calls this when it is imported."""
    _RESUME[kind] = url_of


def resume_url(draft: Draft) -> str:
    """The form page that opens `draft` again."""
    if draft.kind in _RESUME:
        return _RESUME[draft.kind](draft)
    base = {"visit": "/kunjungan/baru", "device_request": "/abf/baru"}.get(draft.kind, "/")
    args = {"draft": draft.draft_id}
    if draft.record_id:
        args["record"] = draft.record_id
    return f"{base}?{urlencode(args)}"


@dataclass(frozen=True, slots=True)
class FormDraft:
    """A form page's draft: its id (kept in the form's hidden ``draft_id``), the values to
    fill the form with (None: the page's own defaults), and whether they came from a kept
    draft; `others` are kept drafts of the same form the page may offer to resume."""

    draft_id: str
    kind: str
    record_id: str | None
    values: dict[str, Any] | None = None
    resumed: Draft | None = None
    others: list[Draft] = field(default_factory=list)


def _finished() -> dict[str, str]:
    """draft id -> the record it became, for the drafts this process saved."""
    done: dict[str, str] = current_app.extensions.setdefault(_FINISHED, {})
    return done


def finished_record(draft_id: str | None) -> str | None:
    """The record a draft of this process already became (a form sent twice, e.g. after
    the back button): the page shows that record instead of making a second one."""
    return _finished().get(draft_id or "")


def form_values(form: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A submitted form's values as a draft keeps them: one text per field, a list where a
    field was sent more than once (checkboxes) or is named in `lists`."""
    source = request.form if form is None else form
    values: dict[str, Any] = {}
    getlist = getattr(source, "getlist", None)
    for name in source:
        if name in _FORM_FIELDS_SKIPPED:
            continue
        many = getlist(name) if getlist else [source[name]]
        values[name] = many if len(many) != 1 else many[0]
    return values


def open_form(kind: str, record_id: str | None = None) -> FormDraft:
    """The draft of the form a page is about to show.

    ``?draft=ID`` (or, on a POST, the form's ``draft_id``) names a kept draft of this kind
    and record: its values fill the form. Otherwise a fresh id; the kept drafts of the same
    form are offered in `others` (newest first).
    """
    store = device().store
    asked = request.values.get("draft_id") or request.args.get("draft") or ""
    if asked:
        try:
            kept = store.drafts.get(asked)
        except RecordNotFound:
            kept = None
        if kept is not None and kept.kind == kind and kept.record_id == record_id:
            return FormDraft(kept.draft_id, kind, record_id, dict(kept.fields), kept)
        if request.method == "POST" and kept is None and _valid_id(asked):
            return FormDraft(asked, kind, record_id)
    others = [d for d in store.drafts.list(kind) if d.record_id == record_id]
    return FormDraft(new_id(), kind, record_id, others=others)


def _valid_id(draft_id: str) -> bool:
    return 0 < len(draft_id) <= 100 and draft_id not in _finished()


def save_form(form_draft: FormDraft, values: dict[str, Any], fields: dict[str, Any]) -> str:
    """Save a submitted form: keep `values` (as typed) as its draft, then turn the draft into
    the record made of `fields` in one transaction. :returns: the record's id.

    :raises InvalidRecord: the schema refused a field (naming it); the draft stays, holding
        what was typed, and nothing else is written.
    :raises RecordNotFound: the record being edited is gone.
    """
    drafts = device().store.drafts
    drafts.save(form_draft.draft_id, form_draft.kind, values, form_draft.record_id)
    record_id = drafts.save_as_record(form_draft.draft_id, fields)
    done = _finished()
    if len(done) >= _FINISHED_MAX:
        done.clear()
    done[form_draft.draft_id] = record_id
    return record_id


def hold_while_locked() -> bool:
    """Keep what a POST sent after the idle lock carries of a form, in memory, so that the
    next unlock makes it the form's draft (:func:`resume_held`): without it the text typed
    since the last autosave (all of it without JS) would be lost to the unlock page.

    A form names its draft with the hidden ``draft_id``/``draft_kind``/``draft_record``
    (``draft_inputs``); an autosave is draft.js's JSON. :returns: whether one was held.
    """
    body = request.get_json(silent=True) if request.is_json else None
    if isinstance(body, dict):
        draft_id, kind = body.get("draft_id"), DRAFT_KINDS.get(str(body.get("kind")))
        record_id, values = body.get("record_id") or None, body.get("fields")
    else:
        draft_id = request.form.get("draft_id")
        kind = DRAFT_KINDS.get(request.form.get("draft_kind", ""))
        record_id, values = request.form.get("draft_record") or None, form_values()
    if not (isinstance(draft_id, str) and kind and isinstance(values, dict)):
        return False
    if not _valid_id(draft_id) or not (record_id is None or isinstance(record_id, str)):
        return False
    values = {k: v for k, v in values.items() if k not in _FORM_FIELDS_SKIPPED}
    app_state().keeper.held_draft = (draft_id, kind, record_id, values)
    return True


def resume_held() -> str | None:
    """Just after unlocking: keep the form held while locked as its draft. :returns: the
    page that resumes it, or None when nothing was held (or it cannot be kept)."""
    keeper = app_state().keeper
    held, keeper.held_draft = keeper.held_draft, None
    if held is None:
        return None
    draft_id, kind, record_id, values = held
    try:
        kept = device().store.drafts.save(draft_id, kind, values, record_id)
    except InvalidRecord:
        return None
    return resume_url(kept)


def drafts_of(kind: str | None = None) -> list[Draft]:
    """The kept drafts (of `kind`), the most recently typed first."""
    return device().store.drafts.list(kind)


def draft_label(draft: Draft) -> str:
    """A few words saying whose form it was: the name typed, else the beneficiary's or the
    edited record's name as the laptop holds it, else nothing."""
    typed = draft.fields.get("name")
    if isinstance(typed, str) and typed.strip():
        return typed.strip()
    store = device().store
    for kind, record_id in (
        ("beneficiary", draft.fields.get("beneficiary_id")),
        (draft.kind, draft.record_id),
    ):
        if isinstance(record_id, str) and record_id:
            try:
                found = store.get(kind, record_id)
            except (RecordNotFound, InvalidRecord):
                continue
            name = found.get("name")
            if not name and found.get("beneficiary_id"):
                try:
                    name = store.get("beneficiary", found["beneficiary_id"]).get("name")
                except RecordNotFound:
                    name = None
            if name:
                return str(name)
    return ""


# -- the endpoints ----------------------------------------------------------------------------


@bp.post("/draf/simpan")
def draft_save() -> ResponseReturnValue:
    """Keep a form as typed (draft.js): JSON ``{draft_id, kind, record_id, fields, seq}``
    (`seq`: increasing per form, so an older save arriving late is ignored);
    answers ``{draft_id, updated_at}``, or 400 ``{errors}`` naming the field, or 409
    ``{finished: true}`` for a draft this app already saved as a record."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify(errors={"fields": [gettext("Harus berupa objek JSON.")]}), 400
    draft_id = body.get("draft_id")
    kind = DRAFT_KINDS.get(str(body.get("kind")))
    record_id = body.get("record_id") or None
    if kind is None:
        return jsonify(errors={"kind": [gettext("Jenis formulir tidak dikenal.")]}), 400
    if isinstance(draft_id, str) and draft_id in _finished():
        return jsonify(finished=True, draft_id=draft_id), 409
    store = device().store
    if record_id is not None:
        try:
            store.get(kind, str(record_id))
        except (RecordNotFound, InvalidRecord):
            return jsonify(errors={"record_id": [gettext("Data ini tidak ada di laptop.")]}), 400
    fields = body.get("fields")
    if isinstance(fields, dict):
        fields = {k: v for k, v in fields.items() if k not in _FORM_FIELDS_SKIPPED}
    seq = body.get("seq")
    seqs: dict[str, int] = current_app.extensions.setdefault(_SEQS, {})
    if isinstance(seq, int) and isinstance(draft_id, str) and seq <= seqs.get(draft_id, -1):
        # an older save that arrived after a newer one: the store holds the newer
        return jsonify(draft_id=draft_id, stale=True)
    try:
        kept = store.drafts.save(draft_id, kind, fields, record_id)  # type: ignore[arg-type]
    except InvalidRecord as exc:
        return jsonify(errors=exc.errors), 400
    if isinstance(seq, int):
        if len(seqs) >= _FINISHED_MAX:
            seqs.clear()
        seqs[kept.draft_id] = seq
    return jsonify(draft_id=kept.draft_id, updated_at=kept.updated_at)


@bp.get("/draf")
def drafts_page() -> ResponseReturnValue:
    """Every form left half filled: what, whose, when; resume or discard."""
    rows = [
        {
            "draft": d,
            "what": KIND_LABELS.get(d.kind, d.kind),
            "label": draft_label(d),
            "url": resume_url(d),
        }
        for d in drafts_of()
    ]
    return render("app/drafts.html", rows=rows, done=request.args.get("dibuang"))


@bp.post("/draf/<draft_id>/buang")
def draft_discard(draft_id: str) -> ResponseReturnValue:
    """Throw a draft away, then back to where the button was (a path on this app)."""
    device().store.drafts.discard(draft_id)
    target = local_path(request.form.get("next"), url_for("field.drafts_page", dibuang=1))
    return redirect(target, 303)
