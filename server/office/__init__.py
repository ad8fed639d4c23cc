"""The district office's read side: the queries its pages make, Ringkasan, and exports.

    queries.OfficeQueries   visits, beneficiary search and page, ABF requests, coverage;
                            every method takes a Scope (server/scope.py)
    summary.summary         the Ringkasan counts
    photos                  a photo of a beneficiary's records, for a user whose scope
                            covers one of them
    exports                 visits | beneficiaries | requests as XLSX or CSV, streamed;
                            a kind is one definition (columns + rows), see `register`
    periods                 days and months in the office's time zone
    writers                 the XLSX and CSV writers, and the atomic file write

and its decisions (docs/office.md, "Office writes"): `review` (accept or return visits),
`requests` (the ABF moves), over `writes` (one office action as hub-made changes).

No SQL and no Flask request here: the storage's OfficeReads facet reads the read model
(server/storage/office.py), and the pages and `pendamping-hub export` call these. See
docs/office.md.
"""

from __future__ import annotations

from server.office.exports import KINDS, ExportKind, export_file, export_to, register
from server.office.periods import OfficeCalendar, Period
from server.office.queries import OfficeQueries, Page
from server.office.summary import SilentLaptop, Summary, is_silent, summary

__all__ = [
    "KINDS",
    "ExportKind",
    "OfficeCalendar",
    "OfficeQueries",
    "Page",
    "Period",
    "SilentLaptop",
    "Summary",
    "export_file",
    "export_to",
    "is_silent",
    "register",
    "summary",
]
