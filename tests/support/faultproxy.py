"""A TCP proxy for tests that delays, throttles, cuts and hangs connections, as a 2G link does.

It sits between the laptop's real :class:`~client_sync.transport.HttpTransport` and a served
hub on loopback. What it does to each connection is scripted, so a test is deterministic::

    with FaultProxy(live_hub, plan=[Cut(up_after=500), Cut(down_after=0)]) as proxy:
        device = FieldDevice.enroll(home, proxy.url, code, transport_factory=HttpTransport)
        ...
    assert proxy.cuts == 2

`plan` is a list (entry *i* is the fault of the *i*-th connection accepted since the plan was
set; past its end, connections pass untouched) or a callable from that index to a fault.
A cut is an abort, RST to both sides (``SO_LINGER`` 0), once exactly N bytes have been handed
on in one direction and more arrive: ``Cut(up_after=N)`` lands inside the request, before the
hub can act; ``Cut(down_after=N)`` inside the response, after it has. The counts run over the
connection's whole life (keep-alive carries several requests). Stdlib only, one daemon thread
with a ``select()`` loop over non-blocking sockets: it runs on Windows too.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from urllib.parse import urlsplit

__all__ = ["ConnectionLog", "Cut", "Fault", "FaultProxy", "Hang", "Plan", "Slow"]

_MAX_QUEUED = 256 * 1024  # bytes read but not yet handed on, per direction: back-pressure
_TICK = 0.05  # longest sleep of the loop, so close() is noticed
_GRACE = 0.01  # between the last byte handed on and the RST, so that byte is on its way
_LINGER_0 = struct.pack("HH" if sys.platform == "win32" else "ii", 1, 0)


@dataclass(frozen=True, slots=True)
class Fault:
    """What the proxy does to one connection; made by :func:`Cut`, :func:`Hang`,
    :func:`Slow`, and joined with ``|`` (the right side's settings win)."""

    up_after: int | None = None
    down_after: int | None = None
    hang: bool = False
    forward: bool = False
    delay_ms: float | None = None
    rate_bytes_per_s: float | None = None

    def __or__(self, other: Fault) -> Fault:
        given = {f.name: getattr(other, f.name) for f in fields(Fault)}
        return replace(
            self, **{f.name: given[f.name] for f in fields(Fault) if given[f.name] != f.default}
        )


def Cut(up_after: int | None = None, down_after: int | None = None) -> Fault:
    """Abort with RST once `up_after` bytes went laptop→hub, or `down_after` hub→laptop."""
    return Fault(up_after=up_after, down_after=down_after)


def Hang(forward: bool = False) -> Fault:
    """Accept and never answer. `forward`: the request reaches the hub, its answer is eaten."""
    return Fault(hang=True, forward=forward)


def Slow(delay_ms: float | None = None, rate_bytes_per_s: float | None = None) -> Fault:
    """One-way delay on every chunk (not cumulative), and a byte rate per direction."""
    return Fault(delay_ms=delay_ms, rate_bytes_per_s=rate_bytes_per_s)


Plan = Sequence[Fault | None] | Callable[[int], Fault | None]


@dataclass(slots=True)
class ConnectionLog:
    """Counters of one connection. `up`/`down`: bytes handed on to the hub / the laptop."""

    index: int
    fault: Fault
    up: int = 0
    down: int = 0
    cut: str | None = None  # "up" or "down" once the proxy cut it
    closed: bool = False


class _Pipe:
    """One direction of one connection: read from `src`, hand on to `dst` (None: eat it)."""

    def __init__(self, src, dst, limit: int | None, fault: Fault) -> None:
        self.src, self.dst, self.limit = src, dst, limit
        self.delay = (fault.delay_ms or 0.0) / 1000.0
        self.rate = fault.rate_bytes_per_s
        self.queue: deque[tuple[float, bytes]] = deque()
        self.out, self.queued, self.carried, self.free_at = bytearray(), 0, 0, 0.0
        self.eof = self.shut = src is None  # no source: nothing will ever come
        self.cutting = False

    def take(self, data: bytes, now: float) -> None:
        if data and self.dst is not None:
            self.queue.append((now + self.delay, data))
            self.queued += len(data)

    def release(self, now: float) -> float | None:
        """Move due bytes into `out`, within the rate and the cut. :returns: next wake-up."""
        while self.queue and not self.cutting:
            due, data = self.queue[0]
            if due > now:
                return due
            if self.rate and self.free_at > now:
                return self.free_at
            n = len(data) if not self.rate else min(len(data), max(256, int(self.rate / 50)))
            if self.limit is not None and self.carried + n > self.limit:
                n, self.cutting = self.limit - self.carried, True
            if self.rate:
                self.free_at = max(self.free_at, now) + n / self.rate
            self.out += data[:n]
            self.carried, self.queued = self.carried + n, self.queued - n
            self.queue.popleft()
            if n < len(data) and not self.cutting:
                self.queue.appendleft((due, data[n:]))
        return None


class _Connection:
    def __init__(self, log: ConnectionLog, client: socket.socket, upstream) -> None:
        fault, self.log, self.socks = log.fault, log, [s for s in (client, upstream) if s]
        self.up = _Pipe(client, upstream, fault.up_after, fault)
        self.down = _Pipe(upstream, None if fault.hang else client, fault.down_after, fault)
        self.cut_at: float | None = None

    def abort(self, injected: str | None = None, rst: bool = True) -> None:
        """Close both sides, by RST unless `rst` is false; `injected`: a planned cut's way."""
        if self.log.closed:
            return
        self.log.cut, self.log.closed = injected, True
        for sock in self.socks:
            if rst:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _LINGER_0)
            sock.close()

    def move(self, pipe: _Pipe, now: float, reading: bool) -> None:
        """One recv from `pipe.src` or one send to `pipe.dst`; a socket error resets both."""
        if self.log.closed:
            return
        try:
            if reading:
                data = pipe.src.recv(65536)
                pipe.eof = not data
                pipe.take(data, now)
            else:
                del pipe.out[: pipe.dst.send(pipe.out)]
        except BlockingIOError:
            pass
        except OSError:
            self.abort()


class FaultProxy:
    """A loopback proxy to the hub at `target` (``http://host:port``), run in a thread.

    :param plan: the fault of each connection (module docstring); :meth:`script` sets another.
    :param delay_ms: one-way delay for every connection unless its fault says otherwise.
    :param rate_bytes_per_s: likewise, a throttle per direction per connection.
    """

    def __init__(
        self, target: str, plan: Plan = (), delay_ms: float = 0.0, rate_bytes_per_s: float = 0.0
    ) -> None:
        parts = urlsplit(target)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.link = Slow(delay_ms, rate_bytes_per_s)
        self.connections: list[ConnectionLog] = []
        self._live: list[_Connection] = []
        self.script(plan)
        self._listener = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._listener.setblocking(False)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="faultproxy", daemon=True)
        self._thread.start()

    def script(self, plan: Plan) -> None:
        """A new plan, whose index 0 is the next connection accepted."""
        self._plan = (plan, len(self.connections))  # one assignment: the loop reads it whole

    @property
    def bytes_up(self) -> int:
        return sum(c.up for c in self.connections)

    @property
    def bytes_down(self) -> int:
        return sum(c.down for c in self.connections)

    @property
    def cuts(self) -> int:
        return sum(c.cut is not None for c in self.connections)

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the loop; every connection still open is reset."""
        self._stop.set()
        self._thread.join(timeout=5)

    def _fault(self) -> Fault:
        plan, base = self._plan
        index = len(self.connections) - base  # as the connection about to be logged
        planned = plan(index) if callable(plan) else (plan[index] if index < len(plan) else None)
        return self.link | (planned or Fault())

    def _accept(self) -> None:
        try:
            client, _ = self._listener.accept()
        except BlockingIOError:
            return
        log = ConnectionLog(len(self.connections), self._fault())
        self.connections.append(log)
        upstream = None
        if not log.fault.hang or log.fault.forward:
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _Connection(log, client, None).abort()
                return
        for sock in filter(None, (client, upstream)):
            sock.setblocking(False)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._live.append(_Connection(log, client, upstream))

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                self._turn()
        finally:
            for conn in self._live:
                conn.abort()
            self._listener.close()

    def _turn(self) -> None:
        """One round of the loop: release due bytes, wait for sockets, move bytes."""
        now = time.monotonic()
        wake = now + _TICK
        readers: dict[socket.socket, tuple[_Connection, _Pipe]] = {}
        writers: dict[socket.socket, tuple[_Connection, _Pipe]] = {}
        for conn in self._live:
            if conn.cut_at is not None:
                wake = min(wake, conn.cut_at)
                continue
            for pipe in (conn.up, conn.down):
                wake = min(wake, pipe.release(now) or wake)
                if not pipe.eof and pipe.queued + len(pipe.out) < _MAX_QUEUED:
                    readers[pipe.src] = (conn, pipe)
                if pipe.out:
                    writers[pipe.dst] = (conn, pipe)
            # counted as handed on, before the peer sees them: whoever got an answer sees them
            conn.log.up, conn.log.down = conn.up.carried, conn.down.carried
        wait = max(0.0, wake - now)
        ready_r, ready_w, _ = select.select([self._listener, *readers], [*writers], [], wait)
        now = time.monotonic()
        if self._listener in ready_r:
            self._accept()
        for sock in ready_r:
            if sock in readers:
                readers[sock][0].move(readers[sock][1], now, reading=True)
        for sock in ready_w:
            writers[sock][0].move(writers[sock][1], now, reading=False)
        for conn in self._live:
            self._settle(conn, now)
        self._live = [c for c in self._live if not c.log.closed]

    def _settle(self, conn: _Connection, now: float) -> None:
        """Cut a connection whose limit is reached; pass an EOF on; close a finished one."""
        if conn.log.closed:
            return
        for name, pipe in (("up", conn.up), ("down", conn.down)):
            if pipe.cutting and not pipe.out:
                conn.cut_at = conn.cut_at or now + _GRACE
                if now >= conn.cut_at:
                    conn.abort(injected=name)
                    return
        for pipe in (conn.up, conn.down):
            if pipe.eof and not pipe.shut and not pipe.queue and not pipe.out:
                pipe.shut = True
                if pipe.dst is not None:
                    with contextlib.suppress(OSError):  # a reset peer: the next read tells
                        pipe.dst.shutdown(socket.SHUT_WR)
        if (conn.up.shut and conn.down.shut) or (conn.log.fault.hang and conn.up.eof):
            conn.abort(rst=False)
