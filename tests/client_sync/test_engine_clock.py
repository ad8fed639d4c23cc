"""The sync engine waits and draws its jitter through what it is given, not through the
process's clock and random source: a test decides how long a cut push pauses."""

from __future__ import annotations

from client_sync.engine import sync_once
from client_sync.errors import LinkDropped
from client_sync.hub import HubClient
from tests.conftest import beneficiary
from tests.support.transports import WsgiTransport


class CutFirstPush:
    """The in-process hub, with the link cut under the first push."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.cut = False

    def send(self, method: str, path: str, **kwargs):
        if path == "/api/v1/sync/push" and not self.cut:
            self.cut = True
            raise LinkDropped("Koneksi ke hub terputus (test).")
        return self.inner.send(method, path, **kwargs)

    def close(self) -> None:
        self.inner.close()


class Fixed:
    def __init__(self, value: float) -> None:
        self.value = value

    def random(self) -> float:
        return self.value


def test_a_cut_push_pauses_as_long_as_the_given_random_source_says_then_goes_again(laptops):
    siti = laptops.enroll("siti")
    siti.store.add("beneficiary", beneficiary())
    hub = HubClient(CutFirstPush(WsgiTransport(laptops.app)), siti.store.identity.token)
    waits: list[float] = []

    result = sync_once(siti.store, hub, pause=waits.append, rng=Fixed(0.25))

    assert waits == [0.75]  # 0.5 s, plus up to a second of jitter
    assert (result.cuts, result.pushed, siti.store.pending_count()) == (1, 1, 0)
