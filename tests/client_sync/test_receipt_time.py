"""The hub's time of receipt (issue 13 item 7): the push answer's optional `received_at`
is what the laptop notes as the time a record reached the hub (*terkirim · time*); from a
hub that does not send it, or sends something that is not a time, the laptop keeps its own
clock, as before. Through the real engine, HubClient and the in-process hub."""

from __future__ import annotations

import json

from client_sync.hub import HubClient, hub_time
from client_sync.transport import RawResponse
from schemas.hlc import iso_from_ms
from tests.conftest import beneficiary
from tests.support.transports import WsgiTransport

PUSH = "/api/v1/sync/push"
#: the laptop's own clock during the push: far from the hub's, so the two cannot be confused
LAPTOP_MS = 1_900_000_000_000


class PushAnswers:
    """The in-process hub; each push answer is recorded and its `received_at` replaced by
    `received_at` (``None``: removed, as an older hub answers; ``...``: left as sent)."""

    def __init__(self, app, received_at=...) -> None:
        self.inner = WsgiTransport(app)
        self.received_at = received_at
        self.answers: list[dict] = []

    def send(self, method: str, path: str, **kwargs) -> RawResponse:
        response = self.inner.send(method, path, **kwargs)
        if path != PUSH or response.status != 200:
            return response
        data = json.loads(response.body)
        self.answers.append(dict(data))
        if self.received_at is None:
            data.pop("received_at", None)
        elif self.received_at is not ...:
            data["received_at"] = self.received_at
        return RawResponse(response.status, json.dumps(data).encode(), response.headers)

    def close(self) -> None:
        self.inner.close()


def pushed_with(laptops, transport: PushAnswers):
    siti = laptops.enroll("siti", transport_factory=lambda _url: transport)
    record_id = siti.store.add("beneficiary", beneficiary())
    siti.store._wall = lambda: LAPTOP_MS  # the laptop's clock from here on
    siti.sync()
    place = siti.store.views.where(record_id)
    siti.close()
    assert place is not None and place.state == "terkirim"
    return place


def test_a_record_sent_carries_the_hubs_own_time_of_receipt(laptops):
    transport = PushAnswers(laptops.app)
    place = pushed_with(laptops, transport)
    [answer] = transport.answers
    assert answer["received_at"].endswith("Z")
    assert place.received_at == answer["received_at"] != iso_from_ms(LAPTOP_MS)


def test_from_a_hub_that_sends_no_time_the_laptop_keeps_its_own_clock(laptops):
    place = pushed_with(laptops, PushAnswers(laptops.app, received_at=None))
    assert place.received_at == iso_from_ms(LAPTOP_MS)


def test_a_time_that_is_not_one_is_ignored_and_the_laptop_keeps_its_own_clock(laptops):
    place = pushed_with(laptops, PushAnswers(laptops.app, received_at="2026-11-23T09:30:00"))
    assert place.received_at == iso_from_ms(LAPTOP_MS)  # no zone: not believed


def test_the_hubs_time_is_written_the_laptops_way():
    assert hub_time("2026-11-23T09:30:00+07:00") == "2026-11-23T02:30:00.000Z"
    assert hub_time("2026-11-23T02:30:00.123Z") == "2026-11-23T02:30:00.123Z"
    for odd in (None, 17, "", "kemarin", "2026-11-23", "9" * 50):
        assert hub_time(odd) is None


def test_the_receipts_are_the_same_with_or_without_the_time(laptops):
    """What a laptop from before `received_at` reads of an answer is unchanged by it."""
    siti = laptops.enroll("siti")
    siti.store.add("beneficiary", beneficiary())
    (batch,) = siti.store.outbox_batches(10**7)
    answers = PushAnswers(laptops.app)
    receipts = HubClient(answers, siti.store.identity.token).push(batch)
    [answer] = answers.answers
    assert receipts.received_at == answer["received_at"]
    without = {k: v for k, v in answer.items() if k != "received_at"}
    assert HubClient._receipts(without, batch.change_ids) == list(receipts)
    siti.close()
