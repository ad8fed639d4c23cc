"""Beranda: the home page at ``/``, what needs the pendamping today (issue 13 item 2).

- who is due a visit: the beneficiaries of the wilayah not visited in the last 30 days, by
  programme, the office's Cakupan rule (``store.views.due_counts`` / ``due``): every
  programme's count, and the first few names of each, linked to their pages; the whole
  list of one programme a page at a time at ``/perlu-dikunjungi?program=KLJ``;
- the visits the office returned for correction, with its reason, linked to the visit;
- the changes and photos waiting to be sent, the last sync and how it ended;
- the open conflicts on this laptop's changes (in the CLI's words), linked to Konflik.

Every list is limited and every count whole (``store.views.home``), so the page costs the
same with 20,000 beneficiaries as with 20.
"""

from __future__ import annotations

from flask import request
from flask.typing import ResponseReturnValue

from client_sync.app.i18n import lazy_gettext
from client_sync.app.pages.konflik import conflict_rows
from client_sync.app.shell import Page, bp, device, render, status_strip
from client_sync.store.views import DueItem

__all__ = ["DUE_PAGE", "DUE_PREVIEW", "LIST_LIMIT", "PAGE"]

PAGE = Page("field.beranda", lazy_gettext("Beranda"))
#: names shown per programme on Beranda, and programmes previewed
DUE_PREVIEW = 5
DUE_PROGRAMMES = 4
#: rows of Beranda's other lists
LIST_LIMIT = 10
#: rows per page of one programme's list of who is due
DUE_PAGE = 50


@bp.get("/")
def beranda() -> ResponseReturnValue:
    views = device().store.views
    home = views.home(limit=LIST_LIMIT)
    previews: dict[str, list[DueItem]] = {}
    for program, count in home.due.items():
        if count and len(previews) < DUE_PROGRAMMES:
            previews[program] = views.due(program, limit=DUE_PREVIEW)
    strip = status_strip()
    return render(
        "app/beranda.html",
        home=home,
        previews=previews,
        due_total=sum(home.due.values()),
        waiting_places=views.where_many([w.record_id for w in home.waiting]),
        conflicts=conflict_rows(home.conflicts[:DUE_PREVIEW]),
        conflict_count=strip["conflicts"],
        info=strip,
    )


@bp.get("/perlu-dikunjungi")
def due_list() -> ResponseReturnValue:
    """One programme's beneficiaries due a visit, by name, a page at a time
    (``?after=NAME_KEY|ID``, the last row's cursor)."""
    views = device().store.views
    counts = views.due_counts()
    program = request.args.get("program") or next(iter(counts), "")
    after = None
    cursor = request.args.get("after", "")
    if "|" in cursor:
        key, _, rid = cursor.partition("|")
        after = (key, rid)
    rows = views.due(program, limit=DUE_PAGE + 1, after=after) if program in counts else []
    more = len(rows) > DUE_PAGE
    rows = rows[:DUE_PAGE]
    return render(
        "app/due.html",
        counts=counts,
        program=program,
        rows=rows,
        next_after=f"{rows[-1].key[0]}|{rows[-1].key[1]}" if more else None,
    )
