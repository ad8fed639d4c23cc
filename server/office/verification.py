"""Verifikasi bulanan: each enrolled beneficiary's state for a programme and month, the
supervisor's close that freezes the month's list, and the amendments beside it.

The rule (docs/office.md, "Monthly verification"): a beneficiary's state for month M is
decided by their latest live *verification visit* in M (the office's calendar), i.e. a
visit whose purpose is ``verifikasi`` or that recorded a ``verification_outcome``:
*terverifikasi* when it found them ``layak`` (or recorded no outcome), else what it found
(*tidak_layak*, *meninggal*, *pindah*); *belum* without one. A close copies the list of a
wilayah as it stands; afterwards that wilayah's rows come from the copy, and where the live
state differs the row carries an *amendment* (computed on every read, never written into
the copy): *berubah* (another state or visit), *ditambahkan* (enrolled after the close),
*dikeluarkan* (no longer enrolled, removed, or moved out of the wilayah).

No SQL, no Flask request: the storage's :class:`~server.storage.verification.VerificationStore`
reads and writes; the pages, `pendamping-hub verification` and the export call this.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace

from server.audit import AuditEvent
from server.exceptions import Invalid, NotAllowed, StateConflict
from server.office.periods import Period
from server.office.queries import OfficeQueries
from server.scope import Scope, has_role
from server.storage import User
from server.storage.office import RecordFilter
from server.storage.verification import STATES, MonthClose, MonthClosed, MonthState, overlaps
from server.timeutil import utc_iso

__all__ = [
    "AMENDMENTS",
    "CLOSERS",
    "STATE_LABELS",
    "MonthList",
    "MonthlyVerification",
    "VerificationRow",
    "wilayah_label",
]

#: who may close a month
CLOSERS: tuple[str, ...] = ("supervisor", "admin")
#: the states as the office reads them (the pages translate them through the catalogue)
STATE_LABELS: dict[str, str] = {
    "terverifikasi": "Terverifikasi",
    "belum": "Belum diverifikasi",
    "tidak_layak": "Tidak layak",
    "meninggal": "Meninggal",
    "pindah": "Pindah",
}
#: the amendments beside a frozen list, as the office reads them
AMENDMENTS: dict[str, str] = {
    "berubah": "Berubah setelah ditutup",
    "ditambahkan": "Terdaftar setelah ditutup",
    "dikeluarkan": "Tidak lagi terdaftar",
}


def wilayah_label(prefixes: Sequence[str] | None) -> str:
    """The wilayah of a close or a list as words: its codes, or *semua* (every wilayah)."""
    return "semua" if prefixes is None else ", ".join(prefixes)


@dataclass(frozen=True, slots=True)
class VerificationRow:
    """One beneficiary on the month's list.

    `shown` is the row of the list: frozen (from the close that covers its kelurahan) or,
    where no close covers it, live. `live` is the state now (None: no longer enrolled in
    the wilayah). `amendment` is None, or a key of :data:`AMENDMENTS`.
    """

    shown: MonthState
    live: MonthState | None
    close: MonthClose | None
    amendment: str | None = None

    @property
    def frozen(self) -> bool:
        return self.close is not None and self.amendment != "ditambahkan"


@dataclass(frozen=True, slots=True)
class MonthList:
    """A programme's month in a wilayah: every row, the closes that touch it, counts."""

    program: str
    period: Period
    #: the wilayah the list covers (None: every wilayah)
    wilayah: tuple[str, ...] | None
    closes: list[MonthClose]
    rows: list[VerificationRow]
    #: rows of the list (frozen, or live where open) per state; rows enrolled after a
    #: close are amendments, counted in `amended` only
    counts: dict[str, int] = field(default_factory=dict)
    amended: dict[str, int] = field(default_factory=dict)

    @property
    def closed(self) -> bool:
        """Every kelurahan of the list lies in a close (a wholly closed month)."""
        if not self.closes:
            return False
        if self.wilayah is None:
            return any(c.wilayah is None for c in self.closes)
        return all(any(c.covers(prefix) for c in self.closes) for prefix in self.wilayah)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _merge(
    live: list[MonthState], frozen: list[MonthState], closes: list[MonthClose]
) -> list[VerificationRow]:
    """The list: each frozen row with its amendment, each live row no close covers, and
    the live rows a close covers that its copy lacks (enrolled after it)."""
    by_id = {row.beneficiary_id: row for row in live}
    rows: list[VerificationRow] = []
    close_of = {c.close_id: c for c in closes}
    frozen_ids = set()
    for row in frozen:
        frozen_ids.add(row.beneficiary_id)
        close = next((c for c in close_of.values() if c.covers(row.kelurahan)), None)
        now = by_id.get(row.beneficiary_id)
        if now is None:
            amendment: str | None = "dikeluarkan"
        elif (now.state, now.visit_id) != (row.state, row.visit_id):
            amendment = "berubah"
        else:
            amendment = None
        rows.append(VerificationRow(row, now, close, amendment))
    for row in live:
        if row.beneficiary_id in frozen_ids:
            continue
        close = next((c for c in closes if c.covers(row.kelurahan)), None)
        rows.append(VerificationRow(row, row, close, "ditambahkan" if close else None))
    rows.sort(key=lambda r: r.shown.key)
    return rows


class MonthlyVerification:
    """The monthly verification over the office's queries (their storage, calendar,
    programmes and clock)."""

    def __init__(self, queries: OfficeQueries) -> None:
        self.queries = queries
        self.storage = queries.storage.verification

    # -- what the office typed ------------------------------------------------------------

    def program(self, program: str | None) -> str:
        """:raises Invalid: not one of the hub's programmes (naming ``program``)."""
        program = (program or "").strip()
        if program not in self.queries.programs:
            raise Invalid.on("program", f"Pilih salah satu: {', '.join(self.queries.programs)}.")
        return program

    def month(self, month: str | None) -> Period:
        """:raises Invalid: no month, or not `YYYY-MM` (naming ``month``)."""
        text = (month or "").strip()
        if not text:
            raise Invalid.on("month", "Isi bulan, mis. 2026-01.")
        return self.queries.calendar.parse_month(text)

    def this_month(self) -> str:
        return self.queries.calendar.this_month(self.queries.now()).label

    def area(self, scope: Scope, wilayah: str | None) -> tuple[str, ...] | None:
        """The wilayah a list or a close covers: `scope`, narrowed to `wilayah` if given.

        :raises Invalid: `wilayah` is not a code. :raises OutsideScope: outside `scope`.
        """
        narrowed = self.queries.narrow(scope, wilayah)
        return narrowed if narrowed is not None else scope.prefixes

    # -- the list ---------------------------------------------------------------------------

    def month_list(
        self, scope: Scope, program: str | None, month: str | None, wilayah: str | None = None
    ) -> MonthList:
        """The month's list of `program` inside `scope` (narrowed to `wilayah`).

        :raises Invalid: a programme, month or wilayah the hub does not take.
        :raises OutsideScope: `wilayah` outside `scope`.
        """
        return self._list(self.program(program), self.month(month), self.area(scope, wilayah))

    def _list(self, program: str, period: Period, area: tuple[str, ...] | None) -> MonthList:
        closes = [c for c in self.storage.closes(program, period.label) if _touches(c, area)]
        live = self.storage.month_states(area, program, period.start, period.end)
        frozen = self.storage.frozen([c.close_id for c in closes], area)
        rows = _merge(live, frozen, closes)
        counts = {state: 0 for state in STATES}
        amended = {kind: 0 for kind in AMENDMENTS}
        for row in rows:
            if row.amendment is not None:
                amended[row.amendment] += 1
            if row.amendment != "ditambahkan":
                counts[row.shown.state] = counts.get(row.shown.state, 0) + 1
        return MonthList(program, period, area, closes, rows, counts, amended)

    def for_export(self, scope: Scope, where: RecordFilter) -> MonthList:
        """The list an export asks for inside `scope`, with the export's filter (its
        `wilayah` already narrowed inside the scope by ``record_filter``; None: the scope).

        :raises Invalid: no programme, no month (or a day instead), or a filter the list
            does not take (a pendamping, a purpose, a review state, a status).
        """
        if where.program is None:
            raise Invalid.on("program", "Daftar verifikasi perlu program, mis. KLJ.")
        if where.start is None or where.end is None:
            raise Invalid.on("month", "Daftar verifikasi perlu bulan, mis. 2026-01.")
        calendar = self.queries.calendar
        local = calendar.local(where.start)
        period = calendar.month(local.year, local.month)
        if (period.start, period.end) != (where.start, where.end):
            raise Invalid.on("month", "Daftar verifikasi perlu satu bulan, bukan satu tanggal.")
        for name, value in (
            ("pendamping", where.author),
            ("purpose", where.purpose),
            ("review_state", where.review_state),
            ("status", where.status),
        ):
            if value is not None:
                raise Invalid.on(name, "Daftar verifikasi tidak disaring dengan isian ini.")
        area = where.wilayah if where.wilayah is not None else scope.prefixes
        return self._list(self.program(where.program), period, area)

    def with_names(self, rows: Sequence[VerificationRow]) -> list[VerificationRow]:
        """`rows` with the name and NIK of each (frozen rows have theirs from the close;
        live ones are read now, for these rows only)."""
        missing = [r.shown.beneficiary_id for r in rows if r.shown.name is None]
        found = self.storage.people(missing) if missing else {}
        out = []
        for row in rows:
            if row.shown.name is None:
                name, nik = found.get(row.shown.beneficiary_id, ("", None))
                row = replace(row, shown=replace(row.shown, name=name, nik=nik))
            out.append(row)
        return out

    def named(
        self, rows: Iterable[VerificationRow], chunk: int = 1000
    ) -> Iterable[VerificationRow]:
        """Every row of `rows` with its name, read `chunk` at a time (an export)."""
        batch: list[VerificationRow] = []
        for row in rows:
            batch.append(row)
            if len(batch) >= chunk:
                yield from self.with_names(batch)
                batch = []
        if batch:
            yield from self.with_names(batch)

    # -- closing ------------------------------------------------------------------------------

    def close(
        self,
        user: User,
        program: str | None,
        month: str | None,
        wilayah: str | None = None,
        via: str = "web",
    ) -> MonthClose:
        """Close the month of `program` for `wilayah` (default: the whole of the user's), as
        `user`, audited (``verification_close``) in the same transaction.

        :raises NotAllowed: `user` is not a supervisor or admin, or has no wilayah.
        :raises OutsideScope: `wilayah` outside the user's.
        :raises Invalid: a bad programme or month, a month not yet begun, or nobody
            enrolled in the programme there.
        :raises StateConflict: the month is closed already for an overlapping wilayah.
        """
        if not has_role(user, *CLOSERS):
            raise NotAllowed(
                f"Peran {user.role} tidak boleh menutup bulan; hanya supervisor dan admin."
            )
        scope = Scope.of(user)
        program = self.program(program)
        period = self.month(month)
        if period.start > self.queries.now():
            raise Invalid.on(
                "month",
                f"Bulan {period.label} belum tiba; bulan yang akan datang tidak dapat ditutup.",
            )
        area = self.area(scope, wilayah)
        if area is not None and not area:
            raise NotAllowed("Anda belum punya wilayah; tidak ada yang dapat ditutup.")
        if not self.storage.month_states(area, program, period.start, period.end):
            raise Invalid.on(
                "program",
                f"Tidak ada penerima manfaat {program} di wilayah {wilayah_label(area)};"
                " tidak ada yang ditutup.",
            )

        def audit(close: MonthClose) -> AuditEvent:
            detail = {
                "program": close.program,
                "month": close.month,
                "wilayah": list(close.wilayah) if close.wilayah is not None else None,
                "rows": sum(close.counts.values()),
                "counts": close.counts,
                "via": via,
            }
            return AuditEvent(close.closed_at, user.name, "verification_close", detail)

        try:
            return self.storage.close_month(
                program, period.label, area, period.start, period.end, user.name, utc_iso(), audit
            )
        except MonthClosed as exc:
            done = exc.existing
            raise StateConflict(
                f"Bulan {done.month} program {done.program} sudah ditutup untuk wilayah"
                f" {wilayah_label(done.wilayah)} oleh {done.closed_by} pada"
                f" {self.local_time(done.closed_at)}; tidak dapat ditutup dua kali."
                " Perubahan sesudahnya tampil sebagai amandemen."
            ) from None

    def local_time(self, iso: str | None) -> str:
        """A UTC instant as the office reads it, `31-01-2026 16:30 WIB`."""
        if not iso:
            return "-"
        try:
            moment = dt.datetime.fromisoformat(iso.replace("Z", "+00:00"))
        except ValueError:
            return iso
        calendar = self.queries.calendar
        zone = {7: "WIB", 8: "WITA", 9: "WIT"}.get(
            calendar.offset_hours, f"UTC{calendar.offset_hours:+d}"
        )
        return f"{calendar.local(moment):%d-%m-%Y %H:%M} {zone}"


def _touches(close: MonthClose, area: tuple[str, ...] | None) -> bool:
    return overlaps(close.wilayah, area)
