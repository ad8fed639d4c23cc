"""The office's exports: visits, beneficiaries and ABF requests as XLSX or CSV, streamed.

A kind is one small definition: its columns (a header in Bahasa Indonesia, a kind of
value, a function of the record) and its query (by default the storage's
:meth:`~server.storage.office.OfficeReads.export_rows` for its entity). Register another
kind (the monthly verification list) with :func:`register`. The command line
(`pendamping-hub export`) and the web page's download both call :func:`export_to` or
:func:`export_file`, so a spreadsheet is the same whichever way it was made.

One row per live record, oldest first (visits by `visited_at`, beneficiaries by name,
requests by filing). Codes, NIK and ids are text; dates are dates, times are in the
office's time zone (`WEB_UTC_OFFSET_HOURS`). There is no table of kelurahan names in the
hub, so a row carries the kelurahan's code only (docs/office.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from server.exceptions import Invalid
from server.office.periods import OfficeCalendar
from server.office.queries import OfficeQueries
from server.office.verification import (
    AMENDMENTS,
    STATE_LABELS,
    MonthlyVerification,
    VerificationRow,
)
from server.office.writers import (
    FORMATS,
    OutColumn,
    TooManyRows,
    write_atomically,
    write_csv,
    write_xlsx,
)
from server.scope import Scope
from server.storage.office import RecordFilter, RecordView

__all__ = [
    "KINDS",
    "Column",
    "ExportKind",
    "export_file",
    "export_to",
    "register",
]

#: a column's value of one row (a RecordView; a VerificationRow for `verification`)
Value = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class Column:
    """One column: its header, what kind of value (text: codes, NIK, ids and names, kept
    as text; free: long free text; date; datetime; number), and how to take it from a
    record."""

    header: str
    kind: str
    value: Value
    width: float = 16


@dataclass(frozen=True, slots=True)
class ExportKind:
    """An export: its name on the command line, its sheet title, its columns, and its rows
    (a function of the queries, the scope and the filter)."""

    name: str
    title: str
    columns: tuple[Column, ...]
    rows: Callable[[OfficeQueries, Scope, RecordFilter], Iterable[Any]]


KINDS: dict[str, ExportKind] = {}


def register(kind: ExportKind) -> ExportKind:
    """Make `kind` available to the command line and the pages, by its name."""
    KINDS[kind.name] = kind
    return kind


def _rows_of(entity: str) -> Callable[[OfficeQueries, Scope, RecordFilter], Iterable[RecordView]]:
    def rows(queries: OfficeQueries, scope: Scope, where: RecordFilter) -> Iterable[RecordView]:
        return queries.storage.office.export_rows(entity, scope.prefixes, where)

    return rows


# -- taking values from a record -------------------------------------------------------------


def _field(name: str) -> Value:
    return lambda r: r.data.get(name)


def _codes(name: str) -> Value:
    """A list of codes as one text, `KLJ, KPDJ`."""
    return lambda r: ", ".join(str(v) for v in (r.data.get(name) or ()))


def _number(name: str) -> Value:
    def value(r: RecordView) -> Any:
        found = r.data.get(name)
        return found if isinstance(found, int | float) and not isinstance(found, bool) else None

    return value


def _review(name: str) -> Value:
    def value(r: RecordView) -> Any:
        review = r.data.get("review")
        if not isinstance(review, dict):
            return "menunggu" if name == "state" else None
        return review.get(name) or ("menunggu" if name == "state" else None)

    return value


def _status_since(r: RecordView) -> Any:
    history = r.data.get("status_history") or []
    last = history[-1] if history and isinstance(history[-1], dict) else {}
    return last.get("at") or r.created_at


_ID = Column("ID", "text", lambda r: r.id, 38)
_KELURAHAN = Column("Kode kelurahan", "text", lambda r: r.kelurahan, 16)
_PENDAMPING = Column("Pendamping", "text", lambda r: r.author, 16)
_CREATED = Column("Dibuat (waktu hub)", "datetime", lambda r: r.created_at, 18)
_UPDATED = Column("Diperbarui (waktu hub)", "datetime", lambda r: r.updated_at, 18)
_BENEFICIARY = (
    Column("ID penerima manfaat", "text", _field("beneficiary_id"), 38),
    Column("NIK", "text", lambda r: r.beneficiary_nik, 20),
    Column("Nama penerima manfaat", "text", lambda r: r.beneficiary_name, 28),
)

VISITS = register(
    ExportKind(
        "visits",
        "Kunjungan",
        (
            _ID,
            Column("Waktu kunjungan", "datetime", _field("visited_at"), 18),
            Column("Tujuan", "text", _field("purpose"), 14),
            _PENDAMPING,
            *_BENEFICIARY,
            _KELURAHAN,
            Column("Status tinjauan", "text", _review("state"), 14),
            Column("Alasan dikembalikan", "free", _review("reason"), 28),
            Column("Temuan", "free", _field("findings"), 40),
            Column("Tindak lanjut", "free", _field("follow_up"), 32),
            Column("ID petugas", "text", _field("caseworker_id"), 16),
            Column("Lintang", "number", _number("lat"), 12),
            Column("Bujur", "number", _number("lon"), 12),
            Column("Jumlah foto", "number", lambda r: len(r.data.get("attachments") or ()), 10),
            _CREATED,
            _UPDATED,
        ),
        _rows_of("visit"),
    )
)

BENEFICIARIES = register(
    ExportKind(
        "beneficiaries",
        "Penerima manfaat",
        (
            _ID,
            Column("NIK", "text", _field("nik"), 20),
            Column("Nama", "text", _field("name"), 28),
            Column("Tanggal lahir", "date", _field("birth_date"), 14),
            Column("Jenis kelamin", "text", _field("sex"), 8),
            Column("Alamat", "free", _field("address"), 36),
            _KELURAHAN,
            Column("Kategori", "text", _codes("categories"), 18),
            Column("Jenis disabilitas", "text", _codes("disability_types"), 18),
            Column("Program", "text", _codes("programs"), 16),
            Column("ID DTSEN", "text", _field("dtsen_id"), 20),
            Column("Telepon", "text", _field("phone"), 16),
            _PENDAMPING,
            _CREATED,
            _UPDATED,
        ),
        _rows_of("beneficiary"),
    )
)

REQUESTS = register(
    ExportKind(
        "requests",
        "Permohonan ABF",
        (
            _ID,
            Column("Jenis alat", "text", _field("device_type"), 18),
            Column("Status", "text", _field("status"), 14),
            Column("Status sejak", "datetime", _status_since, 18),
            *_BENEFICIARY,
            _KELURAHAN,
            Column("Alasan", "free", _field("reason"), 36),
            _PENDAMPING,
            Column("Diajukan (waktu hub)", "datetime", lambda r: r.created_at, 18),
            _UPDATED,
        ),
        _rows_of("device_request"),
    )
)


def _verification_rows(
    queries: OfficeQueries, scope: Scope, where: RecordFilter
) -> Iterable[tuple[Any, VerificationRow]]:
    """The month's list (frozen rows where closed, with their amendments), by kelurahan
    and name; `where` must name a programme and a month."""
    verification = MonthlyVerification(queries)
    month = verification.for_export(scope, where)
    return ((month, row) for row in verification.named(month.rows))


def _shown(name: str) -> Value:
    return lambda pair: getattr(pair[1].shown, name)


def _closed(name: str) -> Value:
    return lambda pair: getattr(pair[1].close, name) if pair[1].frozen else None


VERIFICATION = register(
    ExportKind(
        "verification",
        "Verifikasi bulanan",
        (
            Column("Program", "text", lambda pair: pair[0].program, 10),
            Column("Bulan", "text", lambda pair: pair[0].period.label, 10),
            Column("Kode kelurahan", "text", _shown("kelurahan"), 16),
            Column("NIK", "text", _shown("nik"), 20),
            Column("Nama", "text", _shown("name"), 28),
            Column("Status", "text", lambda pair: STATE_LABELS.get(pair[1].shown.state), 18),
            Column("Kode status", "text", _shown("state"), 14),
            Column("Waktu kunjungan", "datetime", _shown("visited_utc"), 18),
            Column("Pendamping", "text", _shown("pendamping"), 16),
            Column("ID kunjungan", "text", _shown("visit_id"), 38),
            Column("ID penerima manfaat", "text", _shown("beneficiary_id"), 38),
            Column("Ditutup oleh", "text", _closed("closed_by"), 14),
            Column("Ditutup (waktu hub)", "datetime", _closed("closed_at"), 18),
            Column(
                "Perubahan setelah ditutup",
                "text",
                lambda pair: AMENDMENTS.get(pair[1].amendment or ""),
                24,
            ),
            Column(
                "Status terkini",
                "text",
                lambda pair: (
                    STATE_LABELS.get(pair[1].live.state)
                    if pair[1].amendment and pair[1].live
                    else None
                ),
                18,
            ),
        ),
        _verification_rows,
    )
)

# -- writing -----------------------------------------------------------------------------------


def _converter(kind: str, calendar: OfficeCalendar) -> Callable[[Any], Any]:
    """Turns a stored value into what a spreadsheet cell takes for a column of `kind`."""
    if kind in ("text", "free"):
        return lambda v: None if v is None or v == "" else str(v)
    if kind == "number":
        return lambda v: v
    if kind == "date":

        def date(v: Any) -> Any:
            try:
                return dt.date.fromisoformat(v) if isinstance(v, str) else None
            except ValueError:
                return v

        return date
    zone = calendar.zone

    def when(v: Any) -> Any:
        if not isinstance(v, str):
            return None
        try:
            moment = dt.datetime.fromisoformat(v)
        except ValueError:
            return v
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=dt.UTC)
        # Excel has no time zones: the office's wall clock, to the second
        return moment.astimezone(zone).replace(tzinfo=None, microsecond=0)

    return when


def _table(
    kind: ExportKind, records: Iterable[RecordView], calendar: OfficeCalendar
) -> Iterator[list[Any]]:
    pairs = [(column.value, _converter(column.kind, calendar)) for column in kind.columns]
    for record in records:
        yield [convert(take(record)) for take, convert in pairs]


def _out_columns(kind: ExportKind, calendar: OfficeCalendar) -> list[OutColumn]:
    zone = {7: "WIB", 8: "WITA", 9: "WIT"}.get(calendar.offset_hours)
    zone = zone or f"UTC{calendar.offset_hours:+d}"
    return [
        OutColumn(
            f"{c.header} ({zone})" if c.kind == "datetime" and "(" not in c.header else c.header,
            c.kind,
            c.width,
        )
        for c in kind.columns
    ]


def export_to(
    queries: OfficeQueries,
    scope: Scope,
    kind_name: str,
    where: RecordFilter,
    fmt: str,
    target: IO[bytes],
    separator: str = ",",
) -> int:
    """Write one export to the binary stream `target`. :returns: the rows written.

    :raises Invalid: an unknown kind, format or separator, or more rows than XLSX holds.
    """
    kind = KINDS.get(kind_name)
    if kind is None:
        raise Invalid.on("kind", f"Pilih salah satu: {', '.join(KINDS)}.")
    if fmt not in FORMATS:
        raise Invalid.on("format", f"Pilih salah satu: {', '.join(FORMATS)}.")
    if len(separator) != 1 or separator in '"\r\n':
        raise Invalid.on("separator", "Pemisah harus satu karakter, mis. ; atau ,.")
    records = kind.rows(queries, scope, where)
    try:
        rows = _table(kind, records, queries.calendar)
        columns = _out_columns(kind, queries.calendar)
        if fmt == "xlsx":
            return write_xlsx(columns, rows, target, kind.title)
        return write_csv(columns, rows, target, separator)
    except TooManyRows as exc:
        raise Invalid.on("format", f"Terlalu banyak baris untuk XLSX ({exc}); pakai CSV.") from exc
    finally:
        close = getattr(records, "close", None)
        if close is not None:
            close()  # release the storage's snapshot, however the writing ended


def export_file(
    queries: OfficeQueries,
    scope: Scope,
    kind_name: str,
    where: RecordFilter,
    fmt: str,
    out: Path,
    separator: str = ",",
) -> int:
    """:func:`export_to` into the file `out`, atomically: written beside it and moved into
    place when complete, so a failed export leaves no half file (and an older `out` as it
    was). :returns: the rows written."""
    with write_atomically(Path(out)) as handle:
        return export_to(queries, scope, kind_name, where, fmt, handle, separator)


def kind_names() -> Sequence[str]:
    """The kinds one may export, in the order they were registered."""
    return list(KINDS)
