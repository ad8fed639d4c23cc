"""Who sees what: one scope rule and one role check, for the API, the pages and the CLI.

A user's scope is their wilayah codes, each covering the kelurahan below it on segment
boundaries (`31.71` covers `31.71.01.1001`, not `31.710...`); an admin's scope is
everything. Both rules are :mod:`schemas.scope`'s, which the laptop asks too. Services take
a :class:`Scope` (or a user), never a request; what a role may do is a named tuple of roles
here (:data:`CONFLICT_REVIEWERS`), checked by :func:`require_role`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from schemas.scope import sees_everything, within
from server.exceptions import NotAllowed
from server.storage import User

__all__ = [
    "CONFLICT_REVIEWERS",
    "EVERYWHERE",
    "Scope",
    "has_role",
    "require_conflict_reviewer",
    "require_role",
    "sees_everything",
]

#: the roles that read the review queue and settle conflicts (API, pages)
CONFLICT_REVIEWERS: tuple[str, ...] = ("supervisor", "admin")


@dataclass(frozen=True, slots=True)
class Scope:
    """The wilayah prefixes a user reads and writes; `prefixes` None means all of them.

    An empty tuple (a pendamping or supervisor with no wilayah) covers nothing at all.
    """

    prefixes: tuple[str, ...] | None

    @classmethod
    def of(cls, user: User) -> Scope:
        """The scope of `user`: their wilayah, or everything for an admin."""
        return cls(None if sees_everything(user.role) else tuple(user.wilayah))

    def covers(self, kelurahan: str) -> bool:
        """Does the scope hold `kelurahan` (or any code below a wilayah of it)?"""
        return within(self.prefixes, kelurahan)

    def covers_any(self, codes: Iterable[str]) -> bool:
        """Does the scope hold at least one of `codes` (e.g. another user's wilayah)?"""
        return self.prefixes is None or any(self.covers(code) for code in codes)


#: The office's own view: every wilayah (the CLI, an admin).
EVERYWHERE = Scope(None)


def has_role(user: User, *roles: str) -> bool:
    """Is `user` one of `roles`?"""
    return user.role in roles


def require_role(user: User, *roles: str, message: str | None = None) -> None:
    """:raises NotAllowed: `user` is none of `roles` (`message` says so, in Indonesian)."""
    if not has_role(user, *roles):
        raise NotAllowed(message) if message else NotAllowed()


def require_conflict_reviewer(user: User) -> None:
    """:raises NotAllowed: `user` may not read or settle the review queue."""
    require_role(user, *CONFLICT_REVIEWERS)
