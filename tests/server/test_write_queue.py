"""The hub-wide write queue (issue 11): a push waits its turn instead of being turned away,
and a queue too long to wait for is refused with how long it really is.

Through the Flask test client with real laptops' batches; the queue lives in the hub's
limits file, so tickets placed straight in it stand for pushes of other processes.
"""

from __future__ import annotations

import threading
import time

from flask import Flask

from client_sync.hub import HubClient
from server.storage import HubStorage
from server.throttle import DEFAULT_PACE_S, WriteGate
from tests.conftest import beneficiary

PUSH = "/api/v1/sync/push"


def push(app: Flask, laptop, count: int = 1):
    """Post the laptop's first `count` pending changes as one push."""
    for n in range(count):
        laptop.store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=None))
    (batch,) = laptop.store.outbox_batches(10**7)
    return app.test_client().post(
        PUSH,
        data=HubClient.encode_push(batch),
        headers={
            "Authorization": f"Bearer {laptop.store.identity.token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )


def gate_of(app: Flask) -> WriteGate:
    return app.extensions["pendamping"].write_gate


def set_pace(gate: WriteGate, seconds_per_change: float) -> None:
    """As if the hub had measured its pushes at this pace."""
    now = time.time()
    place = gate.limits.enqueue(1, now, now + 60)
    gate.limits.leave(place.ticket, seconds_per_change, weight=1.0)


def test_a_push_behind_a_short_queue_waits_its_turn_and_succeeds(
    laptops, hub_app: Flask, hub_storage: HubStorage
):
    """Three pushes ahead (the old gate's WRITE_QUEUE_MAX turned the fourth away at once)."""
    ani = laptops.enroll("ani")
    gate = gate_of(hub_app)
    writing = threading.Event()

    def other_push() -> None:
        with gate.turn(50), hub_storage.write() as session:
            writing.set()
            session.set_meta("other", "1")
            time.sleep(0.2)

    others = [threading.Thread(target=other_push) for _ in range(3)]
    for thread in others:
        thread.start()
    writing.wait(10)
    deadline = time.monotonic() + 10
    while gate.limits.queue_ahead(10**12, time.time()).ahead_pushes < 3:
        assert time.monotonic() < deadline
        time.sleep(0.01)

    start = time.monotonic()
    response = push(hub_app, ani)
    waited = time.monotonic() - start
    for thread in others:
        thread.join()

    assert response.status_code == 200, response.get_json()
    assert waited >= 0.2  # it did wait for the pushes ahead
    assert hub_storage.stats()["changes"] == 1


def test_a_queue_estimated_past_the_bound_is_refused_with_a_retry_after_that_grows_with_it(
    laptops, hub_app: Flask, hub_storage: HubStorage
):
    ani = laptops.enroll("ani")
    gate = gate_of(hub_app)
    assert gate.wait_max_s == 20.0  # the default
    set_pace(gate, 0.1)
    now = time.time()
    ahead = [gate.limits.enqueue(300, now, now + 60).ticket]  # 30 s of changes

    first = push(hub_app, ani)
    ahead.append(gate.limits.enqueue(300, now, now + 60).ticket)  # 60 s
    second = push(hub_app, ani)

    assert (first.status_code, second.status_code) == (503, 503)
    assert first.get_json()["error"] == "hub_busy"
    assert (first.headers["Retry-After"], second.headers["Retry-After"]) == ("30", "60")
    assert "coba lagi dalam 30 detik" in first.get_json()["message"]
    assert "coba lagi dalam 60 detik" in second.get_json()["message"]
    assert hub_storage.stats()["changes"] == 0
    assert gate.limits.queue_ahead(10**12, time.time()).ahead_pushes == 2  # refused: left

    gate.limits.leave(ahead[0])  # 30 s ahead is still more than 20 s
    assert push(hub_app, ani).headers["Retry-After"] == "30"
    gate.limits.leave(ahead[1])
    assert push(hub_app, ani).status_code == 200


def test_the_pace_is_measured_from_the_pushes_themselves(laptops, hub_app: Flask):
    ani = laptops.enroll("ani")
    gate = gate_of(hub_app)
    now = time.time()
    assert gate.limits.enqueue(1, now, now).pace is None  # nothing measured yet

    assert push(hub_app, ani, count=200).status_code == 200

    pace = gate.limits.enqueue(1, now, now).pace
    assert pace is not None and pace != DEFAULT_PACE_S
    assert 0 < pace < 0.05  # seconds per change of a real push, not a made-up figure


def test_the_tickets_of_a_crashed_worker_lapse_and_hold_nobody_back(laptops, hub_app: Flask):
    ani = laptops.enroll("ani")
    gate = gate_of(hub_app)
    now = time.time()
    gate.limits.enqueue(10**6, now, now + 0.5)  # queued by a worker that then died

    refused = push(hub_app, ani)
    time.sleep(0.6)
    accepted = push(hub_app, ani)

    assert refused.status_code == 503
    assert int(refused.headers["Retry-After"]) >= 20
    assert accepted.status_code == 200


def test_a_push_refused_for_its_own_fault_leaves_the_queue(laptops, hub_app: Flask):
    ani = laptops.enroll("ani")
    gate = gate_of(hub_app)
    response = hub_app.test_client().post(
        PUSH,
        json={"protocol": 1, "schema_version": 1, "changes": [{"change_id": "x"}]},
        headers={"Authorization": f"Bearer {ani.store.identity.token}"},
    )
    assert response.status_code == 200  # refused per change, in its receipt
    assert gate.limits.queue_ahead(10**12, time.time()).ahead_pushes == 0
