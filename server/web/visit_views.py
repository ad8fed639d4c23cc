"""What Kunjungan shows, built from the office's reads: the list's filters as typed, its
rows, a visit's detail, and the links to other pages when they exist.

Kept apart from the page's views (server/web/pages/visits.py) so the views only parse,
call one service and render. No SQL: the rows come from
:meth:`server.office.queries.OfficeQueries.visits` and :meth:`HubStorage.get_record`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from flask import current_app, url_for

from schemas.review import review_state
from server.exceptions import Missing
from server.scope import Scope
from server.storage import HubStorage, NotFound, RecordRow, User
from server.storage.office import FINDINGS_EXCERPT, VisitItem
from server.web.laptops import local_time
from server.web.links import link
from server.web.office_words import PURPOSE_LABELS, REVIEW_LABELS, word

__all__ = [
    "FILTER_KEYS",
    "Filters",
    "beneficiary_url",
    "clean_query",
    "pendamping_of",
    "visit_detail",
    "visit_row",
]

#: the list's query: its filters and its page cursor
FILTER_KEYS: tuple[str, ...] = (
    "month",
    "day",
    "pendamping",
    "wilayah",
    "purpose",
    "review_state",
    "after",
)


@dataclass(frozen=True, slots=True)
class Filters:
    """The list's filters as the office typed them (blank: no narrowing)."""

    values: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, args: Mapping[str, str]) -> Filters:
        return cls({k: str(args.get(k) or "").strip()[:100] for k in FILTER_KEYS})

    def get(self, key: str) -> str:
        return self.values.get(key, "")

    def query(self, *, page: bool = True, **override: str | None) -> dict[str, Any]:
        """The non-blank values, as a query (without the cursor unless `page`)."""
        chosen = {**self.values, **{k: v or "" for k, v in override.items()}}
        if not page:
            chosen.pop("after", None)
        return {k: v for k, v in chosen.items() if v}

    def query_string(self, *, page: bool = True, **override: str | None) -> str:
        return urlencode(self.query(page=page, **override))


def clean_query(text: str | None) -> Filters:
    """A `back` value posted by a form, as the list's filters (only the list's own keys)."""
    return Filters.of(dict(parse_qsl(text or "", keep_blank_values=False)[:20]))


def pendamping_of(storage: HubStorage, user: User) -> list[str]:
    """The pendamping the filter offers: those whose wilayah touches the user's."""
    scope = Scope.of(user)
    return sorted(
        u.name
        for u in storage.list_users()
        if u.role == "pendamping" and scope.covers_any(u.wilayah)
    )


def beneficiary_url(beneficiary_id: str | None) -> str | None:
    """The beneficiary's page, when this hub has Penerima manfaat (pages are added one by
    one: a name never links to a page that is not there)."""
    if not beneficiary_id:
        return None
    return link("web.beneficiary", record_id=beneficiary_id)


def visit_row(item: VisitItem) -> dict[str, Any]:
    """One row of the list."""
    findings = (item.findings or "").strip()
    return {
        "id": item.id,
        "seq": item.seq,
        "when": local_time(item.visited_at),
        "name": item.beneficiary_name or "—",
        "nik": item.beneficiary_nik,
        "beneficiary_url": beneficiary_url(item.beneficiary_id),
        "pendamping": item.author or "—",
        "kelurahan": item.kelurahan,
        "purpose": word(PURPOSE_LABELS, item.purpose),
        "state": item.review_state,
        "state_label": word(REVIEW_LABELS, item.review_state),
        "findings": findings,
        "cut": len(item.findings or "") >= FINDINGS_EXCERPT,
    }


def _visible(storage: HubStorage, scope: Scope, record_id: str) -> RecordRow:
    """:raises Missing: no live visit with that id in `scope` (one outside it is not told
    apart from one that does not exist)."""
    try:
        row = storage.get_record(record_id)
    except NotFound:
        row = None
    if row is None or row.entity != "visit" or row.deleted or not scope.covers(row.kelurahan):
        raise Missing.on("visit_ids", "Kunjungan tidak ditemukan.")
    return row


def visit_detail(storage: HubStorage, scope: Scope, record_id: str) -> dict[str, Any]:
    """All a visit's page shows. :raises Missing: as :func:`_visible`."""
    row = _visible(storage, scope, record_id)
    data = row.data
    name = nik = None
    bid = data.get("beneficiary_id")
    if bid:
        try:
            owner = storage.get_record(bid)
            if scope.covers(owner.kelurahan):
                name, nik = owner.data.get("name"), owner.data.get("nik")
        except NotFound:
            pass
    held, graded = data.get("review"), data.get("assessment")
    review: dict[str, Any] = held if isinstance(held, dict) else {}
    state = review_state(data)
    assessment: dict[str, Any] = graded if isinstance(graded, dict) else {}
    return {
        "id": row.id,
        "seq": row.seq,
        "when": local_time(data.get("visited_at")),
        "name": name or "—",
        "nik": nik,
        "beneficiary_url": beneficiary_url(bid),
        "pendamping": row.author or "—",
        "caseworker": data.get("caseworker_id"),
        "kelurahan": row.kelurahan,
        "purpose": word(PURPOSE_LABELS, data.get("purpose")),
        "findings": data.get("findings"),
        "follow_up": data.get("follow_up"),
        "assessment": sorted((str(k), _text(v)) for k, v in assessment.items()),
        "place": _place(data.get("lat"), data.get("lon")),
        "photos": [
            url_for("web.visit_photo", record_id=row.id, sha=sha)
            for sha in data.get("attachments") or ()
        ],
        "state": state,
        "state_label": word(REVIEW_LABELS, state),
        "review_reason": review.get("reason"),
        "review_by": review.get("by"),
        "review_at": local_time(review.get("at")) if review.get("at") else None,
        "updated": local_time(row.updated_at),
        "zone_hours": int(current_app.config["WEB_UTC_OFFSET_HOURS"]),
    }


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "—" if value is None else str(value)


def _place(lat: Any, lon: Any) -> str | None:
    if isinstance(lat, int | float) and isinstance(lon, int | float):
        return f"{lat:.5f}, {lon:.5f}"
    return None
