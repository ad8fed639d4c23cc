"""Kunjungan: record a visit, the list of the laptop's visits, a visit's page and its
correction (issue 13 items 4 and 7).

- ``/kunjungan/baru?penerima=ID``: a new visit (purpose, time, findings, the structured
  assessment, the monthly verification outcome, location, photos from a file or the
  camera), recorded with :func:`client_sync.visits.record_visit`, as `pendamping visit add`;
- ``/kunjungan``: visits newest first, paged, filtered by *dikembalikan* / waiting to be
  sent / all and by month (``store.views.visits``), each with its beneficiary and place;
- ``/kunjungan/ID``: the visit, where it is, its photos and history, and for the
  pendamping's own visit the edit form; a visit the office returned shows the office's
  reason, and saving the corrected form sends it back (``client_sync.visits.correct_visit``,
  as `pendamping visit edit`: the hub puts it back into review).

The form's text and the record's fields convert in :mod:`client_sync.visit_form`; every
value is judged by the visit's schema, whose message comes back under the field.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, BinaryIO, cast

from flask import abort, redirect, request, url_for
from flask.typing import ResponseReturnValue

from client_sync.app.draft_views import (
    FormDraft,
    finished_record,
    form_values,
    open_form,
    register_resume,
    save_form,
)
from client_sync.app.i18n import gettext, lazy_gettext
from client_sync.app.pages.kunjungan_words import (
    CHOICE_LABELS,
    ITEM_LABELS,
    OUTCOMES,
    PHOTO_KIND_LABELS,
    PURPOSES,
    SHOW_LABELS,
    SHOWS,
)
from client_sync.app.shell import Page, bp, device, render
from client_sync.errors import InvalidRecord, RecordNotFound
from client_sync.photos import InvalidPhoto
from client_sync.store.drafts import Draft
from client_sync.visit_form import (
    ASSESSMENT_ITEMS,
    EXTRA_BLANK_ROWS,
    VisitForm,
    changed_fields,
    form_of,
    month_bounds,
    read_form,
)
from client_sync.visits import NewPhoto, correct_visit, now_local, record_visit
from schemas.labels import field_label
from schemas.review import RETURNED, review_state

__all__ = ["PAGE"]

PAGE = Page("field.kunjungan", lazy_gettext("Kunjungan"))
PAGE_SIZE = 25
#: a visit's photos at most (the schema's limit of `attachments`)
MAX_PHOTOS = 50

#: the record fields the form shows under their own input
_ON_FORM = frozenset(
    {"purpose", "visited_at", "findings", "follow_up", "verification_outcome", "lat", "lon"}
)


def _words() -> dict[str, Any]:
    """What every Kunjungan template needs to name codes."""
    return {
        "purposes": PURPOSES,
        "outcomes": OUTCOMES,
        "photo_kinds": PHOTO_KIND_LABELS,
        "items": ASSESSMENT_ITEMS,
        "item_labels": ITEM_LABELS,
        "choice_labels": CHOICE_LABELS,
        "blank_rows": EXTRA_BLANK_ROWS,
    }


def _flat(messages: Any) -> list[str]:
    """A schema's messages for one field (a list, or nested by key) as lines."""
    if isinstance(messages, dict):
        return [f"{k}: {line}" for k, inner in messages.items() for line in _flat(inner)]
    if isinstance(messages, list | tuple):
        return [line for inner in messages for line in _flat(inner)]
    return [str(messages)]


def _refused(form: VisitForm, exc: InvalidRecord) -> None:
    """Put a refusal's messages under their inputs: a record field under its own name, a
    photo under the photo input, the rest (kelurahan, …) in `_other` at the form's top."""
    photo = isinstance(exc, InvalidPhoto)
    for name, messages in exc.errors.items():
        lines = _flat(messages)
        if photo:
            form.errors.setdefault("foto_jenis" if name == "kind" else "foto", []).extend(lines)
        elif name in _ON_FORM or name == "assessment":
            form.errors.setdefault(name, []).extend(lines)
        else:
            label = gettext(field_label(name))
            form.errors.setdefault("_other", []).extend(f"{label}: {m}" for m in lines)


def _photos() -> tuple[list[NewPhoto], str]:
    """The photos sent with the form (file input and camera), and their kind."""
    kind = request.form.get("foto_jenis") or "rumah"
    files = [f for f in request.files.getlist("foto") if f and f.filename]
    # an upload's stream is in memory (client_sync/app/uploads.py), a binary file object
    return [NewPhoto(cast(BinaryIO, f.stream), kind, f.filename or "") for f in files], kind


def _too_many(form: VisitForm, photos: list[NewPhoto], held: int) -> bool:
    if held + len(photos) <= MAX_PHOTOS:
        return False
    form.errors.setdefault("foto", []).append(
        gettext("Paling banyak %(n)d foto per kunjungan.", n=MAX_PHOTOS)
    )
    return True


def _typed(form_draft: FormDraft) -> VisitForm | None:
    """The form as a kept draft had it (resuming), or None."""
    if form_draft.values is None:
        return None
    texts = {k: v for k, v in form_draft.values.items() if isinstance(v, str)}
    _, form = read_form(texts)
    form.errors = {}
    return form


def _resume_url(draft: Draft) -> str:
    """Where a visit's draft is opened again: its visit's page, or the new-visit form."""
    if draft.record_id:
        return url_for("field.kunjungan_page", record_id=draft.record_id, draft=draft.draft_id)
    owner = draft.fields.get("beneficiary_id")
    return url_for("field.kunjungan_baru", penerima=owner or None, draft=draft.draft_id)


register_resume("visit", _resume_url)


def _beneficiary(record_id: str) -> dict[str, Any]:
    try:
        return device().store.get("beneficiary", record_id)
    except RecordNotFound:
        abort(404)


# -- a new visit --------------------------------------------------------------------------------


@bp.route("/kunjungan/baru", methods=["GET", "POST"])
def kunjungan_baru() -> ResponseReturnValue:
    store = device().store
    if request.method == "POST":
        done = finished_record(request.form.get("draft_id"))
        if done is not None:  # the same form sent again (back button): saved already
            return redirect(url_for("field.kunjungan_page", record_id=done, baru=1), 303)
    form_draft = open_form("visit", None)
    owner = request.values.get("beneficiary_id") or request.values.get("penerima")
    if not owner and form_draft.values:
        owner = form_draft.values.get("beneficiary_id")
    person = _beneficiary(str(owner or ""))
    form_draft = replace(
        form_draft,
        others=[d for d in form_draft.others if d.fields.get("beneficiary_id") == person["id"]],
    )
    status = 200
    if request.method == "GET":
        form = _typed(form_draft) or form_of(None, now_local())
    else:
        values = form_values()
        fields, form = read_form(request.form)
        photos, kind = _photos()
        form.values["foto_jenis"] = kind
        # what was typed is kept first: a refusal below leaves it as the draft
        store.drafts.save(form_draft.draft_id, "visit", values, None)
        if not form.errors and not _too_many(form, photos, 0):
            data = {k: v for k, v in fields.items() if v is not None}
            try:
                record_id = record_visit(
                    store,
                    person["id"],
                    data,
                    photos,
                    save=lambda made: save_form(form_draft, values, made),
                )
            except InvalidRecord as exc:
                _refused(form, exc)
            else:
                return redirect(url_for("field.kunjungan_page", record_id=record_id, baru=1), 303)
        if photos:
            form.errors.setdefault("foto", []).append(
                gettext("Pilih atau ambil fotonya lagi: foto belum disimpan.")
            )
        status = 400
    return render(
        "app/kunjungan_baru.html",
        status,
        person=person,
        place=store.views.where(person["id"]),
        form=form,
        form_draft=form_draft,
        **_words(),
    )


# -- the list ---------------------------------------------------------------------------------


@bp.get("/kunjungan")
def kunjungan() -> ResponseReturnValue:
    views = device().store.views
    show = request.args.get("tampil", "semua")
    if show not in SHOWS:
        show = "semua"
    month = request.args.get("bulan", "").strip()
    bounds = month_bounds(month) if month else None
    bad_month = bool(month) and bounds is None
    after = None
    at, last = request.args.get("setelah_waktu"), request.args.get("setelah_id")
    if at and last:
        after = (at, last)
    rows = views.visits(SHOWS[show], bounds, PAGE_SIZE + 1, after)
    more = rows[PAGE_SIZE - 1].key if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    places = views.where_many([row.record["id"] for row in rows])
    return render(
        "app/kunjungan.html",
        rows=rows,
        places=places,
        show=show,
        shows=SHOW_LABELS,
        month="" if bad_month else month,
        bad_month=bad_month,
        more=more,
        paged=after is not None,
        **_words(),
    )


# -- a visit's page and its correction -----------------------------------------------------------


def _visit(record_id: str) -> dict[str, Any]:
    try:
        return device().store.get("visit", record_id)
    except RecordNotFound:
        abort(404)


def _own(visit: dict[str, Any]) -> bool:
    """Whether this laptop's pendamping may correct it: a visit is its author's."""
    return bool(visit.get("caseworker_id") == device().store.identity.user)


def _show_visit(
    visit: dict[str, Any],
    form: VisitForm,
    form_draft: FormDraft,
    status: int = 200,
    note: str | None = None,
) -> ResponseReturnValue:
    store = device().store
    person = photos = None
    owner = visit.get("beneficiary_id")
    if isinstance(owner, str):
        try:
            page = store.views.beneficiary(owner)
        except RecordNotFound:
            page = None
        if page is not None:
            person = page.record
            photos = [p for p in page.photos if p.get("record_id") == visit["id"]]
    return render(
        "app/kunjungan_page.html",
        status,
        visit=visit,
        person=person,
        photos=photos or [],
        place=store.views.where(visit["id"]),
        history=store.views.history(visit["id"]),
        returned=review_state(visit) == RETURNED,
        own=_own(visit),
        form=form,
        form_draft=form_draft,
        note=note,
        **_words(),
    )


_NOTES = {
    "baru": lazy_gettext("Kunjungan tersimpan di laptop; terkirim pada sinkron berikutnya."),
    "kembali": lazy_gettext(
        "Perbaikan tersimpan di laptop. Setelah sinkron, kunjungan ini kembali menunggu"
        " tinjauan kantor."
    ),
    "diubah": lazy_gettext("Perubahan tersimpan di laptop; terkirim pada sinkron berikutnya."),
}


@bp.get("/kunjungan/<record_id>")
def kunjungan_page(record_id: str) -> ResponseReturnValue:
    visit = _visit(record_id)
    form_draft = open_form("visit", record_id)
    form = _typed(form_draft) or form_of(visit)
    done = "baru" if request.args.get("baru") else request.args.get("disimpan", "")
    note = _NOTES.get(done)
    return _show_visit(visit, form, form_draft, note=str(note) if note else None)


@bp.post("/kunjungan/<record_id>")
def kunjungan_edit(record_id: str) -> ResponseReturnValue:
    if finished_record(request.form.get("draft_id")) is not None:
        return redirect(url_for("field.kunjungan_page", record_id=record_id), 303)
    visit = _visit(record_id)
    if not _own(visit):
        abort(403)
    store = device().store
    form_draft = open_form("visit", record_id)
    values = form_values()
    fields, form = read_form(request.form, current=visit)
    photos, kind = _photos()
    form.values["foto_jenis"] = kind
    held = len(visit.get("attachments") or [])
    if not form.errors and not _too_many(form, photos, held):
        changes = changed_fields(visit, fields)
        if not changes and not photos:
            store.drafts.discard(form_draft.draft_id)
            form.errors["_other"] = [gettext("Tidak ada isian yang diubah.")]
            return _show_visit(visit, form, replace(form_draft, resumed=None), 400)
        store.drafts.save(form_draft.draft_id, "visit", values, record_id)
        try:
            was_returned = correct_visit(
                store,
                record_id,
                changes,
                photos,
                save=lambda change: save_form(form_draft, values, change),
            )
        except InvalidRecord as exc:
            _refused(form, exc)
        else:
            store.drafts.discard(form_draft.draft_id)  # photos only: no change took it
            done = "kembali" if was_returned else "diubah"
            return redirect(
                url_for("field.kunjungan_page", record_id=record_id, disimpan=done), 303
            )
    else:
        store.drafts.save(form_draft.draft_id, "visit", values, record_id)
    if photos:
        form.errors.setdefault("foto", []).append(
            gettext("Pilih atau ambil fotonya lagi: foto belum disimpan.")
        )
    return _show_visit(visit, form, form_draft, 400)
