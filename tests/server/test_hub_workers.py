"""The hub-wide limits hold across two worker processes (issue 11).

`pendamping-hub serve --workers 2` as the office runs it (gunicorn, a real socket), and
real HTTP calls over keep-alive connections that are each known to be served by one
worker or the other: the kernel hands a connection to one worker for its whole life, and
the test finds which through /proc. Each limit is then exercised half on one worker and
half on the other, so a limit kept in one process's memory (the hub before issue 11)
would let twice as much through and fail these tests.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from client_sync import FieldDevice
from tests.conftest import beneficiary
from tests.support.served_hub import ServedHub

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn and /proc"),
]

PASSWORD = "kata-sandi-kantor-31"
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')


# -- connections that are known to be on one worker ----------------------------------------


def _workers(hub: ServedHub) -> set[int]:
    assert hub.process is not None
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == hub.process.pid:
                found.add(int(entry.name))
    return found


def _server_inode(hub_port: int, client_port: int) -> str:
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1], fields[2]
        if int(local.split(":")[1], 16) == hub_port and int(remote.split(":")[1], 16) == (
            client_port
        ):
            return fields[9]
    raise AssertionError("the hub's side of the connection is not in /proc/net/tcp")


def _worker_of(hub: ServedHub, conn: http.client.HTTPConnection, workers: set[int]) -> int:
    inode = _server_inode(hub.port, conn.sock.getsockname()[1])
    for pid in workers:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


_OPEN: list[http.client.HTTPConnection] = []


@pytest.fixture(autouse=True)
def _close_connections() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


class Conn:
    """One keep-alive connection to the hub, on one known worker, with its own cookies."""

    def __init__(self, hub: ServedHub) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=60)
        _OPEN.append(self.http)
        self.cookie = ""
        self.call("GET", "/api/v1/health")  # accepted by a worker from now on
        self.worker = 0

    def call(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        sent = dict(headers or {})
        if self.cookie:
            sent["Cookie"] = self.cookie
        self.http.request(method, path, body=body, headers=sent)
        response = self.http.getresponse()
        data = response.read()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def json(self, method: str, path: str, payload: Any, token: str | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, headers, data = self.call(method, path, json.dumps(payload).encode(), headers)
        return status, headers, json.loads(data) if data else None


def connections(hub: ServedHub, per_worker: int) -> tuple[list[Conn], list[Conn]]:
    """`per_worker` connections served by each of the hub's two workers."""
    deadline = time.monotonic() + 30
    while len(workers := _workers(hub)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)  # the second worker may still be starting
    assert len(workers) == 2, workers
    first, second = sorted(workers)
    on: dict[int, list[Conn]] = {first: [], second: []}
    spare: list[Conn] = []
    for _ in range(200):
        if all(len(found) >= per_worker for found in on.values()):
            break
        conn = Conn(hub)
        conn.worker = _worker_of(hub, conn.http, workers)
        (on[conn.worker] if len(on[conn.worker]) < per_worker else spare).append(conn)
    for conn in spare:
        conn.http.close()
    assert all(len(found) >= per_worker for found in on.values()), "one worker took them all"
    return on[first], on[second]


# -- the hub ---------------------------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[ServedHub]:
    """Two workers, with small limits written in the data folder's hub.cfg."""
    data = tmp_path / "hub"
    data.mkdir()
    (data / "hub.cfg").write_text(
        "RATE_LIMIT_BURST = 4\nRATE_LIMIT_PER_S = 0.001\n"
        "ENROLL_FAILURES_MAX = 3\nLOGIN_MAX_FAILURES = 3\n"
    )
    hub = ServedHub(data)
    hub.start(threads=4, workers=2, log=tmp_path / "hub.log")
    yield hub
    hub.stop()


def enrol(hub: ServedHub, conn: Conn, user: str) -> str:
    status, _, body = conn.json(
        "POST", "/api/v1/enroll", {"code": hub.enroll_code(user), "device_name": f"laptop {user}"}
    )
    assert status == 201, body
    return body["token"]


def test_the_rate_limit_burst_is_shared_by_both_workers(served: ServedHub):
    (a,), (b,) = connections(served, 1)
    token = enrol(served, a, "ani")
    auth = {"Authorization": f"Bearer {token}"}

    codes = [conn.call("GET", "/api/v1/sync/pull", headers=auth)[0] for conn in (a, b, a, b)]
    after_a, headers, _ = a.call("GET", "/api/v1/sync/pull", headers=auth)
    after_b = b.call("GET", "/api/v1/sync/pull", headers=auth)[0]

    assert codes == [200, 200, 200, 200]  # the burst of 4, two calls on each worker
    assert (after_a, after_b) == (429, 429)  # drained hub-wide, not per worker
    assert int(headers["retry-after"]) >= 1
    other = enrol(served, b, "dewi")  # another device has its own bucket
    assert a.call("GET", "/api/v1/sync/pull", headers={"Authorization": f"Bearer {other}"})[0] == (
        200
    )


def test_failed_enrolments_from_one_address_are_counted_across_workers(served: ServedHub):
    (a,), (b,) = connections(served, 1)
    wrong = {"code": "AAAA-BBBB-CCCC", "device_name": "laptop"}

    failures = [conn.json("POST", "/api/v1/enroll", wrong)[0] for conn in (a, b, a)]
    status, headers, body = b.json("POST", "/api/v1/enroll", wrong)

    assert 429 not in failures
    assert status == 429, body  # the third failure was on the other worker
    assert "menit" in body["message"]
    assert int(headers["retry-after"]) > 800
    assert a.json("POST", "/api/v1/enroll", wrong)[0] == 429


def _add_supervisor(hub: ServedHub) -> None:
    subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(hub.data), "user", "add", "bu-kasi",
         "--role", "supervisor", "--wilayah", "31.71", "--password-stdin"],
        input=PASSWORD + "\n", text=True, capture_output=True, check=True, timeout=120,
    )  # fmt: skip


def _login(conn: Conn, password: str) -> int:
    page = conn.call("GET", "/web/login")[2].decode()
    token = _CSRF.search(page)
    assert token, "the login page carries no CSRF token"
    form = f"csrf_token={token.group(1)}&name=bu-kasi&password={password}"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    return conn.call("POST", "/web/login", form.encode(), headers)[0]


def test_the_login_lockout_holds_across_workers(served: ServedHub):
    _add_supervisor(served)
    (a,), (b,) = connections(served, 1)

    wrong = [_login(conn, "salah") for conn in (a, b, a)]  # 3 = LOGIN_MAX_FAILURES
    locked = _login(b, PASSWORD)  # the right one, on the other worker

    assert wrong == [200, 200, 429]
    assert locked == 429
    assert _login(a, PASSWORD) == 429
    assert _login(Conn(served), PASSWORD) == 429  # by name, from any connection


def test_concurrent_pushes_on_both_workers_write_one_at_a_time_each_change_once(
    served: ServedHub, tmp_path: Path
):
    prepared = []
    for n in range(6):
        laptop = FieldDevice.enroll(
            tmp_path / f"laptop-{n}", served.url, served.enroll_code(f"p{n}"), passphrase=""
        )
        for k in range(120):
            laptop.store.add("beneficiary", beneficiary(name=f"Penerima {n}-{k}", nik=None))
        batches = list(laptop.store.outbox_batches(20_000))  # several pushes a laptop
        assert len(batches) >= 3
        prepared.append((laptop.store.identity.token, batches))
        laptop.close()
    on_a, on_b = connections(served, 3)  # now: an idle connection is closed after a while
    laptops = [(conn, *rest) for conn, rest in zip(on_a + on_b, prepared, strict=True)]
    answers: list[tuple[int, list[str], Any]] = []
    start = threading.Barrier(len(laptops))

    def pushes(conn: Conn, token: str, batches) -> None:
        start.wait()
        for batch in batches:
            body = {"protocol": 1, "schema_version": 1, "changes": []}
            raw = json.dumps(body).replace("[]", "[" + ",".join(batch.changes_json) + "]")
            status, _, data = conn.call(
                "POST",
                "/api/v1/sync/push",
                raw.encode(),
                {"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
            )
            answers.append((status, list(batch.change_ids), json.loads(data)))

    threads = [threading.Thread(target=pushes, args=args) for args in laptops]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert {conn.worker for conn, _, _ in laptops} == _workers(served)  # both took pushes
    assert [status for status, _, _ in answers] == [200] * len(answers)  # none turned away
    seqs: list[int] = []
    for _, change_ids, body in answers:
        receipts = body["receipts"]
        assert [r["change_id"] for r in receipts] == change_ids
        assert {r["status"] for r in receipts} == {"applied"}
        mine = [r["seq"] for r in receipts]
        assert mine == list(range(mine[0], mine[0] + len(mine)))  # no other write inside it
        seqs += mine
    assert sorted(seqs) == list(range(1, 6 * 120 + 1))  # monotonic, no gap, none twice
    with sqlite3.connect(served.data / "hub.sqlite3") as db:
        counts = db.execute("SELECT count(*), count(DISTINCT change_id) FROM changes").fetchone()
    assert counts == (6 * 120, 6 * 120)
    verify = subprocess.run(
        [sys.executable, "-m", "server.cli", "--data", str(served.data), "audit", "verify"],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr
