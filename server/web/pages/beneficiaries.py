"""Penerima manfaat: find a beneficiary by NIK or name, and their page: programmes, visits
in time order, ABF requests, photos (viewable here) and the field history.

Reads through :class:`server.office.OfficeQueries` (search and the page) and
:mod:`server.office.photos` (a photo only as one of the beneficiary's records in the
user's scope, never by its sha256 alone). A beneficiary outside the user's wilayah is
"not found", exactly like one that does not exist.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, send_file, url_for

from schemas.labels import field_label
from server.exceptions import Missing
from server.office import OfficeQueries
from server.office.photos import beneficiary_photo
from server.office.queries import BeneficiaryPage
from server.scope import Scope
from server.state import hub_state
from server.storage.office import HistoryEntry, RecordView
from server.web import bp
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.pages.summary import STATUS_LABELS
from server.web.shell import MenuEntry, error_page, login_required, render, storage
from server.web.values import date_text, value_text

__all__ = ["MENU"]

MENU = MenuEntry("web.beneficiaries", lazy_gettext("Penerima manfaat"))

#: how many beneficiaries a search lists (refine the search for more)
SEARCH_LIMIT = 50
#: the beneficiary's fields in the order a KTP and the office's form list them
_FACTS = (
    "nik",
    "name",
    "sex",
    "birth_date",
    "address",
    "kelurahan",
    "categories",
    "disability_types",
    "programs",
    "dtsen_id",
    "phone",
)
_REVIEW_LABELS = {
    "menunggu": lazy_gettext("menunggu"),
    "diterima": lazy_gettext("diterima"),
    "dikembalikan": lazy_gettext("dikembalikan"),
}
#: fields of a change the history does not list: the record's own bookkeeping
_NOT_HISTORY = frozenset({"id", "created_at", "updated_at"})


def _queries() -> OfficeQueries:
    return OfficeQueries.from_config(storage(), current_app.config)


@bp.route("/penerima", endpoint="beneficiaries")
@login_required
def search_page():
    """The search form, and what it found (by NIK prefix when digits, else by name)."""
    text = (request.args.get("q") or "").strip()[:100]
    found = _queries().search(Scope.of(g.web_user), text, SEARCH_LIMIT + 1) if text else []
    rows = [
        {
            "url": url_for("web.beneficiary", record_id=b.id),
            "name": b.name or gettext("(nama tidak diketahui)"),
            "nik": b.nik or "—",
            "kelurahan": b.kelurahan,
            "birth_date": date_text(b.birth_date),
            "programs": ", ".join(b.programs) or "—",
            "author": b.author or "—",
        }
        for b in found[:SEARCH_LIMIT]
    ]
    by_nik = text.isdigit()
    return render(
        "web/beneficiaries.html",
        q=text,
        rows=rows,
        more=len(found) > SEARCH_LIMIT,
        by_nik=by_nik,
        limit=SEARCH_LIMIT,
    )


def _photo(record_id: str, sha: str, caption: str) -> dict[str, Any]:
    held = hub_state().attachments.blob_path(sha) is not None
    return {
        "sha": sha,
        "url": url_for("web.beneficiary_photo", record_id=record_id, sha=sha) if held else None,
        "caption": caption,
    }


def _photos(record_id: str, record: RecordView, caption: str) -> list[dict[str, Any]]:
    return [_photo(record_id, str(sha), caption) for sha in record.data.get("attachments") or ()]


def _visit(owner: str, visit: RecordView) -> dict[str, Any]:
    data = visit.data
    found = data.get("review")
    review: dict[str, Any] = found if isinstance(found, dict) else {}
    state = str(review.get("state") or "menunggu")
    when = local_time(data.get("visited_at"))
    return {
        "id": visit.id,
        "when": when,
        "purpose": data.get("purpose") or "—",
        "author": visit.author or "—",
        "review": str(_REVIEW_LABELS.get(state, state)),
        "review_reason": review.get("reason"),
        "findings": data.get("findings"),
        "follow_up": data.get("follow_up"),
        "photos": _photos(owner, visit, gettext("Kunjungan %(when)s", when=when)),
    }


def _request(owner: str, item: RecordView) -> dict[str, Any]:
    data = item.data
    history = [h for h in data.get("status_history") or () if isinstance(h, dict)]
    status = str(data.get("status") or "—")
    device = str(data.get("device_type") or "—").replace("_", " ")
    return {
        "id": item.id,
        "device": device,
        "status": str(STATUS_LABELS.get(status, status)),
        "since": local_time(history[-1].get("at") if history else item.created_at),
        "created": local_time(item.created_at),
        "reason": data.get("reason"),
        "author": item.author or "—",
        "steps": [
            {
                "to": str(STATUS_LABELS.get(str(h.get("to")), h.get("to") or "—")),
                "by": h.get("by") or "—",
                "at": local_time(h.get("at")),
                "reason": h.get("reason"),
            }
            for h in history
        ],
        "photos": _photos(owner, item, gettext("Permohonan %(device)s", device=device)),
    }


def _history(entries: list[HistoryEntry]) -> list[dict[str, Any]]:
    """One row per field a change set, oldest first: when, who (on which laptop), which
    field by its label, and the value sent."""
    rows = []
    for entry in entries:
        who = entry.user or "—"
        if entry.device_name:
            who = f"{who} ({entry.device_name})"
        elif entry.device_id == "hub":
            who = gettext("%(name)s (di hub)", name=who)
        for name, value in entry.fields.items():
            if name in _NOT_HISTORY:
                continue
            rows.append(
                {
                    "when": local_time(entry.received_at),
                    "who": who,
                    "field": gettext(field_label(name)),
                    "value": value_text(name, value),
                    "conflict": entry.status == "conflict",
                }
            )
    return rows


def _page_view(found: BeneficiaryPage) -> dict[str, Any]:
    record = found.record
    data = record.data
    name = data.get("name") or gettext("(nama tidak diketahui)")
    facts = [
        (gettext(field_label(f)), value_text(f, data.get(f))) for f in _FACTS if f != "programs"
    ]
    visits = [_visit(record.id, v) for v in found.visits]
    requests = [_request(record.id, r) for r in found.requests]
    photos = _photos(record.id, record, gettext("Penerima manfaat"))
    photos += [p for v in visits for p in v["photos"]]
    photos += [p for r in requests for p in r["photos"]]
    return {
        "b": record,
        "name": name,
        "facts": facts,
        "author": record.author or "—",
        "created": local_time(record.created_at),
        "updated": local_time(record.updated_at),
        "programs": found.programs,
        "visits": visits,
        "requests": requests,
        "photos": photos,
        "photos_waiting": sum(1 for p in photos if p["url"] is None),
        "history": _history(found.history),
    }


@bp.route("/penerima/<record_id>", endpoint="beneficiary")
@login_required
def beneficiary_page(record_id: str):
    try:
        found = _queries().beneficiary(Scope.of(g.web_user), record_id)
    except Missing:
        return _not_found()
    return render("web/beneficiary.html", **_page_view(found))


def _not_found():
    return error_page(
        gettext("Tidak ditemukan"),
        gettext("Tidak ada penerima manfaat dengan ID itu di wilayah Anda."),
        404,
    )


@bp.route("/penerima/<record_id>/foto/<sha>", endpoint="beneficiary_photo")
@login_required
def photo(record_id: str, sha: str):
    """A photo's bytes, as its own media type, only for a user whose scope covers one of
    the beneficiary's records that names it; 404 otherwise. Never cached (``no-store`` on
    every answer of the pages)."""
    try:
        found = beneficiary_photo(
            storage(), hub_state().attachments, Scope.of(g.web_user), record_id, sha
        )
    except Missing:
        return error_page(
            gettext("Tidak ditemukan"),
            gettext("Foto itu tidak ada di data penerima manfaat ini di wilayah Anda."),
            404,
        )
    response = send_file(
        found.path, mimetype=found.media_type, conditional=False, etag=False, max_age=None
    )
    response.headers["Content-Disposition"] = "inline"
    return response
