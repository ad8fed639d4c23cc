"""The sync protocol as calls: enrol, health, push a batch, pull a page, ask for receipts.

Bodies go out gzipped; every answer is checked against the protocol before the store
believes it, so a truncated or foreign response never marks a change as delivered.
"""

from __future__ import annotations

import datetime as dt
import gzip
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import orjson

from client_sync.errors import (
    HubBroken,
    HubBusy,
    HubRefused,
    ProtocolError,
    SyncError,
    Unauthorized,
)
from client_sync.store import Identity, OutboxBatch
from client_sync.transport import BUSY_STATUSES, RawResponse, Transport
from client_sync.version import CLIENT_VERSION
from schemas.error_codes import ErrorCode
from schemas.hlc import iso_from_ms
from schemas.protocol import (
    CLIENT_HEADER,
    ENROLL_PATH,
    HEALTH_PATH,
    PROTOCOL_VERSION,
    PULL_PATH,
    PUSH_PATH,
    QUEUE_HEADER,
    RECEIPTS_PATH,
    RETRY_AFTER_HEADER,
    SCHEMA_VERSION,
)
from schemas.pull_page import is_pull_page
from schemas.sync import RECEIPT_STATUSES, batch_check, expand_receipts

__all__ = ["HubClient", "PushReceipts", "hub_time"]

_GZIP_LEVEL = 6
#: A receipts request has always gone out at gzip's own default level (its bytes unchanged).
_RECEIPTS_GZIP_LEVEL = 9
#: What an older hub, from before USB bundles, answers a receipts request with.
_NO_RECEIPTS = frozenset({ErrorCode.NOT_FOUND.status, ErrorCode.METHOD_NOT_ALLOWED.status})
#: The slug of an error answer that names none (not a hub's, e.g. a proxy's).
_UNNAMED = "error"


class PushReceipts(list[dict[str, Any]]):
    """A push's receipts, one per change in order, and the hub's time of receipt
    (`received_at`, UTC ISO 8601), None from a hub that does not send it."""

    received_at: str | None = None


def hub_time(value: Any) -> str | None:
    """The hub's `received_at` as this laptop writes times (``…T09:30:00.123Z``), or None
    when it is absent or not a time with its zone: the laptop then keeps its own clock."""
    if not isinstance(value, str) or len(value) > 40:
        return None
    try:
        at = dt.datetime.fromisoformat(value)
        if at.tzinfo is None:
            return None
        # a zone can push a year-1 or year-9999 time out of the calendar: still "no time"
        return iso_from_ms(round(at.timestamp() * 1000))
    except (ValueError, OverflowError):
        return None


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """`Retry-After` in seconds (the hub sends seconds, never a date)."""
    value = str(headers.get(RETRY_AFTER_HEADER) or "").strip()
    return float(value) if value.isascii() and value.isdigit() else None


def _is_busy(status: int, slug: str) -> bool:
    """A 429, or a 503 that is not a fault (`storage_unavailable`: the hub's disk failed)."""
    return status in BUSY_STATUSES and slug != ErrorCode.STORAGE_UNAVAILABLE


def _error(response: RawResponse, info: Mapping[str, Any]) -> SyncError:
    """The exception for an error answer: its words fit the fault (errors.py's tree)."""
    status = response.status
    slug = str(info.get("error", _UNNAMED))
    said = str(info.get("message") or "")
    retry_after = _retry_after(response.headers)
    error: SyncError
    if status == ErrorCode.UNAUTHORIZED.status:
        error = Unauthorized(status, slug, said or f"HTTP {status}")
    elif _is_busy(status, slug):
        # The transport waited as long as it was allowed to (SyncRetry) before this answer.
        error = HubBusy(retry_after, response.elapsed_s, status, said)
    elif status >= 500:
        code = ErrorCode.lookup(slug)
        # the hub's own words, unless they are its generic "something went wrong"
        error = HubBroken(status, slug, "" if code is None or code.generic else said)
    else:
        error = HubRefused(status, slug, said or f"HTTP {status}")
    error.retry_after = retry_after
    return error


def _gzip_json(payload: bytes, level: int = _GZIP_LEVEL) -> bytes:
    return gzip.compress(payload, compresslevel=level, mtime=0)


class HubClient:
    """The hub's API for one laptop.

    :param token: the device token; ``None`` only for enrolment.
    """

    def __init__(self, transport: Transport, token: str | None = None) -> None:
        self.transport = transport
        self.token = token
        #: changes waiting on this laptop, reported to the hub with every call when known
        self.queue_size: int | None = None

    def _call(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        params: Mapping[str, int] | None = None,
    ) -> Any:
        """One request; `body` is gzipped JSON from :func:`_gzip_json`."""
        headers = {"Accept": "application/json", CLIENT_HEADER: CLIENT_VERSION}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.queue_size is not None:
            headers[QUEUE_HEADER] = str(self.queue_size)
        if body is not None:
            headers["Content-Type"] = "application/json"
            headers["Content-Encoding"] = "gzip"
        response = self.transport.send(method, path, body=body, headers=headers, params=params)
        return self._decode(response)

    @staticmethod
    def _decode(response: RawResponse) -> Any:
        try:
            data = orjson.loads(response.body) if response.body else None
        except ValueError as exc:
            if response.status < 400:
                raise ProtocolError(f"Jawaban hub bukan JSON (HTTP {response.status}).") from exc
            data = None  # an error page that is not the hub's (a proxy's HTML)
        if response.status >= 400:
            raise _error(response, data if isinstance(data, dict) else {})
        return data

    def health(self) -> dict[str, Any]:
        return self._call("GET", HEALTH_PATH)

    def enroll(self, code: str, device_name: str, hub_url: str) -> Identity:
        """Trade a one-time code for this laptop's identity and token."""
        payload = orjson.dumps({"code": code, "device_name": device_name})
        data = self._call("POST", ENROLL_PATH, _gzip_json(payload))
        try:
            return Identity(
                str(data["device_id"]),
                str(data["token"]),
                hub_url,
                str(data["user"]),
                str(data["role"]),
                tuple(str(w) for w in data["wilayah"]),
            )
        except (KeyError, TypeError) as exc:
            raise ProtocolError("Jawaban pendaftaran dari hub tidak lengkap.") from exc

    @staticmethod
    def encode_push(batch: OutboxBatch) -> bytes:
        """The gzipped body of a push; separate so it can be made while another is in flight."""
        payload = (
            f'{{"protocol":{PROTOCOL_VERSION},"schema_version":{SCHEMA_VERSION},'
            '"receipts":"compact","changes":[' + ",".join(batch.changes_json) + "]}"
        ).encode("utf-8")
        return _gzip_json(payload)

    def push(self, batch: OutboxBatch, body: bytes | None = None) -> PushReceipts:
        """Send one batch. :returns: its receipts, checked to match the batch one for one,
        with the hub's time of receipt when it sent one."""
        body = body if body is not None else self.encode_push(batch)
        data = self._call("POST", PUSH_PATH, body)
        receipts = PushReceipts(self._receipts(data, batch.change_ids))
        receipts.received_at = hub_time(data.get("received_at"))
        for change_id, receipt in zip(batch.change_ids, receipts, strict=True):
            if (
                not isinstance(receipt, dict)
                or receipt.get("change_id") != change_id
                or receipt.get("status") not in RECEIPT_STATUSES
            ):
                raise ProtocolError("Tanda terima dari hub tidak cocok dengan kiriman.")
        return receipts

    @staticmethod
    def _receipts(data: Any, change_ids: tuple[str, ...]) -> list[dict[str, Any]]:
        """The receipts of a push answer, compact (with the batch's check) or full."""
        if isinstance(data, dict) and "compact" in data:
            if data.get("check") != batch_check(change_ids):
                raise ProtocolError("Tanda terima dari hub bukan untuk kiriman ini.")
            try:
                return expand_receipts(data["compact"], change_ids)
            except ValueError as exc:
                raise ProtocolError("Tanda terima ringkas dari hub rusak.") from exc
        receipts = data.get("receipts") if isinstance(data, dict) else None
        if not isinstance(receipts, list) or len(receipts) != len(change_ids):
            raise ProtocolError("Jumlah tanda terima dari hub tidak sama dengan kiriman.")
        return receipts

    def pull(self, since: int, limit: int) -> dict[str, Any]:
        """One page of records above `since`."""
        data = self._call("GET", PULL_PATH, params={"since": since, "limit": limit})
        if not is_pull_page(data):
            raise ProtocolError("Halaman tarik dari hub tidak lengkap.")
        return data

    def receipts(self, change_ids: Sequence[str]) -> list[dict[str, Any]] | None:
        """The hub's stored receipts for those of `change_ids` it holds from this laptop (the
        changes a USB bundle carried to the office), checked to be for changes asked about,
        each at most once. Changes the hub does not hold have no receipt.

        :returns: None when the hub has no receipts endpoint (an older hub).
        """
        payload = orjson.dumps({"change_ids": list(change_ids)})
        try:
            data = self._call("POST", RECEIPTS_PATH, _gzip_json(payload, _RECEIPTS_GZIP_LEVEL))
        except HubRefused as exc:
            if exc.status in _NO_RECEIPTS:
                return None
            raise
        receipts = data.get("receipts") if isinstance(data, dict) else None
        if not isinstance(receipts, list) or not _all_receipts(receipts, set(change_ids)):
            raise ProtocolError("Tanda terima bundle dari hub tidak cocok dengan yang ditanyakan.")
        return receipts


def _all_receipts(receipts: Iterable[Any], asked: set[str]) -> bool:
    """Whether every receipt is a known status for a change asked about, none twice."""
    seen: set[str] = set()
    for receipt in receipts:
        if (
            not isinstance(receipt, dict)
            or receipt.get("change_id") not in asked
            or receipt["change_id"] in seen
            or receipt.get("status") not in RECEIPT_STATUSES
        ):
            return False
        seen.add(receipt["change_id"])
    return True
