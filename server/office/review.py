"""Reviewing visits: the district office accepts a visit or returns it to its pendamping.

A review is the visit's `review` field (:mod:`schemas.review`), which only the hub writes:
``{"state": "diterima" | "dikembalikan", "reason", "by", "at"}``; absent or null is
*menunggu*. It is written as a hub-made change (:mod:`server.office.writes`), so the
returned visit reaches the pendamping's laptop on its next pull; the pendamping's next edit
puts it back into review in the same transaction as that edit
(:meth:`server.sync.SyncService.push`).

For the web pages and the CLI::

    reviews = hub_state().reviews
    reviews.accept(user, ["<visit id>", ...], via="web")            # one, or up to 500
    reviews.send_back(user, ["<visit id>"], "Foto rumah kurang jelas.", via="web")
    reviews.accept(user, ids, seen={"<visit id>": 812}, via="web")  # as the page showed them

Every call is one transaction and one audit entry naming the user; any refusal
(:mod:`server.exceptions`, naming the field: ``visit_ids``, ``reason``) writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError

from schemas.review import ACCEPTED, RETURNED, REVIEW_FIELD, REVIEW_STATES, clean_note
from server.exceptions import Invalid, StateConflict
from server.office.writes import OfficeTransaction, check_ids, require_office
from server.storage import HubStorage, RecordRow, User

__all__ = ["ReviewOutcome", "ReviewService"]


@dataclass(frozen=True, slots=True)
class ReviewOutcome:
    """What one review call did.

    `written`: the visits whose review changed, in the order given; `unchanged`: those that
    already had this very review (nothing written for them); `seqs`: the first and last seq
    written, None when nothing was.
    """

    state: str
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    seqs: tuple[int, int] | None = None


class ReviewService:
    """Accepts and returns visits over any :class:`HubStorage`.

    :param now: the hub's wall clock as ISO text.
    :param max_skew_ms: the hub clock's clamp (as the push's).
    """

    def __init__(self, storage: HubStorage, now: Callable[[], str], max_skew_ms: int) -> None:
        self.storage = storage
        self._now = now
        self._max_skew_ms = max_skew_ms

    def accept(
        self,
        user: User,
        visit_ids: Iterable[str],
        note: str | None = None,
        *,
        seen: Mapping[str, int] | None = None,
        via: str = "web",
    ) -> ReviewOutcome:
        """Mark visits *diterima*, with an optional note. See :meth:`decide`."""
        return self.decide(user, visit_ids, ACCEPTED, note, seen=seen, via=via)

    def send_back(
        self,
        user: User,
        visit_ids: Iterable[str],
        reason: str,
        *,
        seen: Mapping[str, int] | None = None,
        via: str = "web",
    ) -> ReviewOutcome:
        """Return visits to their pendamping (*dikembalikan*) with a reason (required).
        See :meth:`decide`."""
        return self.decide(user, visit_ids, RETURNED, reason, seen=seen, via=via)

    def decide(
        self,
        user: User,
        visit_ids: Iterable[str],
        state: str,
        reason: str | None = None,
        *,
        seen: Mapping[str, int] | None = None,
        via: str = "web",
    ) -> ReviewOutcome:
        """Set the review of up to :data:`~server.office.writes.MAX_BATCH` visits in one
        transaction: all of them, or (on any refusal) none.

        :param state: ``diterima`` or ``dikembalikan``.
        :param reason: required to return a visit; at most 1,000 characters, no control
            characters but line breaks and tabs.
        :param seen: the seq of each visit as the page showed it: a visit changed since
            (the pendamping edited it) is refused, so nobody accepts what they did not read.
        :param via: how the action came, for the audit entry (``web``, ``cli:<os user>``).
        :raises NotAllowed: `user` is not a supervisor or an admin.
        :raises Invalid: a bad state, id list or reason (``state``, ``visit_ids``, ``reason``).
        :raises Missing: a visit unknown or outside the user's wilayah (``visit_ids``).
        :raises StateConflict: a visit deleted, or changed since `seen` (``visit_ids``).
        """
        require_office(user)
        if state not in REVIEW_STATES:
            raise Invalid.on("state", f"Harus salah satu dari: {', '.join(REVIEW_STATES)}.")
        ids = check_ids(visit_ids, "visit_ids")
        try:
            note = clean_note(reason, required=state == RETURNED)
        except ValidationError as exc:
            raise Invalid.on("reason", str(exc.messages[0])) from None
        outcome = ReviewOutcome(state)
        with self.storage.write() as session:
            tx = OfficeTransaction(session, user, self._now(), self._max_skew_ms)
            rows = tx.rows(ids, "visit", "visit_ids", "Kunjungan")
            _check_seen(rows, seen)
            review = {"state": state, "reason": note, "by": user.name, "at": tx.now}
            for row in rows:
                held = row.data.get(REVIEW_FIELD)
                if isinstance(held, dict) and (held.get("state"), held.get("reason")) == (
                    state,
                    note,
                ):
                    outcome.unchanged.append(row.id)
                    continue
                tx.write(row, {REVIEW_FIELD: review})
                outcome.written.append(row.id)
            if outcome.written:
                detail: dict[str, Any] = {
                    "state": state,
                    "visits": outcome.written,
                    "unchanged": len(outcome.unchanged),
                }
                tx.finish("review_visits", detail, via)
                outcome = ReviewOutcome(
                    state, outcome.written, outcome.unchanged, (tx.first_seq, tx.writer.seq)
                )
        return outcome


def _check_seen(rows: list[RecordRow], seen: Mapping[str, int] | None) -> None:
    """:raises StateConflict: a visit was written after the seq the page showed."""
    if not seen:
        return
    if any(type(seq) is not int for seq in seen.values()):
        raise Invalid.on("seen", "Harus nomor urut (seq) tiap kunjungan.")
    changed = [row.id for row in rows if row.id in seen and row.seq > seen[row.id]]
    if changed:
        shown = ", ".join(changed[:5]) + (" …" if len(changed) > 5 else "")
        raise StateConflict.on(
            "visit_ids",
            f"Kunjungan berubah sejak ditampilkan (mis. diperbaiki pendamping): {shown}. "
            "Muat ulang lalu periksa lagi.",
        )
