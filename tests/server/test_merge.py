"""The hub's conflict policy, `server.merge.merge_change`, as a pure function, table-driven.

Each table row is one change meeting one record as the hub holds it: the held values with the
stamp of the write that put each one there, the change, and everything the merge must answer
(values, stamps, tombstone, receipt status, applied fields, losses, status transition). Then
the refusals, the inputs left untouched, and a Hypothesis property: three devices' changes in
any interleaving never walk a request through an illegal transition, and every value typed
stays in the record, in the conflict queue, or was replaced by someone who had seen it.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.lifecycle import TRANSITIONS, is_legal_transition
from server.merge import (
    DELETED,
    STATUS_FIELD,
    Incoming,
    Loss,
    MergeResult,
    Refusal,
    Stamp,
    _merge_any,
    merge_change,
    node_of,
)

BASE_MS = 1_732_345_678_000
A, B, HUB = "laptop-a", "laptop-b", "hub"


def hlc(ms: int, node: str, counter: int = 0) -> str:
    """An encoded HLC `ms` milliseconds after BASE_MS."""
    return f"{BASE_MS + ms:016d}:{counter:06d}:{node}"


#: The write that created the request: laptop-a, hub seq 1.
CREATED = Stamp(hlc(0, A), 1)
REQUEST: dict[str, tuple[Any, Stamp]] = {
    "device_type": ("kursi_roda", CREATED),
    "reason": ("Lumpuh kedua kaki", CREATED),
    "status": ("diajukan", CREATED),
}
Held = dict[str, tuple[Any, Stamp]]


def tombstone(stamp: Stamp) -> Held:
    """The stamp of the last delete or restore, held under the DELETED pseudo-field."""
    return {DELETED: (None, stamp)}


def request(**writes: tuple[Any, Stamp]) -> Held:
    """The created request with some fields written again since."""
    return {**REQUEST, **writes}


def outcome(
    held: Held,
    status: str,
    applied: list[str] | None = None,
    losses: list[Loss] | None = None,
    transition: tuple[str | None, str] | None = None,
    deleted: bool = False,
) -> MergeResult:
    """The MergeResult a case wants, from the values and stamps it should end with."""
    return MergeResult(
        {name: value for name, (value, _stamp) in held.items() if name != DELETED},
        {name: stamp for name, (_value, stamp) in held.items()},
        deleted,
        status,
        applied or [],
        losses or [],
        transition,
    )


@dataclass(frozen=True)
class Case:
    id: str
    held: Held
    change: Incoming
    seq: int
    want: MergeResult
    deleted: bool = False

    def inputs(self) -> tuple[dict[str, Any], dict[str, Stamp], bool, Incoming, int]:
        data = {name: value for name, (value, _s) in self.held.items() if name != DELETED}
        stamps = {name: stamp for name, (_v, stamp) in self.held.items()}
        return data, stamps, self.deleted, self.change, self.seq


# -- fields ---------------------------------------------------------------------------------

FIELD_CASES = [
    Case(
        "a new request takes every field of its first change and records its first status",
        {},
        Incoming(
            {"device_type": "kursi_roda", "reason": "Lumpuh kedua kaki", "status": "diajukan"},
            hlc(0, A),
            None,
        ),
        1,
        outcome(
            REQUEST,
            "applied",
            ["device_type", "reason", "status"],
            transition=(None, "diajukan"),
        ),
    ),
    Case(
        "a new record without a status takes every field and records no transition",
        {},
        Incoming({"name": "Ibu Sri Wahyuni", "sex": "P"}, hlc(0, B), None),
        7,
        outcome(
            {"name": ("Ibu Sri Wahyuni", Stamp(hlc(0, B), 7)), "sex": ("P", Stamp(hlc(0, B), 7))},
            "applied",
            ["name", "sex"],
        ),
    ),
    Case(
        "an edit made on top of the latest version replaces the value even with an older clock",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"reason": "Stroke, tangan kiri lemah"}, hlc(3_000, A), 2),
        3,
        outcome(
            request(reason=("Stroke, tangan kiri lemah", Stamp(hlc(3_000, A), 3))),
            "applied",
            ["reason"],
        ),
    ),
    Case(
        "an edit whose base_seq is past every write replaces values and loses nothing",
        request(
            reason=("Stroke ringan", Stamp(hlc(5_000, B), 2)),
            device_type=("walker", Stamp(hlc(9_000, HUB), 4)),
        ),
        Incoming({"reason": "Stroke berat", "device_type": "kruk"}, hlc(1_000, A), 6),
        7,
        outcome(
            request(
                reason=("Stroke berat", Stamp(hlc(1_000, A), 7)),
                device_type=("kruk", Stamp(hlc(1_000, A), 7)),
            ),
            "applied",
            ["reason", "device_type"],
        ),
    ),
    Case(
        "a device's next offline edit replaces its previous one without any base_seq",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, A), 2))),
        Incoming({"reason": "Stroke berat"}, hlc(6_000, A), None),
        3,
        outcome(request(reason=("Stroke berat", Stamp(hlc(6_000, A), 3))), "applied", ["reason"]),
    ),
    Case(
        "a device's next edit replaces its previous one even when its clock went backwards",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, A), 2))),
        Incoming({"reason": "Stroke berat"}, hlc(4_000, A, 3), None),
        3,
        outcome(
            request(reason=("Stroke berat", Stamp(hlc(4_000, A, 3), 3))), "applied", ["reason"]
        ),
    ),
    Case(
        "a device's next edit replaces its previous one even with a base_seq older than both",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, A), 4))),
        Incoming({"reason": "Stroke berat"}, hlc(2_000, A), 1),
        5,
        outcome(request(reason=("Stroke berat", Stamp(hlc(2_000, A), 5))), "applied", ["reason"]),
    ),
    Case(
        "a concurrent edit of another field merges and both values stay",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"device_type": "walker"}, hlc(4_000, A), 1),
        3,
        outcome(
            request(
                reason=("Stroke ringan", Stamp(hlc(5_000, B), 2)),
                device_type=("walker", Stamp(hlc(4_000, A), 3)),
            ),
            "merged",
            ["device_type"],
        ),
    ),
    Case(
        "a concurrent edit of the same field with a newer clock wins and queues the held value",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"reason": "Lumpuh total"}, hlc(6_000, A), 1),
        3,
        outcome(
            request(reason=("Lumpuh total", Stamp(hlc(6_000, A), 3))),
            "conflict",
            ["reason"],
            [
                Loss(
                    "reason",
                    "field",
                    "Lumpuh total",
                    hlc(6_000, A),
                    "Stroke ringan",
                    hlc(5_000, B),
                    False,
                )
            ],
        ),
    ),
    Case(
        "a concurrent edit of the same field with an older clock loses and is queued",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"reason": "Lumpuh total"}, hlc(4_000, A), 1),
        3,
        outcome(
            request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
            "conflict",
            [],
            [
                Loss(
                    "reason",
                    "field",
                    "Stroke ringan",
                    hlc(5_000, B),
                    "Lumpuh total",
                    hlc(4_000, A),
                    True,
                )
            ],
        ),
    ),
    Case(
        "a concurrent null that loses to a value is queued like any other value",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"reason": None}, hlc(4_000, A), None),
        3,
        outcome(
            request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
            "conflict",
            [],
            [Loss("reason", "field", "Stroke ringan", hlc(5_000, B), None, hlc(4_000, A), True)],
        ),
    ),
    Case(
        "at the same millisecond and counter the greater device id wins",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, A), 2))),
        Incoming({"reason": "Lumpuh total"}, hlc(5_000, B), 1),
        3,
        outcome(
            request(reason=("Lumpuh total", Stamp(hlc(5_000, B), 3))),
            "conflict",
            ["reason"],
            [
                Loss(
                    "reason",
                    "field",
                    "Lumpuh total",
                    hlc(5_000, B),
                    "Stroke ringan",
                    hlc(5_000, A),
                    False,
                )
            ],
        ),
    ),
    Case(
        "one change can win one concurrent field and lose another",
        request(
            reason=("Stroke ringan", Stamp(hlc(5_000, B), 2)),
            device_type=("walker", Stamp(hlc(9_000, HUB), 3)),
        ),
        Incoming({"reason": "Lumpuh total", "device_type": "kruk"}, hlc(7_000, A), 1),
        4,
        outcome(
            request(
                reason=("Lumpuh total", Stamp(hlc(7_000, A), 4)),
                device_type=("walker", Stamp(hlc(9_000, HUB), 3)),
            ),
            "conflict",
            ["reason"],
            [
                Loss(
                    "reason",
                    "field",
                    "Lumpuh total",
                    hlc(7_000, A),
                    "Stroke ringan",
                    hlc(5_000, B),
                    False,
                ),
                Loss(
                    "device_type", "field", "walker", hlc(9_000, HUB), "kruk", hlc(7_000, A), True
                ),
            ],
        ),
    ),
    Case(
        "a concurrent edit that typed the same value is no conflict and keeps the held stamp",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({"reason": "Stroke ringan"}, hlc(6_000, A), 1),
        3,
        outcome(request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))), "merged"),
    ),
    Case(
        "fields the change does not set keep their values and stamps",
        request(device_type=("walker", Stamp(hlc(9_000, HUB), 3))),
        Incoming({"reason": "Stroke berat"}, hlc(1_000, A), 3),
        4,
        outcome(
            request(
                device_type=("walker", Stamp(hlc(9_000, HUB), 3)),
                reason=("Stroke berat", Stamp(hlc(1_000, A), 4)),
            ),
            "applied",
            ["reason"],
        ),
    ),
]


# -- status ---------------------------------------------------------------------------------

STATUS_CASES = [
    Case(
        "a legal transition made on top of the status it saw applies and is recorded",
        request(),
        Incoming({"status": "diverifikasi"}, hlc(2_000, B), 1),
        2,
        outcome(
            request(status=("diverifikasi", Stamp(hlc(2_000, B), 2))),
            "applied",
            ["status"],
            transition=("diajukan", "diverifikasi"),
        ),
    ),
    Case(
        "a device's successive transitions apply one after the other without a base_seq",
        request(status=("diverifikasi", Stamp(hlc(2_000, A), 2))),
        Incoming({"status": "dibatalkan"}, hlc(3_000, A), None),
        3,
        outcome(
            request(status=("dibatalkan", Stamp(hlc(3_000, A), 3))),
            "applied",
            ["status"],
            transition=("diverifikasi", "dibatalkan"),
        ),
    ),
    Case(
        "a cancellation concurrent with a verification applies after it",
        request(status=("diverifikasi", Stamp(hlc(5_000, B), 2))),
        Incoming({"status": "dibatalkan"}, hlc(4_000, A), 1),
        3,
        outcome(
            request(status=("dibatalkan", Stamp(hlc(4_000, A), 3))),
            "merged",
            ["status"],
            transition=("diverifikasi", "dibatalkan"),
        ),
    ),
    Case(
        "a cancellation concurrent with an approval applies after it",
        request(status=("disetujui", Stamp(hlc(9_000, HUB), 3))),
        Incoming({"status": "dibatalkan"}, hlc(4_000, A), 2),
        4,
        outcome(
            request(status=("dibatalkan", Stamp(hlc(4_000, A), 4))),
            "merged",
            ["status"],
            transition=("disetujui", "dibatalkan"),
        ),
    ),
    Case(
        "a rejection concurrent with an approval is queued and the approval stays",
        request(status=("disetujui", Stamp(hlc(5_000, HUB), 3))),
        Incoming({"status": "ditolak"}, hlc(4_000, B), 2),
        4,
        outcome(
            request(status=("disetujui", Stamp(hlc(5_000, HUB), 3))),
            "conflict",
            [],
            [
                Loss(
                    "status", "status", "disetujui", hlc(5_000, HUB), "ditolak", hlc(4_000, B), True
                )
            ],
        ),
    ),
    Case(
        "an approval concurrent with a rejection is queued even with the newer clock",
        request(status=("ditolak", Stamp(hlc(5_000, B), 3))),
        Incoming({"status": "disetujui"}, hlc(8_000, HUB), 2),
        4,
        outcome(
            request(status=("ditolak", Stamp(hlc(5_000, B), 3))),
            "conflict",
            [],
            [
                Loss(
                    "status", "status", "ditolak", hlc(5_000, B), "disetujui", hlc(8_000, HUB), True
                )
            ],
        ),
    ),
    Case(
        "a cancellation concurrent with a handover is queued and the handover stays",
        request(status=("diserahkan", Stamp(hlc(5_000, HUB), 4))),
        Incoming({"status": "dibatalkan"}, hlc(6_000, A), 3),
        5,
        outcome(
            request(status=("diserahkan", Stamp(hlc(5_000, HUB), 4))),
            "conflict",
            [],
            [
                Loss(
                    "status",
                    "status",
                    "diserahkan",
                    hlc(5_000, HUB),
                    "dibatalkan",
                    hlc(6_000, A),
                    True,
                )
            ],
        ),
    ),
    Case(
        "a handover concurrent with a cancellation is queued and the cancellation stays",
        request(status=("dibatalkan", Stamp(hlc(5_000, A), 4))),
        Incoming({"status": "diserahkan"}, hlc(6_000, HUB), 3),
        5,
        outcome(
            request(status=("dibatalkan", Stamp(hlc(5_000, A), 4))),
            "conflict",
            [],
            [
                Loss(
                    "status",
                    "status",
                    "dibatalkan",
                    hlc(5_000, A),
                    "diserahkan",
                    hlc(6_000, HUB),
                    True,
                )
            ],
        ),
    ),
    Case(
        "a verification concurrent with a rejection is queued rather than leave a final status",
        request(status=("ditolak", Stamp(hlc(5_000, HUB), 2))),
        Incoming({"status": "diverifikasi"}, hlc(6_000, A), 1),
        3,
        outcome(
            request(status=("ditolak", Stamp(hlc(5_000, HUB), 2))),
            "conflict",
            [],
            [
                Loss(
                    "status",
                    "status",
                    "ditolak",
                    hlc(5_000, HUB),
                    "diverifikasi",
                    hlc(6_000, A),
                    True,
                )
            ],
        ),
    ),
    Case(
        "the same status set concurrently twice is a no-op",
        request(status=("dibatalkan", Stamp(hlc(5_000, B), 2))),
        Incoming({"status": "dibatalkan"}, hlc(6_000, A), 1),
        3,
        outcome(request(status=("dibatalkan", Stamp(hlc(5_000, B), 2))), "merged"),
    ),
    Case(
        "the status it saw set again is a no-op",
        request(status=("diverifikasi", Stamp(hlc(5_000, B), 2))),
        Incoming({"status": "diverifikasi"}, hlc(6_000, A), 2),
        3,
        outcome(request(status=("diverifikasi", Stamp(hlc(5_000, B), 2))), "applied"),
    ),
    Case(
        "a lost status does not stop the other fields of the change from merging",
        request(
            status=("disetujui", Stamp(hlc(5_000, HUB), 3)),
            reason=("Stroke ringan", Stamp(hlc(5_000, HUB), 3)),
        ),
        Incoming({"status": "ditolak", "device_type": "walker"}, hlc(6_000, B), 2),
        4,
        outcome(
            request(
                status=("disetujui", Stamp(hlc(5_000, HUB), 3)),
                reason=("Stroke ringan", Stamp(hlc(5_000, HUB), 3)),
                device_type=("walker", Stamp(hlc(6_000, B), 4)),
            ),
            "conflict",
            ["device_type"],
            [
                Loss(
                    "status", "status", "disetujui", hlc(5_000, HUB), "ditolak", hlc(6_000, B), True
                )
            ],
        ),
    ),
]


# -- deletes --------------------------------------------------------------------------------

DELETE_CASES = [
    Case(
        "deleting a record nobody edited concurrently leaves a tombstone and no conflict",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({}, hlc(6_000, A), 2, delete=True),
        3,
        outcome(
            request(
                reason=("Stroke ringan", Stamp(hlc(5_000, B), 2)),
                **tombstone(Stamp(hlc(6_000, A), 3)),
            ),
            "applied",
            [DELETED],
            deleted=True,
        ),
    ),
    Case(
        "a device deleting a record after its own offline edits is no conflict",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, A), 2))),
        Incoming({}, hlc(6_000, A), None, delete=True),
        3,
        outcome(
            request(
                reason=("Stroke ringan", Stamp(hlc(5_000, A), 2)),
                **tombstone(Stamp(hlc(6_000, A), 3)),
            ),
            "applied",
            [DELETED],
            deleted=True,
        ),
    ),
    Case(
        "a delete concurrent with another device's edit still deletes and queues the edit",
        request(reason=("Stroke ringan", Stamp(hlc(5_000, B), 2))),
        Incoming({}, hlc(6_000, A), 1, delete=True),
        3,
        outcome(
            request(
                reason=("Stroke ringan", Stamp(hlc(5_000, B), 2)),
                **tombstone(Stamp(hlc(6_000, A), 3)),
            ),
            "conflict",
            [DELETED],
            [Loss(DELETED, "delete", True, hlc(6_000, A), False, hlc(5_000, B), False)],
            deleted=True,
        ),
    ),
    Case(
        "an edit of a tombstone it had not seen is kept inside the tombstone and queued",
        request(**tombstone(Stamp(hlc(5_000, A), 2))),
        Incoming({"reason": "Stroke berat"}, hlc(4_000, B), 1),
        3,
        outcome(
            request(
                **tombstone(Stamp(hlc(5_000, A), 2)),
                reason=("Stroke berat", Stamp(hlc(4_000, B), 3)),
            ),
            "conflict",
            ["reason"],
            [Loss(DELETED, "delete", True, hlc(5_000, A), False, hlc(4_000, B), True)],
            deleted=True,
        ),
        deleted=True,
    ),
    Case(
        "restoring a tombstone brings the record back with its values",
        request(**tombstone(Stamp(hlc(5_000, A), 2))),
        Incoming({}, hlc(9_000, HUB), 3, delete=False),
        4,
        outcome(
            request(**tombstone(Stamp(hlc(9_000, HUB), 4))),
            "applied",
            [DELETED],
        ),
        deleted=True,
    ),
]

ALL_CASES = FIELD_CASES + STATUS_CASES + DELETE_CASES


def _check(case: Case) -> None:
    got = merge_change(*case.inputs())
    assert got == case.want


@pytest.mark.parametrize("case", FIELD_CASES, ids=[c.id for c in FIELD_CASES])
def test_a_field_edit_merges_into_the_held_record(case: Case):
    _check(case)


@pytest.mark.parametrize("case", STATUS_CASES, ids=[c.id for c in STATUS_CASES])
def test_a_status_change_follows_the_lifecycle(case: Case):
    _check(case)


@pytest.mark.parametrize("case", DELETE_CASES, ids=[c.id for c in DELETE_CASES])
def test_a_delete_or_restore_keeps_a_tombstone_and_queues_concurrent_edits(case: Case):
    _check(case)


def test_a_concurrent_delete_names_the_concurrent_edit_not_the_newest_one_it_had_seen():
    # laptop-b edits the reason (seq 2) while laptop-a, offline, edits the device type (seq 3)
    # and then deletes the request: the edit the delete overrides is laptop-b's.
    case = Case(
        "",
        request(
            reason=("Stroke ringan", Stamp(hlc(2_000, B), 2)),
            device_type=("walker", Stamp(hlc(3_000, A), 3)),
        ),
        Incoming({}, hlc(4_000, A), 1, delete=True),
        4,
        outcome(
            request(
                reason=("Stroke ringan", Stamp(hlc(2_000, B), 2)),
                device_type=("walker", Stamp(hlc(3_000, A), 3)),
                **tombstone(Stamp(hlc(4_000, A), 4)),
            ),
            "conflict",
            [DELETED],
            [Loss(DELETED, "delete", True, hlc(4_000, A), False, hlc(2_000, B), False)],
            deleted=True,
        ),
    )
    _check(case)


# -- refusals -------------------------------------------------------------------------------

REFUSALS = [
    (
        "skipping verification on top of the status it saw is refused",
        request(),
        Incoming({"status": "disetujui"}, hlc(2_000, HUB), 1),
    ),
    (
        "leaving a final status it saw is refused",
        request(status=("diserahkan", Stamp(hlc(5_000, HUB), 4))),
        Incoming({"status": "dibatalkan"}, hlc(6_000, A), 4),
    ),
    (
        "going back a step it saw is refused",
        request(status=("disetujui", Stamp(hlc(5_000, HUB), 3))),
        Incoming({"status": "diverifikasi"}, hlc(6_000, A), 3),
    ),
    (
        "a device's own illegal successive transition is refused without a base_seq",
        request(status=("ditolak", Stamp(hlc(5_000, A), 2))),
        Incoming({"status": "diverifikasi"}, hlc(6_000, A), None),
    ),
    (
        "an illegal transition is refused even when the change also sets other fields",
        request(),
        Incoming({"reason": "Stroke berat", "status": "diserahkan"}, hlc(2_000, B), 1),
    ),
]


@pytest.mark.parametrize(
    ("held", "change"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_an_illegal_transition_on_top_of_the_status_it_saw_is_refused(held, change):
    data = {name: value for name, (value, _s) in held.items()}
    stamps = {name: stamp for name, (_v, stamp) in held.items()}
    got = merge_change(data, stamps, False, change, 9)
    assert isinstance(got, Refusal)
    assert got.field == STATUS_FIELD
    assert data["status"] in got.message and change.fields["status"] in got.message


# -- purity ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.id for c in ALL_CASES])
def test_merging_leaves_the_held_record_and_the_change_untouched(case: Case):
    data, stamps, deleted, change, seq = case.inputs()
    before = copy.deepcopy((data, stamps, dict(change.fields)))
    got = merge_change(data, stamps, deleted, change, seq)
    assert (data, stamps, dict(change.fields)) == before
    assert isinstance(got, MergeResult)
    assert got.data is not data
    assert got.stamps is not stamps


# -- property: three devices, any interleaving ----------------------------------------------

DEVICES = (A, B, HUB)
VALUES: dict[str, tuple[Any, ...]] = {
    "reason": ("Lumpuh kedua kaki", "Stroke", None),
    "device_type": ("kursi_roda", "walker", "kruk"),
    "status": tuple(TRANSITIONS),
}
CREATION = Incoming(
    {"device_type": "kursi_roda", "reason": "Lumpuh kedua kaki", "status": "diajukan"},
    hlc(0, A),
    None,
)


@st.composite
def _edit(draw) -> tuple[dict[str, Any], bool | None]:
    kind = draw(st.sampled_from(["edit", "edit", "edit", "edit", "delete", "restore"]))
    if kind == "delete":
        return {}, True
    if kind == "restore":
        return {}, False
    names = draw(st.sets(st.sampled_from(sorted(VALUES)), min_size=1))
    return {name: draw(st.sampled_from(VALUES[name])) for name in sorted(names)}, None


@st.composite
def _plans(draw) -> dict[str, list[tuple[int, dict[str, Any], bool | None]]]:
    """Each device's changes in the order it made them, its clock rising (after the creation)."""
    plans = {}
    for node in DEVICES:
        clocks = sorted(draw(st.lists(st.integers(1, 60), max_size=4, unique=True)))
        plans[node] = [(ms * 100, *draw(_edit())) for ms in clocks]
    return plans


def _had_seen(reader: Incoming, writer: Incoming, write_seq: int) -> bool:
    return node_of(reader.hlc) == node_of(writer.hlc) or (
        reader.base_seq is not None and reader.base_seq >= write_seq
    )


@settings(max_examples=200, deadline=None)
@given(_plans(), st.data())
def test_any_interleaving_keeps_the_lifecycle_legal_and_every_value_accounted_for(plans, data):
    state = merge_change({}, {}, False, CREATION, 1)
    assert isinstance(state, MergeResult)
    assert state.transition == (None, "diajukan")
    seq = 1
    accepted: list[tuple[Incoming, int]] = [(CREATION, 1)]
    losses: list[Loss] = []
    pending = {node: list(changes) for node, changes in plans.items() if changes}
    while pending:
        node = data.draw(st.sampled_from(sorted(pending)))
        ms, fields, delete = pending[node].pop(0)
        if not pending[node]:
            del pending[node]
        base_seq = data.draw(st.none() | st.integers(0, seq))
        change = Incoming(fields, hlc(ms, node), base_seq, delete)
        status_before = state.data["status"]
        got = merge_change(state.data, state.stamps, state.deleted, change, seq + 1)
        if isinstance(got, Refusal):
            assert got.field == STATUS_FIELD
            assert not is_legal_transition(status_before, fields[STATUS_FIELD])
            continue
        seq += 1
        accepted.append((change, seq))
        losses += got.losses
        status_after = got.data["status"]
        if got.transition is not None:
            assert got.transition == (status_before, status_after)
            assert is_legal_transition(status_before, status_after)
        assert status_after == status_before or got.transition is not None
        for name in got.applied:
            assert got.stamps[name] == Stamp(change.hlc, seq)
        for name, value in fields.items():  # nothing vanishes in the change's own step
            assert got.data[name] == value or any(
                loss.field == name and (loss.lost_value, loss.lost_hlc) == (value, change.hlc)
                for loss in losses
            )
        state = got

    for i, (change, _write_seq) in enumerate(accepted):
        for name, value in change.fields.items():
            if name == STATUS_FIELD:  # replaced statuses are the status history
                continue
            if state.data[name] == value:
                continue
            if any(loss.field == name and loss.lost_value == value for loss in losses):
                continue
            # Knowingly replaced: a later change set the field after seeing a write of that
            # value (this one, or the one it agreed with).
            assert any(
                name in later.fields
                and any(
                    writer.fields.get(name, object()) == value and _had_seen(later, writer, s)
                    for writer, s in accepted[:j]
                )
                for j, (later, _s) in enumerate(accepted)
                if j > i
            ), f"{name}={value!r} of change {i} vanished"


# -- the new-record shortcut ----------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    st.dictionaries(
        st.sampled_from([*sorted(VALUES), "kelurahan", "findings"]),
        st.one_of(
            st.none(), st.text(max_size=5), st.integers(), st.sampled_from(sorted(TRANSITIONS))
        ),
    ),
    st.sampled_from(DEVICES),
    st.none() | st.integers(0, 9),
    st.integers(1, 99),
)
def test_a_new_record_is_merged_as_the_field_by_field_rule_would(fields, node, base_seq, seq):
    change = Incoming(fields, hlc(5, node), base_seq)
    assert merge_change({}, {}, False, change, seq) == _merge_any({}, {}, False, change, seq)
