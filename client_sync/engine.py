"""One sync round: push the outbox in batches sized by bytes, then pull until caught up.

The engine takes a store, a :class:`HubClient`, and its clock and random source (the real
ones by default), so tests run it over the Flask test client or a transport that drops
connections, and decide how it waits. A round that stops half way loses nothing: each
batch's receipts and each pulled page are committed as they arrive, and whatever was not
confirmed is simply sent again next time.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from client_sync.bundle import confirm_exported
from client_sync.errors import LinkDropped
from client_sync.hub import HubClient
from client_sync.photos import upload_pending
from client_sync.progress import size_words
from client_sync.schedule import Rng
from client_sync.store import FieldStore
from client_sync.transport import tell_waits
from schemas.hlc import wall_ms
from schemas.protocol import PULL_LIMIT_DEFAULT

__all__ = ["BUSY_PHASE", "BatchSizer", "Progress", "SyncResult", "sync_once"]

#: Told how a long round goes: (phase, done, total) with phase ``kirim`` (changes pushed),
#: ``terima`` (records pulled; total 0: unknown), ``foto`` (photo bytes sent) or ``sibuk``
#: (the hub is busy: `done` is the seconds still to wait before the next try, total 0),
#: told about once a second while the wait lasts. A hook that raises stops the round.
Progress = Callable[[str, int, int], None]
#: The phase of a wait on a busy hub.
BUSY_PHASE = "sibuk"

DEFAULT_BATCH_BYTES = 512 * 1024  # of JSON: about 50 KB on the wire for visits
DEFAULT_START_BYTES = 128 * 1024
MIN_BATCH_BYTES = 16 * 1024
MAX_CUTS_PER_ROUND = 8
#: Records per pull page the laptop asks for: twice the page the hub serves when asked for
#: none (:data:`~schemas.protocol.PULL_LIMIT_DEFAULT`), to halve a first sync's round trips
#: over a slow link, and well under the most it serves (`PULL_LIMIT_MAX`, refused above).
DEFAULT_PULL_LIMIT = 2 * PULL_LIMIT_DEFAULT
#: The real random source, for the pause after a cut push.
SYSTEM_RANDOM = random.Random()


@dataclass(slots=True)
class SyncResult:
    """What one round did. `errors` holds the hub's reasons for each refused change."""

    pushed: int = 0
    pulled: int = 0
    #: entries this round's changes put in the hub's review queue, as the hub counts them:
    #: one per field that lost, one per duplicate NIK (the pull brings them); a change
    #: editing two fields another laptop also edited is two
    conflicts: int = 0
    conflict_changes: int = 0  # receipts that said `conflict`: one per change
    rejected: int = 0
    batches: int = 0
    pages: int = 0
    cuts: int = 0  # pushes the link cut half way, sent again in smaller batches
    confirmed_by_bundle: int = 0  # exported changes the hub already had from a bundle
    photos_sent: int = 0
    photo_bytes: int = 0
    photos_refused: int = 0
    photos_waiting: int = 0  # still to send: the link allowed no more this round
    errors: list[dict[str, Any]] = field(default_factory=list)
    #: the seq of each change whose receipt said `conflict`, and the queue entries the pull
    #: brought raised at each (by id: an entry also settled in the round comes twice)
    conflict_seqs: list[Any] = field(default_factory=list, repr=False)
    raised_at: dict[Any, set[Any]] = field(default_factory=dict, repr=False)

    def note_raised(self, conflicts: Iterable[Mapping[str, Any]]) -> None:
        """Remember the pulled queue entries raised by this round's conflicting changes."""
        wanted = set(self.conflict_seqs)
        for conflict in conflicts:
            if conflict.get("seq") in wanted:
                self.raised_at.setdefault(conflict["seq"], set()).add(conflict.get("conflict_id"))

    def count_conflicts(self) -> None:
        """Set :attr:`conflicts` from the queue entries pulled for this round's conflicting
        changes; a change whose entries the pull did not bring still counts once."""
        self.conflicts = sum(max(1, len(self.raised_at.get(seq, ()))) for seq in self.conflict_seqs)

    def extras_text(self) -> str:
        """The round's one line after its counts, for people: changes a USB bundle already
        delivered, and photos; empty when there is nothing to say."""
        parts = []
        if self.confirmed_by_bundle:
            parts.append(f"{self.confirmed_by_bundle} sudah diterima hub lewat bundle USB")
        if self.photos_sent:
            parts.append(f"{self.photos_sent} foto terkirim ({size_words(self.photo_bytes)})")
        if self.photos_waiting:
            parts.append(f"{self.photos_waiting} foto menunggu")
        if self.photos_refused:
            parts.append(f"{self.photos_refused} foto ditolak")
        return "; " + ", ".join(parts) if parts else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "pushed": self.pushed,
            "pulled": self.pulled,
            "conflicts": self.conflicts,
            "conflict_changes": self.conflict_changes,
            "rejected": self.rejected,
            "batches": self.batches,
            "pages": self.pages,
            "cuts": self.cuts,
            "confirmed_by_bundle": self.confirmed_by_bundle,
            "photos_sent": self.photos_sent,
            "photo_bytes": self.photo_bytes,
            "photos_refused": self.photos_refused,
            "photos_waiting": self.photos_waiting,
            "errors": self.errors,
        }


@dataclass(slots=True)
class BatchSizer:
    """How many bytes of JSON the next push batch holds.

    A round starts at `start` and doubles after each batch the hub confirms, up to
    `ceiling`: few round trips on a good link. A cut connection halves it, down to `floor`,
    and it grows no more in that round: on a link that drops, the batch in flight is what
    a cut costs, so the rest goes in smaller pieces.
    """

    ceiling: int = DEFAULT_BATCH_BYTES
    start: int = DEFAULT_START_BYTES
    floor: int = MIN_BATCH_BYTES
    size: int = 0
    cuts: int = 0

    def __post_init__(self) -> None:
        self.size = min(self.start, self.ceiling)

    def confirmed(self) -> None:
        if not self.cuts:
            self.size = min(self.size * 2, self.ceiling)

    def cut(self) -> None:
        self.cuts += 1
        self.size = max(self.size // 2, min(self.floor, self.ceiling))


def push_outbox(
    store: FieldStore,
    hub: HubClient,
    result: SyncResult,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    progress: Progress | None = None,
    max_cuts: int = MAX_CUTS_PER_ROUND,
    pause: Callable[[float], None] = time.sleep,
    rng: Rng = SYSTEM_RANDOM,
) -> None:
    """Push every pending change, a batch at a time, confirming each batch as it returns.

    One batch is on the wire at a time, in outbox order; while it is, the next one is read
    from the store and gzipped and the last one's receipts are recorded, so the laptop's work
    overlaps the hub's. A batch is sent only after the hub answered the one before it, so the
    hub takes them in order; one sent before the last receipts were recorded is safe to send
    again, as any is (the hub answers a change id it holds with its original receipt). So a
    round stopped while a batch's receipts are recorded (the daemon's stop, a failed write)
    ends only once the batch after it is answered: one more batch, never a lost one.

    When the link drops a push half way, what is still pending goes again in smaller
    batches after a short pause, at most `max_cuts` times a round; a batch the hub had taken
    before the cut gets its original receipts.

    :param pause: how to wait (seconds); :param rng: draws the pause, 0.5-1.5 s.
    """
    total = store.pending_count()
    hub.queue_size = total
    sizer = BatchSizer(ceiling=batch_bytes, start=min(DEFAULT_START_BYTES, batch_bytes))
    while True:
        try:
            _push_batches(store, hub, result, sizer, progress, total)
            return
        except LinkDropped:
            sizer.cut()
            result.cuts += 1
            if sizer.cuts > max_cuts:
                raise
            pause(0.5 + rng.random())  # what random.uniform(0.5, 1.5) draws


def _push_batches(
    store: FieldStore,
    hub: HubClient,
    result: SyncResult,
    sizer: BatchSizer,
    progress: Progress | None,
    total: int,
) -> None:
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="push") as sender:
        in_flight: Future[list[dict[str, Any]]] | None = None
        for batch in store.outbox_batches(lambda: sizer.size):
            body = hub.encode_push(batch)
            receipts = _answered(hub, in_flight) if in_flight is not None else None
            # this batch goes before the last one's receipts are written: the hub takes it
            # while the laptop records them
            in_flight = sender.submit(hub.push, batch, body)
            if receipts is not None:
                _settle(store, receipts, result, progress, total)
                sizer.confirmed()
        if in_flight is not None:
            _settle(store, _answered(hub, in_flight), result, progress, total)
            sizer.confirmed()


def _answered(hub: HubClient, in_flight: Future[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """The receipts of the batch on the wire, once the hub answered; the queue the laptop
    reports with its next request no longer counts that batch."""
    receipts = in_flight.result()
    if hub.queue_size is not None:
        hub.queue_size = max(hub.queue_size - len(receipts), 0)
    return receipts


def _settle(
    store: FieldStore,
    receipts: list[dict[str, Any]],
    result: SyncResult,
    progress: Progress | None,
    total: int,
) -> None:
    """Record one batch's receipts in the store and the round's tally."""
    store.confirm(receipts, getattr(receipts, "received_at", None))  # the hub's time, if sent
    result.batches += 1
    if progress is not None:
        progress("kirim", min(result.pushed + result.rejected + len(receipts), total), total)
    for receipt in receipts:
        status = receipt["status"]
        if status == "rejected":
            result.rejected += 1
            result.errors.append(
                {"change_id": receipt["change_id"], "errors": receipt.get("errors", {})}
            )
        else:
            result.pushed += 1
            if status == "conflict":
                result.conflict_changes += 1
                result.conflict_seqs.append(receipt.get("seq"))


def pull_all(
    store: FieldStore,
    hub: HubClient,
    result: SyncResult,
    limit: int = DEFAULT_PULL_LIMIT,
    progress: Progress | None = None,
) -> None:
    """Pull pages from the store's cursor until the hub says there is no more.

    Each page is stored with its cursor in one transaction, so a round cut short resumes
    where it stopped. The next page is fetched in a thread while this one is written (the
    hub builds a page while the laptop encrypts the last one), so at most two pages are in
    memory, whatever the number of records; the fetch thread is the only user of the
    transport meanwhile. A first sync's read model is built at its end
    (:meth:`FieldStore.pulling`).
    """
    with store.pulling(), ThreadPoolExecutor(1, thread_name_prefix="pull") as fetcher:
        in_flight = fetcher.submit(hub.pull, store.pull_cursor, limit)
        while True:
            page = in_flight.result()
            if page["more"]:
                in_flight = fetcher.submit(hub.pull, page["next"], limit)
            _store_page(store, page, result, progress)
            if not page["more"]:
                return


def _store_page(
    store: FieldStore, page: dict[str, Any], result: SyncResult, progress: Progress | None
) -> None:
    """Write one pulled page (records and cursor in one transaction) and tally it."""
    store.apply_pull(
        page["records"], page["next"], page.get("conflicts") or (), page.get("exits") or ()
    )
    result.pulled += len(page["records"])
    result.pages += 1
    if result.conflict_seqs:
        result.note_raised(page.get("conflicts") or ())
    if progress is not None:
        progress("terima", result.pulled, 0)


def sync_once(
    store: FieldStore,
    hub: HubClient,
    *,
    batch_bytes: int = DEFAULT_BATCH_BYTES,
    pull_limit: int = DEFAULT_PULL_LIMIT,
    progress: Progress | None = None,
    pause: Callable[[float], None] = time.sleep,
    rng: Rng = SYSTEM_RANDOM,
    wall: Callable[[], int] = wall_ms,
) -> SyncResult:
    """Push, then pull, then send the photos the link allows (a record always before its
    photos). :raises client_sync.errors.SyncError: the round stopped early.

    A hub that answers busy is waited on by the transport (urllib3's `Retry`, bounded by
    its `wait_s`, not by a count of tries); `progress` hears each second of such a wait as
    phase :data:`BUSY_PHASE`, and past the bound the round stops with
    :class:`~client_sync.errors.HubBusy`.

    :param pause: how to wait between a cut push and the next try (tests pass a no-op).
    :param rng: the random source of that wait's jitter.
    :param wall: the wall clock in ms, for the photos' upload stamps.
    """
    result = SyncResult()
    if progress is not None:  # how long the transport still waits on a busy hub
        tell_waits(hub.transport, lambda left: progress(BUSY_PHASE, math.ceil(left), 0))
    try:
        # Changes carried to the office on a USB stick: ask their receipts, don't send them.
        result.confirmed_by_bundle = confirm_exported(store, hub)
        push_outbox(store, hub, result, batch_bytes, progress, pause=pause, rng=rng)
        pull_all(store, hub, result, pull_limit, progress)
        result.count_conflicts()
        on_photo = (
            None if progress is None else (lambda _sha, sent, size: progress("foto", sent, size))
        )
        photos = upload_pending(store, hub, progress=on_photo, wall=wall)
    finally:
        tell_waits(hub.transport, None)
    result.photos_sent, result.photo_bytes = photos.sent, photos.bytes_sent
    result.photos_refused, result.photos_waiting = photos.refused, photos.pending
    return result
