"""A laptop syncing over a link that delays, throttles, cuts and hangs: nothing lost or doubled.

The laptop is the real thing: a :class:`FieldDevice` whose :class:`HttpTransport` (requests,
urllib3 `Retry`) dials a :class:`FaultProxy`, which forwards to the hub served by waitress on
a loopback socket. The proxy cuts connections (RST) inside a request, before the hub can act,
and inside a response, after it has; it delays, throttles, and hangs. After every scenario:

- nothing lost: every record the laptop made is on the hub with the laptop's values;
- nothing doubled: each change is in the hub's change log exactly once, and only those;
- the laptop's outbox is empty after its last good sync;
- a colleague in the same wilayah pulls exactly the records the laptop shows.

And a photo cut at 80% of its bytes sends, on resuming, only what the hub was missing.

Most of the run time is the engine's own pause of 0.5-1.5 s after each cut push, and the
two 2 s read timeouts of the hang tests; the counts and contents asserted do not depend on
timing.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from urllib3.exceptions import ProtocolError
from urllib3.util.retry import Retry

from client_sync import FieldDevice
from client_sync.errors import HubUnreachable
from client_sync.photos import attach, list_photos
from client_sync.transport import HttpTransport, default_retry
from schemas.codes import ENTITIES
from tests.conftest import beneficiary, visit
from tests.support.faultproxy import Cut, Fault, FaultProxy, Hang, Slow

pytestmark = pytest.mark.e2e

BATCH_BYTES = 8 * 1024  # several pushes per sync, so cuts land between and inside batches
VIEW_ONLY = frozenset({"id", "created_at", "updated_at", "sync"})


def fast_retry(total: int) -> Retry:
    """The laptop's own retry policy, with millisecond backoffs so the tests stay quick."""
    return default_retry(total).new(backoff_factor=0.01, backoff_jitter=0.0)


@dataclass
class Link:
    """The laptop's transport factory: a real HttpTransport, whose timeouts and retries a
    test changes between rounds (each sync makes a fresh transport)."""

    timeout: tuple[float, float] = (5.0, 15.0)
    retry: Retry = field(default_factory=lambda: fast_retry(2))

    def __call__(self, hub_url: str) -> HttpTransport:
        return HttpTransport(hub_url, timeout=self.timeout, retry=self.retry)


@dataclass
class Work:
    """What the laptop recorded offline: its changes, and each record as it showed it."""

    change_ids: list[str]
    made: dict[str, dict[str, dict[str, Any]]]


@pytest.fixture
def proxy(live_hub: str) -> Iterator[FaultProxy]:
    with FaultProxy(live_hub) as made:
        yield made


@pytest.fixture
def link() -> Link:
    return Link()


@pytest.fixture
def siti(proxy: FaultProxy, link: Link, add_user, tmp_path: Path) -> Iterator[FieldDevice]:
    """A laptop whose hub URL is the proxy, enrolled while the link is still clean."""
    dev = FieldDevice.enroll(
        tmp_path / "laptop-siti", proxy.url, add_user("siti"), "laptop-siti", link
    )
    yield dev
    dev.close()


@pytest.fixture
def budi(live_hub: str, add_user, tmp_path: Path) -> Iterator[FieldDevice]:
    """A colleague in the same wilayah with a clean link straight to the hub."""
    dev = FieldDevice.enroll(tmp_path / "laptop-budi", live_hub, add_user("budi"), "laptop-budi")
    yield dev
    dev.close()


def record_work(dev: FieldDevice, people: int = 80, first_nik: int = 1) -> Work:
    """`people` beneficiaries, two visits and half a device request each, a quarter of them
    edited: with 80, three hundred changes, made offline."""
    store = dev.store
    bids = [
        store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=f"317101450845{n:04d}"))
        for n in range(first_nik, first_nik + people)
    ]
    for n in range(2 * people):
        findings = f"Kunjungan ke-{n}: kondisi baik, rumah bersih, perlu kursi roda. " * 2
        store.add("visit", visit(bids[n % people], findings=findings))
    for n in range(people // 2):
        store.add(
            "device_request",
            {"beneficiary_id": bids[n], "device_type": "kursi_roda", "reason": f"Alasan {n}."},
        )
    for n in range(people // 4):
        store.update("beneficiary", bids[n], {"phone": f"0812{n:08d}"})
    change_ids = [cid for batch in store.outbox_batches(1 << 30) for cid in batch.change_ids]
    made = {
        entity: {r["id"]: {k: v for k, v in r.items() if k not in VIEW_ONLY} for r in records}
        for entity in ENTITIES
        if (records := store.list(entity))
    }
    assert len(change_ids) == store.pending_count() == people * 15 // 4
    return Work(change_ids, made)


def hub_log(hub_app: Flask, sql: str, *args: object) -> list[tuple]:
    """Rows from the hub's SQLite file, opened read-only beside the running hub."""
    db = Path(hub_app.config["DATA_DIR"]) / "hub.sqlite3"
    with closing(sqlite3.connect(db.as_uri() + "?mode=ro", uri=True)) as conn:
        return conn.execute(sql, args).fetchall()


def logged_changes(hub_app: Flask, device_id: str) -> list[str]:
    """The change ids the hub logged from one laptop."""
    query = "SELECT change_id FROM changes WHERE device_id = ?"
    return [row[0] for row in hub_log(hub_app, query, device_id)]


def shown(dev: FieldDevice) -> dict[str, list[dict[str, Any]]]:
    return {entity: dev.store.list(entity) for entity in ENTITIES}


def assert_delivered_once(
    hub_app: Flask, budi: FieldDevice, *works: tuple[FieldDevice, Work]
) -> None:
    """Nothing lost, nothing doubled, nothing left to send, and `budi`, a colleague in the
    same wilayah, shows exactly what each laptop that did the `works` shows."""
    storage = hub_app.extensions["pendamping"].storage
    counts = dict.fromkeys(ENTITIES, 0)
    for dev, work in works:
        for entity, records in work.made.items():
            counts[entity] += len(records)
            for record_id, values in records.items():
                held = storage.get_record(record_id)
                assert (held.entity, held.deleted) == (entity, False)
                assert {name: held.data.get(name) for name in values} == values
        logged = logged_changes(hub_app, dev.store.identity.device_id)
        assert sorted(logged) == sorted(work.change_ids)  # each once, and only those
        assert dev.store.pending_count() == 0
    stats = storage.stats()["records"]
    assert {entity: stats.get(entity, 0) for entity in ENTITIES} == counts
    doubled = "SELECT change_id, COUNT(*) FROM changes GROUP BY change_id HAVING COUNT(*) > 1"
    assert hub_log(hub_app, doubled) == []

    budi.sync()
    for dev, _ in works:
        assert shown(dev) == shown(budi)
    assert {entity: len(records) for entity, records in shown(budi).items()} == counts


def sync_until_done(dev: FieldDevice, attempts: int) -> int:
    """Sync again after each failed round, as the daemon does. :returns: the failed rounds."""
    for failed in range(attempts):
        try:
            dev.sync(batch_bytes=BATCH_BYTES, pause=lambda _s: None)
        except HubUnreachable:
            continue
        return failed
    raise AssertionError(f"no sync got through in {attempts} attempts")


# -- cuts ----------------------------------------------------------------------------------


def test_the_retry_policy_hands_a_push_cut_half_way_back_to_the_engine():
    # these tests found SyncRetry.increment calling itself without end (RecursionError)
    dropped = ProtocolError("Connection aborted.", ConnectionResetError(104, "reset"))
    with pytest.raises(ProtocolError):
        default_retry(3).increment("POST", "/api/v1/sync/push", error=dropped)


def test_cuts_inside_the_request_lose_nothing(siti, budi, proxy, link, hub_app):
    work = record_work(siti)
    # in the headers, in the first push's body, somewhere further on
    proxy.script([Cut(up_after=60), Cut(up_after=700), Cut(up_after=6000)])

    sync_until_done(siti, attempts=4)

    assert [c.cut for c in proxy.connections[-4:]] == ["up", "up", "up", None]
    assert_delivered_once(hub_app, budi, (siti, work))


def test_a_cut_inside_the_response_doubles_nothing(siti, budi, proxy, link, hub_app):
    work = record_work(siti)
    device_id = siti.store.identity.device_id
    first = len(proxy.connections)
    held_when_the_laptop_came_back: list[int] = []

    def plan(n: int) -> Fault | None:
        if n == 1:  # the laptop dials again: what does the hub hold of what it sent?
            held_when_the_laptop_came_back.append(len(logged_changes(hub_app, device_id)))
        # the first push's answer, then the status line, then the headers of the next
        return [Cut(down_after=0), Cut(down_after=10), Cut(down_after=150)][n] if n < 3 else None

    proxy.script(plan)

    sync_until_done(siti, attempts=4)

    assert 0 < held_when_the_laptop_came_back[0] < 300  # the hub took the first batch
    assert [c.cut for c in proxy.connections[first:]] == ["down", "down", "down", None]
    assert_delivered_once(hub_app, budi, (siti, work))


def test_a_slow_throttled_link_that_drops_both_ways_loses_and_doubles_nothing(
    siti, budi, proxy, link, hub_app
):
    work = record_work(siti)
    proxy.link = Slow(delay_ms=15, rate_bytes_per_s=400_000)
    proxy.script([Cut(up_after=2500), Slow(delay_ms=40) | Cut(down_after=200)])

    sync_until_done(siti, attempts=4)

    assert proxy.cuts == 2
    assert_delivered_once(hub_app, budi, (siti, work))


def test_a_laptop_that_keeps_syncing_through_many_cuts_gets_everything_through(
    siti, budi, proxy, link, hub_app
):
    work = record_work(siti)
    cuts = [
        Cut(up_after=100),
        Cut(down_after=0),
        Cut(up_after=1200),
        Cut(down_after=120),
        Cut(up_after=300),
    ]
    proxy.script(lambda n: cuts[n] if n < len(cuts) else None)

    sync_until_done(siti, attempts=len(cuts) + 1)

    assert proxy.cuts == len(cuts)
    assert_delivered_once(hub_app, budi, (siti, work))


# -- hangs ---------------------------------------------------------------------------------


def test_a_push_whose_answer_never_comes_times_out_once_and_doubles_nothing(
    siti, budi, proxy, link, hub_app
):
    work = record_work(siti)
    proxy.script([Hang(forward=True)])  # the hub takes the first push; its answer is eaten
    link.timeout, link.retry = (2.0, 2.0), Retry(total=0)
    started = time.monotonic()

    sync_until_done(siti, attempts=2)

    assert time.monotonic() - started >= 2.0  # the read timeout fired: nothing else ends it
    assert [c.fault.hang for c in proxy.connections[-2:]] == [True, False]
    assert_delivered_once(hub_app, budi, (siti, work))


def test_a_hung_pull_fails_the_round_once_and_the_next_round_catches_up(
    siti, budi, proxy, link, hub_app
):
    work = record_work(siti)
    siti.sync()
    theirs = record_work(budi, people=8, first_nik=1000)
    budi.sync()
    cursor, before = siti.store.pull_cursor, len(proxy.connections)
    proxy.script([Hang()])
    link.timeout, link.retry = (2.0, 2.0), Retry(total=0)

    with pytest.raises(HubUnreachable):
        siti.sync()  # nothing to push: the round is one pull, and it hangs

    assert [c.fault.hang for c in proxy.connections[before:]] == [True]  # one try, no storm
    assert siti.store.pull_cursor == cursor
    siti.sync()
    assert_delivered_once(hub_app, budi, (siti, work), (budi, theirs))


# -- photos --------------------------------------------------------------------------------


def write_jpeg(path: Path, size: int) -> Path:
    """A file of `size` bytes that sniffs as a JPEG: the marker, then noise."""
    head = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
    path.write_bytes(head + hashlib.shake_256(b"rumah").digest(size - len(head)))
    return path


def cut_at_total(proxy: FaultProxy, total: int) -> Callable[[int], Fault | None]:
    """A plan that cuts once `total` bytes went up, counted over the connections from now on,
    whichever one that byte falls in (the hub closes the connection after each PATCH)."""
    start = len(proxy.connections)

    def plan(_n: int) -> Fault | None:
        done = proxy.connections[start:]
        if any(c.cut for c in done):
            return None
        return Cut(up_after=total - sum(c.up for c in done))

    return plan


def test_a_photo_cut_at_80_percent_sends_only_the_missing_part_on_resume(
    siti, proxy, link, hub_app, tmp_path
):
    size = 3_000_000
    bid = siti.store.add("beneficiary", beneficiary())
    digest = attach(
        siti.store, "beneficiary", bid, write_jpeg(tmp_path / "rumah.jpg", size), "rumah"
    )
    # the round pushes the record and its reference first: a few KB of the 80%
    proxy.script(cut_at_total(proxy, size * 8 // 10))
    link.retry = fast_retry(0)  # the round leaves the photo at the cut; the next one resumes

    siti.sync()

    assert proxy.cuts == 1
    (photo,) = list_photos(siti.store)
    assert (photo["state"], photo["bytes_sent"] >= size * 7 // 10) == ("pending", True)
    resumed_from = len(proxy.connections)

    siti.sync()

    assert list_photos(siti.store)[0]["state"] == "uploaded"
    resent = sum(c.up for c in proxy.connections[resumed_from:])
    assert resent <= size // 4
    kept = Path(hub_app.config["DATA_DIR"]) / "attachments" / "blobs" / digest
    assert hashlib.sha256(kept.read_bytes()).hexdigest() == digest
