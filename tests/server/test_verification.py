"""Verifikasi bulanan end to end on the hub: outcomes recorded on laptops and pushed, the
month's states, a close that freezes, amendments beside it, refusals, scope, the XLSX
and `pendamping-hub verification` / `export verification`; and the SQLite side (migration
`NNNN_monthly_verification.sql`'s fill, the frozen triggers, the index the month reads)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pytest
from flask import Flask

from schemas.migrations import apply_migrations
from server.cli import main
from server.exceptions import Invalid, NotAllowed, OutsideScope, StateConflict
from server.office import OfficeQueries, export_to
from server.office.verification import MonthlyVerification
from server.scope import EVERYWHERE, Scope
from server.storage import HubStorage, RecordRow, User
from server.storage.base import StorageError
from server.storage.pg import PostgresStorage
from server.storage.read_columns import verification_outcome
from server.storage.sqlite import SQLiteStorage
from server.timeutil import utc_iso
from tests.conftest import Laptops, beneficiary, visit

pytestmark = pytest.mark.both_backends

JAN = "2026-01-15T09:30:00+07:00"
NIK71 = "3171014508450001"
NIK72 = "3172014508450002"


@pytest.fixture
def district(laptops: Laptops, hub_storage: HubStorage) -> Iterator[dict]:
    """Four KLJ beneficiaries of 31.71 (one verified, one found deceased, one visited only
    in February, one never) and one of 31.72 (verified), all recorded on laptops."""
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    ids = {
        "sri": siti.store.add("beneficiary", beneficiary(name="Ibu Sri Wahyuni", nik=NIK71)),
        "budi": siti.store.add("beneficiary", beneficiary(name="Pak Budi", nik=None)),
        "dewi": siti.store.add("beneficiary", beneficiary(name="Ibu Dewi", nik=None)),
        "joko": siti.store.add("beneficiary", beneficiary(name="Pak Joko", nik=None)),
        "ani72": ani.store.add(
            "beneficiary",
            beneficiary(name="Ibu Ani", nik=NIK72, kelurahan="31.72.01.1001"),
        ),
    }
    ids["v_sri"] = siti.store.add("visit", visit(ids["sri"], visited_at=JAN, purpose="verifikasi"))
    ids["v_budi"] = siti.store.add(
        "visit", visit(ids["budi"], visited_at=JAN, verification_outcome="meninggal")
    )
    siti.store.add(
        "visit",
        visit(ids["dewi"], visited_at="2026-02-01T08:00:00+07:00", purpose="verifikasi"),
    )
    ani.store.add("visit", visit(ids["ani72"], visited_at=JAN, verification_outcome="layak"))
    siti.sync()
    ani.sync()
    hub_storage.add_user(User("bu-kasi", "supervisor", ("31.71",)), utc_iso())
    hub_storage.add_user(User("bu-72", "supervisor", ("31.72",)), utc_iso())
    hub_storage.add_user(User("kadis", "admin", ()), utc_iso())
    ids["siti"] = siti
    yield ids
    siti.close()
    ani.close()


@pytest.fixture
def service(hub_app: Flask, hub_storage: HubStorage) -> MonthlyVerification:
    return MonthlyVerification(OfficeQueries.from_config(hub_storage, hub_app.config))


def _states(found) -> dict[str, tuple[str, str | None]]:
    return {r.shown.beneficiary_id: (r.shown.state, r.amendment) for r in found.rows}


def test_outcomes_recorded_on_a_laptop_decide_the_months_states(district, service):
    found = service.month_list(Scope(("31.71",)), "KLJ", "2026-01")
    assert _states(found) == {
        district["sri"]: ("terverifikasi", None),
        district["budi"]: ("meninggal", None),
        district["dewi"]: ("belum", None),  # her visit was in February
        district["joko"]: ("belum", None),
    }
    assert found.counts == {
        "terverifikasi": 1,
        "belum": 2,
        "tidak_layak": 0,
        "meninggal": 1,
        "pindah": 0,
    }
    assert not found.closes and not found.closed
    sri = next(r for r in found.rows if r.shown.beneficiary_id == district["sri"])
    assert (sri.shown.visit_id, sri.shown.pendamping) == (district["v_sri"], "siti")
    named = service.with_names([sri])[0].shown
    assert (named.name, named.nik) == ("Ibu Sri Wahyuni", NIK71)


def test_a_bad_outcome_from_a_laptop_is_refused_naming_the_field(district):
    siti = district["siti"]
    with pytest.raises(Exception) as refused:
        siti.store.add("visit", visit(district["joko"], verification_outcome="wafat"))
    assert "verification_outcome" in str(refused.value)


def test_closing_freezes_the_list_and_a_later_visit_is_an_amendment_beside_it(
    district, service, hub_storage: HubStorage
):
    supervisor = hub_storage.get_user("bu-kasi")
    close = service.close(supervisor, "KLJ", "2026-01")
    assert close.wilayah == ("31.71",) and close.closed_by == "bu-kasi"
    assert close.counts == {"belum": 2, "meninggal": 1, "terverifikasi": 1}
    frozen_before = hub_storage.verification.frozen([close.close_id], None)

    # after the close: a late January visit verifies Joko, Sri's visit is found to have been
    # of an ineligible person, and a new beneficiary is enrolled; Dewi leaves the programme
    siti = district["siti"]
    siti.store.add("visit", visit(district["joko"], visited_at=JAN, purpose="verifikasi"))
    siti.store.add(
        "visit",
        visit(
            district["sri"],
            visited_at="2026-01-20T09:30:00+07:00",
            verification_outcome="tidak_layak",
        ),
    )
    late = siti.store.add("beneficiary", beneficiary(name="Ibu Rina", nik=None))
    siti.store.update("beneficiary", district["dewi"], {"programs": ["PKH"]})
    siti.sync()

    found = service.month_list(Scope(("31.71",)), "KLJ", "2026-01")
    assert found.closed
    assert _states(found) == {
        district["sri"]: ("terverifikasi", "berubah"),
        district["budi"]: ("meninggal", None),
        district["dewi"]: ("belum", "dikeluarkan"),
        district["joko"]: ("belum", "berubah"),
        late: ("belum", "ditambahkan"),
    }
    # the list counts the frozen rows; what came after is counted as amendments
    assert found.counts["terverifikasi"] == 1 and found.counts["belum"] == 2
    assert found.amended == {"berubah": 2, "ditambahkan": 1, "dikeluarkan": 1}
    joko = next(r for r in found.rows if r.shown.beneficiary_id == district["joko"])
    assert joko.frozen and joko.live is not None and joko.live.state == "terverifikasi"
    assert hub_storage.verification.frozen([close.close_id], None) == frozen_before
    [entry] = [e for e in hub_storage.iter_audit() if e.action == "verification_close"]
    assert entry.actor == "bu-kasi"
    assert json.loads(entry.detail)["counts"] == close.counts


def test_a_month_cannot_be_closed_twice_nor_before_it_begins(
    district, service, hub_storage: HubStorage
):
    supervisor = hub_storage.get_user("bu-kasi")
    service.close(supervisor, "KLJ", "2026-01")
    entries = len(list(hub_storage.iter_audit()))
    with pytest.raises(StateConflict) as twice:
        service.close(supervisor, "KLJ", "2026-01")
    assert "sudah ditutup" in twice.value.message and "bu-kasi" in twice.value.message
    with pytest.raises(StateConflict):  # an admin's close of everything overlaps it
        service.close(hub_storage.get_user("kadis"), "KLJ", "2026-01")
    with pytest.raises(StateConflict):  # and so does a narrower one inside it
        service.close(supervisor, "KLJ", "2026-01", wilayah="31.71.01")
    with pytest.raises(Invalid) as future:
        service.close(supervisor, "KLJ", "2099-01")
    assert future.value.errors == {"month": [future.value.message]}
    assert "belum tiba" in future.value.message
    assert len(list(hub_storage.iter_audit())) == entries  # nothing written
    # another month, programme or wilayah is a close of its own
    service.close(hub_storage.get_user("bu-72"), "KLJ", "2026-01")


def test_refused_values_and_roles(district, service, hub_storage: HubStorage):
    supervisor = hub_storage.get_user("bu-kasi")
    for program, month, field in (("XYZ", "2026-01", "program"), ("KLJ", "2026-13", "month")):
        with pytest.raises(Invalid) as bad:
            service.close(supervisor, program, month)
        assert set(bad.value.errors) == {field}
    with pytest.raises(Invalid) as empty:  # nobody in KAJ there: nothing to close
        service.close(supervisor, "KAJ", "2026-01")
    assert "Tidak ada penerima manfaat KAJ" in empty.value.message
    with pytest.raises(NotAllowed):
        service.close(User("siti", "pendamping", ("31.71.01",)), "KLJ", "2026-01")
    assert hub_storage.verification.closes("KLJ", "2026-01") == []


def test_a_31_71_supervisor_neither_sees_nor_closes_31_72(
    district, service, hub_storage: HubStorage
):
    supervisor = hub_storage.get_user("bu-kasi")
    seen = service.month_list(Scope.of(supervisor), "KLJ", "2026-01")
    assert district["ani72"] not in _states(seen)
    with pytest.raises(OutsideScope):
        service.month_list(Scope.of(supervisor), "KLJ", "2026-01", wilayah="31.72")
    with pytest.raises(OutsideScope):
        service.close(supervisor, "KLJ", "2026-01", wilayah="31.72.01")
    # the admin closes all; the supervisor sees the frozen list of their own wilayah only
    service.close(hub_storage.get_user("kadis"), "KLJ", "2026-01")
    seen = service.month_list(Scope.of(supervisor), "KLJ", "2026-01")
    assert seen.closed and district["ani72"] not in _states(seen)
    assert district["ani72"] in _states(service.month_list(EVERYWHERE, "KLJ", "2026-01"))


def _sheet(data: bytes):
    sheet = openpyxl.load_workbook(io.BytesIO(data)).active
    header = [cell.value for cell in sheet[1]]
    return header, list(sheet.iter_rows(min_row=2))


def test_the_months_xlsx_keeps_the_nik_as_text_and_the_scope(
    district, service, hub_storage: HubStorage
):
    service.close(hub_storage.get_user("bu-kasi"), "KLJ", "2026-01")
    district["siti"].store.add(
        "visit", visit(district["joko"], visited_at=JAN, purpose="verifikasi")
    )
    district["siti"].sync()
    queries = service.queries
    scope = Scope(("31.71",))
    where = queries.record_filter(scope, month="2026-01", program="KLJ")
    out = io.BytesIO()
    assert export_to(queries, scope, "verification", where, "xlsx", out) == 4
    header, rows = _sheet(out.getvalue())
    by_name = {row[header.index("Nama")].value: row for row in rows}
    assert set(by_name) == {"Ibu Sri Wahyuni", "Pak Budi", "Ibu Dewi", "Pak Joko"}
    sri = by_name["Ibu Sri Wahyuni"]
    nik = sri[header.index("NIK")]
    assert nik.value == NIK71 and nik.data_type == "s" and nik.number_format == "@"
    assert sri[header.index("Status")].value == "Terverifikasi"
    assert sri[header.index("Ditutup oleh")].value == "bu-kasi"
    when = sri[header.index("Waktu kunjungan (WIB)")].value
    assert when == dt.datetime(2026, 1, 15, 9, 30)
    joko = by_name["Pak Joko"]
    assert joko[header.index("Status")].value == "Belum diverifikasi"
    assert joko[header.index("Perubahan setelah ditutup")].value == "Berubah setelah ditutup"
    assert joko[header.index("Status terkini")].value == "Terverifikasi"
    with pytest.raises(Invalid) as no_program:
        export_to(queries, scope, "verification", queries.record_filter(scope), "xlsx", out)
    assert set(no_program.value.errors) == {"program"}
    with pytest.raises(Invalid) as a_day:
        day = queries.record_filter(scope, day="2026-01-15", program="KLJ")
        export_to(queries, scope, "verification", day, "xlsx", out)
    assert set(a_day.value.errors) == {"month"}


def test_the_command_line_closes_shows_and_exports(
    district, hub_app: Flask, tmp_path: Path, capsys
):
    data = ["--data", str(hub_app.config["DATA_DIR"])]
    base = ["--program", "KLJ", "--month", "2026-01"]
    assert main([*data, "verification", "show", *base, "--as", "bu-kasi"]) == 0
    shown = capsys.readouterr().out
    assert "terbuka" in shown and "Ibu Sri Wahyuni" in shown and "Ibu Ani" not in shown
    assert main([*data, "verification", "close", *base, "--as", "bu-kasi", "--json"]) == 0
    closed = json.loads(capsys.readouterr().out)
    assert closed["wilayah"] == ["31.71"] and closed["counts"]["meninggal"] == 1
    assert main([*data, "verification", "close", *base, "--as", "bu-kasi"]) == 1
    assert "sudah ditutup" in capsys.readouterr().err
    assert main([*data, "verification", "close", "--program", "KLJ", "--month", "2099-01",
                 "--as", "bu-kasi"]) == 2  # fmt: skip
    assert "--month" in capsys.readouterr().err
    assert main([*data, "verification", "close", *base, "--wilayah", "31.72",
                 "--as", "bu-kasi"]) == 1  # fmt: skip
    assert "di luar wilayah" in capsys.readouterr().err
    assert main([*data, "verification", "show", *base, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["status"] == "sebagian ditutup"  # 31.71 closed, 31.72 not
    assert {r["name"] for r in listed["rows"]} >= {"Ibu Sri Wahyuni", "Ibu Ani"}
    out = tmp_path / "verifikasi.xlsx"
    args = ["export", "verification", *base, "--format", "xlsx", "--out", str(out)]
    assert main([*data, *args]) == 0
    header, rows = _sheet(out.read_bytes())
    assert len(rows) == 5 and header[:3] == ["Program", "Bulan", "Kode kelurahan"]


# -- the SQLite side ---------------------------------------------------------------------


def test_the_monthly_verification_migration_fills_the_outcome_as_the_writer_would(
    tmp_path: Path,
):
    conn = sqlite3.connect(tmp_path / "hub.sqlite3", isolation_level=None)
    migrations = "server.storage.migrations"
    import schemas.migrations as runner

    every = runner.available_migrations(migrations)
    [ours] = [m for m in every if m[1].endswith("_monthly_verification")]
    before = [m for m in every if m[0] < ours[0]]
    # apply everything before it, then insert visits, then it (and any later ones)
    original = runner.available_migrations
    try:
        runner.available_migrations = lambda package: before  # type: ignore[assignment]
        apply_migrations(conn, migrations)
    finally:
        runner.available_migrations = original  # type: ignore[assignment]
    cases = {
        "v1": {"verification_outcome": "pindah", "purpose": "monitoring"},
        "v2": {"purpose": "verifikasi"},
        "v3": {"verification_outcome": None, "purpose": "asesmen"},
    }
    for seq, (rid, data) in enumerate(cases.items(), 1):
        conn.execute(
            "INSERT INTO records (id, entity, kelurahan, seq, data, clocks, hlc, created_at,"
            " updated_at) VALUES (?, 'visit', '31.71.01.1001', ?, ?, '{}', '', 'x', 'x')",
            (rid, seq, json.dumps(data)),
        )
    assert ours[1] in apply_migrations(conn, migrations)
    for rid, data in cases.items():
        row = RecordRow(rid, "visit", "31.71.01.1001", 0, False, data, {}, "x", "x")
        stored = conn.execute(
            "SELECT verification_outcome FROM records WHERE id = ?", (rid,)
        ).fetchone()[0]
        assert stored == verification_outcome(row), rid


def _execute(storage: HubStorage, sql: str) -> None:
    """One statement straight on the hub's database, whichever backend holds it."""
    if isinstance(storage, PostgresStorage):
        with storage.db.write() as conn:
            conn.execute(sql)
    else:
        assert isinstance(storage, SQLiteStorage)
        storage._conn().execute(sql)


def test_a_frozen_list_cannot_be_changed_by_any_statement(district, service, hub_storage):
    close = service.close(hub_storage.get_user("bu-kasi"), "KLJ", "2026-01")
    for sql in (
        "UPDATE verification_rows SET state = 'terverifikasi'",
        "DELETE FROM verification_rows",
        "UPDATE verification_closes SET closed_by = 'x'",
        "DELETE FROM verification_closes",
    ):
        # SQLite's trigger raises IntegrityError; PostgreSQL's, a StorageError (rolled back)
        with pytest.raises((sqlite3.IntegrityError, StorageError), match="frozen"):
            _execute(hub_storage, sql)
    assert hub_storage.verification.closes("KLJ", "2026-01") == [close]


def test_a_months_states_read_the_partial_index_not_the_records(tmp_path: Path):
    storage = SQLiteStorage(tmp_path / "hub.sqlite3")
    storage.migrate()
    from server.storage import sqlite_verification as module

    sql = (
        f"EXPLAIN QUERY PLAN {module._LATEST} SELECT bp.record_id, {module._STATE}"
        f"{module._FROM} WHERE bp.program = ?"
    )
    plan = " | ".join(row[3] for row in storage._conn().execute(sql, ("a", "b", "KLJ")).fetchall())
    storage.close()
    assert "COVERING INDEX office_verifications" in plan
    assert "SCAN records" not in plan and "SCAN v" not in plan


def test_an_outcome_edited_after_the_close_is_an_amendment_too(
    district, service, hub_storage: HubStorage
):
    service.close(hub_storage.get_user("bu-kasi"), "KLJ", "2026-01")
    siti = district["siti"]
    siti.store.update("visit", district["v_budi"], {"verification_outcome": "pindah"})
    siti.sync()
    found = service.month_list(Scope(("31.71",)), "KLJ", "2026-01")
    budi = next(r for r in found.rows if r.shown.beneficiary_id == district["budi"])
    assert (budi.shown.state, budi.amendment) == ("meninggal", "berubah")
    assert budi.live is not None and budi.live.state == "pindah"
    assert budi.live.visit_id == budi.shown.visit_id  # the same visit, another outcome
