"""Hybrid logical clocks: encoding, ordering, and monotonicity under a wrong wall clock."""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.hlc import MAX_MS, HybridClock, Timestamp

NODE_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-"

nodes = st.text(NODE_ALPHABET, min_size=1, max_size=64)
# Up to MAX_MS: the hub refuses HLCs past year 9999, so no clock ever holds one.
timestamps = st.builds(Timestamp, st.integers(0, MAX_MS), st.integers(0, 999_999), nodes)


class FakeWall:
    """A wall clock that reads from a script of milliseconds, then stays on the last one."""

    def __init__(self, readings: Iterable[int]) -> None:
        self.readings = list(readings)
        self.calls = 0

    def __call__(self) -> int:
        reading = self.readings[min(self.calls, len(self.readings) - 1)]
        self.calls += 1
        return reading


def clock(readings: Iterable[int], node: str = "laptop-a", last=None) -> HybridClock:
    return HybridClock(node, last, FakeWall(readings))


def test_encoding_is_fixed_width_and_readable():
    assert Timestamp(1_732_345_678_901, 7, "dev-1").encode() == "0001732345678901:000007:dev-1"


@given(timestamps)
def test_an_encoded_timestamp_parses_back_to_itself(stamp):
    assert Timestamp.parse(stamp.encode()) == stamp


@given(timestamps, timestamps)
def test_encoded_order_is_tuple_order(a, b):
    assert (a.encode() < b.encode()) == (a < b)
    assert (a.encode() == b.encode()) == (a == b)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1732345678901:000000:dev",
        "0001732345678901:0:dev",
        "0001732345678901:000000:",
        "0001732345678901:000000:dev 1",
        "0001732345678901:000000:dev:x",
        "0001732345678901:000000:" + "a" * 65,
        None,
        1732345678901,
    ],
    ids=[
        "empty text",
        "a short ms",
        "a short counter",
        "no node",
        "a space in the node",
        "a colon in the node",
        "a node over 64 characters",
        "None",
        "a bare integer",
    ],
)
def test_parse_refuses_anything_but_an_encoded_timestamp(text):
    with pytest.raises(ValueError):
        Timestamp.parse(text)


# -- now ------------------------------------------------------------------------------------


@given(st.lists(st.integers(0, 10**13), min_size=1, max_size=60))
def test_now_strictly_increases_whatever_the_wall_clock_does(readings):
    hlc = clock(readings)
    issued = [hlc.now() for _ in readings]
    assert all(a < b for a, b in itertools.pairwise(issued))
    assert all(a.encode() < b.encode() for a, b in itertools.pairwise(issued))


def test_now_keeps_counting_when_the_wall_clock_goes_back():
    hlc = clock([5_000, 4_000, 3_000])
    assert [hlc.now() for _ in range(3)] == [
        Timestamp(5_000, 0, "laptop-a"),
        Timestamp(5_000, 1, "laptop-a"),
        Timestamp(5_000, 2, "laptop-a"),
    ]


def test_now_follows_the_wall_clock_when_it_moves_ahead():
    hlc = clock([5_000, 5_000, 6_000])
    assert [hlc.now() for _ in range(3)][-1] == Timestamp(6_000, 0, "laptop-a")


def test_now_borrows_the_next_millisecond_when_the_counter_is_full():
    hlc = clock([5_000], last=Timestamp(5_000, 999_999, "laptop-a"))
    assert hlc.now() == Timestamp(5_001, 0, "laptop-a")


def test_a_clock_resumes_after_its_persisted_last_timestamp():
    persisted = Timestamp(9_000, 4, "laptop-a")
    assert clock([1_000], last=persisted).now() > persisted


def test_timestamps_carry_the_clock_node():
    assert clock([1_000], node="dev-42").now().node == "dev-42"


# -- observe --------------------------------------------------------------------------------


@given(
    wall=st.lists(st.integers(0, 10**13), min_size=1, max_size=10),
    remote=timestamps,
    before=st.integers(0, 5),
    after=st.integers(1, 5),
)
def test_after_observing_a_remote_timestamp_every_local_one_is_later(wall, remote, before, after):
    hlc = clock(wall)
    for _ in range(before):
        hlc.now()
    observed = hlc.observe(remote)
    assert observed > remote
    later = [hlc.now() for _ in range(after)]
    assert all(stamp > remote for stamp in later)
    assert all(stamp.encode() > remote.encode() for stamp in later)


@given(wall=st.lists(st.integers(0, 10**13), min_size=1, max_size=10), remote=timestamps)
def test_observing_never_moves_a_clock_backwards(wall, remote):
    hlc = clock(wall)
    first = hlc.now()
    assert hlc.observe(remote) > first


@pytest.mark.parametrize(
    ("wall", "last", "remote", "expected"),
    [
        (9_000, (5_000, 3), (6_000, 7), (9_000, 0)),
        (1_000, (5_000, 3), (6_000, 7), (6_000, 8)),
        (1_000, (6_000, 3), (5_000, 7), (6_000, 4)),
        (1_000, (6_000, 3), (6_000, 7), (6_000, 8)),
        (1_000, (6_000, 9), (6_000, 7), (6_000, 10)),
        (6_000, (5_000, 3), (6_000, 7), (6_000, 8)),
        (1_000, (5_000, 0), (6_000, 999_999), (6_001, 0)),
    ],
    ids=[
        "a wall clock ahead of both starts a fresh millisecond",
        "a remote clock ahead takes its counter plus one",
        "a local clock ahead counts on from itself",
        "equal milliseconds count on from the greater counter (remote)",
        "equal milliseconds count on from the greater counter (local)",
        "a wall clock equal to the remote counts on from the remote",
        "a full remote counter borrows the next millisecond",
    ],
)
def test_observe_follows_the_hlc_rules(wall, last, remote, expected):
    hlc = clock([wall], last=Timestamp(*last, "laptop-a"))
    assert hlc.observe(Timestamp(*remote, "laptop-b")) == Timestamp(*expected, "laptop-a")
