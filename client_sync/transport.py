"""How the laptop reaches the hub: a :class:`Transport` sends one HTTP request.

:class:`HttpTransport` is the real one: one `requests.Session` with keep-alive, connect and
read timeouts on every request, and urllib3's `Retry` mounted on it, the one place a request
is retried: refused connections, 429/502/503/504 (honouring `Retry-After`), and GET, HEAD
and PATCH calls whose connection dropped. One exception, by design: a push (POST) whose
connection dropped half way is not sent again whole; it surfaces as :class:`LinkDropped`
and the engine sends what is still pending in smaller batches, since resending the same
large body over a link that just cut it wastes the most bytes. Tests plug in a transport
over the Flask test client, or one that drops and delays.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Protocol, Self

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ProtocolError
from urllib3.util.retry import Retry

if TYPE_CHECKING:
    from urllib3.connectionpool import ConnectionPool
    from urllib3.response import BaseHTTPResponse

from client_sync.errors import HubUnreachable, LinkDropped
from client_sync.version import CLIENT_VERSION

__all__ = ["HttpTransport", "RawResponse", "SyncRetry", "Transport", "default_retry"]

USER_AGENT = f"pendamping-sync-client/{CLIENT_VERSION}"


@dataclass(frozen=True, slots=True)
class RawResponse:
    """One HTTP answer; `body` is already gunzipped."""

    status: int
    body: bytes
    headers: Mapping[str, str] = field(default_factory=dict)


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
    """urllib3's `Retry`, except that a POST cut mid-way is handed back to the engine, and
    that a `Retry-After` longer than :attr:`MAX_WAIT_S` is not slept through: the answer
    (429 or 503) goes back to the caller, which says so (or, in the daemon, schedules the
    next round after it) instead of hanging a pendamping's terminal for minutes."""

    MAX_WAIT_S = 30.0

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
        if response is not None:
            wait = self.get_retry_after(response)
            if wait is not None and wait > self.MAX_WAIT_S:
                # urllib3's pool catches this and, with raise_on_status=False, answers the
                # 429/503 itself; it always passes its pool (a None one is typed as urllib3
                # itself does it)
                raise MaxRetryError(_pool, url or "", None)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)


def default_retry(total: int = 4) -> Retry:
    """Backoff with jitter on connection errors and 429/502/503/504, honouring Retry-After."""
    return SyncRetry(
        total=total,
        connect=total,
        read=total,
        status=total,
        backoff_factor=0.5,
        backoff_max=30,
        backoff_jitter=0.5,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD", "POST", "PATCH"}),
        respect_retry_after_header=True,
        raise_on_status=False,
    )


def _dropped(exc: requests.RequestException) -> bool:
    """The connection died while the request or its answer was under way (not refused)."""
    if isinstance(exc, requests.ReadTimeout | requests.exceptions.ChunkedEncodingError):
        return True
    reason = exc.args[0] if exc.args else None
    return isinstance(exc, requests.ConnectionError) and isinstance(reason, ProtocolError)


class HttpTransport:
    """The hub over HTTP(S).

    :param base_url: e.g. ``http://hub.dinsos.local:5000``.
    :param timeout: (connect, read) seconds, applied to every request.
    """

    def __init__(
        self, base_url: str, timeout: tuple[float, float] = (10.0, 60.0), retry: Retry | None = None
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.session = requests.Session()
        adapter = HTTPAdapter(
            max_retries=retry if retry is not None else default_retry(),
            pool_connections=1,
            pool_maxsize=1,
        )
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept-Encoding": "gzip"})

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse:
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
            raise HubUnreachable(f"Hub tidak dapat dihubungi ({type(exc).__name__}).") from exc
        return RawResponse(response.status_code, content, response.headers)

    def close(self) -> None:
        self.session.close()
