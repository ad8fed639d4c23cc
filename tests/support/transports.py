"""Transports for tests: the hub in-process, and one that fails on purpose.

:class:`WsgiTransport` carries requests to a Flask app through its test client, so a laptop
and a hub run in one process with no socket. :class:`FlakyTransport` wraps another transport
and loses a chosen request or its response, as a dropped 2G connection does.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Mapping

from flask import Flask

from client_sync.errors import HubUnreachable
from client_sync.transport import RawResponse


def gunzip_if_needed(body: bytes, headers: Mapping[str, str]) -> bytes:
    """Inflate a body still marked gzip: the test client, unlike requests, does not."""
    if headers.get("Content-Encoding", "").lower() == "gzip":
        return gzip.decompress(body)
    return body


class WsgiTransport:
    """The hub's Flask app as a transport, through `app.test_client()`."""

    def __init__(self, app: Flask) -> None:
        self.client = app.test_client()
        self.requests: list[tuple[str, str]] = []

    def send(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> RawResponse:
        self.requests.append((method, path))
        headers = {"Accept-Encoding": "gzip", **(headers or {})}
        response = self.client.open(
            path, method=method, data=body, headers=headers, query_string=dict(params or {})
        )
        body_out = gunzip_if_needed(response.get_data(), response.headers)
        return RawResponse(response.status_code, body_out, dict(response.headers))

    def close(self) -> None:
        pass


class FlakyTransport:
    """Wraps a transport and fails the requests that `fail` picks.

    :param fail: called with (call number, method, path); returns ``"request"`` to drop the
        request before the hub sees it, ``"response"`` to let the hub act and lose its
        answer, or ``None`` to pass.
    """

    def __init__(self, inner, fail: Callable[[int, str, str], str | None]) -> None:
        self.inner = inner
        self.fail = fail
        self.calls = 0

    def send(self, method: str, path: str, **kwargs) -> RawResponse:
        self.calls += 1
        mode = self.fail(self.calls, method, path)
        if mode == "request":
            raise HubUnreachable("connection dropped before the request arrived")
        response = self.inner.send(method, path, **kwargs)
        if mode == "response":
            raise HubUnreachable("connection dropped while the response was on its way")
        return response

    def close(self) -> None:
        self.inner.close()
