"""Penerima manfaat: search the wilayah's beneficiaries by NIK or name as one types, and a
beneficiary's page (the person, programmes, visits, ABF requests with their status history,
photos, and the record's history), each record with *where it is*.

The search is ``store.views.search`` (one index range per key press); the same GET form
works without JS, and ``static/search.js`` asks :func:`beneficiary_hits` for the hits alone
(the same template) as one types. The page is ``store.views.beneficiary``. Photos are
shown by :func:`photo`, which reads the kept (sealed) copy through
:func:`client_sync.photos.read_kept`. Registering and editing: :mod:`.penerima_form`.
"""

from __future__ import annotations

from typing import Any

from flask import Response, abort, render_template, request
from flask.typing import ResponseReturnValue

from client_sync.app.abf_words import DEVICE_LABELS, STATUS_LABELS
from client_sync.app.draft_views import drafts_of, resume_url
from client_sync.app.i18n import lazy_gettext
from client_sync.app.pages import penerima_form
from client_sync.app.pages.kunjungan_words import OUTCOMES, PURPOSES
from client_sync.app.shell import Page, bp, device, render
from client_sync.errors import RecordNotFound
from client_sync.photos import read_kept
from client_sync.sealed import SealedError
from client_sync.store.views import BeneficiaryHit
from schemas.provinces import province_name

__all__ = ["PAGE"]

PAGE = Page("field.beneficiaries", lazy_gettext("Penerima manfaat"))
_QUERY_MAX = 100


@bp.app_template_filter("province_name")
def _province_name(code: str) -> str:
    return province_name(code)


def _search(typed: str) -> dict[str, Any]:
    """The hits for `typed`, with each hit's programmes and where it is."""
    typed = typed[:_QUERY_MAX]
    views = device().store.views
    hits: list[BeneficiaryHit] = views.search(typed) if typed.strip() else []
    ids = [h.id for h in hits]
    held = views.records_of(ids) if ids else {}
    return {
        "q": typed,
        "hits": hits,
        "programs": {i: held.get(i, {}).get("programs") or [] for i in ids},
        "places": views.where_many(ids) if ids else {},
    }


@bp.get("/penerima")
def beneficiaries() -> ResponseReturnValue:
    """The search page; ``?q=`` searches (without JS too)."""
    found = _search(request.args.get("q", ""))
    rows = [
        {"draft": d, "url": resume_url(d), "label": d.fields.get("name") or ""}
        for d in drafts_of("beneficiary")
    ]
    return render("app/penerima.html", **found, drafts=rows)


@bp.get("/penerima/cari")
def beneficiary_hits() -> ResponseReturnValue:
    """The hits alone, as HTML (search.js puts them in the page as one types)."""
    found = _search(request.args.get("q", ""))
    return render_template("app/_hits.html", **found)


def _history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The record's history, oldest first; the laptop's first change of a record the hub
    never sent is where it was registered (``created``)."""
    out = sorted(entries, key=lambda e: e.get("at") or "")
    if not any(e["kind"] == "hub" for e in out):
        for index, entry in enumerate(out):
            if entry["kind"] == "laptop" and entry.get("op") != "delete":
                out[index] = {**entry, "created": True}
                break
    return out


@bp.get("/penerima/<record_id>")
def beneficiary(record_id: str) -> ResponseReturnValue:
    """A beneficiary's page."""
    store = device().store
    try:
        page = store.views.beneficiary(record_id)
    except RecordNotFound:
        abort(404)
    edits = [d for d in store.drafts.list("beneficiary", record_id)]
    return render(
        "app/penerima_page.html",
        page=page,
        b=page.record,
        sexes=penerima_form.SEX_LABELS,
        categories=penerima_form.CATEGORY_LABELS,
        disabilities=penerima_form.DISABILITY_LABELS,
        purposes=PURPOSES,
        outcomes=OUTCOMES,
        devices=DEVICE_LABELS,
        statuses=STATUS_LABELS,
        edits=[(d, resume_url(d)) for d in edits],
        history=_history(page.history),
        saved=bool(request.args.get("disimpan")),
        unchanged=bool(request.args.get("sama")),
    )


@bp.get("/foto/<sha256>")
def photo(sha256: str) -> ResponseReturnValue:
    """A photo kept on this laptop, unsealed for the page that shows it; never cached,
    never sniffed into anything but the image type its bytes say."""
    try:
        data, media_type = read_kept(device().store, sha256)
    except (FileNotFoundError, SealedError):
        abort(404)
    response = Response(data, 200, mimetype=media_type)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = "inline"
    return response
