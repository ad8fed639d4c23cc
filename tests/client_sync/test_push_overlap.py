"""The push records one batch's receipts while the hub takes the next (client_sync.engine).

The laptop's confirm (folding quiet receipts into its copies, the read model, one durable
commit) costs about as much CPU as the hub's work on a batch; done one after the other, a
10,000-change push took their sum. These tests hold the order that lets them overlap, and
that the order loses and doubles nothing.
"""

from __future__ import annotations

import threading

from client_sync.engine import SyncResult, push_outbox
from client_sync.hub import HubClient
from tests.conftest import beneficiary, visit
from tests.support.transports import WsgiTransport

#: small batches, so a few visits make several
BATCH_BYTES = 1_500


class RecordingHub(HubClient):
    """The laptop's own client to the in-process hub, noting when each push starts and the
    size of each batch the hub answered."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.pushes_started = 0
        self.started = threading.Condition()
        self.answered: list[int] = []

    def push(self, batch, body=None):
        with self.started:
            self.pushes_started += 1
            self.started.notify_all()
        receipts = super().push(batch, body)
        self.answered.append(len(batch.change_ids))
        return receipts


def _laptop_with_visits(laptops, visits: int):
    device = laptops.enroll("ani")
    owner = device.store.add("beneficiary", beneficiary(nik=None))
    for n in range(visits):
        device.store.add("visit", visit(owner, findings=f"Kunjungan ke-{n}."))
    return device


def test_the_next_batch_is_sent_before_the_last_ones_receipts_are_recorded(laptops):
    device = _laptop_with_visits(laptops, 12)
    hub = RecordingHub(WsgiTransport(laptops.app), device.store.identity.token)
    store = device.store
    recorded = store.confirm
    seen: list[tuple[int, int]] = []  # (batches recorded before, pushes started by the end)

    def confirm_once_the_next_push_started(receipts, received_at=None):
        confirmed = len(seen)
        last = store.pending_count() == len(receipts)  # nothing after this batch
        with hub.started:  # the batch after this one is on its way
            hub.started.wait_for(lambda: last or hub.pushes_started > confirmed + 1, timeout=2)
        seen.append((confirmed, hub.pushes_started))
        recorded(receipts, received_at)

    store.confirm = confirm_once_the_next_push_started
    result = SyncResult()
    push_outbox(store, hub, result, batch_bytes=BATCH_BYTES)

    assert result.batches >= 3
    # every batch but the last was still being recorded when the next one went
    assert all(started >= confirmed + 2 for confirmed, started in seen[:-1])
    assert result.pushed == 13 and result.rejected == 0
    assert store.pending_count() == 0


def test_a_push_whose_receipts_were_lost_mid_overlap_loses_and_doubles_nothing(laptops):
    """The laptop dies while recording a batch whose successor the hub already took: the
    next round sends what is still pending and the hub answers with its original receipts."""
    device = _laptop_with_visits(laptops, 12)
    store = device.store
    hub = RecordingHub(WsgiTransport(laptops.app), store.identity.token)
    recorded = store.confirm
    calls = 0

    def dies_on_the_second_batch(receipts, received_at=None):
        nonlocal calls
        calls += 1
        if calls == 2:
            raise KeyboardInterrupt  # as a laptop switched off
        recorded(receipts, received_at)

    store.confirm = dies_on_the_second_batch
    try:
        push_outbox(store, hub, SyncResult(), batch_bytes=BATCH_BYTES)
    except KeyboardInterrupt:
        pass
    else:
        raise AssertionError("the push should have died")
    storage = laptops.app.extensions["pendamping"].storage
    # the hub took three batches: the one recorded, the one whose receipts were lost, and
    # the one sent while they were being recorded
    assert len(hub.answered) == 3
    assert storage.stats()["changes"] == sum(hub.answered)
    store.confirm = recorded

    again = SyncResult()
    push_outbox(store, hub, again, batch_bytes=BATCH_BYTES)
    result = device.sync()

    assert storage.stats()["changes"] == 13  # each change applied once
    assert storage.stats()["records"]["visit"] == 12
    assert again.rejected == 0 and result.rejected == 0 and store.pending_count() == 0
    assert len(store.list("visit")) == 12
    assert store.status()["awaiting_pull"] == 0
