"""Who sees what, decided once for both sides: the all-seeing role, and the wilayah rule.

The hub (server/scope.py) and the laptop (client_sync/store/entry.py) both ask these, so
"an admin sees everything" and "a wilayah covers the kelurahan below it on segment
boundaries" cannot come apart between the two.
"""

from __future__ import annotations

from collections.abc import Sequence

from schemas.validators import in_scope

__all__ = ["ALL_SEEING_ROLES", "sees_everything", "within"]

#: the roles whose scope is every wilayah, whatever wilayah they list
ALL_SEEING_ROLES: frozenset[str] = frozenset({"admin"})


def sees_everything(role: str) -> bool:
    """True for a role that sees every wilayah (an admin), so needs none of its own."""
    return role in ALL_SEEING_ROLES


def within(wilayah: Sequence[str] | None, kelurahan: str) -> bool:
    """Does one of the `wilayah` codes cover `kelurahan` (:func:`in_scope`)?

    `wilayah` None means everywhere; an empty sequence covers nothing at all.
    """
    if wilayah is None:
        return True
    return any(in_scope(kelurahan, code) for code in wilayah)
