"""The office's and the verification's reads on PostgreSQL answer as SQLite's do.

The contracts (server/storage/office_testing.py, verification_testing.py) run on
PostgreSQL through tests/server/test_storage_pg.py. Here, a district written through the
SQLite storage's own writer is copied table by table into a PostgreSQL database (as
`migrate-storage` does), and every read of both backends is asked the same questions and
must give the same answers; then the lists' plans on a few thousand rows must read an
index, not every record.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from server.storage.base import ChangeRow, ConflictRow, RecordRow, User
from server.storage.office import RecordFilter
from server.storage.office_testing import (
    K71,
    K71B,
    K72,
    T,
    person,
    request,
    rid,
    save,
    visit,
)
from server.storage.pg_db import PgDatabase
from server.storage.pg_migrations import apply_migrations
from server.storage.pg_office import PgOfficeReads
from server.storage.pg_verification import PgVerificationStore
from server.storage.sqlite import SQLiteStorage

WIB = dt.timezone(dt.timedelta(hours=7))
#: the tables the office reads, copied in this order (SQLite and PostgreSQL name them alike)
_TABLES = ("users", "devices", "records", "changes", "conflicts", "beneficiary_programs")
_KELURAHAN = (K71, K71B, K72, "31.71.01.1002", "31.71.010.1001")
_NAMES = ("Siti", "siti aminah", "Ani_100%", "Bapak Slamet", "Ðewi", "Nur", "ABC", "abc", "Zaenal")
_PROGRAMS = ("KLJ", "KPDJ", "KAJ", "PKH")
_PURPOSES = ("monitoring", "verifikasi", "asesmen")
_STATUSES = ("diajukan", "diverifikasi", "disetujui", "ditolak")
_OUTCOMES = (None, "layak", "tidak_layak", "meninggal", "pindah")
_AUTHORS = ("ani", "budi", None, "Ani")


def _instant(rng: random.Random) -> str:
    """A visit time in Dec 2025 - Mar 2026, typed in one of several offsets."""
    moment = dt.datetime(2025, 12, 1, 1, 30, tzinfo=dt.UTC) + dt.timedelta(
        hours=12 * rng.randrange(0, 240)  # twice a day: many visits share their instant
    )
    offset = rng.choice((0, 7, 8, 9, -3))
    local = moment.astimezone(dt.timezone(dt.timedelta(hours=offset)))
    return local.strftime("%Y-%m-%dT%H:%M:%S") + (
        "Z" if offset == 0 else local.strftime("%z")[:3] + ":" + local.strftime("%z")[3:]
    )


def _district(storage: SQLiteStorage, seed: int, people: int, logged: int = 60) -> None:
    """Beneficiaries, visits and requests of every kind, some deleted, some renamed, with a
    change log (some refused) and conflicts, written through the storage's own writer."""
    rng = random.Random(seed)
    n = 0
    rows: list[RecordRow] = []
    owners = []
    for _ in range(people):
        n += 1
        owners.append(n)
        nik = None if rng.random() < 0.2 else f"317101{rng.randrange(10**10):010d}"
        rows.append(
            person(
                n,
                rng.choice(_KELURAHAN),
                name=f"{rng.choice(_NAMES)} {rng.randrange(100)}",
                nik=nik,
                programs=rng.sample(_PROGRAMS, rng.randrange(0, 3)),
                author=rng.choice(_AUTHORS),
            )
        )
    for _ in range(people * 3):
        n += 1
        owner = rng.choice(owners) if rng.random() < 0.95 else 99_999  # some point nowhere
        data: dict[str, Any] = {
            "visited_at": _instant(rng),
            "purpose": rng.choice(_PURPOSES),
            "author": rng.choice(_AUTHORS),
        }
        outcome = rng.choice(_OUTCOMES)
        if outcome:
            data["verification_outcome"] = outcome
        if rng.random() < 0.3:
            data["findings"] = "Rumah layak huni. " * rng.randrange(1, 20)
        if rng.random() < 0.3:
            data["review"] = {"state": rng.choice(("disetujui", "perlu_perbaikan"))}
        row = visit(n, owner, rng.choice(_KELURAHAN), **data)
        row.deleted = rng.random() < 0.05
        rows.append(row)
    for _ in range(people):
        n += 1
        since = f"2026-01-{rng.randrange(1, 29):02d}T0{rng.randrange(10)}:00:00.000Z"
        rows.append(
            request(
                n,
                rng.choice(owners),
                rng.choice(_STATUSES),
                kelurahan=rng.choice(_KELURAHAN),
                since=since,
                created_at=f"2026-01-{rng.randrange(1, 29):02d}T03:00:00.{rng.randrange(999):03d}Z",
            )
        )
    rng.shuffle(rows)
    for at in range(0, len(rows), 97):
        save(storage, *rows[at : at + 97])
    # renames and moves, written later
    again = [r for r in rows if r.entity == "beneficiary"][: people // 5]
    for r in again:
        r.data = {**r.data, "name": f"Baru {r.data['name']}"}
        r.kelurahan = rng.choice(_KELURAHAN)
    save(storage, *again)
    changes = [
        ChangeRow(
            f"c{i:06d}",
            rng.choice(("laptop-1", "hub")),
            rng.choice(("ani", "spv")),
            "beneficiary",
            rid(rng.choice(owners[: max(10, logged // 6)])),
            "h",
            json.dumps({"name": f"v{i}"}),
            T,
            json.dumps({"status": rng.choice(("applied", "rejected", "merged"))}),
        )
        for i in range(logged)
    ]
    conflicts = [
        ConflictRow(
            kind="field",
            record_id=rid(o),
            entity="beneficiary",
            kelurahan=rng.choice(_KELURAHAN),
            field="name",
            kept_value='"a"',
            kept_hlc="h1",
            kept_device="laptop-1",
            kept_author="ani",
            lost_value='"b"',
            lost_hlc="h0",
            lost_device="laptop-2",
            lost_author="budi",
            lost_change=None,
            seq=1,
            created_at=T,
        )
        for o in owners[:15]
    ]
    save(storage, changes=changes, conflicts=conflicts)


def _copy(storage: SQLiteStorage, db: PgDatabase) -> None:
    """Every table the office reads, row for row; `changes` in their order of arrival."""
    source = storage._conn()
    with db.transaction() as conn:
        for table in _TABLES:
            cursor = source.execute(
                f"SELECT * FROM {table}" + (" ORDER BY rowid" if table == "changes" else "")
            )
            names = [d[0] for d in cursor.description]
            marks = ", ".join(["%s"] * len(names))
            with conn.cursor() as pg:
                pg.executemany(
                    f"INSERT INTO {table} ({', '.join(names)}) VALUES ({marks})",
                    cursor.fetchall(),
                )
    with db.read() as conn:  # as autovacuum leaves a table: statistics, visibility map
        # the test cluster commits asynchronously: until the WAL is flushed, VACUUM cannot
        # mark a page all-visible (and the planner would price index-only scans as heap reads)
        conn.execute("CHECKPOINT")
        conn.execute(f"VACUUM ANALYZE {', '.join(_TABLES)}")


@pytest.fixture
def pg_db(pg_url: str) -> Iterator[PgDatabase]:
    db = PgDatabase(pg_url, max_size=4)
    apply_migrations(db)
    yield db
    db.close()


@pytest.fixture
def both(tmp_path: Path, pg_db: PgDatabase) -> Iterator[tuple[SQLiteStorage, PgDatabase]]:
    storage = SQLiteStorage(tmp_path / "hub.sqlite3")
    storage.migrate()
    _users(storage)
    _district(storage, seed=14, people=120)
    _copy(storage, pg_db)
    yield storage, pg_db
    storage.close()


def _users(storage: SQLiteStorage) -> None:
    storage.add_user(User("ani", "pendamping", (K71,)), T)
    storage.add_enroll_code("c", "ani", T, "2099-01-01T00:00:00.000Z")
    storage.redeem_enroll_code("c", T, "laptop-1", "laptop ani", "tok")


_SCOPES: tuple[tuple[str, ...] | None, ...] = (
    None,
    ("31.71",),
    (K71,),
    ("31.71.01", "31.72"),
    ("31.71.010",),
)


def _periods() -> list[tuple[dt.datetime, dt.datetime]]:
    jan = dt.datetime(2026, 1, 1, tzinfo=WIB)
    return [
        (jan, dt.datetime(2026, 2, 1, tzinfo=WIB)),
        (dt.datetime(2025, 12, 15, tzinfo=dt.UTC), dt.datetime(2026, 1, 20, 17, tzinfo=dt.UTC)),
        (dt.datetime(2026, 3, 1, tzinfo=WIB), dt.datetime(2026, 4, 1, tzinfo=WIB)),
    ]


def _filters() -> list[RecordFilter]:
    start, end = _periods()[0]
    return [
        RecordFilter(),
        RecordFilter(start=start, end=end),
        RecordFilter(author="ani"),
        RecordFilter(purpose="verifikasi", review_state="menunggu"),
        RecordFilter(review_state="disetujui", wilayah=(K71B,)),
        RecordFilter(program="KLJ"),
        RecordFilter(program="PKH", start=start),
        RecordFilter(status="diajukan"),
        RecordFilter(wilayah=("31.72", K71)),
    ]


def _pages(list_of: Callable[..., list[Any]], *args: Any, **kwargs: Any) -> list[Any]:
    """Every page of a keyset list, 7 at a time."""
    items: list[Any] = []
    after = None
    while True:
        page = list_of(*args, 7, after, **kwargs)
        items += page
        if len(page) < 7:
            return items
        after = page[-1].key


def test_every_office_read_answers_as_sqlite_does(both: tuple[SQLiteStorage, PgDatabase]):
    storage, db = both
    lite, pg = storage.office, PgOfficeReads(db)
    for scopes in _SCOPES:
        for where in _filters():
            for name in ("visits", "requests"):
                expected = _pages(getattr(lite, name), scopes, where)
                assert _pages(getattr(pg, name), scopes, where) == expected, (scopes, where)
            assert pg.count_visits(scopes, where) == lite.count_visits(scopes, where)
            for entity in ("visit", "beneficiary", "device_request"):
                assert list(pg.export_rows(entity, scopes, where)) == list(
                    lite.export_rows(entity, scopes, where)
                ), (entity, scopes, where)
        assert pg.requests_by_status(scopes) == lite.requests_by_status(scopes)
        assert pg.count_open_conflicts(scopes) == lite.count_open_conflicts(scopes)
        for text in ("siti", "ABC", "_100%", "%", "ðewi", "3171", "317101000", "baru s", "zz"):
            assert pg.search_beneficiaries(scopes, text, 500) == lite.search_beneficiaries(
                scopes, text, 500
            ), text
        for start, end in _periods():
            assert pg.coverage(scopes, start, end) == lite.coverage(scopes, start, end)
            for program in _PROGRAMS:
                assert pg.unvisited_counts(scopes, program, start) == lite.unvisited_counts(
                    scopes, program, start
                )
                for by in ("kelurahan", "author"):
                    expected = _pages(lite.unvisited, scopes, program, start, by=by)
                    found = _pages(pg.unvisited, scopes, program, start, by=by)
                    assert found == expected, (scopes, program, by)
    for n in range(1, 130):
        assert pg.beneficiary_records(rid(n)) == lite.beneficiary_records(rid(n)), n
        assert pg.history(rid(n)) == lite.history(rid(n)), n
    # what was compared is a district, not empty lists
    assert any(pg.history(rid(n)) for n in range(1, 11))
    assert any(pg.beneficiary_records(rid(n)) for n in range(1, 11))
    assert pg.count_visits(None, RecordFilter()) > 300
    assert len(_pages(pg.requests, None, RecordFilter(status="diajukan"))) > 10
    assert len(pg.search_beneficiaries(None, "siti", 500)) > 5
    january = _periods()[0]
    march = _periods()[2]
    assert len(_pages(pg.unvisited, None, "KLJ", march[0], by="author")) > 10
    assert {c.program for c in pg.coverage(None, *january) if c.visited} >= {"KLJ", "KPDJ"}
    # an empty scope reads nothing on either
    assert pg.visits((), RecordFilter(), 5) == [] == lite.visits((), RecordFilter(), 5)


def test_the_months_states_and_a_close_answer_as_sqlite_does(
    both: tuple[SQLiteStorage, PgDatabase],
):
    from server.audit import AuditEvent

    storage, db = both
    lite, pg = storage.verification, PgVerificationStore(db)
    for scopes in _SCOPES:
        for program in _PROGRAMS:
            for start, end in _periods():
                assert pg.month_states(scopes, program, start, end) == lite.month_states(
                    scopes, program, start, end
                )
    ids = [rid(n) for n in range(1, 140)]
    assert pg.people(ids) == lite.people(ids)
    start, end = _periods()[0]

    def audit(close: Any) -> AuditEvent:
        return AuditEvent(close.closed_at, close.closed_by, "verification_close", {"n": 1})

    for wilayah in (("31.71.01",), (K72,)):
        closed = [
            store.close_month("KLJ", "2026-01", wilayah, start, end, "bu-kasi", T, audit)
            for store in (lite, pg)
        ]
        assert closed[0] == closed[1]
    assert pg.closes("KLJ", "2026-01") == lite.closes("KLJ", "2026-01")
    close_ids = [c.close_id for c in lite.closes("KLJ", "2026-01")]
    for scopes in _SCOPES:
        assert pg.frozen(close_ids, scopes) == lite.frozen(close_ids, scopes)
    assert pg.frozen(close_ids, None)  # something was frozen


# -- plans ------------------------------------------------------------------------------------


@pytest.fixture
def big(pg_db: PgDatabase, tmp_path: Path) -> PgDatabase:
    """A few thousand records, copied from a SQLite hub and analysed."""
    storage = SQLiteStorage(tmp_path / "big.sqlite3")
    storage.migrate()
    _district(storage, seed=7, people=2000, logged=4000)
    _copy(storage, pg_db)
    storage.close()
    return pg_db


def _plan(db: PgDatabase, query: str, params: list[Any]) -> str:
    with db.read() as conn:
        rows = conn.execute(f"EXPLAIN {query}", params).fetchall()
    return "\n".join(row[0] for row in rows)


class _Spy(PgOfficeReads):
    """Keeps the last query and its parameters, so its plan can be asked for."""

    last: tuple[str, list[Any]] = ("", [])

    def _all(self, query: str, params: Any) -> list[Any]:
        self.last = (query, list(params))
        return super()._all(query, params)


#: each list, and the index its plan must read (with no full scan of records or changes)
_PLANNED: list[tuple[Callable[[PgOfficeReads], object], str]] = [
    (lambda o: o.visits(None, RecordFilter(), 50), "office_visits"),
    (lambda o: o.visits(("31.71.01",), RecordFilter(author="ani"), 50), "office_visits"),
    (lambda o: o.count_visits(None, RecordFilter(review_state="menunggu")), "office_visits"),
    (lambda o: o.requests(None, RecordFilter(status="diajukan"), 50), "office_requests"),
    (lambda o: o.requests_by_status(("31.71",)), "office_requests"),
    (lambda o: o.search_beneficiaries(None, "3171012", 20), "records_nik"),
    (lambda o: o.search_beneficiaries(None, "siti", 20), "office_beneficiary_names"),
    (lambda o: o.beneficiary_records(rid(3)), "records_beneficiary"),
    (lambda o: o.history(rid(3)), "changes_record"),
    (lambda o: o.unvisited_counts(None, "KLJ", _SINCE), "office_visit_beneficiary"),
    (lambda o: o.unvisited(None, "KLJ", _SINCE, 50, (K71, "s", "")), "office_visit_beneficiary"),
    (lambda o: o.coverage(("31.71",), _SINCE, _SINCE + dt.timedelta(days=30)), "office_visits"),
]
_SINCE = dt.datetime(2026, 3, 15, tzinfo=dt.UTC)


def test_the_lists_read_an_index_not_every_record(big: PgDatabase):
    spy = _Spy(big)
    for ask, index in _PLANNED:
        ask(spy)
        plan = _plan(big, *spy.last)
        assert index in plan, plan
        assert "Seq Scan on records" not in plan and "Seq Scan on changes" not in plan, plan


class _VerificationSpy(PgVerificationStore):
    last: tuple[str, list[Any]] = ("", [])

    def _all(self, query: str, params: Any) -> list[Any]:
        self.last = (query, list(params))
        return super()._all(query, params)


def test_a_months_states_read_the_months_range_of_office_verifications(big: PgDatabase):
    spy = _VerificationSpy(big)
    start, end = _periods()[0]
    assert spy.month_states(("31.71",), "KLJ", start, end)
    plan = _plan(big, *spy.last)
    assert "office_verifications" in plan and "Seq Scan on records" not in plan, plan


def test_cakupan_asks_each_beneficiary_by_index_even_before_any_statistics(
    pg_db: PgDatabase, tmp_path: Path
):
    """Straight after a bulk load, before autovacuum's first ANALYZE, the planner thinks
    every table holds a row: "when last visited?" must still be one descent of
    `office_visit_beneficiary` per beneficiary, never a walk of `office_visits` per
    beneficiary (seconds on 2,000 beneficiaries) nor an unparameterised anti-join."""
    storage = SQLiteStorage(tmp_path / "fresh.sqlite3")
    storage.migrate()
    _district(storage, seed=3, people=600)
    source = storage._conn()
    with pg_db.transaction() as conn:
        for table in _TABLES:
            cursor = source.execute(f"SELECT * FROM {table}")
            names = [d[0] for d in cursor.description]
            with conn.cursor() as pg:
                pg.executemany(
                    f"INSERT INTO {table} ({', '.join(names)})"
                    f" VALUES ({', '.join(['%s'] * len(names))})",
                    cursor.fetchall(),
                )
    storage.close()
    spy = _Spy(pg_db)
    for ask in (
        lambda o: o.unvisited(("31.71",), "KLJ", _SINCE, 200),
        lambda o: o.unvisited(("31.71",), "KLJ", _SINCE, 200, (K71, "", ""), by="author"),
        lambda o: o.unvisited_counts(("31.71",), "KLJ", _SINCE),
    ):
        ask(spy)
        plan = _plan(pg_db, *spy.last)
        assert "office_visit_beneficiary" in plan and "Join Filter" not in plan, plan
        assert "using office_visits" not in plan, plan
