"""Links from one page to another page that lists what a number counts, when that page
exists in this hub: the pages are added one by one (server/web/pages/__init__.py PAGES),
and a number must never link to a page that is not there."""

from __future__ import annotations

from typing import Any

from flask import current_app, url_for

__all__ = ["REQUESTS_ENDPOINT", "VISITS_ENDPOINT", "link"]

#: Kunjungan's list, filtered by ``month`` (``2026-01``) and ``review_state``
VISITS_ENDPOINT = "web.visits"
#: Permohonan ABF's list, filtered by ``status``
REQUESTS_ENDPOINT = "web.requests"


def link(endpoint: str, **args: Any) -> str | None:
    """The address of `endpoint` with `args` as its query, or None when no page has it."""
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, **{k: v for k, v in args.items() if v is not None})
