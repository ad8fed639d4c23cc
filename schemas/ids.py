"""New ids for records, changes, devices and drafts: UUID version 7, ordered by time.

Why not version 4: every table that holds them is keyed by them (the hub's records and change
log, the laptop's outbox, its copies of records, its read model), and an index takes its
entries in key order. Random ids land on a different leaf page each, so a batch of 500 dirtied
about 500 pages of every such index, each written to the WAL, encrypted on a laptop, and copied
again at the checkpoint. A version 7 id starts with the time in milliseconds, so a batch's ids
land on the last page or two of each index; ids minted before (version 4) keep their places.
docs/benchmarks.md ("Time-ordered ids and the push overlap") has what it saved.

The time in an id says when it was made, which every record already says in `created_at`.
Validation accepts any canonical UUID, so laptops of either kind sync with any hub.
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 14):
    from uuid import uuid7
else:  # the same RFC 9562 layout, from the uuid6 package
    from uuid6 import uuid7

__all__ = ["new_id"]


def new_id() -> str:
    """A new id as canonical text (lower-case hex with hyphens), ordered by the time made."""
    return str(uuid7())
