"""Quiet writes only for a client that asked for them: one asking for full receipts
still pulls its records back."""

from __future__ import annotations

import gzip

import pytest
from flask import Flask

from tests.conftest import beneficiary

pytestmark = pytest.mark.both_backends

PUSH = "/api/v1/sync/push"
PULL = "/api/v1/sync/pull"


# -- (3) protocol: quiet writes for a client that never asked for them ----------------------------


def test_a_client_that_asks_for_full_receipts_still_gets_its_records_back_in_pull(
    laptops, hub_app: Flask
):
    ani = laptops.enroll("ani")
    bid = ani.store.add("beneficiary", beneficiary())
    (batch,) = ani.store.outbox_batches(10**7)
    # The push body of a client before issue 5: no "receipts" key (docs/protocol.md: "Old
    # clients that do not ask get the full form"). Such a client does not fold receipts;
    # it keeps the change 'acked' until the record comes back in a pull.
    body = (
        '{"protocol":1,"schema_version":1,"changes":[' + ",".join(batch.changes_json) + "]}"
    ).encode()
    headers = {
        "Authorization": f"Bearer {ani.store.identity.token}",
        "Content-Encoding": "gzip",
        "Content-Type": "application/json",
    }
    client = hub_app.test_client()
    pushed = client.post(PUSH, data=gzip.compress(body), headers=headers)
    assert pushed.status_code == 200 and "receipts" in pushed.get_json()

    auth = {"Authorization": headers["Authorization"]}
    page = client.get(PULL, query_string={"since": 0}, headers=auth).get_json()
    assert bid in [r["id"] for r in page["records"]]
