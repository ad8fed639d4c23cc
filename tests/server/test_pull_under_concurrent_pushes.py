"""A pull never misses a record under concurrent pushes (issue 14), on SQLite and PostgreSQL.

Several writers push batches at once, each through its own storage object (its own
connections, or pool: as separate hub processes have), through the hub's real push
(:meth:`server.sync.SyncService.push`: admission, merge, change log, receipts, audit),
while a reader pulls page by page with its cursor, as a laptop does. A hub that handed out a
seq before committing (a PostgreSQL sequence, say) would let a later commit land behind a
cursor the reader had already passed: the reader would never see that record.

At the end, for every record written: the reader saw it, its last version seen is the one
the hub committed last, and a record written once was seen exactly once; and every page
held only seqs above the cursor it was asked from, in increasing order.
"""

from __future__ import annotations

import threading
import time
import uuid
from dataclasses import dataclass, field

import orjson
import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from schemas.hlc import wall_ms
from server.enrolment import issue_code, redeem_code
from server.storage import Device, HubStorage, User, load_from_config
from server.sync import SyncService
from server.timeutil import utc_iso

pytestmark = pytest.mark.both_backends

WILAYAH = "31.71.01"
KELURAHAN = "31.71.01.1001"

#: one batch: how many new beneficiaries, and how many of the writer's earlier ones to edit
batches = st.tuples(st.integers(1, 12), st.integers(0, 3))
#: each writer's batches, pushed one after another; two to four writers at once
plans = st.lists(st.lists(batches, min_size=1, max_size=4), min_size=2, max_size=4)


@dataclass
class Writer:
    """One laptop pushing through its own storage object."""

    storage: HubStorage
    device: Device
    programs: list[str]
    counter: int = 0
    #: record id -> the seq of its last committed write
    committed: dict[str, int] = field(default_factory=dict)
    #: record id -> how many times it was written
    writes: dict[str, int] = field(default_factory=dict)

    def change(self, record_id: str, fields: dict, base_seq: int | None) -> dict:
        self.counter += 1
        return {
            "change_id": str(uuid.uuid4()),
            "entity": "beneficiary",
            "record_id": record_id,
            "base_seq": base_seq,
            "fields": fields,
            "hlc": f"{wall_ms():016d}:{self.counter:06d}:{self.device.device_id}",
            "device_id": self.device.device_id,
            "author_id": self.device.user.name,
        }

    def push(self, batches: list[tuple[int, int]]) -> None:
        service = SyncService(self.storage, self.programs, utc_iso)
        for fresh, edits in batches:
            changes = [
                self.change(
                    str(uuid.uuid4()), {"name": "Ibu Sri", "sex": "P", "kelurahan": KELURAHAN}, None
                )
                for _ in range(fresh)
            ]
            changes += [
                self.change(rid, {"phone": f"0812{self.counter:08d}"}, seq)
                for rid, seq in list(self.committed.items())[:edits]
            ]
            outcome = service.push(self.device, changes)
            for sent, receipt in zip(changes, outcome.receipts, strict=True):
                assert receipt["status"] == "applied", receipt
                rid = sent["record_id"]
                self.committed[rid] = receipt["seq"]
                self.writes[rid] = self.writes.get(rid, 0) + 1


@dataclass
class Reader:
    """A laptop of the same wilayah pulling page by page until told the writers are done."""

    storage: HubStorage
    device: Device
    programs: list[str]
    limit: int
    cursor: int = 0
    seen: list[tuple[str, int]] = field(default_factory=list)
    faults: list[str] = field(default_factory=list)

    def drain(self, service: SyncService) -> None:
        """Pull until a page says there is no more."""
        while True:
            page, _conflicts = service.pull(self.device, self.cursor, self.limit)
            for text in page.records_json:
                record = orjson.loads(text)
                if record["seq"] <= self.cursor or (
                    self.seen and record["seq"] <= self.seen[-1][1]
                ):
                    self.faults.append(f"seq {record['seq']} after cursor {self.cursor}")
                self.seen.append((record["id"], record["seq"]))
            if page.next < self.cursor:
                self.faults.append(f"next {page.next} went back from {self.cursor}")
            self.cursor = page.next
            if not page.more:
                return

    def follow(self, done: threading.Event) -> None:
        service = SyncService(self.storage, self.programs, utc_iso)
        while not done.is_set():
            before = len(self.seen)
            self.drain(service)
            if len(self.seen) == before:
                time.sleep(0.001)  # nothing new: let the writers have the interpreter
        self.drain(service)  # everything committed before `done` was set


def _device(storage: HubStorage, role: str = "pendamping") -> Device:
    name = f"{role}-{uuid.uuid4().hex[:8]}"
    storage.add_user(User(name, role, (WILAYAH,)), utc_iso())
    device, _token = redeem_code(storage, issue_code(storage, name, 1), f"laptop-{name}")
    return device


@settings(
    max_examples=6,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=plans, limit=st.integers(1, 9))
def test_a_pull_never_misses_a_record_under_concurrent_pushes(
    hub_app: Flask, plan: list[list[tuple[int, int]]], limit: int
) -> None:
    # One hub database for every example (records of earlier examples are left alone: each
    # example checks its own records, from the cursor it started at).
    config = dict(hub_app.config)
    programs = list(config["PROGRAMS"])
    opened = [load_from_config(config) for _ in range(len(plan) + 1)]
    try:
        first = opened[0]
        writers = [Writer(storage, _device(first), programs) for storage in opened[1:]]
        reader = Reader(opened[0], _device(first), programs, limit)
        reader.drain(SyncService(first, programs, utc_iso))  # past the earlier examples
        reader.seen.clear()

        done = threading.Event()
        errors: list[BaseException] = []

        def run(target, *args) -> None:
            try:
                target(*args)
            except BaseException as exc:  # reported below, not lost in a thread
                errors.append(exc)

        following = threading.Thread(target=run, args=(reader.follow, done))
        pushing = [
            threading.Thread(target=run, args=(w.push, batch_list))
            for w, batch_list in zip(writers, plan, strict=True)
        ]
        following.start()
        for thread in pushing:
            thread.start()
        for thread in pushing:
            thread.join(60)
        done.set()
        following.join(60)
        assert not errors, errors
        assert not following.is_alive() and not any(t.is_alive() for t in pushing)
    finally:
        for storage in opened:
            storage.close()

    assert reader.faults == []
    last_seen: dict[str, int] = {}
    times_seen: dict[str, int] = {}
    for rid, seq in reader.seen:
        last_seen[rid] = seq
        times_seen[rid] = times_seen.get(rid, 0) + 1
    for writer in writers:
        for rid, seq in writer.committed.items():
            assert last_seen.get(rid) == seq, (rid, seq, last_seen.get(rid))
            if writer.writes[rid] == 1:
                assert times_seen[rid] == 1, (rid, times_seen[rid])
    written = {rid for w in writers for rid in w.committed}
    assert set(last_seen) == written
