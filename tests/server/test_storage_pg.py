"""The PostgreSQL backend of the hub, run through the storage contract suite, plus what only
PostgreSQL has: its numbered migrations, and several hub processes writing at once."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Iterator

import psycopg
import pytest

pytest.register_assert_rewrite(
    "server.storage.testing",
    "server.storage.limits_testing",
    "server.storage.office_testing",
    "server.storage.jobs_testing",
    "server.storage.verification_testing",
)

from server.audit import AuditEvent, verify  # noqa: E402
from server.storage.base import LimitStore, RecordRow, StorageError, WriterBusy  # noqa: E402
from server.storage.pg import PostgresStorage  # noqa: E402
from server.storage.pg_db import PgDatabase  # noqa: E402
from server.storage.pg_migrations import (  # noqa: E402
    applied_migrations,
    apply_migrations,
    available_migrations,
)
from server.storage.read_columns import read_columns, verification_outcome  # noqa: E402
from server.storage.testing import StorageContract, change_row, record_row  # noqa: E402


def _open_limits(url: str) -> LimitStore:
    """Another handle on the hub-wide limits: its own pool, as another process has."""
    from server.storage.pg_limits import PgLimitStore

    return PgLimitStore.open(url)


class TestPostgresStorage(StorageContract):
    @pytest.fixture
    def storage(self, pg_url: str) -> Iterator[PostgresStorage]:
        backend = PostgresStorage(pg_url, max_size=4)
        backend.migrate()
        yield backend
        backend.close()

    @pytest.fixture
    def limits_opener(self, pg_url: str) -> Callable[[], LimitStore]:
        return functools.partial(_open_limits, pg_url)

    def test_every_text_column_that_is_compared_orders_byte_wise(self, storage: PostgresStorage):
        """The test database's default collation is en-US (tests/support/postgres.py): the
        ids, codes and times still sort as SQLite sorts them."""
        with storage.db.read() as conn:
            rows = conn.execute(
                "SELECT table_name, column_name FROM information_schema.columns"
                " WHERE table_schema = 'public' AND data_type = 'text'"
                " AND collation_name IS DISTINCT FROM 'C'"
                " AND table_name <> 'schema_migrations'"
            ).fetchall()
        json_columns = {
            ("users", "wilayah"),
            ("users", "password_hash"),
            ("records", "data"),
            ("records", "clocks"),
            ("changes", "fields"),
            ("changes", "receipt"),
            ("conflicts", "kept_value"),
            ("conflicts", "lost_value"),
            ("conflicts", "resolution"),
            ("audit", "detail"),
            ("job_runs", "message"),
            ("verification_closes", "counts"),
        }
        assert set(rows) <= json_columns, set(rows) - json_columns

    def test_a_write_waits_no_longer_than_its_bound_for_another_process(
        self, storage: PostgresStorage, pg_url: str
    ):
        other = PostgresStorage(pg_url, max_size=2)
        held = threading.Event()
        release = threading.Event()

        def hold() -> None:
            with other.write():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold)
        holder.start()
        try:
            assert held.wait(10)
            with pytest.raises(WriterBusy), storage.waiting_for_writer(0.2) as wait:
                storage.add_user(_user("ani"), "2026-01-01T00:00:00Z")
            assert wait.acquired_at is None
        finally:
            release.set()
            holder.join()
            other.close()
        with storage.waiting_for_writer(5) as wait:
            storage.add_user(_user("ani"), "2026-01-01T00:00:00Z")
        assert wait.acquired_at is not None

    def test_a_pull_of_whole_kelurahan_reads_an_index_not_the_table(self, storage: PostgresStorage):
        records = [
            record_row(n, seq=n, kelurahan=f"31.71.{n % 40:02d}.1001") for n in range(1, 4001)
        ]
        with storage.write() as session:
            session.save(records, [], [])
        with storage.db.read() as conn:
            conn.execute("ANALYZE records")
            plan = "\n".join(
                row[0]
                for row in conn.execute(
                    "EXPLAIN SELECT seq FROM records WHERE kelurahan = %s AND seq > %s"
                    " ORDER BY seq LIMIT 100",
                    ("31.71.07.1001", 10),
                )
            )
        assert "records_kelurahan_seq" in plan, plan
        page = storage.pull(("31.71.07.1001", "31.71.08.1001"), 0, 5)
        assert [json.loads(r)["seq"] for r in page.records_json] == [7, 8, 47, 48, 87]


def _user(name: str):
    from server.storage.base import User

    return User(name, "pendamping", ("31.71.01",))


# -- migrations ------------------------------------------------------------------------------


def test_postgresql_migrations_are_numbered_contiguously_from_one():
    numbers = [number for number, _name, _sql in available_migrations()]
    assert numbers[:4] == [1, 2, 3, 4]
    assert numbers == list(range(1, len(numbers) + 1))


def test_migrating_twice_applies_nothing_and_records_each_migration_once(pg_url: str):
    db = PgDatabase(pg_url, max_size=2)
    try:
        names = [name for _n, name, _sql in available_migrations()]
        assert apply_migrations(db) == names
        assert apply_migrations(db) == []
        assert [name for _n, name, _at in applied_migrations(db)] == names
    finally:
        db.close()


def test_a_migration_that_fails_leaves_the_database_as_it_was(pg_url: str, monkeypatch):
    import server.storage.pg_migrations as runner

    real = runner.available_migrations()
    broken = [*real[:1], (2, "0002_broken", "CREATE TABLE half_done (x int); SELECT 1/0;")]
    monkeypatch.setattr(runner, "available_migrations", lambda: broken)
    db = PgDatabase(pg_url, max_size=2)
    try:
        with pytest.raises(StorageError):
            apply_migrations(db)
        assert applied_migrations(db) == []
        with db.read() as conn:
            assert conn.execute("SELECT to_regclass('records')").fetchone() == (None,)
    finally:
        db.close()


def test_two_processes_migrating_at_once_migrate_once(pg_url: str):
    dbs = [PgDatabase(pg_url, max_size=2) for _ in range(3)]
    results: list[list[str]] = []
    errors: list[BaseException] = []

    def run(db: PgDatabase) -> None:
        try:
            results.append(apply_migrations(db))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(db,)) for db in dbs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert sorted(len(r) for r in results) == [0, 0, len(available_migrations())]
    finally:
        for db in dbs:
            db.close()


def _insert_0001(conn: psycopg.Connection, rid: str, entity: str, seq: int, data: dict) -> None:
    conn.execute(
        "INSERT INTO records (id, entity, kelurahan, seq, deleted, data, clocks, hlc, nik,"
        " created_at, updated_at) VALUES (%s, %s, %s, %s, 0, %s, '{}', 'h', NULL, %s, %s)",
        (rid, entity, data["kelurahan"], seq, json.dumps(data), T, T),
    )


def _change_0001(conn, change_id: str, rid: str, device: str, author: str, status: str) -> None:
    conn.execute(
        "INSERT INTO changes (change_id, device_id, author_id, entity, record_id, hlc, fields,"
        " received_at, receipt) VALUES (%s, %s, %s, 'x', %s, 'h', '{}', %s, %s)",
        (change_id, device, author, rid, T, json.dumps({"status": status})),
    )


T = "2026-01-01T00:00:00.000Z"
KEL = "31.71.01.1001"
OLD_RECORDS = {
    "b1": (
        "beneficiary",
        {"name": "Ibu SRI Wahyuni", "kelurahan": KEL, "programs": ["KLJ", "PKH"]},
    ),
    "b2": ("beneficiary", {"name": "ÉLISE Ani", "kelurahan": KEL, "programs": "KLJ"}),
    "v1": (
        "visit",
        {
            "beneficiary_id": "b1",
            "visited_at": "2026-01-31T23:30:00+07:00",
            "purpose": "verifikasi",
            "verification_outcome": "layak",
            "kelurahan": KEL,
        },
    ),
    "v2": (
        "visit",
        {
            "beneficiary_id": "b1",
            "visited_at": "2026-01-31T16:45:00Z",
            "purpose": "monitoring",
            "kelurahan": KEL,
            "verification_outcome": 3,
            "review": {"state": "dikembalikan", "reason": "foto"},
        },
    ),
    "r1": (
        "device_request",
        {
            "beneficiary_id": "b1",
            "status": "disetujui",
            "kelurahan": KEL,
            "status_history": [
                {"to": "diajukan", "at": "2026-01-01T00:00:00.000Z"},
                {"to": "disetujui", "at": "2026-01-09T00:00:00.000Z"},
            ],
        },
    ),
    "r2": ("device_request", {"beneficiary_id": "b1", "status": "diajukan", "kelurahan": KEL}),
}


def test_the_first_schema_with_data_in_it_migrates_to_head_as_the_writer_would(pg_url: str):
    """A database at 0001 only (as a hub made before the office's read model would be),
    with rows in it, migrated to head: every later column holds what the writer computes."""
    db = PgDatabase(pg_url, max_size=2)
    try:
        assert apply_migrations(db, upto=1) == ["0001_initial"]
        with db.write() as conn:
            conn.execute("INSERT INTO users VALUES ('ani', 'pendamping', '[]', NULL, %s)", (T,))
            conn.execute(
                "INSERT INTO devices (device_id, user_name, name, token_hash, enrolled_at)"
                " VALUES ('laptop-1', 'ani', 'l', 'tok', %s)",
                (T,),
            )
            for seq, (rid, (entity, data)) in enumerate(OLD_RECORDS.items(), 1):
                _insert_0001(conn, rid, entity, seq, data)
            _change_0001(conn, "c0", "v1", "laptop-1", "ani", "rejected")  # a refused try
            _change_0001(conn, "c1", "v1", "laptop-9", "someone", "applied")  # device gone
            _change_0001(conn, "c2", "b1", "laptop-1", "claimed-name", "applied")
            _change_0001(conn, "c3", "r1", "hub", "spv", "applied")
            _change_0001(conn, "c4", "b1", "hub", "spv", "applied")  # later: not the author

        applied = apply_migrations(db)
        assert applied == [name for n, name, _sql in available_migrations() if n > 1]

        columns = (
            "visited_utc, purpose, review_state, beneficiary_id, request_status, status_since,"
            " name_key, verification_outcome"
        )
        with db.read() as conn:
            for rid, (entity, data) in OLD_RECORDS.items():
                stored = conn.execute(
                    f"SELECT {columns} FROM records WHERE id = %s", (rid,)
                ).fetchone()
                row = RecordRow(rid, entity, KEL, 0, False, data, {}, T, T)
                assert stored == (*read_columns(row), verification_outcome(row)), rid
            authors = dict(conn.execute("SELECT id, author FROM records").fetchall())
            programs = conn.execute(
                "SELECT program, record_id, name_key FROM beneficiary_programs ORDER BY 1, 2"
            ).fetchall()
        assert authors == {
            "b1": "ani",
            "b2": None,
            "v1": None,
            "v2": None,
            "r1": "spv",
            "r2": None,
        }
        assert programs == [("KLJ", "b1", "ibu sri wahyuni"), ("PKH", "b1", "ibu sri wahyuni")]
    finally:
        db.close()


def test_the_audit_log_and_a_closed_month_refuse_change_and_removal(pg_url: str):
    storage = PostgresStorage(pg_url, max_size=2)
    try:
        storage.migrate()
        with storage.write() as session:
            session.audit(AuditEvent(T, "ani", "push", {"n": 1}, "dev-1"))
        for statement in ("UPDATE audit SET actor = 'x'", "DELETE FROM audit", "TRUNCATE audit"):
            with (
                pytest.raises(StorageError, match="audit entries cannot be"),
                storage.db.transaction() as conn,
            ):
                conn.execute(statement)
        with storage.db.transaction() as conn:
            conn.execute(
                "INSERT INTO verification_rows (close_id, kelurahan, name_key, beneficiary_id,"
                " name, state) VALUES (1, %s, 'a', 'b1', 'A', 'layak')",
                (KEL,),
            )
            conn.execute(
                "INSERT INTO verification_closes (close_id, program, month, wilayah, closed_by,"
                " closed_at, counts) VALUES (1, 'KLJ', '2026-01', '', 'spv', %s, '{}')",
                (T,),
            )
        for statement in (
            "UPDATE verification_rows SET state = 'x'",
            "DELETE FROM verification_rows",
            "UPDATE verification_closes SET counts = '{}'",
            "DELETE FROM verification_closes",
        ):
            with (
                pytest.raises(StorageError, match="a closed month is frozen"),
                storage.db.transaction() as conn,
            ):
                conn.execute(statement)
        assert verify(storage.iter_audit()) == []
    finally:
        storage.close()


# -- several hub processes at once ---------------------------------------------------------


def _push(storage: PostgresStorage, writer: int, batch: int, size: int) -> list[int]:
    """What the sync service does with one batch: seq = last seq + 1 under the write lock,
    the records, their changes and one audit entry, in one transaction."""
    with storage.write() as session:
        first = session.last_seq() + 1
        seqs = list(range(first, first + size))
        base = (writer * 1000 + batch) * 100
        session.save(
            [record_row(base + i, seq=seq) for i, seq in enumerate(seqs)],
            [change_row(base + i, record=base + i) for i in range(size)],
            [],
        )
        session.audit(AuditEvent(T, f"w{writer}", "push", {"seq": [first, seqs[-1]]}, None))
    return seqs


def test_two_processes_writing_at_once_never_double_skip_a_seq_nor_fork_the_audit(pg_url: str):
    """Two PostgresStorage objects (two pools: two hub processes) push at once while a
    reader pulls: every seq is handed out once, the committed seqs are always a prefix
    (a pull never passes a seq that is committed later), and the audit chain is one."""
    first = PostgresStorage(pg_url, max_size=4)
    first.migrate()
    second = PostgresStorage(pg_url, max_size=4)
    writers, batches, size = 4, 15, 5
    given: list[int] = []
    lock = threading.Lock()
    errors: list[BaseException] = []
    done = threading.Event()
    pulled: list[int] = []

    def write(storage: PostgresStorage, writer: int) -> None:
        try:
            for batch in range(batches):
                seqs = _push(storage, writer, batch, size)
                with lock:
                    given.extend(seqs)
        except BaseException as exc:  # reported below
            errors.append(exc)

    def read() -> None:
        since = 0
        try:
            while True:
                finished = done.is_set()
                page = first.pull(None, since, 7)
                seqs = [json.loads(r)["seq"] for r in page.records_json]
                # a page is contiguous from the cursor: nothing committed later can land
                # behind it (the records are never rewritten in this test)
                assert seqs == list(range(since + 1, since + 1 + len(seqs))), (since, seqs)
                pulled.extend(seqs)
                since = page.next
                if finished and not page.more:
                    return
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [
        threading.Thread(target=write, args=(first if w % 2 else second, w)) for w in range(writers)
    ]
    reader = threading.Thread(target=read)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    try:
        assert errors == []
        total = writers * batches * size
        assert sorted(given) == list(range(1, total + 1))
        assert pulled == list(range(1, total + 1))
        entries = list(second.iter_audit())
        assert [e.position for e in entries] == list(range(1, writers * batches + 1))
        assert verify(entries) == []
        assert first.stats()["changes"] == total
    finally:
        first.close()
        second.close()


def test_a_batch_resent_to_another_process_gets_its_original_receipts(pg_url: str):
    first = PostgresStorage(pg_url, max_size=2)
    first.migrate()
    second = PostgresStorage(pg_url, max_size=2)
    try:
        stored = change_row(1, record=1)
        with first.write() as session:
            session.save([record_row(1, seq=1)], [stored], [])
        with second.write() as session:
            assert session.receipts_for([stored.change_id]) == {
                stored.change_id: stored.receipt_json
            }
        assert second.receipts_of_device("laptop-1", [stored.change_id]) == {
            stored.change_id: stored.receipt_json
        }
    finally:
        first.close()
        second.close()


def test_a_batch_naming_a_record_twice_keeps_the_later_row(pg_url: str):
    """One statement per batch cannot upsert a row twice; such a batch goes row by row."""
    storage = PostgresStorage(pg_url, max_size=2)
    try:
        storage.migrate()
        later = record_row(1, seq=2, data={"name": "Kedua", "kelurahan": KEL})
        with storage.write() as session:
            session.save([record_row(1, seq=1), later, record_row(2, seq=3)], [], [])
        assert storage.get_record(later.id) == later
        assert storage.stats()["last_seq"] == 3
    finally:
        storage.close()


# -- choosing the backend ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        (None, "sqlite"),
        ("", "sqlite"),
        ("sqlite:///var/hub.sqlite3", "sqlite"),
        ("postgresql://hub@db.example:5432/pendamping", "postgresql"),
        ("postgres://hub@db.example/pendamping", "postgresql"),
    ],
)
def test_storage_url_names_the_backend(url, kind):
    from server.storage import storage_kind

    assert storage_kind({"STORAGE_URL": url}) == kind


def test_an_unknown_storage_url_is_refused_by_name_without_its_password():
    from server.storage import storage_kind

    with pytest.raises(ValueError, match="STORAGE_URL") as refused:
        storage_kind({"STORAGE_URL": "mysql://hub:s3cret@db/hub"})
    assert "s3cret" not in str(refused.value)


def test_load_from_config_opens_the_backend_the_url_names(pg_url: str, tmp_path):
    from server.storage import load_from_config
    from server.storage.sqlite import SQLiteStorage

    default = load_from_config({"DATA_DIR": str(tmp_path), "STORAGE_URL": None})
    elsewhere = load_from_config(
        {"DATA_DIR": "unused", "STORAGE_URL": f"sqlite:///{tmp_path}/x.db"}
    )
    postgres = load_from_config({"DATA_DIR": str(tmp_path), "STORAGE_URL": pg_url})
    try:
        assert isinstance(default, SQLiteStorage)
        assert default.path == tmp_path / "hub.sqlite3"
        assert isinstance(elsewhere, SQLiteStorage)
        assert elsewhere.path == tmp_path / "x.db"
        assert isinstance(postgres, PostgresStorage)
        assert postgres.migrate()
    finally:
        for storage in (default, elsewhere, postgres):
            storage.close()


def test_a_database_that_does_not_answer_is_a_storage_error_naming_it_without_password():
    with pytest.raises(StorageError, match="cannot connect to PostgreSQL") as refused:
        PostgresStorage("postgresql://hub:s3cret@127.0.0.1:1/nothing")
    assert "s3cret" not in str(refused.value)
