"""The fault-injecting proxy's own tests: what the poor-link tests rely on it to do.

Bytes pass unchanged, counters count, a cut lands on the exact byte, a throttle slows, a
delay delays, a hang never answers. The far side is a tiny stdlib server (echo, sink or
source) so that what arrived there is known exactly.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from client_sync.transport import HttpTransport
from tests.support.faultproxy import Cut, FaultProxy, Hang, Slow

pytestmark = pytest.mark.e2e

Handler = Callable[[socket.socket], bytes]


def echo(conn: socket.socket) -> bytes:
    got = bytearray()
    while chunk := conn.recv(65536):
        got += chunk
        conn.sendall(chunk)
    return bytes(got)


def sink(conn: socket.socket) -> bytes:
    got = bytearray()
    with contextlib.suppress(ConnectionError):
        while chunk := conn.recv(65536):
            got += chunk
    return bytes(got)


def source(payload: bytes) -> Handler:
    def send(conn: socket.socket) -> bytes:
        with contextlib.suppress(ConnectionError):
            conn.sendall(payload)
            conn.recv(1)  # hold the line until the other side goes
        return b""

    return send


class Upstream:
    """A loopback server running `handler` on each connection; keeps what each received."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.received: list[bytes] = []
        self.done = threading.Event()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.server.accept()
                threading.Thread(target=self.handle, args=(conn,), daemon=True).start()

    def handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                self.received.append(self.handler(conn))
            except ConnectionError:
                self.received.append(b"<reset>")
        self.done.set()

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def upstream() -> Iterator[Callable[[Handler], Upstream]]:
    made: list[Upstream] = []

    def make(handler: Handler) -> Upstream:
        made.append(Upstream(handler))
        return made[-1]

    yield make
    for server in made:
        server.close()


def connect(proxy: FaultProxy) -> socket.socket:
    port = int(proxy.url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=5)


def read_all(sock: socket.socket) -> tuple[bytes, bool]:
    """Everything until EOF or reset. :returns: the bytes, and whether it ended by a reset."""
    got = bytearray()
    try:
        while chunk := sock.recv(65536):
            got += chunk
    except ConnectionError:
        return bytes(got), True
    return bytes(got), False


def test_bytes_pass_through_unchanged_and_are_counted(upstream):
    server = upstream(echo)
    payload = os.urandom(1_000_000)
    with FaultProxy(server.url) as proxy, connect(proxy) as sock:
        sender = threading.Thread(target=lambda: (sock.sendall(payload), sock.shutdown(1)))
        sender.start()
        back, reset = read_all(sock)
        sender.join()

    assert back == payload
    assert not reset
    assert server.received == [payload]
    assert (len(proxy.connections), proxy.bytes_up, proxy.bytes_down) == (1, 10**6, 10**6)
    assert proxy.cuts == 0


def test_each_connection_has_its_own_counters(upstream):
    server = upstream(echo)
    with FaultProxy(server.url) as proxy:
        for size in (10, 2000, 300):
            with connect(proxy) as sock:
                sock.sendall(b"x" * size)
                sock.shutdown(socket.SHUT_WR)
                assert read_all(sock) == (b"x" * size, False)

    assert [(c.index, c.up, c.down, c.cut) for c in proxy.connections] == [
        (0, 10, 10, None),
        (1, 2000, 2000, None),
        (2, 300, 300, None),
    ]


def test_a_cut_inside_the_request_lets_exactly_n_bytes_through(upstream):
    server = upstream(sink)
    payload = os.urandom(50_000)
    with FaultProxy(server.url, plan=[Cut(up_after=1234)]) as proxy, connect(proxy) as sock:
        with contextlib.suppress(ConnectionError):
            sock.sendall(payload)
        assert read_all(sock) == (b"", True)
        assert server.done.wait(5)

    assert server.received == [payload[:1234]]
    assert (proxy.connections[0].up, proxy.connections[0].cut, proxy.cuts) == (1234, "up", 1)


def test_a_cut_inside_the_response_lets_exactly_n_bytes_back(upstream):
    payload = os.urandom(50_000)
    server = upstream(source(payload))
    with FaultProxy(server.url, plan=[Cut(down_after=4321)]) as proxy, connect(proxy) as sock:
        back, reset = read_all(sock)

    assert (back, reset) == (payload[:4321], True)
    assert (proxy.connections[0].down, proxy.connections[0].cut) == (4321, "down")


def test_a_cut_at_zero_lets_nothing_through(upstream):
    payload = os.urandom(1000)
    server = upstream(source(payload))
    with FaultProxy(server.url, plan=[Cut(down_after=0)]) as proxy, connect(proxy) as sock:
        assert read_all(sock) == (b"", True)

    assert (proxy.connections[0].down, proxy.cuts) == (0, 1)


def test_the_plan_picks_connections_by_index_from_when_it_was_set(upstream):
    server = upstream(echo)

    def exchange(proxy: FaultProxy) -> tuple[bytes, bool]:
        with connect(proxy) as sock:
            with contextlib.suppress(ConnectionError):
                sock.sendall(b"y" * 100)
                sock.shutdown(socket.SHUT_WR)
            return read_all(sock)

    with FaultProxy(server.url, plan=lambda i: Cut(up_after=10) if i % 2 else None) as proxy:
        outcomes = [exchange(proxy) for _ in range(4)]
        proxy.script([Cut(up_after=0)])
        outcomes += [exchange(proxy) for _ in range(2)]

    assert [reset for _, reset in outcomes] == [False, True, False, True, True, False]
    assert [c.cut for c in proxy.connections] == [None, "up", None, "up", "up", None]
    assert proxy.cuts == 3


def test_a_throttle_limits_the_rate(upstream):
    server = upstream(sink)
    payload = b"z" * 100_000
    with FaultProxy(server.url, rate_bytes_per_s=500_000) as proxy, connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        read_all(sock)
        took = time.monotonic() - started

    assert server.received == [payload]
    assert took >= 0.15  # 0.2 s at the rate; a throttle never makes it faster


def test_a_delay_is_added_each_way_but_not_per_chunk(upstream):
    server = upstream(echo)
    with FaultProxy(server.url, delay_ms=50) as proxy, connect(proxy) as sock:
        started = time.monotonic()
        sock.sendall(b"ping")
        assert sock.recv(10) == b"ping"
        round_trip = time.monotonic() - started

        started = time.monotonic()
        for n in range(20):
            sock.sendall(b"%02d" % n)
            time.sleep(0.002)
        sock.shutdown(socket.SHUT_WR)
        back, _ = read_all(sock)
        pipelined = time.monotonic() - started

    assert round_trip >= 0.1
    assert back == b"".join(b"%02d" % n for n in range(20))
    assert pipelined < 0.9  # 20 chunks one after another would take 2 s


def test_a_hang_accepts_and_never_answers_nor_reaches_the_hub(upstream):
    server = upstream(echo)
    with FaultProxy(server.url, plan=[Hang()]) as proxy, connect(proxy) as sock:
        sock.sendall(b"hello?")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)

    assert server.received == []
    assert (proxy.connections[0].up, proxy.connections[0].down) == (0, 0)


def test_a_forwarding_hang_delivers_the_request_and_eats_the_answer(upstream):
    server = upstream(echo)
    with FaultProxy(server.url, plan=[Hang(forward=True)]) as proxy, connect(proxy) as sock:
        sock.sendall(b"hello?")
        sock.settimeout(0.3)
        with pytest.raises(TimeoutError):
            sock.recv(10)
        sock.shutdown(socket.SHUT_WR)
        assert server.done.wait(5)

    assert server.received == [b"hello?"]
    assert (proxy.connections[0].up, proxy.connections[0].down) == (6, 0)


def test_the_laptop_transport_keeps_its_connection_alive_through_the_proxy(live_hub):
    with FaultProxy(live_hub, plan=[Slow(delay_ms=5)]) as proxy:
        transport = HttpTransport(proxy.url, timeout=(2, 5))
        try:
            answers = [transport.send("GET", "/api/v1/health").status for _ in range(3)]
        finally:
            transport.close()

    assert answers == [200, 200, 200]
    assert len(proxy.connections) == 1
    assert proxy.bytes_up > 0 and proxy.bytes_down > 0


def test_a_closed_proxy_refuses_connections(upstream):
    server = upstream(echo)
    proxy = FaultProxy(server.url)
    proxy.close()

    with pytest.raises(ConnectionRefusedError):
        connect(proxy).close()
