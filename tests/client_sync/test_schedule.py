"""The background sync policy: when the next round runs, with no scheduler and no clock."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from client_sync.errors import (
    HubRefused,
    HubUnreachable,
    InvalidRecord,
    NotEnrolled,
    ProtocolError,
    StoreError,
    Unauthorized,
)
from client_sync.schedule import (
    BASE_S,
    Outcome,
    SyncState,
    after_round,
    backoff_s,
    classify,
    delay_after,
    retry_after_of,
    seen_write,
    settle_delay,
    write_due,
)

FAILED = [Outcome.OFFLINE, Outcome.REFUSED, Outcome.LOCAL]
STOPPING = [Outcome.UNAUTHORIZED, Outcome.NOT_ENROLLED, Outcome.CANCELLED]


class Fixed:
    """A random source that always draws the same number."""

    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


unit = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)
every = st.floats(min_value=0.01, max_value=7 * 24 * 3600.0)
failures = st.integers(min_value=1, max_value=10_000)
retry_after = st.none() | st.floats(min_value=0.0, max_value=30 * 24 * 3600.0)


# -- what a round's ending means ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "outcome"),
    [
        (None, Outcome.OK),
        (HubUnreachable("Hub tidak dapat dihubungi (ConnectionError)."), Outcome.OFFLINE),
        (Unauthorized(401, "device_revoked", "Perangkat ini sudah dicabut."), Outcome.UNAUTHORIZED),
        (HubRefused(429, "too_many_requests", "Terlalu banyak permintaan."), Outcome.REFUSED),
        (ProtocolError("Halaman tarik dari hub tidak lengkap."), Outcome.REFUSED),
        (NotEnrolled("Belum ada data laptop."), Outcome.NOT_ENROLLED),
        (StoreError("Penyimpanan lokal sibuk."), Outcome.LOCAL),
        (InvalidRecord({"nik": ["NIK harus 16 digit angka."]}), Outcome.LOCAL),
        (RuntimeError("a bug"), Outcome.LOCAL),
    ],
)
def test_each_error_is_classified_for_scheduling(exc, outcome):
    assert classify(exc) is outcome


def test_only_a_401_a_missing_enrolment_or_a_stop_end_the_rounds():
    assert {o for o in Outcome if o.stops} == set(STOPPING)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, None),
        (12, 12.0),
        (0.5, 0.5),
        (-3, 0.0),
        ("12", None),
        (True, None),
        (float("nan"), None),
    ],
)
def test_retry_after_is_read_only_from_a_number_the_error_carries(value, expected):
    exc = HubUnreachable("Hub sedang bermasalah (HTTP 503).")
    if value is not None:
        exc.retry_after = value  # type: ignore[attr-defined]
    assert retry_after_of(exc) == expected


def test_an_error_without_retry_after_has_none():
    assert retry_after_of(HubUnreachable("x")) is None
    assert retry_after_of(None) is None


# -- how long to wait ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failures", "u", "expected"),
    [
        (1, 0.0, 15.0),  # cap 30 s: between 15 and 30
        (1, 0.5, 22.5),
        (2, 0.0, 30.0),  # cap 60 s
        (3, 0.5, 90.0),  # cap 120 s
        (5, 0.0, 240.0),  # cap 480 s
        (6, 0.0, 450.0),  # cap 960 s, held to every_s = 900
        (50, 0.5, 675.0),
    ],
)
def test_backoff_doubles_from_30_s_with_equal_jitter_up_to_every(failures, u, expected):
    assert backoff_s(failures, 900.0, Fixed(u)) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("outcome", "failures", "delay"),
    [
        (Outcome.OK, 0, 900.0),
        (Outcome.OK, 7, 900.0),  # failures before a success do not matter
        (Outcome.OFFLINE, 1, 15.0),
        (Outcome.REFUSED, 2, 30.0),
        (Outcome.LOCAL, 3, 60.0),
        (Outcome.UNAUTHORIZED, 1, None),
        (Outcome.NOT_ENROLLED, 1, None),
        (Outcome.CANCELLED, 0, None),
    ],
)
def test_delay_after_each_outcome(outcome, failures, delay):
    assert delay_after(outcome, failures, 900.0, Fixed(0.0)) == delay


def test_retry_after_is_a_floor_not_a_ceiling():
    assert delay_after(Outcome.OFFLINE, 1, 900.0, Fixed(0.0), retry_after=120.0) == 120.0
    assert delay_after(Outcome.OFFLINE, 5, 900.0, Fixed(0.0), retry_after=10.0) == 240.0
    assert delay_after(Outcome.REFUSED, 1, 900.0, Fixed(0.0), retry_after=3600.0) == 3600.0


@given(st.sampled_from([*FAILED, Outcome.OK]), failures, every, unit, retry_after)
def test_a_delay_is_never_negative_nor_above_every_unless_the_hub_asks(
    outcome, failures, every_s, u, after
):
    delay = delay_after(outcome, failures, every_s, Fixed(u), retry_after=after)
    assert delay is not None
    assert delay >= 0
    assert delay <= max(every_s, after or 0.0)
    if after is not None:
        assert delay >= after


@given(failures, every, unit)
def test_a_backoff_stays_within_half_its_cap_and_its_cap(failures, every_s, u):
    cap = min(every_s, BASE_S * 2.0 ** min(failures - 1, 60))
    delay = backoff_s(failures, every_s, Fixed(u))
    assert cap / 2 <= delay <= cap


@given(failures, every, unit)
def test_for_the_same_draw_one_more_failure_never_waits_less(failures, every_s, u):
    assert backoff_s(failures + 1, every_s, Fixed(u)) >= backoff_s(failures, every_s, Fixed(u))


@given(st.integers(min_value=1, max_value=4), st.integers(min_value=0, max_value=2**32))
def test_the_mean_wait_grows_with_failures_until_the_cap(failures, seed):
    rng = random.Random(seed)
    draws = 400
    mean = sum(backoff_s(failures, 900.0, rng) for _ in range(draws)) / draws
    mean_next = sum(backoff_s(failures + 1, 900.0, rng) for _ in range(draws)) / draws
    assert mean_next > mean


def test_the_jitter_spreads_laptops_that_failed_together():
    rng = random.Random(7)
    delays = {round(backoff_s(3, 900.0, rng), 3) for _ in range(50)}
    assert len(delays) > 40
    assert min(delays) >= 60.0 and max(delays) < 120.0


def test_weeks_of_failures_do_not_overflow():
    assert backoff_s(10**9, 900.0, Fixed(0.999)) < 900.0


# -- state from round to round ------------------------------------------------------------------


def test_a_success_resets_the_failures_and_a_failure_counts_one_more():
    state = SyncState()
    for _ in range(3):
        state = after_round(state, Outcome.OFFLINE, 5)
    assert (state.last_ok, state.failures) == (False, 3)
    state = after_round(state, Outcome.OK, 9)
    assert state == SyncState(last_ok=True, failures=0, seen_marker=9)


def test_a_cancelled_round_changes_neither_outcome_nor_failures():
    state = SyncState(last_ok=True, failures=0, seen_marker=4)
    assert after_round(state, Outcome.CANCELLED, 6) == SyncState(True, 0, 6)


@given(st.lists(st.tuples(st.sampled_from(list(Outcome)), st.none() | st.integers(0, 10**6))))
def test_failures_count_the_failed_rounds_since_the_last_success(rounds):
    state = SyncState()
    streak = 0
    for outcome, marker in rounds:
        before = state.seen_marker
        state = after_round(state, outcome, marker)
        if outcome is Outcome.OK:
            streak = 0
        elif outcome is not Outcome.CANCELLED:
            streak += 1
        assert state.failures == streak
        assert state.seen_marker >= before  # the marker only ever moves forward


# -- local writes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("last_ok", "marker", "pending", "due"),
    [
        (True, 11, 1, True),  # a new change after a good round
        (True, 10, 1, False),  # nothing written since the last look
        (True, 11, 0, False),  # written, but already sent (or folded)
        (False, 11, 1, False),  # offline: the backoff decides
        (None, 11, 1, False),  # no round yet: the first one is due anyway
    ],
)
def test_a_write_brings_the_round_forward_only_after_a_good_round(last_ok, marker, pending, due):
    state = SyncState(last_ok=last_ok, seen_marker=10)
    assert write_due(state, marker, pending) is due


def test_a_write_once_seen_does_not_bring_the_round_forward_again():
    state = seen_write(SyncState(last_ok=True, seen_marker=10), 12)
    assert not write_due(state, 12, 2)
    assert write_due(state, 13, 3)


@pytest.mark.parametrize(
    ("until_regular", "settle", "delay"),
    [(900.0, 20.0, 20.0), (5.0, 20.0, 5.0), (-3.0, 20.0, 0.0), (900.0, 0.0, 0.0)],
)
def test_the_settle_delay_never_postpones_the_regular_round(until_regular, settle, delay):
    assert settle_delay(until_regular, settle) == delay


@given(st.floats(-1e6, 1e6), st.floats(0, 1e4))
def test_the_settle_delay_is_between_now_and_settle(until_regular, settle):
    delay = settle_delay(until_regular, settle)
    assert 0 <= delay <= settle
    assert delay <= max(until_regular, 0)
