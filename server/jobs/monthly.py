"""The monthly export job: last month's visits, beneficiaries and ABF requests into a folder.

The spreadsheets themselves are written by the office's exports (issue 12 item 2,
``server/office/exports.py``); this module only decides which month, which files, and
makes each appear whole: :func:`export_month` takes the export as a callable,
:data:`MonthlyExporter`, so the job does not depend on how the exports are built.

:func:`monthly_exporter` gives the office exports' function over the whole hub (the job is
the office's, not one supervisor's). Should a hub have none (a backend without the office's
read model), the job is registered as skipped with :data:`EXPORTS_MISSING` as its reason
(`pendamping-hub jobs` shows it).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from datetime import date
from pathlib import Path

from flask import Flask

__all__ = [
    "EXPORTS_MISSING",
    "MONTHLY_KINDS",
    "MonthlyExporter",
    "export_month",
    "monthly_exporter",
    "previous_month",
]

#: what the job writes each month, one file each (the names of `pendamping-hub export`)
MONTHLY_KINDS = ("visits", "beneficiaries", "requests")

#: ``exporter(kind, month, fmt, out)`` writes all of `kind` for `month` ("2026-01") in
#: `fmt` ("xlsx" or "csv") into the new file `out`, over the whole hub (the job is the
#: office's, not one supervisor's), and returns the rows written.
MonthlyExporter = Callable[[str, str, str, Path], int]

#: why the job is skipped while the hub has no exports to call
EXPORTS_MISSING = (
    "ekspor kantor (server/office/exports.py) belum terpasang di hub ini; tugas dilewati."
)


def monthly_exporter(app: Flask) -> MonthlyExporter | None:
    """The office exports (``server/office/exports.py``) as the monthly job calls them:
    every wilayah, one month, into a new file."""
    from server.office.exports import export_file
    from server.office.queries import OfficeQueries
    from server.scope import EVERYWHERE
    from server.state import hub_state

    queries = OfficeQueries.from_config(hub_state(app).storage, app.config)

    def export(kind: str, month: str, fmt: str, out: Path) -> int:
        where = queries.record_filter(EVERYWHERE, month=month)
        return export_file(queries, EVERYWHERE, kind, where, fmt, out)

    return export


def previous_month(day: date) -> str:
    """The month before `day`'s, as ``YYYY-MM`` (the job runs early in the next month)."""
    year, month = (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)
    return f"{year:04d}-{month:02d}"


def export_month(
    exporter: MonthlyExporter, folder: Path, month: str, fmt: str
) -> list[tuple[Path, int]]:
    """Write each of :data:`MONTHLY_KINDS` for `month` into ``folder/<month>/<kind>-<month>.<fmt>``.

    Each file is written under a temporary name and renamed once whole, replacing the one
    an earlier run left (a re-run of the month is a fresh copy, never a half one).

    :returns: each file and its rows.
    """
    where = Path(folder) / month
    where.mkdir(parents=True, exist_ok=True)
    written = []
    for kind in MONTHLY_KINDS:
        final = where / f"{kind}-{month}.{fmt}"
        partial = where / f".{final.name}.{secrets.token_hex(4)}.partial"
        try:
            rows = exporter(kind, month, fmt, partial)
            os.replace(partial, final)
        finally:
            partial.unlink(missing_ok=True)
        written.append((final, rows))
    return written
