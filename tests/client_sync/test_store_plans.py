"""What a receipt does to the outbox and what a pulled page does to the store, as the pure
plans of :mod:`client_sync.store.receipts` and :mod:`client_sync.store.pages` say: no
database, no hub."""

from __future__ import annotations

import json

import orjson

from client_sync.store.pages import plan_pull_page
from client_sync.store.receipts import (
    PendingChange,
    PulledRow,
    fold_quiet,
    is_quiet,
    plan_confirm,
)

DEVICE = "dev-1"
RECORD = "6f1c1e38-7d5e-4a53-9d59-0c1f8f0e2a11"
HLC = "0001732345678901:000000:dev-1"


def change(change_id: str, fields: dict, op: str = "put") -> PendingChange:
    return PendingChange(change_id, "device_request", RECORD, json.dumps(fields), HLC, "siti", op)


def quiet(change_id: str, seq: int) -> dict:
    return {"change_id": change_id, "status": "applied", "seq": seq, "quiet": True}


def pulled(seq: int, **data) -> PulledRow:
    return PulledRow(RECORD, "device_request", seq, 0, orjson.dumps(data).decode())


# -- receipts ------------------------------------------------------------------------------


def test_a_receipt_is_quiet_only_when_applied_with_a_seq_and_marked_quiet():
    assert is_quiet(quiet("a", 3))
    assert not is_quiet({**quiet("a", 3), "quiet": False})
    assert not is_quiet({**quiet("a", 3), "status": "conflict"})
    assert not is_quiet({**quiet("a", 3), "seq": "3"})
    assert not is_quiet({"change_id": "a", "status": "applied", "seq": 3})


def test_receipts_are_sorted_into_fold_acked_and_rejected_in_their_order():
    refused = {"change_id": "c", "status": "rejected", "errors": {"nik": ["Salah."]}}
    plan = plan_confirm(
        [
            quiet("a", 7),
            {"change_id": "b", "status": "applied", "seq": 8},
            refused,
            {"change_id": "d", "status": "conflict", "seq": 9},
            quiet("e", 10),
        ]
    )

    assert [r["change_id"] for r in plan.quiet] == ["a", "e"]
    assert [(seq, change_id) for seq, _receipt, change_id in plan.acked] == [(8, "b"), (9, "d")]
    assert plan.rejected == ((json.dumps(refused, separators=(",", ":")), "c"),)


def test_a_quiet_receipt_folds_its_change_into_the_laptops_copy_and_forgets_it():
    before = pulled(4, device_type="kruk", status="diajukan", created_at="2024-01-01T00:00:00Z")

    fold = fold_quiet(
        [quiet("a", 7)], {"a": change("a", {"status": "disetujui"})}, {RECORD: before}, DEVICE
    )

    assert fold.forget == ("a",)
    (row,) = fold.pulled
    data = orjson.loads(row.data)
    assert (row.id, row.seq, row.deleted) == (RECORD, 7, 0)
    assert data["status"] == "disetujui" and data["device_type"] == "kruk"
    assert data["created_at"] == "2024-01-01T00:00:00Z"
    assert data["status_history"][-1] == {
        "from": "diajukan",
        "to": "disetujui",
        "by": "siti",
        "device": DEVICE,
        "at": data["updated_at"],
        "seq": 7,
    }


def test_two_quiet_receipts_on_one_record_fold_one_after_the_other():
    fold = fold_quiet(
        [quiet("a", 7), quiet("b", 8)],
        {"a": change("a", {"reason": "Stroke."}), "b": change("b", {"device_type": "kruk"})},
        {},
        DEVICE,
    )

    assert [row.seq for row in fold.pulled] == [7, 8]
    assert orjson.loads(fold.pulled[-1].data)["reason"] == "Stroke."
    assert fold.forget == ("a", "b")


def test_a_quiet_receipt_of_a_change_no_longer_pending_is_left_alone():
    fold = fold_quiet(
        [quiet("gone", 7), quiet("a", 8), quiet("a", 8)], {"a": change("a", {})}, {}, DEVICE
    )

    assert fold.forget == ("a",)
    assert len(fold.pulled) == 1


def test_a_quiet_delete_marks_the_copy_deleted():
    fold = fold_quiet(
        [quiet("a", 9)], {"a": change("a", {}, op="delete")}, {RECORD: pulled(4)}, DEVICE
    )

    assert fold.pulled[0].deleted == 1


def test_a_fold_older_than_the_copy_does_not_become_the_base_of_the_next():
    newer = pulled(20, reason="Hub.")

    fold = fold_quiet(
        [quiet("a", 7), quiet("b", 8)],
        {"a": change("a", {"reason": "Laptop."}), "b": change("b", {"device_type": "kruk"})},
        {RECORD: newer},
        DEVICE,
    )

    assert orjson.loads(fold.pulled[-1].data)["reason"] == "Hub."


# -- pulled pages --------------------------------------------------------------------------


def page_record(seq: int, hlc: str | None = None, deleted: bool = False) -> dict:
    return {
        "entity": "beneficiary",
        "id": f"r{seq}",
        "seq": seq,
        "deleted": deleted,
        "hlc": hlc,
        "data": {"name": "Ibu Sri"},
    }


def test_a_page_plans_its_rows_its_exits_its_conflicts_and_the_next_cursor():
    conflict = {"conflict_id": "k1", "record_id": "r3", "resolved_at": None}
    plan = plan_pull_page(
        [page_record(3), page_record(4, deleted=True)],
        4,
        [conflict, {**conflict, "conflict_id": "k2", "resolved_at": "2026-01-01T00:00:00Z"}],
        [{"id": "r1", "entity": "visit", "seq": 2}],
        cursor=2,
        last_hlc=None,
        device_id=DEVICE,
        wall=lambda: 1000,
    )

    assert plan.upserts == [
        ("r3", "beneficiary", 3, 0, '{"name":"Ibu Sri"}'),
        ("r4", "beneficiary", 4, 1, '{"name":"Ibu Sri"}'),
    ]
    assert plan.exits == [("r1", 2)]
    assert [(c[0], c[2]) for c in plan.conflicts] == [("k1", 0), ("k2", 1)]
    assert plan.cursor == 4


def test_the_cursor_never_moves_back():
    plan = plan_pull_page([], 3, cursor=9, last_hlc=None, device_id=DEVICE, wall=lambda: 1000)

    assert plan.cursor == 9


def test_the_laptop_clock_observes_the_newest_change_of_the_page():
    ahead = "0009999999999999:000004:hub"

    plan = plan_pull_page(
        [page_record(1, "0000000000002000:000000:hub"), page_record(2, ahead)],
        2,
        cursor=0,
        last_hlc="0000000000001500:000000:dev-1",
        device_id=DEVICE,
        wall=lambda: 1000,
    )

    assert plan.hlc == "0009999999999999:000005:dev-1"


def test_an_empty_page_keeps_the_clock_where_it_was():
    plan = plan_pull_page(
        [],
        0,
        cursor=0,
        last_hlc="0000000000001500:000003:dev-1",
        device_id=DEVICE,
        wall=lambda: 1000,
    )

    assert plan.hlc == "0000000000001500:000003:dev-1"
