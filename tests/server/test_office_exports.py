"""The office's exports read back as a spreadsheet program would: NIK as 16-digit text,
dates as dates, CSV with its BOM and separator, and nothing half written on failure."""

from __future__ import annotations

import csv
import datetime as dt
import re
from pathlib import Path

import openpyxl
import pytest

from server.exceptions import Invalid
from server.office import OfficeCalendar, OfficeQueries, export_file
from server.office.exports import KINDS
from server.scope import Scope
from tests.conftest import beneficiary, visit
from tests.support.hub_cli import Run

pytestmark = pytest.mark.both_backends

NIK = "3171014508450001"
DISTRICT = Scope(("31.71",))


@pytest.fixture
def office(hub_app) -> OfficeQueries:
    state = hub_app.extensions["pendamping"]
    return OfficeQueries(state.storage, OfficeCalendar(7), hub_app.config["PROGRAMS"])


@pytest.fixture
def filled(laptops) -> dict[str, str]:
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    dewi = laptops.enroll("dewi", wilayah=("31.72.01",))
    bid = siti.store.add("beneficiary", beneficiary(name='=HYPERLINK("x")', phone="+62 812"))
    vid = siti.store.add(
        "visit", visit(bid, visited_at="2026-01-31T23:30:00+07:00", findings="=1+1")
    )
    siti.store.add(
        "device_request",
        {"beneficiary_id": bid, "device_type": "kruk", "kelurahan": "31.71.01.1001"},
    )
    other = dewi.store.add(
        "beneficiary", beneficiary(nik="3172014508450002", kelurahan="31.72.01.1001")
    )
    dewi.store.add("visit", visit(other, kelurahan="31.72.01.1001"))
    siti.sync()
    dewi.sync()
    return {"beneficiary": bid, "visit": vid, "other": other}


def _sheet(path: Path) -> list[tuple]:
    return list(openpyxl.load_workbook(path).active.iter_rows(values_only=True))


def test_a_visits_xlsx_keeps_nik_as_16_digit_text_and_times_as_dates(office, filled, tmp_path):
    out = tmp_path / "kunjungan.xlsx"
    where = office.record_filter(DISTRICT, month="2026-01")
    assert export_file(office, DISTRICT, "visits", where, "xlsx", out) == 1
    book = openpyxl.load_workbook(out)
    sheet = book.active
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["ID", "Waktu kunjungan (WIB)", "Tujuan"]
    row = {name: cell for name, cell in zip(header, sheet[2], strict=True)}
    nik = row["NIK"]
    assert isinstance(nik.value, str) and re.fullmatch(r"[0-9]{16}", nik.value)
    assert nik.value == NIK and nik.number_format == "@" and nik.data_type == "s"
    assert row["Kode kelurahan"].value == "31.71.01.1001"
    assert row["Waktu kunjungan (WIB)"].value == dt.datetime(2026, 1, 31, 23, 30)  # WIB kept
    assert row["Waktu kunjungan (WIB)"].is_date
    assert row["Pendamping"].value == "siti"
    assert row["Status tinjauan"].value == "menunggu"
    assert row["Temuan"].value == "=1+1" and row["Temuan"].data_type == "s"  # not a formula
    assert row["Nama penerima manfaat"].data_type == "s"
    assert row["ID"].value == filled["visit"]


def test_february_holds_none_of_january_s_late_evening(office, filled, tmp_path):
    out = tmp_path / "feb.xlsx"
    where = office.record_filter(DISTRICT, month="2026-02")
    assert export_file(office, DISTRICT, "visits", where, "xlsx", out) == 0
    assert len(_sheet(out)) == 1  # the header only


def test_a_beneficiaries_csv_has_a_bom_the_separator_and_text_kept(office, filled, tmp_path):
    out = tmp_path / "penerima.csv"
    assert (
        export_file(
            office, DISTRICT, "beneficiaries", office.record_filter(DISTRICT), "csv", out, ";"
        )
        == 1
    )
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    header, row = rows
    values = dict(zip(header, row, strict=True))
    assert header[:3] == ["ID", "NIK", "Nama"]
    assert values["NIK"] == NIK
    assert values["Tanggal lahir"] == "1945-08-05"
    assert values["Program"] == "KLJ"
    assert values["Telepon"] == "+62 812"  # a phone number is not a formula
    assert values["Nama"] == '\'=HYPERLINK("x")'  # a formula is defused


def test_requests_export_and_scope(office, filled, tmp_path):
    out = tmp_path / "abf.xlsx"
    assert (
        export_file(office, DISTRICT, "requests", office.record_filter(DISTRICT), "xlsx", out) == 1
    )
    header, row = _sheet(out)
    assert dict(zip(header, row, strict=True))["Status"] == "diajukan"
    everyone = Scope(None)
    assert (
        export_file(
            office, everyone, "visits", office.record_filter(everyone), "csv", tmp_path / "all.csv"
        )
        == 2
    )
    # a supervisor of 31.71 gets nothing of 31.72, not even by asking for it
    for kind in KINDS:
        # the monthly verification list is of one programme and month (docs/office.md)
        needs = {"month": "2026-01", "program": "KLJ"} if kind == "verification" else {}
        where = office.record_filter(DISTRICT, **needs)
        export_file(office, DISTRICT, kind, where, "csv", tmp_path / f"{kind}.csv")
        assert "31.72" not in (tmp_path / f"{kind}.csv").read_text(encoding="utf-8-sig")


def test_a_failed_export_leaves_no_file_and_the_old_one_as_it_was(
    office, filled, tmp_path, monkeypatch
):
    out = tmp_path / "kunjungan.xlsx"
    out.write_bytes(b"last month's file")
    real = office.storage.office.export_rows

    def breaks_half_way(*args, **kwargs):
        yield next(real(*args, **kwargs))
        raise OSError("disk full")

    monkeypatch.setattr(office.storage.office, "export_rows", breaks_half_way)
    with pytest.raises(OSError):
        export_file(office, DISTRICT, "visits", office.record_filter(DISTRICT), "xlsx", out)
    assert out.read_bytes() == b"last month's file"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    with pytest.raises(Invalid):
        export_file(
            office,
            DISTRICT,
            "visits",
            office.record_filter(DISTRICT),
            "xlsx",
            tmp_path / "x.csv",
            separator=";;",
        )
    assert not (tmp_path / "x.csv").exists()


# -- the command line -------------------------------------------------------------------------


def test_the_export_command_writes_the_file_and_says_how_many_rows(hub, data_dir, tmp_path):
    assert hub("init").code == 0
    out = tmp_path / "k.xlsx"
    run: Run = hub("export", "visits", "--month", "2026-01", "--format", "xlsx", "--out", str(out))
    assert run.code == 0, run.err
    assert run.out.strip() == f"0 baris ditulis ke {out}."
    assert _sheet(out)[0][0] == "ID"


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (["--month", "2026-13"], 2, "--month"),
        (["--wilayah", "31.7"], 2, "--wilayah"),
        (["--program", "XYZ"], 2, "--program"),
        (["--separator", ";;", "--format", "csv"], 2, "--separator"),
        (["--format", "ods"], 2, "ods"),
    ],
)
def test_bad_input_exits_2_naming_the_option(hub, tmp_path, args, code, words):
    out = tmp_path / "k.csv"
    full = ["export", "visits", *args, "--out", str(out)]
    if "--format" not in args:
        full += ["--format", "csv"]
    run = hub(*full)
    assert run.code == code, run.err
    assert words in run.err
    assert len(run.err.strip().splitlines()) == 1, run.err
    assert not out.exists()


def test_a_file_that_cannot_be_written_exits_1(hub, tmp_path):
    run = hub("export", "requests", "--format", "csv", "--out", str(tmp_path / "no" / "k.csv"))
    assert run.code == 1
    assert run.err.startswith("Error: Tidak dapat menulis") or "Tidak dapat menulis" in run.err
    assert "Traceback" not in run.err


def test_docs_cli_md_lists_the_export_command_s_exit_codes():
    from server.cli.export import EXIT_CODES

    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    table = text.split("<!-- hub-export-exit-codes:")[1].split("<!-- /hub-export-exit-codes")[0]
    rows = [line for line in table.splitlines() if re.match(r"\| [0-9] \|", line)]
    assert rows == [f"| {code} | {meaning} |" for code, meaning in EXIT_CODES.items()]
