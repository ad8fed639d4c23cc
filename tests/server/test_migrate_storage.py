"""`pendamping-hub migrate-storage`: a district hub on SQLite moves to PostgreSQL whole, and
its laptops keep syncing against the moved hub with no re-enrolment and no lost or repeated
change (server/storage/copy.py, server/cli/migrate.py, docs/operations.md)."""

from __future__ import annotations

import json
import sqlite3
import tracemalloc
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import psycopg
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from client_sync import FieldDevice
from client_sync.errors import HubUnreachable, SyncError
from server.audit import AuditEntry, AuditEvent, link, verify
from server.cli import main
from server.cli.exit_codes import EXIT_FAILED, EXIT_SERVING, EXIT_USAGE
from server.office import OfficeQueries
from server.office.verification import MonthlyVerification
from server.serving import hold_serving_mark
from server.storage import HubStorage, User
from server.storage.copy import copy_hub, source_tables, walk_chain
from server.storage.pg_db import PgDatabase
from server.storage.pg_migrations import apply_migrations
from server.storage.sqlite import SQLiteStorage
from server.storage.urls import hide_secrets, shown_url
from server.timeutil import utc_iso
from tests.conftest import Laptops, beneficiary, visit
from tests.support.postgres import PgCluster
from tests.support.transports import WsgiTransport

PUSH = "/api/v1/sync/push"
JAN = "2026-01-15T09:30:00+07:00"


@dataclass
class Wire:
    """The laptops' way to the hub: which hub app answers (swapped when the hub moves), every
    push with its answer, and the next push whose answer is lost on the way back."""

    app: Flask
    pushes: list[tuple[bytes, dict[str, str], bytes]] = field(default_factory=list)
    lose_next_push_answer: bool = False

    def factory(self, _url: str) -> _WireTransport:
        return _WireTransport(self)


class _WireTransport:
    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.inner = WsgiTransport(wire.app)

    def send(self, method: str, path: str, **kwargs: Any):
        response = self.inner.send(method, path, **kwargs)
        if path == PUSH:
            self.wire.pushes.append((kwargs["body"], dict(kwargs["headers"]), response.body))
            if self.wire.lose_next_push_answer:
                self.wire.lose_next_push_answer = False
                raise HubUnreachable("connection dropped while the response was on its way")
        return response

    def close(self) -> None:
        self.inner.close()


@dataclass
class District:
    """A SQLite hub with what a district's hub holds, and its two laptops."""

    app: Flask
    wire: Wire
    siti: FieldDevice
    budi: FieldDevice
    ids: dict[str, str]

    @property
    def data(self) -> Path:
        return Path(self.app.config["DATA_DIR"])


@pytest.fixture
def district(hub_app: Flask, hub_storage: HubStorage, laptops: Laptops) -> Iterator[District]:
    """Laptops that pushed beneficiaries and visits, a conflict, a moved kelurahan (a scope
    exit), an office review, a closed verification month, a revoked laptop, a logout, a job
    run, an unused enrolment code and the audit entries of all of them; the last push's
    answer was lost, so siti's outbox still holds changes the hub took."""
    wire = Wire(hub_app)
    siti = laptops.enroll("siti", transport_factory=wire.factory)
    budi = laptops.enroll("budi", transport_factory=wire.factory)
    gone = laptops.enroll("gone", transport_factory=wire.factory)
    ids = {"sri": siti.store.add("beneficiary", beneficiary(name="Ibu Sri Wahyuni"))}
    ids["joko"] = siti.store.add("beneficiary", beneficiary(name="Pak Joko", nik=None))
    ids["v1"] = siti.store.add("visit", visit(ids["sri"], visited_at=JAN, purpose="verifikasi"))
    ids["v2"] = siti.store.add("visit", visit(ids["joko"], findings="Perlu kruk."))
    siti.sync()
    budi.sync()
    siti.store.update("beneficiary", ids["sri"], {"phone": "0811-1111-1111"})
    budi.store.update("beneficiary", ids["sri"], {"phone": "0822-2222-2222"})
    siti.sync()
    budi.sync()  # the later clock wins; the other value waits in the conflict queue
    siti.store.update("beneficiary", ids["joko"], {"kelurahan": "31.71.01.1002"})
    siti.sync()
    state = hub_app.extensions["pendamping"]
    hub_storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
    kasi = hub_storage.get_user("kasi")
    state.reviews.accept(kasi, [ids["v1"]], via="cli")
    state.reviews.send_back(kasi, [ids["v2"]], "Foto rumah belum ada.", via="cli")
    verification = MonthlyVerification(OfficeQueries.from_config(hub_storage, hub_app.config))
    verification.close(kasi, "KLJ", "2026-01", via="cli")
    state.devices.revoke(gone.store.identity.device_id, "hilang", actor="kasi")
    hub_storage.end_web_sessions("kasi", 1_790_000_000)
    hub_storage.jobs.claim_run("silent_laptops", "2026-11-01T23:00:00.000Z", "test:1:x", utc_iso())
    hub_storage.jobs.set_silent_devices(
        [budi.store.identity.device_id], utc_iso(), AuditEvent(utc_iso(), "hub", "silent_laptops")
    )
    laptops.add_user("dina")  # an enrolment code never used
    siti.sync()  # pulls the review back
    ids["v3"] = siti.store.add("visit", visit(ids["sri"], findings="Sudah dapat kursi roda."))
    siti.store.update("visit", ids["v2"], {"findings": "Foto rumah dilampirkan."})
    wire.lose_next_push_answer = True
    with pytest.raises(SyncError):  # the hub took the push; its answer never came back
        siti.sync()
    yield District(hub_app, wire, siti, budi, ids)
    siti.close()
    budi.close()
    gone.close()


def _sqlite_rows(path: Path, table: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as conn:
        columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
        quoted = ", ".join(f'"{c}"' for c in columns)
        return sorted(conn.execute(f'SELECT {quoted} FROM "{table}"').fetchall(), key=repr)


def _pg_rows(url: str, table: str, columns: list[str]) -> list[tuple]:
    quoted = ", ".join(f'"{c}"' for c in columns)
    with psycopg.connect(url) as conn:
        return sorted(conn.execute(f'SELECT {quoted} FROM "{table}"').fetchall(), key=repr)


def _tables(path: Path) -> dict[str, list[str]]:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("BEGIN")
        return {t.name: list(t.columns) for t in source_tables(conn)}


def _run(data: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(["--data", str(data), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _records(url: str) -> int:
    """The target's records; 0 when it has no table yet (a refusal left it unmigrated)."""
    with psycopg.connect(url) as conn:
        if conn.execute("SELECT to_regclass('records')").fetchone() == (None,):
            return 0
        row = conn.execute("SELECT count(*) FROM records").fetchone()
    return row[0] if row else 0


# -- the move -----------------------------------------------------------------------------------


def test_a_district_hub_moves_whole_table_by_table_and_row_by_row(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    district.app.extensions["pendamping"].storage.close()  # the hub is stopped
    source = district.data / "hub.sqlite3"

    code, out, err = _run(district.data, capsys, "migrate-storage", "--to", pg_url)

    assert code == 0, err
    tables = _tables(source)
    assert {
        "users", "devices", "enroll_codes", "records", "changes", "conflicts", "hub_meta",
        "audit", "scope_exits", "web_logouts", "job_runs", "beneficiary_programs",
        "verification_closes", "verification_rows", "silent_devices",
    } <= set(tables)  # fmt: skip
    for table, columns in tables.items():
        ours = _sqlite_rows(source, table)
        assert ours, f"the fixture left {table} empty: the test would not see it copied"
        assert _pg_rows(pg_url, table, columns) == ours, table
    entries = len(_sqlite_rows(source, "audit"))
    assert f"Rantai audit utuh di tujuan: {entries} entri" in out
    assert "jumlah baris tiap tabel sama di sumber dan tujuan" in out
    assert str(district.data / "attachments") in out  # photos stay files, and it says so
    with psycopg.connect(pg_url) as conn:  # analysed: the planner knows the copied rows
        (analysed,) = conn.execute(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%s)"
            " AND last_analyze IS NOT NULL",
            (list(tables),),
        ).fetchone() or (0,)
    assert analysed == len(tables)


def test_changes_keep_their_order_and_the_next_ids_follow_the_copied_ones(
    district: District, pg_url: str
):
    source = district.data / "hub.sqlite3"
    database = PgDatabase(pg_url, max_size=1)
    try:
        apply_migrations(database)
        report = copy_hub(source, database.write, "tujuan", chunk_rows=2)  # many chunks
        with database.write() as conn:
            conflict = conn.execute(
                "INSERT INTO conflicts (kind, record_id, entity, kelurahan, field, seq,"
                " created_at) VALUES ('field', 'x', 'beneficiary', 'k', 'f', 1, 'now')"
                " RETURNING conflict_id"
            ).fetchone()
            order = [r[0] for r in conn.execute("SELECT change_id FROM changes ORDER BY pos")]
            conn.execute("ROLLBACK")  # leave the copy as it was
    finally:
        database.close()
    with closing(sqlite3.connect(source)) as conn:
        assert order == [r[0] for r in conn.execute("SELECT change_id FROM changes ORDER BY rowid")]
        (last_conflict,) = conn.execute("SELECT max(conflict_id) FROM conflicts").fetchone()
    assert conflict is not None and conflict[0] == last_conflict + 1
    assert "conflicts.conflict_id" in report.identities
    assert report.tables["changes"] == len(order) and not report.audit_problems


def _big_hub(path: Path, records: int, size: int) -> None:
    """A hub file at head holding `records` beneficiaries of about `size` bytes each."""
    storage = SQLiteStorage(path)
    storage.migrate()
    storage.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.executemany(
            "INSERT INTO records (id, entity, kelurahan, seq, data, clocks, hlc, created_at,"
            " updated_at) VALUES (?, 'beneficiary', '31.71.01.1001', ?, ?, '', 'h', 't', 't')",
            (
                (f"r{n:08d}", n + 1, json.dumps({"n": n, "name": "x" * size}))
                for n in range(records)
            ),
        )
        conn.commit()


def test_memory_stays_flat_however_large_the_district(tmp_path: Path, pg_cluster: PgCluster):
    """Four times the rows, the same peak: rows stream from SQLite into COPY in chunks."""
    peaks = []
    for records in (1_000, 4_000):
        source = tmp_path / f"hub-{records}.sqlite3"
        _big_hub(source, records, 4_000)
        url = pg_cluster.create_database()
        database = PgDatabase(url, max_size=1)
        try:
            apply_migrations(database)
            tracemalloc.start()
            try:
                report = copy_hub(source, database.write, "tujuan", chunk_rows=200)
                peaks.append(tracemalloc.get_traced_memory()[1])
            finally:
                tracemalloc.stop()
        finally:
            database.close()
            pg_cluster.drop_database(url.rsplit("/", 1)[1])
        assert report.tables["records"] == records
    assert peaks[1] < peaks[0] * 1.5, peaks
    assert peaks[1] < 4_000 * 4_000 / 4, peaks  # a quarter of the data, at the very most


# -- refusals ---------------------------------------------------------------------------------


def test_a_target_that_already_holds_records_is_refused_and_left_alone(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    assert _run(district.data, capsys, "migrate-storage", "--to", pg_url)[0] == 0
    before = _records(pg_url)

    code, out, err = _run(district.data, capsys, "migrate-storage", "--to", pg_url)

    assert code == EXIT_FAILED
    assert err.startswith("Galat: basis data tujuan ") and "sudah berisi data" in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err + out
    assert _records(pg_url) == before


def test_a_source_not_at_the_sqlite_head_is_refused(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
):
    old = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(district.data / "hub.sqlite3")) as conn:
        conn.execute("VACUUM INTO ?", (str(old),))
    with closing(sqlite3.connect(old)) as conn:
        conn.execute(
            "DELETE FROM schema_migrations"
            " WHERE number = (SELECT max(number) FROM schema_migrations)"
        )
        conn.commit()

    code, _out, err = _run(
        district.data, capsys, "migrate-storage", "--from", f"sqlite:///{old}", "--to", pg_url
    )

    assert code == EXIT_FAILED and "belum pada skema terbaru" in err
    assert _records(pg_url) == 0


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--to", "mysql://hub@db/hub"], "'--to'"),
        (["--to", "/srv/hub/hub.sqlite3"], "'--to'"),
        (["--from", "/srv/hub/hub.sqlite3", "--to", "postgresql://hub@db/hub"], "'--from'"),
        (["--from", "postgresql://hub@db/hub", "--to", "postgresql://hub@db/hub"], "'--from'"),
    ],
    ids=["another database", "a path as target", "a bare path as source", "pg to pg"],
)
def test_wrong_urls_are_bad_usage_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], named: str
):
    code, _out, err = _run(tmp_path, capsys, "migrate-storage", *args)
    assert code == EXIT_USAGE and named in err and len(err.strip().splitlines()) == 1


def test_a_missing_source_is_one_line(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    code, _out, err = _run(tmp_path, capsys, "migrate-storage", "--to", pg_url)
    assert code == EXIT_FAILED and "tidak ada" in err and "hub.sqlite3" in err
    assert len(err.strip().splitlines()) == 1 and _records(pg_url) == 0


def test_an_unreachable_target_is_one_line_without_its_password(
    hub_app: Flask, capsys: pytest.CaptureFixture[str]
):
    hub_app.extensions["pendamping"].storage.close()
    target = "postgresql://hub:s3kr1tpw@127.0.0.1:1/hub"
    code, out, err = _run(
        Path(hub_app.config["DATA_DIR"]), capsys, "migrate-storage", "--to", target
    )
    assert code == EXIT_FAILED and "tidak dapat dipakai" in err
    assert "s3kr1tpw" not in out + err and len(err.strip().splitlines()) == 1


def test_a_served_hub_is_not_moved(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    mark = hold_serving_mark(district.data)
    try:
        code, _out, err = _run(district.data, capsys, "migrate-storage", "--to", pg_url)
    finally:
        mark.release()
    assert code == EXIT_SERVING and "hentikan hub dulu" in err
    assert _records(pg_url) == 0


def test_a_row_postgresql_refuses_rolls_the_whole_copy_back(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    """PostgreSQL text cannot hold NUL; SQLite's can. The copy stops and leaves nothing."""
    with closing(sqlite3.connect(district.data / "hub.sqlite3")) as conn:
        conn.execute("UPDATE hub_meta SET value = value || char(0) WHERE key = 'hlc'")
        conn.commit()

    code, _out, err = _run(district.data, capsys, "migrate-storage", "--to", pg_url)

    assert code == EXIT_FAILED and "semua dibatalkan, tujuan tetap kosong" in err
    with psycopg.connect(pg_url) as conn:
        for table in ("users", "records", "changes", "audit"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table


# -- after the move: the same laptops on the PostgreSQL hub -------------------------------------


@pytest.fixture
def moved(district: District, pg_url: str, capsys: pytest.CaptureFixture[str]) -> Iterator[Flask]:
    """The district moved to PostgreSQL, and a hub on the PG URL that the laptops now reach."""
    from server.app import create_app

    district.app.extensions["pendamping"].storage.close()
    assert _run(district.data, capsys, "migrate-storage", "--to", pg_url)[0] == 0
    (district.data / "hub.cfg").write_text(f"STORAGE_URL = {pg_url!r}\n", encoding="utf-8")
    app = create_app({"DATA_DIR": district.data, "TESTING": True})  # hub.cfg names PG now
    district.wire.app = app
    yield app
    app.extensions["pendamping"].storage.close()


def _receipts(answer: bytes) -> dict[str, Any]:
    """A push answer's receipts, full or compact (docs/protocol.md), without its counts."""
    body = json.loads(answer)
    return {key: body[key] for key in ("receipts", "compact", "check") if key in body}


def test_the_laptops_keep_syncing_with_no_lost_or_repeated_change(
    district: District, moved: Flask, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    storage = moved.extensions["pendamping"].storage
    lost_body, lost_headers, lost_answer = district.wire.pushes[-1]
    changes_before = storage.stats()["changes"]

    again = WsgiTransport(moved).send("POST", PUSH, body=lost_body, headers=lost_headers)
    assert again.status == 200
    assert _receipts(again.body) == _receipts(lost_answer)  # the original receipts
    assert json.loads(again.body)["duplicates"] == 2 and json.loads(lost_answer)["duplicates"] == 0
    assert storage.stats()["changes"] == changes_before

    result = district.siti.sync()  # its token still works: no re-enrolment
    assert result.rejected == 0 and district.siti.store.pending_count() == 0
    assert storage.stats()["changes"] == changes_before  # resent by the laptop: not repeated
    district.budi.store.add("visit", visit(district.ids["sri"], findings="Pasca pindah."))
    assert district.budi.sync().pushed == 1
    assert storage.stats()["changes"] == changes_before + 1
    district.siti.sync()
    seen = {r["id"]: r for r in district.siti.store.list("visit")}
    assert seen[district.ids["v3"]]["findings"] == "Sudah dapat kursi roda."
    assert seen[district.ids["v2"]]["findings"] == "Foto rumah dilampirkan."
    assert len(seen) == 4  # v1, v2, v3 and budi's new one, each once

    code, out, err = _run(district.data, capsys, "audit", "verify")  # the PG hub's chain
    assert code == 0, err
    entries = len(list(storage.iter_audit()))
    assert out.startswith(f"Rantai audit utuh: {entries} entri.")
    assert entries > len(_sqlite_rows(district.data / "hub.sqlite3", "audit"))  # PG's, grown


def test_the_office_finds_its_conflict_review_and_closed_month_on_the_moved_hub(
    district: District, moved: Flask
):
    storage = moved.extensions["pendamping"].storage
    [conflict] = storage.list_conflicts(None)
    assert conflict.record_id == district.ids["sri"] and conflict.field == "phone"
    assert storage.get_record(district.ids["v1"]).data["review"]["state"] == "diterima"
    verification = MonthlyVerification(OfficeQueries.from_config(storage, moved.config))
    with pytest.raises(Exception, match="ditutup"):
        verification.close(storage.get_user("kasi"), "KLJ", "2026-01", via="cli")


# -- check ------------------------------------------------------------------------------------


def test_check_reports_sqlite_its_version_and_the_migrations_at_head(
    hub_app: Flask, capsys: pytest.CaptureFixture[str]
):
    code, out, err = _run(Path(hub_app.config["DATA_DIR"]), capsys, "check", "--json")
    assert code == 0, err
    found = json.loads(out)
    assert (found["backend"], found["version"]) == ("sqlite", sqlite3.sqlite_version)
    assert found["migrations"]["at_head"] and not found["migrations"]["pending"]
    assert found["migrations"]["applied"] == found["migrations"]["available"]
    assert found["secret_key"] == "file"  # the hub made DATA_DIR/secret_key


def test_check_reports_postgresql_its_server_version_and_a_behind_schema(
    tmp_path: Path, pg_url: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PENDAMPING_HUB_STORAGE_URL", pg_url)
    database = PgDatabase(pg_url, max_size=1)
    try:
        apply_migrations(database, upto=1)
        with database.read() as conn:
            row = conn.execute("SHOW server_version").fetchone()
    finally:
        database.close()

    code, out, err = _run(tmp_path, capsys, "check")

    assert code == 0, err
    assert f"Penyimpanan: postgresql {row[0]} di " in out
    assert "Migrasi: 1 diterapkan" in out and "belum terbaru" in out
    assert "Kunci rahasia: belum ada" in out


def test_check_says_in_one_line_when_postgresql_cannot_be_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PENDAMPING_HUB_STORAGE_URL", "postgresql://hub:s3kr1tpw@127.0.0.1:1/hub")
    code, out, err = _run(tmp_path, capsys, "check")
    assert code == EXIT_FAILED and "tidak dapat dipakai" in err
    assert "s3kr1tpw" not in out + err and len(err.strip().splitlines()) == 1


# -- the chain walk ---------------------------------------------------------------------------


@given(
    length=st.integers(min_value=0, max_value=12),
    tamper=st.lists(
        st.tuples(
            st.integers(min_value=0, max_value=11),
            st.sampled_from(["detail", "hash", "prev_hash", "drop", "swap", "position"]),
        ),
        max_size=3,
    ),
)
def test_the_copys_one_pass_walk_agrees_with_audit_verify(length: int, tamper: list):
    """ChainWalk holds one entry at a time; it must call a chain whole exactly when
    server.audit.verify finds no problem in it."""
    entries: list[AuditEntry] = []
    for n in range(length):
        last = (entries[-1].position, entries[-1].hash) if entries else None
        event = AuditEvent(f"2026-01-01T00:00:{n:02d}.000Z", "siti", "push", {"n": n})
        entries.append(link(event, last))
    for index, how in tamper:
        if index >= len(entries):
            continue
        entry = entries[index]
        if how == "drop":
            del entries[index]
        elif how == "swap" and index + 1 < len(entries):
            entries[index], entries[index + 1] = entries[index + 1], entry
        elif how == "position":
            entries[index] = replace(entry, position=entry.position + 1)
        elif how in ("detail", "hash", "prev_hash"):
            entries[index] = replace(entry, **{how: getattr(entry, how) + "0"})
    assert walk_chain(iter(entries)).intact == (verify(entries) == [])


def test_check_refuses_an_unknown_storage_url_without_echoing_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PENDAMPING_HUB_STORAGE_URL", "mysql://hub:s3kr1tpw@db/hub")
    code, out, err = _run(tmp_path, capsys, "check")
    assert code == EXIT_FAILED and "STORAGE_URL" in err and "s3kr1tpw" not in out + err


def test_check_says_a_sqlite_hub_not_yet_made_needs_init(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
):
    code, _out, err = _run(tmp_path, capsys, "check")
    assert code == EXIT_FAILED and "pendamping-hub init" in err
    assert not (tmp_path / "hub.sqlite3").exists()  # a check makes nothing


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://hub:s3kr1tpw@db:5432/hub", "postgresql://hub:***@db:5432/hub"),
        ("postgresql://hub:s3@kr:1tpw@db/hub", "postgresql://hub:***@db/hub"),
        ("postgresql://db/hub?user=hub&password=s3kr1tpw&sslmode=require",
         "postgresql://db/hub?user=hub&password=***&sslmode=require"),
        ("postgresql://hub@db:5432/hub", "postgresql://hub@db:5432/hub"),
        ("postgresql://db:5432/hub", "postgresql://db:5432/hub"),
        # libpq takes ?, # and / unescaped in a password: none may end the hiding early
        ("postgresql://hub:s3cr?t@db/hub", "postgresql://hub:***@db/hub"),
        ("postgresql://hub:s3#cr@db/hub", "postgresql://hub:***@db/hub"),
        ("postgresql://hub:pa/ss@db/hub", "postgresql://hub:***@db/hub"),
    ],
)  # fmt: skip
def test_a_password_is_never_printed(url: str, shown: str):
    assert shown_url(url) == shown


def test_a_database_of_another_program_is_refused_before_anything_is_added(
    district: District, pg_url: str, capsys: pytest.CaptureFixture[str]
):
    with psycopg.connect(pg_url) as conn:
        conn.execute("CREATE TABLE pegawai (nip TEXT PRIMARY KEY)")

    code, _out, err = _run(district.data, capsys, "migrate-storage", "--to", pg_url)

    assert code == EXIT_FAILED and "berisi tabel lain (pegawai)" in err
    with psycopg.connect(pg_url) as conn:
        assert conn.execute("SELECT to_regclass('records')").fetchone() == (None,)


def test_a_driver_message_quoting_the_password_is_shown_without_it():
    """libpq quotes the piece of a URL it could not read, a bad password included."""
    url = "postgresql://hub:50%zzoff@db/hub"
    message = 'invalid percent-encoded token: "50%zzoff"'
    assert "50%zzoff" not in hide_secrets(message, url)
    assert hide_secrets("password authentication failed for user hub", url).endswith("hub")
    decoded = "postgresql://hub:p%40ss@db/hub"
    assert "p@ss" not in hide_secrets("bad password p@ss", decoded)


def test_check_on_a_url_libpq_cannot_read_never_prints_its_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PENDAMPING_HUB_STORAGE_URL", "postgresql://hub:50%zzoff@127.0.0.1:1/hub")
    _code, out, err = _run(tmp_path, capsys, "check")
    assert "zzoff" not in out + err
