"""What the district office's pages ask, scoped: visits, beneficiaries, ABF requests, coverage.

:class:`OfficeQueries` is the one API the pages (server/web) and the exports call. Every
method takes a :class:`~server.scope.Scope`; a supervisor of `31.71` never gets a record of
`31.72` from any of them (the storage applies the scope in SQL, and a wilayah asked for
outside it is refused). Values the office typed are checked here and refused with
:class:`~server.exceptions.Invalid` naming the field, in Indonesian. No SQL, no Flask
request: the storage's :class:`~server.storage.office.OfficeReads` does the reading.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from marshmallow import ValidationError

from schemas.codes import DEVICE_STATUSES, VISIT_PURPOSES
from schemas.coverage import COVERAGE_DAYS, FIRST_PROGRAMS, coverage_since
from schemas.scope import within
from schemas.validators import validate_wilayah
from server.exceptions import Invalid, Missing, OutsideScope
from server.office.periods import OfficeCalendar, Period
from server.scope import Scope
from server.storage import HubStorage, NotFound
from server.storage.office import (
    BeneficiaryItem,
    HistoryEntry,
    RecordFilter,
    RecordView,
    RequestItem,
    StatusCount,
    UnvisitedCounts,
    UnvisitedItem,
    VisitItem,
)

__all__ = [
    "COVERAGE_DAYS",
    "COVERAGE_GROUPS",
    "FIRST_PROGRAMS",
    "REVIEW_STATES",
    "BeneficiaryPage",
    "CoverageReport",
    "OfficeQueries",
    "Page",
    "decode_key",
    "encode_key",
]

#: the review states of a visit (DESIGN.md §8); a visit without one is menunggu
REVIEW_STATES: tuple[str, ...] = ("menunggu", "diterima", "dikembalikan")
#: how Cakupan's names may be grouped: by kelurahan, or by pendamping (the author)
COVERAGE_GROUPS: tuple[str, ...] = ("kelurahan", "author")
#: the longest list page any caller may ask for
MAX_PAGE = 500


def encode_key(key: Sequence[str]) -> str:
    """A page cursor as one URL-safe token."""
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_key(token: str | None, size: int) -> tuple[str, ...] | None:
    """The cursor in `token`, or None for anything that is not one of `size` strings (a
    hostile or stale query value starts from the first page instead of failing)."""
    if not token or len(token) > 400:
        return None
    try:
        value = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    except (ValueError, TypeError):
        return None
    if not isinstance(value, list) or len(value) != size:
        return None
    if not all(isinstance(part, str) and len(part) <= 200 for part in value):
        return None
    return tuple(value)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list: its items, how many match in all (None when not counted), and
    the cursor of the next page (None on the last)."""

    items: list[Any]
    total: int | None
    next_key: str | None


@dataclass(frozen=True, slots=True)
class BeneficiaryPage:
    """All a beneficiary's page shows."""

    record: RecordView
    programs: list[str]
    visits: list[RecordView]
    requests: list[RecordView]
    #: the sha256 of every photo of the beneficiary, its visits and its requests, once each
    photos: list[str]
    history: list[HistoryEntry]


@dataclass(frozen=True, slots=True)
class CoverageReport:
    """Beneficiaries of one programme nobody visited since `since`: counts and names."""

    program: str
    since: dt.datetime
    counts: UnvisitedCounts
    page: Page = field(default_factory=lambda: Page([], 0, None))


def _clean(value: str | None) -> str | None:
    value = (value or "").strip()
    return value or None


class OfficeQueries:
    """The office's reads over `storage`.

    :param calendar: the office's time zone, for days and months.
    :param programs: the hub's programme codes (``PROGRAMS``).
    :param now: the wall clock, timezone-aware (injected for tests).
    """

    def __init__(
        self,
        storage: HubStorage,
        calendar: OfficeCalendar,
        programs: Sequence[str],
        now: Callable[[], dt.datetime] | None = None,
    ) -> None:
        self.storage = storage
        self.calendar = calendar
        self._programs = tuple(programs)
        self.now = now or (lambda: dt.datetime.now(dt.UTC))

    @classmethod
    def from_config(cls, storage: HubStorage, config: Mapping[str, Any]) -> OfficeQueries:
        """Built from the hub's settings (`WEB_UTC_OFFSET_HOURS`, `PROGRAMS`)."""
        return cls(
            storage,
            OfficeCalendar(int(config.get("WEB_UTC_OFFSET_HOURS", 7))),
            list(config.get("PROGRAMS") or FIRST_PROGRAMS),
        )

    # -- what the office may type -----------------------------------------------------------

    @property
    def programs(self) -> list[str]:
        """KLJ, KPDJ, KAJ first, then the hub's other configured programmes."""
        return [*FIRST_PROGRAMS, *(p for p in self._programs if p not in FIRST_PROGRAMS)]

    def narrow(self, scope: Scope, wilayah: str | None) -> tuple[str, ...] | None:
        """The prefixes a list or export covers: `scope`, narrowed to `wilayah` if given.

        :raises Invalid: `wilayah` is not a wilayah code.
        :raises OutsideScope: `wilayah` shares nothing with `scope`.
        """
        wilayah = _clean(wilayah)
        if wilayah is None:
            return None
        try:
            validate_wilayah(wilayah)
        except ValidationError as exc:
            raise Invalid.on("wilayah", str(exc.messages[0])) from None
        if scope.prefixes is None or within(scope.prefixes, wilayah):
            return (wilayah,)
        inner = tuple(p for p in scope.prefixes if within((wilayah,), p))
        if not inner:
            raise OutsideScope(f"Wilayah {wilayah} di luar wilayah Anda.")
        return inner

    def period(self, month: str | None = None, day: str | None = None) -> Period | None:
        """The period typed as `--month 2026-01` or `--day 2026-01-15` (not both)."""
        month, day = _clean(month), _clean(day)
        if month and day:
            raise Invalid.on("day", "Pilih bulan atau tanggal, tidak keduanya.")
        if month:
            return self.calendar.parse_month(month)
        if day:
            return self.calendar.parse_day(day)
        return None

    def record_filter(
        self,
        scope: Scope,
        *,
        month: str | None = None,
        day: str | None = None,
        wilayah: str | None = None,
        program: str | None = None,
        pendamping: str | None = None,
        purpose: str | None = None,
        review_state: str | None = None,
        status: str | None = None,
    ) -> RecordFilter:
        """A :class:`RecordFilter` from what the office typed (blank: no narrowing).

        :raises Invalid: naming the field whose value is not one the hub knows.
        :raises OutsideScope: `wilayah` lies outside `scope`.
        """
        checks = (
            ("program", program, self.programs),
            ("purpose", purpose, VISIT_PURPOSES),
            ("review_state", review_state, REVIEW_STATES),
            ("status", status, DEVICE_STATUSES),
        )
        for name, value, allowed in checks:
            if _clean(value) is not None and _clean(value) not in allowed:
                raise Invalid.on(name, f"Pilih salah satu: {', '.join(allowed)}.")
        period = self.period(month, day)
        return RecordFilter(
            start=period.start if period else None,
            end=period.end if period else None,
            wilayah=self.narrow(scope, wilayah),
            author=_clean(pendamping),
            purpose=_clean(purpose),
            review_state=_clean(review_state),
            program=_clean(program),
            status=_clean(status),
        )

    # -- Kunjungan ------------------------------------------------------------------------

    def visits(
        self, scope: Scope, where: RecordFilter, limit: int = 50, after: str | None = None
    ) -> Page:
        """Visits newest first, `limit` a page, with the total that match."""
        limit = max(1, min(limit, MAX_PAGE))
        office = self.storage.office
        items: list[VisitItem] = office.visits(scope.prefixes, where, limit + 1, _pair(after))
        more = len(items) > limit
        items = items[:limit]
        return Page(
            items,
            office.count_visits(scope.prefixes, where),
            encode_key(items[-1].key) if more else None,
        )

    # -- Penerima manfaat -------------------------------------------------------------------

    def search(self, scope: Scope, text: str, limit: int = 50) -> list[BeneficiaryItem]:
        """Beneficiaries in scope by NIK (digits: those whose NIK starts so) or by name."""
        text = (text or "").strip()[:100]
        if not text:
            return []
        return self.storage.office.search_beneficiaries(
            scope.prefixes, text, max(1, min(limit, MAX_PAGE))
        )

    def beneficiary(self, scope: Scope, record_id: str) -> BeneficiaryPage:
        """A beneficiary's page. :raises Missing: no live beneficiary with that id in scope
        (one outside it is not told apart from one that does not exist)."""
        try:
            row = self.storage.get_record(record_id)
        except NotFound:
            row = None
        if row is None or row.entity != "beneficiary" or row.deleted:
            raise Missing("Penerima manfaat tidak ditemukan.")
        if not scope.covers(row.kelurahan):
            raise Missing("Penerima manfaat tidak ditemukan.")
        record = RecordView(
            row.id,
            row.entity,
            row.kelurahan,
            row.author,
            row.created_at,
            row.updated_at,
            row.data,
            row.data.get("name"),
            row.data.get("nik"),
        )
        # A visit or request recorded in another wilayah (the person has since moved) is
        # not this office's to read, as on its own page and the photo route.
        others = [
            r for r in self.storage.office.beneficiary_records(row.id) if scope.covers(r.kelurahan)
        ]
        visits = [r for r in others if r.entity == "visit"]
        requests = [r for r in others if r.entity == "device_request"]
        photos: dict[str, None] = {}
        for shown in (record, *others):
            for sha in shown.data.get("attachments") or ():
                photos[str(sha)] = None
        return BeneficiaryPage(
            record,
            list(row.data.get("programs") or []),
            visits,
            requests,
            list(photos),
            self.storage.office.history(row.id),
        )

    # -- Permohonan ABF ---------------------------------------------------------------------

    def requests_by_status(self, scope: Scope) -> list[tuple[StatusCount, int]]:
        """Each status with its count and the age of its oldest request, in whole days."""
        now = self.now()
        return [
            (count, _age_days(count.oldest_since, now))
            for count in _in_lifecycle_order(self.storage.office.requests_by_status(scope.prefixes))
        ]

    def requests(
        self, scope: Scope, where: RecordFilter, limit: int = 50, after: str | None = None
    ) -> Page:
        """Requests longest in their status first; items are ``(RequestItem, age_days)``."""
        limit = max(1, min(limit, MAX_PAGE))
        found: list[RequestItem] = self.storage.office.requests(
            scope.prefixes, where, limit + 1, _pair(after)
        )
        more = len(found) > limit
        found = found[:limit]
        now = self.now()
        return Page(
            [(item, _age_days(item.since, now)) for item in found],
            None,
            encode_key(found[-1].key) if more else None,
        )

    # -- Cakupan ------------------------------------------------------------------------------

    def coverage(
        self,
        scope: Scope,
        program: str,
        limit: int = 100,
        after: str | None = None,
        days: int = COVERAGE_DAYS,
        by: str = "kelurahan",
    ) -> CoverageReport:
        """Beneficiaries of `program` in scope with no visit in the last `days` days, by
        kelurahan (or, with ``by="author"``, by pendamping) and name, with counts per
        kelurahan and per pendamping.

        :raises Invalid: `program` is not one of the hub's programmes, or `by` neither
            grouping.
        """
        if program not in self.programs:
            raise Invalid.on("program", f"Pilih salah satu: {', '.join(self.programs)}.")
        if by not in COVERAGE_GROUPS:
            raise Invalid.on("by", f"Pilih salah satu: {', '.join(COVERAGE_GROUPS)}.")
        since = coverage_since(self.now(), days)  # the laptop's Beranda uses the same rule
        office = self.storage.office
        counts = office.unvisited_counts(scope.prefixes, program, since)
        limit = max(1, min(limit, MAX_PAGE))
        key = decode_key(after, 3)
        items: list[UnvisitedItem] = office.unvisited(
            scope.prefixes,
            program,
            since,
            limit + 1,
            (key[0], key[1], key[2]) if key else None,
            by=by,
        )
        more = len(items) > limit
        items = items[:limit]
        return CoverageReport(
            program,
            since,
            counts,
            Page(items, counts.total, encode_key(items[-1].key) if more else None),
        )


def _pair(token: str | None) -> tuple[str, str] | None:
    key = decode_key(token, 2)
    return (key[0], key[1]) if key else None


def _age_days(since: str | None, now: dt.datetime) -> int:
    if not since:
        return 0
    try:
        moment = dt.datetime.fromisoformat(since)
    except ValueError:
        return 0
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return max(0, (now - moment).days)


def _in_lifecycle_order(counts: list[StatusCount]) -> list[StatusCount]:
    order = {status: n for n, status in enumerate(DEVICE_STATUSES)}
    return sorted(counts, key=lambda c: order.get(c.status, len(order)))
