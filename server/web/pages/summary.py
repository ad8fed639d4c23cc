"""Ringkasan: the office's day at a glance, in the user's wilayah, and the start page.

One call of :func:`server.office.summary.summary` (every number from the read model's
indexes or the laptops' few rows), each number a link to the page that lists what it
counts where that page exists (:func:`server.web.links.link`).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, g, url_for

from schemas.codes import DEVICE_STATUSES
from server.office import OfficeQueries, summary
from server.office.summary import Summary
from server.scope import Scope
from server.web import bp
from server.web.i18n import lazy_gettext
from server.web.laptops import local_time
from server.web.links import REQUESTS_ENDPOINT, VISITS_ENDPOINT, link
from server.web.shell import MenuEntry, login_required, render, storage

__all__ = ["MENU", "STATUS_LABELS"]

MENU = MenuEntry("web.summary", lazy_gettext("Ringkasan"))

#: the ABF statuses as the office reads them (the codes are Indonesian words already)
STATUS_LABELS = {
    "diajukan": lazy_gettext("diajukan"),
    "diverifikasi": lazy_gettext("diverifikasi"),
    "disetujui": lazy_gettext("disetujui"),
    "diserahkan": lazy_gettext("diserahkan"),
    "ditolak": lazy_gettext("ditolak"),
    "dibatalkan": lazy_gettext("dibatalkan"),
}
#: laptops listed by name under the silent count (the devices page lists them all)
_SILENT_LISTED = 10


def _percent(part: int, whole: int) -> int | None:
    return round(100 * part / whole) if whole else None


def _view(found: Summary, programs: list[str]) -> dict[str, Any]:
    """What the template shows, with the links of each number."""
    counts = {c.status: (c.count, age) for c, age in found.requests}
    requests = [
        {
            "status": status,
            "label": str(STATUS_LABELS.get(status, status)),
            "count": counts.get(status, (0, 0))[0],
            "oldest_days": counts.get(status, (0, 0))[1],
            "url": link(REQUESTS_ENDPOINT, status=status) if status in counts else None,
        }
        for status in [*DEVICE_STATUSES, *sorted(set(counts) - set(DEVICE_STATUSES))]
    ]
    change = found.visits_this_month - found.visits_last_month
    return {
        "s": found,
        "devices_url": url_for("web.devices"),
        "conflicts_url": url_for("web.conflicts"),
        "waiting_url": link(VISITS_ENDPOINT, review_state="menunggu"),
        "this_month_url": link(VISITS_ENDPOINT, month=found.this_month),
        "last_month_url": link(VISITS_ENDPOINT, month=found.last_month),
        "visits_change": change,
        "requests": requests,
        "requests_total": sum(r["count"] for r in requests),
        "silent": [
            {
                "name": laptop.name,
                "user": laptop.user,
                "last_sync": local_time(laptop.last_sync_at),
                "flagged": local_time(laptop.flagged_at) if laptop.flagged_at else None,
            }
            for laptop in found.silent[:_SILENT_LISTED]
        ],
        "enrolled_any": any(c.enrolled for c in found.coverage),
        "coverage": [
            {
                "program": c.program,
                "enrolled": c.enrolled,
                "visited": c.visited,
                "percent": _percent(c.visited, c.enrolled),
                "url": url_for("web.coverage", program=c.program)
                if c.program in programs
                else None,
            }
            for c in found.coverage
        ],
    }


@bp.route("/ringkasan", endpoint="summary")
@login_required
def summary_page():
    config = current_app.config
    queries = OfficeQueries.from_config(storage(), config)
    found = summary(queries, Scope.of(g.web_user), int(config["WEB_SILENT_DAYS"]))
    return render("web/summary.html", **_view(found, queries.programs))
