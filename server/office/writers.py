"""Write an export's rows as XLSX (openpyxl, write-only) or CSV, streaming, to a file or a
stream; a file is written beside its target and moved into place only when complete.

Excel must not turn a NIK into a number (it keeps 15 digits: a 16-digit NIK is silently
changed), so every text column, codes and NIK included, is a string cell formatted as text
(``@``); dates and times are real date cells in the office's time zone. CSV is UTF-8 with a
BOM (Excel reads it as UTF-8 then) and `;` on request, for Excel set to Indonesian.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Font

__all__ = [
    "FORMATS",
    "MAX_XLSX_ROWS",
    "OutColumn",
    "TooManyRows",
    "write_atomically",
    "write_csv",
    "write_xlsx",
]

FORMATS: tuple[str, ...] = ("xlsx", "csv")
#: Excel's limit, less the header row
MAX_XLSX_ROWS = 1_048_575
#: text a spreadsheet would take for a formula: =, @, a tab or CR first, or + and - before
#: anything but a number or a phone number
_FORMULA = re.compile(r"[=@\t\r]|[+-](?![0-9 ().-]*$)")
#: how each kind of value is shown in a spreadsheet
_NUMBER_FORMATS = {"text": "@", "date": "DD/MM/YYYY", "datetime": "DD/MM/YYYY HH:MM"}
#: column kinds: "text" (codes, NIK, ids, names: a text cell formatted "@"), "free" (long
#: free text: a plain string cell), "date", "datetime", "number"


class TooManyRows(Exception):
    """More rows than an XLSX sheet holds; nothing was written to the target."""


@dataclass(frozen=True, slots=True)
class OutColumn:
    """A column as the writers see it: its header and its kind (text, free, date,
    datetime, number); values come already converted (str, dt.date, naive dt.datetime,
    numbers)."""

    header: str
    kind: str = "text"
    width: float = 16


def write_xlsx(
    columns: Sequence[OutColumn], rows: Iterable[Sequence[Any]], target: IO[bytes], title: str
) -> int:
    """Stream `rows` into one sheet of an XLSX workbook written to `target`.

    :returns: the number of rows written (the header not counted).
    :raises TooManyRows: past Excel's row limit.
    """
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    for n, column in enumerate(columns):
        sheet.column_dimensions[_letter(n)].width = column.width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    # Codes, dates and times go out as cells carrying their number format: one cell per
    # such column, reused for every row, so its style is registered once (a write-only
    # sheet serialises a row when it is appended). Free text and numbers go out as plain
    # values, which openpyxl writes with less work per cell.
    styled: list[Cell | None] = []
    for column in columns:
        if column.kind in _NUMBER_FORMATS:
            cell = WriteOnlyCell(sheet)
            cell.number_format = _NUMBER_FORMATS[column.kind]
            styled.append(cell)
        else:
            styled.append(None)
    plain_text = [column.kind == "free" for column in columns]
    count = 0
    try:
        for row in rows:
            count += 1
            if count > MAX_XLSX_ROWS:
                raise TooManyRows(f"lebih dari {MAX_XLSX_ROWS} baris")
            out: list[Any] = []
            for template, free, value in zip(styled, plain_text, row, strict=True):
                if template is None:
                    if free and isinstance(value, str) and value.startswith("="):
                        value = WriteOnlyCell(sheet, value=value)
                        value.data_type = "s"  # text that starts with "=" is never a formula
                    out.append(value)
                    continue
                template.value = value
                if template.data_type == "f":
                    template.data_type = "s"
                out.append(template)
            sheet.append(out)
    except BaseException:
        _abandon(sheet)
        raise
    workbook.save(target)
    return count


def _abandon(sheet: Any) -> None:
    """Close a write-only sheet left half written, and remove the temporary file openpyxl
    streams it into, so nothing is left behind and nothing complains when it is collected."""
    with contextlib.suppress(Exception):
        sheet.close()
    writer = getattr(sheet, "_writer", None)  # openpyxl's; its own save() cleans up the same
    if writer is not None:
        with contextlib.suppress(Exception):
            writer.cleanup()


def write_csv(
    columns: Sequence[OutColumn],
    rows: Iterable[Sequence[Any]],
    target: IO[bytes],
    separator: str = ",",
) -> int:
    """Stream `rows` as CSV in UTF-8 with a BOM. Dates as `YYYY-MM-DD`, times as
    `YYYY-MM-DD HH:MM:SS` (the office's time zone). :returns: rows written."""
    text = io.TextIOWrapper(target, encoding="utf-8-sig", newline="", write_through=False)
    try:
        writer = csv.writer(text, delimiter=separator, quoting=csv.QUOTE_MINIMAL)
        writer.writerow([column.header for column in columns])
        count = 0
        for row in rows:
            writer.writerow([_csv_value(value) for value in row])
            count += 1
        text.flush()
    finally:
        text.detach()  # leave `target` open for the caller
    return count


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value  # a spreadsheet would run it as a formula (CSV injection)
    return value


def _letter(n: int) -> str:
    letters = ""
    n += 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@contextlib.contextmanager
def write_atomically(out: Path):
    """A binary file beside `out` to write into; on a clean exit it replaces `out`, on any
    error it is removed and `out` is left as it was (absent, or the previous file)."""
    out = Path(out)
    temp = out.with_name(f".{out.name}.{uuid.uuid4().hex[:12]}.tmp")
    try:
        with open(temp, "xb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, out)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        raise
