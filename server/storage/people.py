"""What the office's people pages read and change of users and laptops: the
:class:`PeopleStore` facet, reached as :attr:`server.storage.HubStorage.people`.

Kept beside :class:`~server.storage.base.HubStorage` rather than in it so the office's needs
(a wilayah change, each laptop's last push) stay one small interface with its
own contract (:mod:`server.storage.people_testing`). The users themselves are
:meth:`HubStorage.list_users`. The rules (who may change whose
wilayah) are :class:`server.users.UserService`'s; a store only reads and writes, each write
audited in its own transaction.
"""

from __future__ import annotations

import abc
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from server.audit import AuditEvent

__all__ = ["LastPush", "PeopleStore", "parse_last_push"]

#: the audit actions that record a laptop's changes reaching the hub (a push, a USB bundle)
PUSH_ACTIONS = ("push", "bundle_import")


@dataclass(frozen=True, slots=True)
class LastPush:
    """The outcome of the last changes a laptop sent, as its audit entry holds them:
    when, how (``push`` or ``bundle_import``), how many, and how many fresh receipts of
    each status (``applied``, ``merged``, ``conflict``, ``rejected``)."""

    at: str
    action: str
    changes: int
    statuses: dict[str, int] = field(default_factory=dict)
    duplicates: int = 0


class PeopleStore(abc.ABC):
    """A user's wilayah and the laptops' last pushes, for the office's pages."""

    @abc.abstractmethod
    def set_wilayah(self, name: str, wilayah: Sequence[str], audit: AuditEvent) -> None:
        """Replace the wilayah of `name`, with `audit` appended in the same transaction.

        :raises NotFound: no such user (nothing is appended).
        """

    @abc.abstractmethod
    def last_pushes(self, device_ids: Sequence[str]) -> dict[str, LastPush]:
        """The last push or bundle import of each of `device_ids` that made one; a device
        that never sent a change is left out."""


def parse_last_push(at: str, action: str, detail: str) -> LastPush:
    """A push's audit detail as a :class:`LastPush`; a detail that is not what the hub
    writes (tampered) reads as zero counts rather than failing the page."""
    try:
        parsed: Any = json.loads(detail)
    except ValueError:
        parsed = {}
    if not isinstance(parsed, dict):
        parsed = {}
    statuses = parsed.get("statuses")
    counts = (
        {str(k): v for k, v in (statuses or {}).items() if isinstance(v, int)}
        if isinstance(statuses, dict)
        else {}
    )
    changes = parsed.get("changes")
    duplicates = parsed.get("duplicates")
    return LastPush(
        at,
        action,
        changes if isinstance(changes, int) else 0,
        counts,
        duplicates if isinstance(duplicates, int) else 0,
    )
