"""How the laptop reaches the hub: a :class:`Transport` sends one HTTP request.

:class:`HttpTransport` is the real one: one `requests.Session` with keep-alive, connect and
read timeouts on every request, and urllib3's `Retry` mounted on it (:class:`SyncRetry`), the
one place a request is retried:

- refused connections, 502/504, and GET, HEAD and PATCH calls whose connection dropped: a
  fixed number of tries with backoff and jitter (honouring a `Retry-After` up to
  :attr:`SyncRetry.MAX_WAIT_S`);
- a busy hub (429, 503): for as long as it keeps answering busy, each time after its
  `Retry-After` plus a little jitter (so a district's laptops do not come back in lockstep),
  until a stretch of busy answers to one request would outlast the transport's wait
  (`wait_s`, :data:`DEFAULT_WAIT_S`), never after a count of tries. The busy answer then
  goes back to the caller (:class:`~client_sync.errors.HubBusy` in :mod:`client_sync.hub`).
  While it waits it tells :attr:`HttpTransport.on_busy` how long is left, about once a
  second: the progress line, and the daemon's way to stop a round during a wait.

One exception, by design: a push (POST) whose connection dropped half way is not sent again
whole; it surfaces as :class:`LinkDropped` and the engine sends what is still pending in
smaller batches, since resending the same large body over a link that just cut it wastes the
most bytes. Tests plug in a transport over the Flask test client, or one that drops and
delays.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import (
    InvalidHeader,
    MaxRetryError,
    NameResolutionError,
    NewConnectionError,
    ProtocolError,
)
from urllib3.util.retry import RequestHistory, Retry

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

from client_sync.errors import HubUnreachable, LinkDropped
from client_sync.version import CLIENT_VERSION

__all__ = [
    "BUSY_STATUSES",
    "DEFAULT_WAIT_S",
    "HttpTransport",
    "RawResponse",
    "SyncRetry",
    "Transport",
    "WaitListener",
    "default_retry",
    "tell_waits",
]

USER_AGENT = f"pendamping-sync-client/{CLIENT_VERSION}"
#: The longest stretch of busy answers one request waits through (`pendamping sync --wait`).
DEFAULT_WAIT_S = 10 * 60.0
#: The statuses by which a hub asks the laptop to come back later: too many calls (429), busy
#: or not serving now (503). Which of them is a fault rather than busy is read from the
#: body's slug once the answer is final (:mod:`client_sync.hub`); urllib3 sees only headers.
BUSY_STATUSES = frozenset({429, 503})
#: The jitter added to a busy answer's `Retry-After`: up to this share of it, and at least
#: up to :data:`MIN_JITTER_S`; never subtracted, since the hub asked for at least that long.
JITTER_SHARE = 0.2
MIN_JITTER_S = 0.5
#: The least pause after a busy answer, so a `Retry-After: 0` does not spin.
MIN_BUSY_PAUSE_S = 0.5
#: Told the seconds left before the next try, about once a second, while the hub is busy.
WaitListener = Callable[[float], None]
_SYSTEM_RANDOM = random.Random()


class _Rng(Protocol):
    def random(self) -> float: ...


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One HTTP answer; `body` is already gunzipped."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)
    #: seconds the request took, waits on a busy hub included (0 when not measured)
    elapsed_s: float = 0.0


class Transport(Protocol):
    """Sends one request to the hub. :raises HubUnreachable: no answer at all."""

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse: ...

    def close(self) -> None: ...


class SyncRetry(Retry):
    """urllib3's `Retry`, with three changes for a laptop on a district hub.

    - A POST cut mid-way is handed back to the engine (it resends in smaller batches).
    - A busy answer (:data:`BUSY_STATUSES`) is retried without counting against `total`:
      after its `Retry-After` (or the backoff, when it names none) plus jitter, for as long
      as the stretch of busy answers to this request stays within `wait_s`. A wait that
      would end past that bound is not started: the answer goes back to the caller. Resending
      is safe: a push refused as busy wrote nothing on the hub, and a resent change is
      answered by its `change_id` with its original receipt anyway.
    - Any other `Retry-After` longer than :attr:`MAX_WAIT_S` (a 502/504 from a proxy) is
      not slept through either.

    :param wait_s: the longest stretch of busy answers one request waits through (0: none).
    :param listener: told the seconds left, about once a second, while waiting on a busy hub.
    :param clock: monotonic seconds; :param sleeper: how to wait; :param rng: the jitter's.
    """

    MAX_WAIT_S = 30.0

    def __init__(
        self,
        *args: Any,
        wait_s: float = DEFAULT_WAIT_S,
        listener: WaitListener | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleeper: Callable[[float], None] = time.sleep,
        rng: _Rng = _SYSTEM_RANDOM,
        busy_since: float | None = None,
        planned: float | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.wait_s = wait_s
        self.listener = listener
        self.clock = clock
        self.sleeper = sleeper
        self.rng = rng
        #: when this request's stretch of busy answers began (None: no busy answer yet)
        self.busy_since = busy_since
        #: the pause chosen for the busy answer just counted; slept by :meth:`sleep`
        self.planned = planned

    def new(self, **kw: Any) -> Self:
        carried: dict[str, Any] = {
            "wait_s": self.wait_s,
            "listener": self.listener,
            "clock": self.clock,
            "sleeper": self.sleeper,
            "rng": self.rng,
            "busy_since": self.busy_since,
        }
        return super().new(**{**carried, **kw})  # `planned` belongs to one pause only

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code in BUSY_STATUSES:
            return self.wait_s > 0 and self._is_method_retryable(method)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Self:
        if method == "POST" and error is not None and self._is_read_error(error):
            return Retry.increment(
                self.new(read=False), method, url, response, error, _pool, _stacktrace
            )
        if response is not None and response.status in BUSY_STATUSES:
            return self._busy(method, url, response, _pool)
        if response is not None:
            wait = self._retry_after(response)
            if wait is not None and wait > self.MAX_WAIT_S:
                _give_back(_pool, url)
        return super().increment(method, url, response, error, _pool, _stacktrace)

    def _busy(
        self,
        method: str | None,
        url: str | None,
        response: BaseHTTPResponse,
        pool: ConnectionPool | None,
    ) -> Self:
        """Count one busy answer: the next try with its pause, or the answer given back."""
        now = self.clock()
        since = self.busy_since if self.busy_since is not None else now
        asked = self._retry_after(response)
        if asked is None:  # a busy answer naming no wait (a proxy's): the growing backoff
            asked = self.get_backoff_time()
        asked = max(asked, MIN_BUSY_PAUSE_S)
        left = since + self.wait_s - now
        if asked > left:
            _give_back(pool, url)
        jitter = self.rng.random() * max(asked * JITTER_SHARE, MIN_JITTER_S)
        history = (*self.history, RequestHistory(method, url, None, response.status, None))
        return self.new(history=history, busy_since=since, planned=min(asked + jitter, left))

    def _retry_after(self, response: BaseHTTPResponse) -> float | None:
        try:
            return self.get_retry_after(response)
        except InvalidHeader:
            return None

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        if self.planned is None:
            super().sleep(response)
            return
        end = self.clock() + self.planned
        while (left := end - self.clock()) > 0:
            if self.listener is not None:
                self.listener(left)  # may raise to stop the round (the daemon stopping)
            self.sleeper(min(left, 1.0))
        if self.listener is not None:
            self.listener(0.0)  # trying again now


def _give_back(pool: ConnectionPool | None, url: str | None) -> NoReturn:
    """Stop retrying: urllib3's pool catches this and, with raise_on_status=False, answers
    with the last response itself; it always passes its pool (a None one is typed as urllib3
    itself does it)."""
    raise MaxRetryError(pool, url or "", None)  # type: ignore[arg-type]


def default_retry(total: int = 4, wait_s: float = DEFAULT_WAIT_S) -> SyncRetry:
    """`total` tries with backoff and jitter on connection errors and 502/504; busy answers
    (429, 503) retried within `wait_s` seconds; `Retry-After` honoured throughout."""
    return SyncRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=0.5,
        backoff_max=30,
        backoff_jitter=0.5,
        status_forcelist=(502, 504),
        allowed_methods=frozenset({"GET", "HEAD", "POST", "PATCH"}),
        respect_retry_after_header=True,
        raise_on_status=False,
        wait_s=wait_s,
    )


def _dropped(exc: requests.RequestException) -> bool:
    """The connection died while the request or its answer was under way (not refused)."""
    if isinstance(exc, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, ProtocolError)


def _why_unreachable(exc: requests.RequestException) -> str:
    """Why no connection could be made, in the pendamping's words."""
    if isinstance(exc, requests.Timeout):
        return "tidak menjawab dalam batas waktu"
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    if isinstance(reason, NameResolutionError):
        return "alamat hub tidak dikenal; periksa jaringan"
    if isinstance(reason, NewConnectionError):
        return "sambungan ditolak atau tidak ada jaringan"
    return "tidak ada jaringan atau hub mati"


def tell_waits(transport: Transport, listener: WaitListener | None) -> None:
    """Have `transport` tell `listener` how long it still waits on a busy hub, about once a
    second, if it is one that waits (:class:`HttpTransport`); ``None`` stops telling."""
    if isinstance(transport, HttpTransport):
        transport.on_busy = listener


class HttpTransport:
    """The hub over HTTP(S).

    :param base_url: e.g. ``http://hub.dinsos.local:5000``.
    :param timeout: (connect, read) seconds, applied to every request.
    :param retry: the retry policy; by default :func:`default_retry`. A :class:`SyncRetry`
        is given this transport's :attr:`on_busy` as its listener.
    """

    def __init__(
        self, base_url: str, timeout: tuple[float, float] = (10.0, 60.0), retry: Retry | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        #: told the seconds left while a request waits on a busy hub (see :func:`tell_waits`)
        self.on_busy: WaitListener | None = None
        retry = retry if retry is not None else default_retry()
        if isinstance(retry, SyncRetry):
            retry = retry.new(listener=self._waiting)
        self.session = requests.Session()
        adapter = HTTPAdapter(max_retries=retry, pool_connections=1, pool_maxsize=1)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"})

    def _waiting(self, left: float) -> None:
        if self.on_busy is not None:
            self.on_busy(left)

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse:
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.base_url + path,
                data=body,
                headers=dict(headers or {}),
                params=params,
                timeout=self.timeout,
            )
            content = response.content  # requests inflates a gzip body itself
        except requests.RequestException as exc:
            if _dropped(exc):
                raise LinkDropped(f"Koneksi ke hub terputus ({type(exc).__name__}).") from exc
            raise HubUnreachable(f"Hub tidak dapat dihubungi ({_why_unreachable(exc)}).") from exc
        elapsed = time.monotonic() - started
        return RawResponse(response.status_code, content, response.headers, elapsed)

    def close(self) -> None:
        self.session.close()
