"""The poor-link wire on the hub: compact receipts, no echo, reports, 429 and 503.

Through the Flask test client, with laptops as the real client code drives them (store,
engine, HubClient) so that what the hub leaves out of a pull, the laptop demonstrably holds.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import orjson
import pytest
from flask import Flask
from hypothesis import given
from hypothesis import strategies as st

from client_sync.errors import ProtocolError
from client_sync.hub import HubClient
from client_sync.store import OutboxBatch
from client_sync.transport import RawResponse
from schemas.sync import batch_check, compact_receipts, expand_receipts
from server.storage import HubStorage
from tests.conftest import KELURAHAN, beneficiary, visit

PUSH = "/api/v1/sync/push"


def hub_records(storage: HubStorage) -> dict[str, dict[str, Any]]:
    page = storage.pull(None, 0, 10**6)
    return {r["id"]: r for r in (orjson.loads(text) for text in page.records_json)}


def pulled_rows(device) -> dict[str, tuple[int, bool, dict[str, Any]]]:
    rows = device.store._conn.execute("SELECT id, seq, deleted, data FROM pulled").fetchall()
    return {rid: (seq, bool(deleted), json.loads(data)) for rid, seq, deleted, data in rows}


def test_new_records_answer_as_one_run_of_compact_receipts(laptops, hub_app: Flask):
    ani = laptops.enroll("ani")
    bid = ani.store.add("beneficiary", beneficiary(nik=None))
    for n in range(30):
        ani.store.add("visit", visit(bid, findings=f"kunjungan {n}"))
    (batch,) = ani.store.outbox_batches(10**7)
    client = hub_app.test_client()
    response = client.post(
        PUSH,
        data=HubClient.encode_push(batch),
        headers={
            "Authorization": f"Bearer {ani.store.identity.token}",
            "Content-Encoding": "gzip",
            "Content-Type": "application/json",
        },
    )
    answer = response.get_json()
    assert isinstance(answer.pop("received_at"), str)  # the hub's time of receipt (issue 13)
    assert answer == {
        "compact": [[1, 31]],
        "check": batch_check(batch.change_ids),
        "duplicates": 0,
    }


def test_a_refused_change_breaks_the_run_and_travels_whole():
    receipts = [
        {"change_id": "a", "status": "applied", "seq": 7, "quiet": True},
        {"change_id": "b", "status": "rejected", "errors": {"nik": ["NIK harus 16 digit."]}},
        {"change_id": "c", "status": "applied", "seq": 8, "quiet": True},
        {"change_id": "d", "status": "applied", "seq": 9, "quiet": True},
        {"change_id": "e", "status": "merged", "seq": 10},
        {"change_id": "f", "status": "applied", "seq": 12, "quiet": True, "hlc": "x"},
    ]
    compact = compact_receipts(receipts)
    assert compact == [[7, 1], receipts[1], [8, 2], receipts[4], receipts[5]]
    assert expand_receipts(compact, list("abcdef")) == receipts


@given(
    st.lists(
        st.one_of(
            st.integers(1, 50).map(lambda gap: ("quiet", gap)),
            st.sampled_from(["merged", "rejected", "conflict"]).map(lambda s: (s, 1)),
        ),
        max_size=40,
    )
)
def test_compact_receipts_expand_back_to_the_very_same_receipts(shape):
    receipts, seq = [], 0
    for index, (kind, gap) in enumerate(shape):
        seq += gap
        change_id = f"c{index}"
        if kind == "quiet":
            receipts.append(
                {"change_id": change_id, "status": "applied", "seq": seq, "quiet": True}
            )
        elif kind == "rejected":
            receipts.append({"change_id": change_id, "status": "rejected", "errors": {}})
        else:
            receipts.append({"change_id": change_id, "status": kind, "seq": seq})
    ids = [r["change_id"] for r in receipts]
    assert expand_receipts(compact_receipts(receipts), ids) == receipts


@pytest.mark.parametrize(
    "compact",
    [[[1, 3]], [[1, 1]], [[1, 0], [1, 2]], [["1", 2]], [[1, 2, 3]], {"a": 1}, [[1, -2], [1, 4]]],
    ids=["too many", "too few", "an empty run", "text", "three numbers", "no list", "negative"],
)
def test_compact_receipts_that_do_not_cover_the_batch_are_refused(compact):
    with pytest.raises(ValueError):
        expand_receipts(compact, ["a", "b"])


class CannedTransport:
    """Answers every request with one canned body."""

    def __init__(self, payload: dict[str, Any]) -> None:
        self.payload = payload

    def send(self, method, path, *, body=None, headers=None, params=None) -> RawResponse:
        return RawResponse(200, orjson.dumps(self.payload), {})

    def close(self) -> None:
        pass


def test_a_laptop_refuses_compact_receipts_meant_for_another_batch():
    batch = OutboxBatch(("a", "b"), ("{}", "{}"))
    foreign = {"compact": [[1, 2]], "check": batch_check(["x", "y"]), "duplicates": 0}
    with pytest.raises(ProtocolError):
        HubClient(CannedTransport(foreign), "token").push(batch)


def test_a_pushing_laptop_is_not_sent_its_own_records_back(laptops, hub_app: Flask):
    ani, dewi = laptops.enroll("ani"), laptops.enroll("dewi")
    bid = ani.store.add("beneficiary", beneficiary())
    ani.store.add("visit", visit(bid))

    first = ani.sync()
    assert (first.pushed, first.pulled) == (2, 0)
    assert ani.store.pull_cursor == 2  # the cursor moved past the records it was not sent
    assert ani.store.status()["awaiting_pull"] == 0
    assert dewi.sync().pulled == 2


def test_the_laptops_own_copy_is_byte_for_byte_the_hubs(laptops, hub_storage):
    """Creates, edits, a status move and a delete, pushed in separate rounds without a pull
    in between: the copy the laptop stamps itself equals the record the hub holds."""
    ani = laptops.enroll("ani")
    bid = ani.store.add("beneficiary", beneficiary())
    vid = ani.store.add("visit", visit(bid))
    rid = ani.store.add(
        "device_request",
        {"beneficiary_id": bid, "kelurahan": KELURAHAN, "device_type": "kruk"},
    )
    ani.sync()
    ani.store.update("beneficiary", bid, {"phone": "0812-1111-2222"})
    ani.store.update("device_request", rid, {"status": "dibatalkan"})
    ani.sync()
    ani.store.update("beneficiary", bid, {"address": "Jl. Kenanga 3"})
    ani.store.delete("visit", vid)
    ani.sync()

    hub = hub_records(hub_storage)
    mine = pulled_rows(ani)
    assert set(mine) == set(hub)
    for record_id, (seq, deleted, data) in mine.items():
        assert (seq, deleted, data) == (
            hub[record_id]["seq"],
            hub[record_id]["deleted"],
            hub[record_id]["data"],
        )
    assert [h["to"] for h in mine[rid][2]["status_history"]] == ["diajukan", "dibatalkan"]


def test_a_concurrent_edit_is_echoed_so_the_laptop_learns_the_merge(laptops):
    ani, budi = laptops.enroll("ani"), laptops.enroll("budi")
    bid = ani.store.add("beneficiary", beneficiary())
    ani.sync()
    budi.sync()
    budi.store.update("beneficiary", bid, {"phone": "0812-3333-4444"})
    ani.store.update("beneficiary", bid, {"address": "Jl. Mawar 9"})
    budi.sync()

    result = ani.sync()

    assert result.pulled == 1  # merged, not quiet: the hub sends the merged record
    seen = ani.store.get("beneficiary", bid)
    assert (seen["phone"], seen["address"], seen["sync"]) == (
        "0812-3333-4444",
        "Jl. Mawar 9",
        "synced",
    )


def test_a_change_the_hub_redirects_is_echoed_not_stamped_by_the_laptop(laptops, hub_storage):
    """A visit for a beneficiary the office merged away goes to the survivor: the laptop
    must learn that from the pull, so the hub does not mark it quiet."""
    ani = laptops.enroll("ani")
    kept = ani.store.add("beneficiary", beneficiary())
    gone = ani.store.add("beneficiary", beneficiary(name="Sri W.", nik="3171014508450002"))
    ani.sync()
    with hub_storage.write() as session:  # as the office's merge of the two leaves them
        row = session.records_for([gone])[gone]
        row.deleted, row.data["merged_into"], row.seq = True, kept, session.last_seq() + 1
        row.quiet_device = None
        session.save([row], [], [])
    ani.store.add("visit", visit(gone))

    ani.sync()

    (shown,) = ani.store.list("visit")
    assert shown["beneficiary_id"] == kept
    assert shown["sync"] == "synced"


def test_each_call_reports_the_laptops_version_and_queue(laptops, hub_storage):
    ani = laptops.enroll("ani")
    for n in range(3):
        ani.store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=None))

    ani.sync()

    (device,) = hub_storage.list_devices()
    assert device.queue_size == 0  # what was left once the last batch went in
    assert device.client_version and device.reported_at


@pytest.mark.parametrize("junk", ["banyak", "-3", "٣", str(2**70)])
def test_a_junk_queue_report_is_ignored_not_refused(laptops, hub_app: Flask, junk):
    ani = laptops.enroll("ani")
    response = hub_app.test_client().get(
        "/api/v1/sync/pull",
        headers={
            "Authorization": f"Bearer {ani.store.identity.token}",
            "Pendamping-Queue": junk,
            "Pendamping-Client": "9.9",
        },
    )
    assert response.status_code == 200
    (device,) = hub_app.extensions["pendamping"].storage.list_devices()
    assert (device.client_version, device.queue_size) == ("9.9", None)


def test_a_device_that_calls_too_often_gets_429_with_retry_after(laptops, hub_app: Flask):
    ani = laptops.enroll("ani")
    limiter = hub_app.extensions["pendamping"].rate_limiter
    limiter.rate, limiter.burst = 0.5, 2
    client = hub_app.test_client()
    auth = {"Authorization": f"Bearer {ani.store.identity.token}"}
    codes = [client.get("/api/v1/sync/pull", headers=auth).status_code for _ in range(3)]
    last = client.get("/api/v1/sync/pull", headers=auth)
    assert codes[:2] == [200, 200]
    assert last.status_code == 429
    assert last.get_json()["error"] == "too_many_requests"
    assert int(last.headers["Retry-After"]) >= 1
    other = laptops.enroll("dewi")  # another laptop is not held back
    other_auth = {"Authorization": f"Bearer {other.store.identity.token}"}
    assert client.get("/api/v1/sync/pull", headers=other_auth).status_code == 200


def test_a_push_that_waits_past_the_bound_answers_503_with_retry_after_and_writes_nothing(
    laptops, hub_app: Flask, hub_storage
):
    """Issue 11 changed this: a push no longer meets a full queue at once; it waits its
    turn for WRITE_WAIT_MAX_S, and only a writer busy for longer turns it away, saying
    how long the queue ahead should take (here one estimated push of 400 changes)."""
    ani = laptops.enroll("ani")
    ani.store.add("beneficiary", beneficiary())
    (batch,) = ani.store.outbox_batches(10**6)
    gate = hub_app.extensions["pendamping"].write_gate
    gate.wait_max_s = 0.5
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:  # a push of 400 changes that takes far longer than its estimate
        with gate.turn(400), hub_storage.write():
            holding.set()
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    try:
        response = hub_app.test_client().post(
            PUSH,
            data=HubClient.encode_push(batch),
            headers={
                "Authorization": f"Bearer {ani.store.identity.token}",
                "Content-Encoding": "gzip",
                "Content-Type": "application/json",
            },
        )
    finally:
        release.set()
        holder.join()
    assert response.status_code == 503
    assert response.get_json()["error"] == "hub_busy"
    assert response.headers["Retry-After"] == "1"
    assert "Hub sedang sibuk" in response.get_json()["message"]
    assert "coba lagi dalam 1 detik" in response.get_json()["message"]
    assert hub_storage.stats()["changes"] == 0
    assert ani.sync().pushed == 1  # once the queue drains, the same change goes in


def test_the_laptop_waits_out_a_429_and_finishes_its_sync(
    hub_app: Flask, live_hub, tmp_path, add_user
):
    """Over a real socket: urllib3's Retry reads Retry-After and tries again."""
    from client_sync import FieldDevice

    laptop = FieldDevice.enroll(tmp_path / "laptop", live_hub, add_user("ani"), "laptop-ani")
    for n in range(3):
        laptop.store.add("beneficiary", beneficiary(name=f"Penerima {n}", nik=None))
    limiter = hub_app.extensions["pendamping"].rate_limiter
    limiter.rate, limiter.burst = 1.0, 1

    result = laptop.sync(batch_bytes=1)  # one change a batch: three calls, then the pull

    assert (result.pushed, result.batches) == (3, 3)
    assert laptop.store.pending_count() == 0


def test_a_client_that_asks_for_full_receipts_gets_its_own_records_back(laptops, hub_app: Flask):
    """Quiet writes are for laptops that stamp their own copy: they ask for compact
    receipts. An older client gets every record back in its pull, as before."""
    ani = laptops.enroll("ani")
    ani.store.add("beneficiary", beneficiary())
    (batch,) = ani.store.outbox_batches(10**6)
    body = '{"protocol":1,"schema_version":1,"changes":[' + batch.changes_json[0] + "]}"
    client = hub_app.test_client()
    auth = {"Authorization": f"Bearer {ani.store.identity.token}"}

    pushed = client.post(PUSH, data=body, headers={**auth, "Content-Type": "application/json"})
    pulled = client.get("/api/v1/sync/pull", headers=auth).get_json()

    assert "quiet" not in pushed.get_json()["receipts"][0]
    assert [r["id"] for r in pulled["records"]] == [
        orjson.loads(batch.changes_json[0])["record_id"]
    ]


def test_a_retry_after_longer_than_the_wait_is_reported_not_slept_through(
    hub_app: Flask, live_hub, tmp_path, add_user
):
    """A pendamping's terminal does not hang past its wait: a 429 asking for longer than
    the transport may wait on a busy hub (issue 11: a deadline, `pendamping sync --wait`)
    comes back at once as HubBusy, with the wait for the daemon to honour."""
    import time

    from client_sync import FieldDevice
    from client_sync.errors import HubBusy
    from client_sync.transport import HttpTransport, default_retry

    def waits_30_s(url: str) -> HttpTransport:
        return HttpTransport(url, retry=default_retry(wait_s=30))

    laptop = FieldDevice.enroll(
        tmp_path / "laptop", live_hub, add_user("ani"), "laptop-ani", transport_factory=waits_30_s
    )
    limiter = hub_app.extensions["pendamping"].rate_limiter
    limiter.rate, limiter.burst = 0.01, 1  # the next call would wait 100 s

    start = time.monotonic()
    with pytest.raises(HubBusy) as busy:
        laptop.sync()
        laptop.sync()

    assert time.monotonic() - start < 10
    assert busy.value.status == 429
    assert busy.value.retry_after is not None and busy.value.retry_after > 30
