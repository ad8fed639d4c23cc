"""A busy hub is waited on within a deadline, and every fault is told in its own words.

The retry policy (:class:`client_sync.transport.SyncRetry`) is driven here with a fake clock
and sleep, so the waits are exact and instant; the words are checked where they are made
(the hub client, the progress line, the CLI's failure table, the daemon's line). The same
over real sockets is in tests/e2e/test_words_fit_the_fault.py.
"""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st
from urllib3.exceptions import MaxRetryError
from urllib3.response import HTTPResponse

from client_sync.cli.failures import (
    EXIT_HUB,
    ROUND_EXIT_CODES,
    enrol_failure,
    failure_for,
    sync_failure,
)
from client_sync.daemon_lines import describe as daemon_line
from client_sync.errors import HubBroken, HubBusy, HubRefused, HubUnreachable, Unauthorized
from client_sync.hub import HubClient
from client_sync.progress import describe
from client_sync.schedule import Outcome, classify
from client_sync.transport import (
    JITTER_SHARE,
    MIN_BUSY_PAUSE_S,
    MIN_JITTER_S,
    RawResponse,
    SyncRetry,
    default_retry,
)
from schemas.protocol import PUSH_PATH


class FakeTime:
    """A monotonic clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def answer(status: int = 503, retry_after: str | None = "5") -> HTTPResponse:
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return HTTPResponse(body=b"", headers=headers, status=status)


def retry_on(fake: FakeTime, wait_s: float, total: int = 4, jitter: float = 0.0) -> SyncRetry:
    return default_retry(total, wait_s).new(clock=fake.clock, sleeper=fake.sleep, rng=Fixed(jitter))


def busy_tries(retry: SyncRetry, response_of=answer, pauses: list | None = None):
    """Count busy answers through `retry` as urllib3's pool does: increment, then sleep,
    until it gives the answer back. :returns: the tries made and the last policy; the
    pauses chosen go into `pauses`."""
    tries = 0
    while True:
        try:
            retry = retry.increment("POST", PUSH_PATH, response=response_of())
        except MaxRetryError:
            return tries, retry
        if pauses is not None:
            pauses.append(retry.planned)
        retry.sleep()
        tries += 1


# -- the wait -----------------------------------------------------------------------------


def test_a_busy_hub_is_waited_on_until_the_deadline_not_for_a_count_of_tries():
    fake = FakeTime()

    tries, last = busy_tries(retry_on(fake, wait_s=60, total=4))

    assert tries == 12  # every 5 s for a minute: three times the 4 tries a count allowed
    assert fake.now == 60
    assert last.total == 4  # busy answers do not spend the tries a lost connection has


def test_a_429_is_waited_on_like_a_503():
    fake = FakeTime()
    tries, _ = busy_tries(retry_on(fake, wait_s=10), lambda: answer(429, "2"))
    assert (tries, fake.now) == (5, 10)


def test_a_wait_that_would_end_past_the_deadline_is_not_started():
    fake = FakeTime()
    retry = retry_on(fake, wait_s=30)

    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/api/v1/sync/pull", response=answer(429, "100"))

    assert fake.slept == []


def test_no_wait_at_all_when_the_deadline_is_zero():
    assert not default_retry(4, wait_s=0).is_retry("POST", 503, True)
    assert default_retry(4, wait_s=1).is_retry("POST", 503, False)


def test_a_busy_answer_without_retry_after_backs_off_and_still_ends_at_the_deadline():
    fake = FakeTime()
    pauses: list[float] = []
    tries, _ = busy_tries(retry_on(fake, wait_s=20), lambda: answer(503, None), pauses)
    assert tries >= 4
    assert 0 < fake.now <= 20
    assert pauses[0] == MIN_BUSY_PAUSE_S and pauses[-2] > pauses[0]  # it grows


def test_a_502_still_counts_against_the_tries():
    retry = default_retry(total=1, wait_s=600)
    retry = retry.increment("GET", "/x", response=answer(502, None))
    with pytest.raises(MaxRetryError):
        retry.increment("GET", "/x", response=answer(502, None))


@given(
    retry_after=st.integers(0, 3600),
    u=st.floats(0.0, 1.0, exclude_max=True),
)
def test_jitter_only_lengthens_the_wait_the_hub_asked_for_and_by_a_little(retry_after, u):
    fake = FakeTime()
    retry = retry_on(fake, wait_s=7200, jitter=u)

    pause = retry.increment("POST", PUSH_PATH, response=answer(503, str(retry_after))).planned

    asked = max(retry_after, MIN_BUSY_PAUSE_S)
    assert pause is not None
    assert asked <= pause <= asked + max(asked * JITTER_SHARE, MIN_JITTER_S)


def test_two_laptops_told_the_same_retry_after_come_back_at_different_times():
    pauses = {
        retry_on(FakeTime(), 600, jitter=u)
        .increment("POST", PUSH_PATH, response=answer(503, "5"))
        .planned
        for u in (0.1, 0.5, 0.9)
    }
    assert len(pauses) == 3


def test_the_wait_is_told_each_second_and_a_listener_may_end_it():
    fake = FakeTime()
    heard: list[float] = []
    retry = retry_on(fake, 600).new(listener=heard.append)

    retry.increment("POST", PUSH_PATH, response=answer(503, "3")).sleep()

    assert heard == [3, 2, 1, 0]  # 0: trying again now

    class Stop(Exception):
        pass

    def stop(_left: float) -> None:
        raise Stop

    with pytest.raises(Stop):
        retry.new(listener=stop).increment("POST", PUSH_PATH, response=answer()).sleep()


# -- the words ----------------------------------------------------------------------------


class Answers:
    """A transport that answers every request with one canned response."""

    def __init__(self, response: RawResponse) -> None:
        self.response = response

    def send(self, method, path, *, body=None, headers=None, params=None) -> RawResponse:
        return self.response

    def close(self) -> None:
        pass


def error_of(status: int, slug: str | None, message: str = "", **kw) -> Exception:
    body = orjson.dumps({"code": status, "error": slug, "message": message}) if slug else b"<html>"
    with pytest.raises(Exception) as raised:
        HubClient(Answers(RawResponse(status, body, **kw))).health()
    return raised.value


BUSY_MESSAGE = "Hub sedang sibuk menyimpan kiriman lain; data Anda aman, coba lagi sebentar."


def test_a_hub_still_busy_after_the_wait_says_so_with_the_time_waited():
    exc = error_of(503, "hub_busy", BUSY_MESSAGE, headers={"Retry-After": "5"}, elapsed_s=600.2)
    assert isinstance(exc, HubBusy)
    assert str(exc) == "Hub tetap sibuk selama 10 menit; data Anda aman di laptop."
    assert (exc.retry_after, exc.status) == (5.0, 503)


def test_a_hub_asking_for_a_longer_wait_than_allowed_says_how_long_it_asked():
    exc = error_of(429, "too_many_requests", "x", headers={"Retry-After": "100"}, elapsed_s=0.01)
    assert isinstance(exc, HubBusy)
    assert str(exc) == (
        "Hub sibuk dan meminta menunggu 1 menit 40 detik; data Anda aman di laptop."
    )


def test_a_fault_on_the_hub_says_it_has_a_problem_with_the_status():
    exc = error_of(500, "server_error", "Terjadi kesalahan di hub. Data Anda aman; coba lagi.")
    assert isinstance(exc, HubBroken) and not isinstance(exc, HubBusy)
    assert str(exc) == "Hub sedang bermasalah (HTTP 500)."


def test_a_failed_disk_is_a_fault_not_busy_and_keeps_the_hubs_words():
    said = "Penyimpanan hub sedang bermasalah; tidak ada yang tersimpan. Coba lagi nanti."
    exc = error_of(503, "storage_unavailable", said, headers={"Retry-After": "5"})
    assert isinstance(exc, HubBroken)
    assert str(exc) == f"Hub sedang bermasalah (HTTP 503): {said}"


def test_an_error_page_that_is_not_the_hubs_is_a_fault_with_its_status():
    exc = error_of(502, None)
    assert isinstance(exc, HubBroken)
    assert str(exc) == "Hub sedang bermasalah (HTTP 502)."


def test_refusals_and_revocation_keep_their_classes():
    assert type(error_of(409, "conflict_state", "Sudah.")) is HubRefused
    assert type(error_of(401, "device_revoked", "Dicabut.")) is Unauthorized


def test_busy_and_broken_are_still_a_hub_the_round_cannot_use():
    """Callers that stop quietly on an unusable hub (the photo queue) keep doing so."""
    assert issubclass(HubBusy, HubUnreachable) and issubclass(HubBroken, HubUnreachable)


def test_the_progress_line_says_the_hub_is_busy_and_how_long_it_waits():
    assert describe("sibuk", 12, 0) == (
        "Hub sibuk; menunggu 12 detik lagi, data Anda aman di laptop."
    )
    assert describe("sibuk", 125, 0) == (
        "Hub sibuk; menunggu 2 menit 5 detik lagi, data Anda aman di laptop."
    )


def test_sync_says_a_busy_hub_postponed_the_round_and_exits_like_an_unusable_hub():
    failure = sync_failure(HubBusy(5, waited_s=600), pending=3)
    assert failure.lines == [
        "Sinkron tertunda: Hub tetap sibuk selama 10 menit; data Anda aman di laptop. "
        "3 perubahan menunggu; coba lagi nanti."
    ]
    assert failure.exit_code == EXIT_HUB
    assert failure_for(HubBusy(5, 600)).exit_code == EXIT_HUB


def test_sync_says_a_broken_hub_is_broken():
    failure = sync_failure(HubBroken(500, "server_error"), pending=1)
    assert failure.lines == [
        "Sinkron gagal: Hub sedang bermasalah (HTTP 500). Semua data tetap tersimpan di "
        "laptop; 1 perubahan menunggu."
    ]


def test_enrolment_locked_out_after_failed_codes_says_the_hubs_own_words():
    said = "Terlalu banyak percobaan pendaftaran yang gagal dari alamat ini; coba lagi nanti."
    failure = enrol_failure(HubBusy(900, 0.0, 429, said))
    assert failure.lines == [f"Pendaftaran gagal: {said}"]


def test_the_daemon_says_a_busy_round_was_postponed():
    exc = HubBusy(5, waited_s=300)
    assert classify(exc) is Outcome.BUSY
    assert ROUND_EXIT_CODES[Outcome.BUSY] == EXIT_HUB
    assert daemon_line(Outcome.BUSY, None, 4, exc) == (
        "Sinkron tertunda: Hub tetap sibuk selama 5 menit; data Anda aman di laptop. "
        "4 perubahan menunggu di laptop."
    )
