"""Cakupan: per programme, the beneficiaries nobody visited in the last 30 days, by name,
grouped by kelurahan or by pendamping, with the counts on top.

One call of :meth:`server.office.OfficeQueries.coverage` per page: the counts per kelurahan
and per pendamping (one index walk) and 200 names in the chosen order (keyset pages). A
count links to its group's first name: the page starts the list at that group.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, request, url_for

from server.exceptions import Invalid
from server.office import OfficeQueries
from server.office.queries import COVERAGE_DAYS, encode_key
from server.scope import Scope
from server.web import bp
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.shell import MenuEntry, error_page, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.coverage", lazy_gettext("Cakupan"))

#: names a page lists
PAGE_SIZE = 200
#: the page's grouping (query ``by``) and the storage's
_GROUPS = {"kelurahan": "kelurahan", "pendamping": "author"}


def _address(program: str, by: str, after: str | None = None) -> str:
    return url_for("web.coverage", program=program, by=by, after=after)


@bp.route("/cakupan", endpoint="coverage")
@login_required
def coverage_page():
    queries = OfficeQueries.from_config(storage(), current_app.config)
    programs = queries.programs
    program = request.args.get("program") or programs[0]
    asked = request.args.get("by", "")
    by = asked if asked in _GROUPS else "kelurahan"
    after = request.args.get("after")
    start = request.args.get("dari")  # a group to start at, from the counts
    if start is not None and len(start) <= 200:
        after = encode_key([start, "", ""])
    try:
        report = queries.coverage(Scope.of(g.web_user), program, PAGE_SIZE, after, by=_GROUPS[by])
    except Invalid:
        return error_page(
            gettext("Program tidak dikenal"),
            gettext("Pilih salah satu program: %(programs)s.", programs=", ".join(programs)),
            422,
        )
    counts = report.counts
    by_group = counts.by_kelurahan if by == "kelurahan" else counts.by_author
    unknown = gettext("(tidak diketahui)")
    groups: list[dict[str, Any]] = []
    for item in report.page.items:
        key = item.kelurahan if by == "kelurahan" else (item.author or "")
        if not groups or groups[-1]["key"] != key:
            groups.append({"key": key, "label": key or unknown, "count": by_group.get(key, 0),
                           "items": []})  # fmt: skip
        groups[-1]["items"].append(
            {
                "name": item.name or gettext("(nama tidak diketahui)"),
                "url": url_for("web.beneficiary", record_id=item.id),
                "nik": item.nik or "—",
                "kelurahan": item.kelurahan,
                "author": item.author or unknown,
                "last_visit": local_time(item.last_visit) if item.last_visit else None,
            }
        )
    return render(
        "web/coverage.html",
        programs=[{"code": p, "url": _address(p, by), "current": p == program} for p in programs],
        program=program,
        by=by,
        toggle={b: _address(program, b) for b in _GROUPS},
        days=COVERAGE_DAYS,
        since=local_time(report.since.isoformat()),
        total=counts.total,
        count_rows=[
            {
                "label": key or unknown,
                "count": n,
                "url": url_for("web.coverage", program=program, by=by, dari=key),
            }
            for key, n in sorted(by_group.items())
        ],
        groups=groups,
        first_page=after is None,
        next_url=_address(program, by, report.page.next_key) if report.page.next_key else None,
        first_url=_address(program, by),
    )
