"""The monthly verification's storage: the :class:`VerificationStore` facet, reached as
:attr:`server.storage.HubStorage.verification`.

For one programme and one month of the office's calendar, each beneficiary enrolled in the
programme has a *state*: the outcome of the latest verification visit of that month
(:data:`STATES`). A supervisor *closes* the month for a wilayah: the list as it stands is
copied into a frozen snapshot in the closing transaction, with the audit entry, and no
statement changes it afterwards (the triggers of `NNNN_monthly_verification.sql`). The
rules (who may close, which months) are :mod:`server.office.verification`'s; the store
reads, and writes one close. Its contract is :mod:`server.storage.verification_testing`.
"""

from __future__ import annotations

import abc
import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from schemas.scope import within
from server.audit import AuditEvent
from server.storage.base import AlreadyExists

__all__ = [
    "BELUM",
    "STATES",
    "TERVERIFIKASI",
    "MonthClose",
    "MonthClosed",
    "MonthState",
    "VerificationStore",
    "overlaps",
]

Scopes = Sequence[str] | None

#: verified: the month's latest verification visit found the beneficiary eligible
TERVERIFIKASI = "terverifikasi"
#: no verification visit in the month yet
BELUM = "belum"
#: a beneficiary's state for a month: verified, not yet, or what the visit found instead
STATES: tuple[str, ...] = (TERVERIFIKASI, BELUM, "tidak_layak", "meninggal", "pindah")


@dataclass(frozen=True, slots=True)
class MonthState:
    """One beneficiary's state for a programme and month, live or frozen.

    `pendamping` is the author of the deciding visit, or (no visit) of the beneficiary's
    record. `name` and `nik` are filled on frozen rows (copied at the close) and wherever
    the caller asked for them; `visited_utc` is `YYYY-MM-DDTHH:MM:SSZ`.
    """

    beneficiary_id: str
    kelurahan: str
    name_key: str
    state: str
    visit_id: str | None = None
    visited_utc: str | None = None
    pendamping: str | None = None
    name: str | None = None
    nik: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """The list's order: by kelurahan, then name, then id."""
        return (self.kelurahan, self.name_key, self.beneficiary_id)


@dataclass(frozen=True, slots=True)
class MonthClose:
    """A closed month: the programme, the month (`2026-01`), the wilayah prefixes closed
    (None: every wilayah), who closed it and when (UTC ISO), and the count per state."""

    close_id: int
    program: str
    month: str
    wilayah: tuple[str, ...] | None
    closed_by: str
    closed_at: str
    counts: dict[str, int] = field(default_factory=dict)

    def covers(self, kelurahan: str) -> bool:
        return within(self.wilayah, kelurahan)


class MonthClosed(AlreadyExists):
    """The month is closed already for a wilayah that overlaps the one asked; `existing`
    is that close. Nothing was written."""

    def __init__(self, existing: MonthClose) -> None:
        super().__init__(f"{existing.program} {existing.month} closed already")
        self.existing = existing


def overlaps(a: tuple[str, ...] | None, b: tuple[str, ...] | None) -> bool:
    """Do two sets of wilayah prefixes (None: everything) share any kelurahan?"""
    if a is None or b is None:
        return True
    return any(within((x,), y) or within((y,), x) for x in a for y in b)


class VerificationStore(abc.ABC):
    """The month's states, its closes and their frozen lists."""

    @abc.abstractmethod
    def month_states(
        self, scopes: Scopes, program: str, start: dt.datetime, end: dt.datetime
    ) -> list[MonthState]:
        """Every live beneficiary enrolled in `program` inside `scopes`, with its state for
        the period [start, end): by kelurahan, then name. Names and NIKs are not read
        (:meth:`people` reads them for the rows a page shows).

        The state is decided by the beneficiary's latest live *verification visit* in the
        period (the latest `visited_at`, then the greatest id), a verification visit being
        one whose purpose is ``verifikasi`` or that recorded a `verification_outcome`: its
        outcome (``layak``, or none, is :data:`TERVERIFIKASI`); no such visit: :data:`BELUM`.
        """

    @abc.abstractmethod
    def people(self, beneficiary_ids: Sequence[str]) -> dict[str, tuple[str, str | None]]:
        """The name and NIK of each of these beneficiaries the hub holds."""

    @abc.abstractmethod
    def closes(self, program: str, month: str) -> list[MonthClose]:
        """Every close of `program` for `month` (any wilayah), oldest first."""

    @abc.abstractmethod
    def frozen(self, close_ids: Sequence[int], scopes: Scopes) -> list[MonthState]:
        """The frozen rows of these closes whose kelurahan lies inside `scopes`, with their
        names and NIKs as they were at the close: by kelurahan, then name."""

    @abc.abstractmethod
    def close_month(
        self,
        program: str,
        month: str,
        wilayah: tuple[str, ...] | None,
        start: dt.datetime,
        end: dt.datetime,
        closed_by: str,
        closed_at: str,
        audit: Callable[[MonthClose], AuditEvent],
    ) -> MonthClose:
        """Close `month` of `program` for `wilayah` (None: every wilayah) in one
        transaction: copy :meth:`month_states` for [start, end) inside it, with names and
        NIKs, into the frozen list, and append ``audit(close)``.

        :raises MonthClosed: a close of the same programme and month overlaps `wilayah`
            (checked inside the transaction, so two offices closing at once cannot both
            succeed); nothing is written.
        """
