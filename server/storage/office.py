"""The district office's reads: the :class:`OfficeReads` facet of :class:`HubStorage`.

What the office's pages and exports ask of the hub's records, each answered from the
read-model columns that every write keeps in its own transaction
(:mod:`server.storage.read_columns`, migration 0007), so no query here decodes every
record's JSON: only the rows it returns. Every method takes `scopes`, the wilayah prefixes
of the caller (None: everything, an empty sequence: nothing), as :meth:`HubStorage.pull`
does; callers pass :attr:`server.scope.Scope.prefixes`. Reached as
:attr:`HubStorage.office`; its contract is :mod:`server.storage.office_testing`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BeneficiaryItem",
    "HistoryEntry",
    "OfficeReads",
    "ProgramCoverage",
    "RecordFilter",
    "RecordView",
    "RequestItem",
    "StatusCount",
    "UnvisitedCounts",
    "UnvisitedItem",
    "VisitItem",
]

Scopes = Sequence[str] | None


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """What a list or an export narrows to; None everywhere means no narrowing.

    The period is on a visit's `visited_at` and on a beneficiary's or request's
    `created_at`: `start` inclusive, `end` exclusive, both aware datetimes.
    """

    start: dt.datetime | None = None
    end: dt.datetime | None = None
    #: wilayah prefixes narrowing the caller's scope further (a kelurahan, a kecamatan);
    #: None: the whole scope. The caller intersects them with its scope first.
    wilayah: tuple[str, ...] | None = None
    #: the user name whose change created the record (the pendamping)
    author: str | None = None
    #: visits only: the visit's purpose code, and its review state (menunggu when none)
    purpose: str | None = None
    review_state: str | None = None
    #: the record's beneficiary (itself, for beneficiaries) is enrolled in this programme
    program: str | None = None
    #: requests only: the current status
    status: str | None = None


@dataclass(frozen=True, slots=True)
class VisitItem:
    """One visit as the Kunjungan list shows it. `key` is the cursor of the next page."""

    id: str
    kelurahan: str
    visited_at: str
    purpose: str | None
    author: str | None
    review_state: str
    beneficiary_id: str | None
    beneficiary_name: str | None
    beneficiary_nik: str | None
    key: tuple[str, str]


@dataclass(frozen=True, slots=True)
class BeneficiaryItem:
    """A beneficiary found by NIK or name."""

    id: str
    name: str
    nik: str | None
    kelurahan: str
    birth_date: str | None
    programs: list[str]
    author: str | None


@dataclass(frozen=True, slots=True)
class StatusCount:
    """How many live requests hold a status, and since when the oldest of them does."""

    status: str
    count: int
    oldest_since: str


@dataclass(frozen=True, slots=True)
class RequestItem:
    """One ABF request as the list shows it; `since` is when it took its current status."""

    id: str
    kelurahan: str
    status: str
    since: str
    device_type: str | None
    beneficiary_id: str | None
    beneficiary_name: str | None
    beneficiary_nik: str | None
    author: str | None
    created_at: str
    key: tuple[str, str]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One change of a record from the change log, with who sent it."""

    change_id: str
    received_at: str
    device_id: str
    device_name: str | None
    #: the device's user; for a hub-made change (device ``hub``) the office user named in it
    user: str | None
    fields: dict[str, Any]
    status: str


@dataclass(frozen=True, slots=True)
class ProgramCoverage:
    """Of a programme's live beneficiaries in scope, how many had a visit in a period."""

    program: str
    enrolled: int
    visited: int


@dataclass(frozen=True, slots=True)
class UnvisitedCounts:
    """Beneficiaries of a programme with no visit since a moment: in all, per kelurahan and
    per pendamping (the author of the beneficiary's record; '' when unknown)."""

    total: int
    by_kelurahan: dict[str, int] = field(default_factory=dict)
    by_author: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class UnvisitedItem:
    """One beneficiary nobody visited since the moment asked, by name."""

    id: str
    name: str
    nik: str | None
    kelurahan: str
    author: str | None
    #: the latest visit ever (UTC `YYYY-MM-DDTHH:MM:SSZ`), None if never visited
    last_visit: str | None
    key: tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class RecordView:
    """A live record as the office reads it (a beneficiary's page, an export row): its
    decoded data and, for a visit or a request, its beneficiary's name and NIK."""

    id: str
    entity: str
    kelurahan: str
    author: str | None
    created_at: str
    updated_at: str
    data: dict[str, Any]
    beneficiary_name: str | None = None
    beneficiary_nik: str | None = None


class OfficeReads(abc.ABC):
    """The office's queries over the read model. Read-only; no method writes."""

    # -- Kunjungan ------------------------------------------------------------------------

    @abc.abstractmethod
    def visits(
        self,
        scopes: Scopes,
        where: RecordFilter,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> list[VisitItem]:
        """Live visits in scope matching `where`, newest `visited_at` first.

        :param after: the `key` of the last item of the previous page (keyset paging).
        """

    @abc.abstractmethod
    def count_visits(self, scopes: Scopes, where: RecordFilter) -> int:
        """How many live visits in scope match `where`."""

    # -- Penerima manfaat -------------------------------------------------------------------

    @abc.abstractmethod
    def search_beneficiaries(self, scopes: Scopes, text: str, limit: int) -> list[BeneficiaryItem]:
        """Live beneficiaries in scope whose NIK starts with `text` (when it is all digits)
        or whose name contains it (case-insensitive in ASCII), by name."""

    @abc.abstractmethod
    def beneficiary_records(self, beneficiary_id: str) -> list[RecordView]:
        """The live visits (by `visited_at`) then device requests (by `created_at`) of one
        beneficiary. The caller checks the beneficiary's scope; these carry its kelurahan."""

    @abc.abstractmethod
    def history(self, record_id: str) -> list[HistoryEntry]:
        """Every change of a record that was not refused, in the order it arrived."""

    # -- Permohonan ABF ---------------------------------------------------------------------

    @abc.abstractmethod
    def requests_by_status(self, scopes: Scopes) -> list[StatusCount]:
        """Live requests in scope per status (only statuses that have some)."""

    @abc.abstractmethod
    def requests(
        self,
        scopes: Scopes,
        where: RecordFilter,
        limit: int,
        after: tuple[str, str] | None = None,
    ) -> list[RequestItem]:
        """Live requests in scope (of `where.status`, if given), longest in their status
        first. `after`: the last item's `key`."""

    # -- Ringkasan ---------------------------------------------------------------------------

    @abc.abstractmethod
    def count_open_conflicts(self, scopes: Scopes) -> int:
        """Conflicts not yet settled on records in scope."""

    # -- Cakupan ------------------------------------------------------------------------------

    @abc.abstractmethod
    def coverage(
        self, scopes: Scopes, start: dt.datetime, end: dt.datetime
    ) -> list[ProgramCoverage]:
        """Per programme with live beneficiaries in scope: how many, and how many of them
        had a live visit with `visited_at` in [start, end). By programme code."""

    @abc.abstractmethod
    def unvisited_counts(self, scopes: Scopes, program: str, since: dt.datetime) -> UnvisitedCounts:
        """Live beneficiaries of `program` in scope with no live visit at or after `since`."""

    @abc.abstractmethod
    def unvisited(
        self,
        scopes: Scopes,
        program: str,
        since: dt.datetime,
        limit: int,
        after: tuple[str, str, str] | None = None,
        by: str = "kelurahan",
    ) -> list[UnvisitedItem]:
        """Those beneficiaries by kelurahan, then name; with ``by="author"`` by pendamping
        (the author, '' when unknown, first), then name. `after`: the last item's `key`,
        whose first part is the kelurahan or the author accordingly.

        :raises ValueError: `by` is neither.
        """

    # -- exports: a consistent snapshot, streamed ------------------------------------------

    @abc.abstractmethod
    def export_rows(
        self, entity: str, scopes: Scopes, where: RecordFilter
    ) -> Generator[RecordView, None, None]:
        """Every live record of `entity` in scope matching `where`, read from one snapshot
        in chunks (memory stays flat however many): visits by `visited_at`, others by
        `created_at`. Close the generator (or exhaust it) to release the snapshot.

        :raises ValueError: `entity` is not one of the three record kinds (at once).
        """
