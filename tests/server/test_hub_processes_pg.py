"""Two `pendamping-hub serve` processes against one PostgreSQL keep the hub's guarantees
(issue 14: stateless hub processes).

Each process has a data folder of its own, as on two machines, with the same hub.cfg
(`STORAGE_URL`, a shared `SECRET_KEY`, small limits); nothing but the database joins them.
A guarantee kept in one process's memory would hold per process and fail here: a batch
resent to the other process gets its original receipts, the rate and enrolment limits and
the login lockout count calls to both, and pushes to both at once get one gap-free run of
seqs with an audit chain that still verifies. The helpers are those of
tests/server/test_hub_workers.py, which proves the same across gunicorn workers on SQLite.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import requests

from client_sync import FieldDevice
from tests.conftest import beneficiary
from tests.server.test_hub_workers import _OPEN, PASSWORD, Conn, _add_supervisor, _login, enrol
from tests.support.served_hub import ServedHub

pytestmark = pytest.mark.e2e


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


@pytest.fixture
def hubs(pg_url: str, tmp_path: Path) -> Iterator[tuple[ServedHub, ServedHub]]:
    """Two hub processes, two data folders, one PostgreSQL database."""
    settings = {
        "STORAGE_URL": pg_url,
        "SECRET_KEY": secrets.token_hex(32),
        "RATE_LIMIT_BURST": 4,
        "RATE_LIMIT_PER_S": 0.001,
        "ENROLL_FAILURES_MAX": 3,
        "LOGIN_MAX_FAILURES": 3,
    }
    made = [ServedHub(tmp_path / name, settings=settings) for name in ("hub-a", "hub-b")]
    try:
        for hub in made:
            hub.cli("init")
            hub.start(threads=4, log=tmp_path / f"{hub.data.name}.log")
        yield made[0], made[1]
    finally:
        for hub in made:
            hub.stop()
    for hub in made:
        assert not (hub.data / "hub.sqlite3").exists(), f"{hub.data} made an SQLite file"


def push(hub: ServedHub, token: str, changes_json: list[str]) -> dict[str, Any]:
    body = '{"protocol":1,"schema_version":1,"changes":[' + ",".join(changes_json) + "]}"
    answer = requests.post(
        hub.url + "/api/v1/sync/push",
        data=body.encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        timeout=60,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_batch_resent_to_the_other_process_gets_its_original_receipts(
    hubs: tuple[ServedHub, ServedHub], tmp_path: Path
):
    a, b = hubs
    laptop = FieldDevice.enroll(tmp_path / "laptop", a.url, a.enroll_code("ani"), passphrase="")
    with laptop:
        for n in range(5):
            laptop.store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=None))
        [batch] = laptop.store.outbox_batches(10**7)
        token = laptop.store.identity.token

    first = push(a, token, batch.changes_json)
    again = push(b, token, batch.changes_json)

    assert [r["status"] for r in first["receipts"]] == ["applied"] * 5
    assert again["receipts"] == first["receipts"]  # the same seqs: nothing written twice
    pulled = requests.get(
        b.url + "/api/v1/sync/pull",
        params={"since": 0},
        headers={"Authorization": f"Bearer {token}"},
        timeout=60,
    ).json()
    assert sorted(r["seq"] for r in pulled["records"]) == sorted(
        r["seq"] for r in first["receipts"]
    )


def test_the_rate_limit_burst_is_shared_by_both_processes(hubs: tuple[ServedHub, ServedHub]):
    a, b = (Conn(hub) for hub in hubs)
    token = enrol(hubs[0], a, "ani")
    auth = {"Authorization": f"Bearer {token}"}

    codes = [conn.call("GET", "/api/v1/sync/pull", headers=auth)[0] for conn in (a, b, a, b)]
    after_a, headers, _ = a.call("GET", "/api/v1/sync/pull", headers=auth)
    after_b = b.call("GET", "/api/v1/sync/pull", headers=auth)[0]

    assert codes == [200, 200, 200, 200]  # the burst of 4, two calls on each process
    assert (after_a, after_b) == (429, 429)  # drained hub-wide, not per process
    assert int(headers["retry-after"]) >= 1


def test_failed_enrolments_are_counted_across_processes(hubs: tuple[ServedHub, ServedHub]):
    a, b = (Conn(hub) for hub in hubs)
    wrong = {"code": "AAAA-BBBB-CCCC", "device_name": "laptop"}

    failures = [conn.json("POST", "/api/v1/enroll", wrong)[0] for conn in (a, b, a)]
    status, headers, body = b.json("POST", "/api/v1/enroll", wrong)

    assert 429 not in failures
    assert status == 429, body  # the third failure was on the other process
    assert int(headers["retry-after"]) > 800
    assert a.json("POST", "/api/v1/enroll", wrong)[0] == 429


def test_the_login_lockout_holds_across_processes(hubs: tuple[ServedHub, ServedHub]):
    _add_supervisor(hubs[0])
    a, b = (Conn(hub) for hub in hubs)

    wrong = [_login(conn, "salah") for conn in (a, b, a)]  # 3 = LOGIN_MAX_FAILURES
    locked = _login(b, PASSWORD)  # the right one, on the other process

    assert wrong == [200, 200, 429]
    assert locked == 429
    assert _login(Conn(hubs[0]), PASSWORD) == 429


def test_concurrent_pushes_to_both_processes_get_one_gap_free_run_of_seqs(
    hubs: tuple[ServedHub, ServedHub], pg_url: str, tmp_path: Path
):
    per_laptop, prepared = 80, []
    for n in range(4):
        hub = hubs[n % 2]
        laptop = FieldDevice.enroll(
            tmp_path / f"laptop-{n}", hub.url, hub.enroll_code(f"p{n}"), passphrase=""
        )
        with laptop:
            for k in range(per_laptop):
                laptop.store.add("beneficiary", beneficiary(name=f"Penerima {n}-{k}", nik=None))
            batches = list(laptop.store.outbox_batches(12_000))  # several pushes a laptop
            assert len(batches) >= 3
            prepared.append((hub, laptop.store.identity.token, batches))
    answers: list[tuple[list[str], dict[str, Any]]] = []
    start = threading.Barrier(len(prepared))

    def pushes(hub: ServedHub, token: str, batches) -> None:
        start.wait()
        for batch in batches:
            answers.append((list(batch.change_ids), push(hub, token, batch.changes_json)))

    threads = [threading.Thread(target=pushes, args=args) for args in prepared]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert len(answers) == sum(len(batches) for _, _, batches in prepared)
    seqs: list[int] = []
    for change_ids, body in answers:
        receipts = body["receipts"]
        assert [r["change_id"] for r in receipts] == change_ids
        assert {r["status"] for r in receipts} == {"applied"}
        mine = [r["seq"] for r in receipts]
        assert mine == list(range(mine[0], mine[0] + len(mine)))  # no other write inside it
        seqs += mine
    assert sorted(seqs) == list(range(1, 4 * per_laptop + 1))  # monotonic, no gap, none twice
    with psycopg.connect(pg_url) as db:
        counts = db.execute("SELECT count(*), count(DISTINCT change_id) FROM changes").fetchone()
    assert counts == (4 * per_laptop, 4 * per_laptop)
    for hub in hubs:  # the chain verifies from either side: one chain, no fork
        verify = subprocess.run(
            [sys.executable, "-m", "server.cli", "--data", str(hub.data), "audit", "verify"],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert verify.returncode == 0, verify.stdout + verify.stderr
