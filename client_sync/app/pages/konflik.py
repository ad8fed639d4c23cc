"""Konflik: the conflicts the hub reported on this laptop's changes, in the words of
`pendamping conflicts` (:mod:`client_sync.conflict_words`): which value stayed, which did
not and who wrote each, and whether the office has settled it. ``?semua=1`` shows the
settled ones too (the CLI's ``--all``). Read from the store: works with no network."""

from __future__ import annotations

from typing import Any

from flask import request
from flask.typing import ResponseReturnValue

from client_sync.app.i18n import lazy_gettext
from client_sync.app.shell import Page, bp, device, render
from client_sync.conflict_words import describe
from client_sync.errors import InvalidRecord, RecordNotFound

__all__ = ["PAGE", "conflict_rows"]

PAGE = Page("field.konflik", lazy_gettext("Konflik"))
#: the most conflicts one page lists
MOST = 200


def _name_of(entity: str | None, record_id: str) -> str | None:
    """Whose record: a beneficiary's name, or the name of the visit's or request's owner."""
    store = device().store
    try:
        record = store.get(entity or "", record_id)
    except (RecordNotFound, InvalidRecord):
        return None
    if record.get("name"):
        return str(record["name"])
    owner = record.get("beneficiary_id")
    if isinstance(owner, str):
        try:
            return str(store.get("beneficiary", owner).get("name") or "") or None
        except RecordNotFound:
            return None
    return None


def conflict_rows(conflicts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each conflict's words (as the CLI prints them) and whose record it is."""
    return [
        {"words": words, "name": _name_of(words.entity, words.record_id)}
        for words in (describe(c) for c in conflicts)
    ]


@bp.get("/konflik")
def konflik() -> ResponseReturnValue:
    everything = request.args.get("semua") == "1"
    found = device().store.conflicts(open_only=not everything)
    return render(
        "app/konflik.html",
        rows=conflict_rows(found[:MOST]),
        total=len(found),
        everything=everything,
    )
