"""The hub's audit chain: each write's entry carries the hash of the entry before it.

Pure: no SQL, no HTTP. Storage appends what :func:`link` makes, in the transaction of the
write it records (:meth:`server.storage.WriteSession.audit`); :func:`verify` walks the
entries read back and names where the chain breaks. An entry records who, from which
device, what and when, never a field's value: no NIK and no name of a beneficiary.

The hash of an entry is the SHA-256 of the ASCII JSON array
``[position, at, actor, device_id, action, detail, prev_hash]`` written with no spaces,
where `detail` is the entry's JSON text exactly as stored (:func:`canonical_detail`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

__all__ = [
    "GENESIS",
    "STORED_COLUMNS",
    "AuditEntry",
    "AuditEvent",
    "Problem",
    "canonical_detail",
    "chain_hash",
    "cli_actor",
    "digest",
    "link",
    "verify",
]

#: the `prev_hash` of the first entry
GENESIS = "0" * 64
#: the text columns of a stored entry after its position, in the order of AuditEntry
STORED_COLUMNS = ("at", "actor", "device_id", "action", "detail", "prev_hash", "hash")
#: bad entries compared against each other to tell a move from an edit (quadratic: capped)
_MOVE_SEARCH_LIMIT = 2000


def canonical_detail(detail: Mapping[str, Any]) -> str:
    """`detail` as stored and hashed: sorted keys, no spaces, ASCII."""
    return json.dumps(detail, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def digest(value: Any) -> str:
    """The SHA-256 hex of a JSON value written compactly in UTF-8 with sorted keys (a
    push's receipts): what ``json.dumps(value, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)`` gives for strings and integers, written by orjson for speed."""
    try:
        encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)
    except orjson.JSONEncodeError:  # never fail the write it records over its digest
        try:
            encoded = json.dumps(value, default=repr).encode()
        except (TypeError, ValueError, RecursionError):
            encoded = repr(value).encode()
    return hashlib.sha256(encoded).hexdigest()


def chain_hash(
    position: int,
    at: str,
    actor: str,
    device_id: str | None,
    action: str,
    detail: str,
    prev_hash: str,
) -> str:
    """The hash of one entry; `detail` is its stored JSON text."""
    encoded = json.dumps(
        [position, at, actor, device_id, action, detail, prev_hash],
        separators=(",", ":"),
        ensure_ascii=True,
    )
    return hashlib.sha256(encoded.encode("ascii")).hexdigest()


def cli_actor() -> str:
    """The actor of a `pendamping-hub` command: ``cli:`` and the operating-system user."""
    try:
        who = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry and no LOGNAME/USER (a bare container)
        who = "?"
    return f"cli:{who}"


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before it has its place in the chain.

    :param actor: a user name, ``hub``, or ``cli:<os user>`` for an office command.
    :param detail: counts, ids and digests; never a record's field values.
    """

    at: str
    actor: str
    action: str
    detail: Mapping[str, Any] = field(default_factory=dict)
    device_id: str | None = None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One link of the chain as stored. `detail` is JSON text (:func:`canonical_detail`)."""

    position: int
    at: str
    actor: str
    device_id: str | None
    action: str
    detail: str
    prev_hash: str
    hash: str
    #: a column held no UTF-8 text (a BLOB, a number, bytes that do not decode): the
    #: entry was tampered with; its text fields show what could be read (U+FFFD elsewhere)
    unreadable: bool = False

    @classmethod
    def from_stored(cls, row: Sequence[Any]) -> AuditEntry:
        """The entry from a row read so that no column can fail to decode: the position,
        then per column of :data:`STORED_COLUMNS` its SQLite ``typeof`` and its bytes
        (``CAST(column AS BLOB)``). Never raises on a mistyped or undecodable column: it
        marks the entry :attr:`unreadable`, which :func:`verify` reports as changed."""
        position, rest = row[0], row[1:]
        values: list[str | None] = []
        unreadable = not isinstance(position, int)
        for column, kind, raw in zip(STORED_COLUMNS, rest[0::2], rest[1::2], strict=True):
            if kind == "null" and column == "device_id":
                values.append(None)
                continue
            data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "replace")
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                text, unreadable = data.decode("utf-8", "replace"), True
            if kind != "text":
                unreadable = True
            values.append(text)
        at, actor, device_id, action, detail, prev_hash, hash_ = values
        return cls(
            position if isinstance(position, int) else 0,
            at or "",
            actor or "",
            device_id,
            action or "",
            detail or "",
            prev_hash or "",
            hash_ or "",
            unreadable,
        )

    def computed_hash(self, position: int | None = None) -> str:
        """The hash this entry's content has (at `position`, by default its own)."""
        return chain_hash(
            self.position if position is None else position,
            self.at,
            self.actor,
            self.device_id,
            self.action,
            self.detail,
            self.prev_hash,
        )

    def as_dict(self) -> dict[str, Any]:
        """The entry for `audit list --json`, with `detail` decoded when it is JSON."""
        try:
            detail: Any = json.loads(self.detail)
        except ValueError:
            detail = self.detail
        return {
            "position": self.position,
            "at": self.at,
            "actor": self.actor,
            "device_id": self.device_id,
            "action": self.action,
            "detail": detail,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


def link(event: AuditEvent, last: tuple[int, str] | None) -> AuditEntry:
    """The entry that records `event` after `last` (position and hash; None: the first)."""
    position, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    detail = canonical_detail(event.detail)
    return AuditEntry(
        position,
        event.at,
        event.actor,
        event.device_id,
        event.action,
        detail,
        prev_hash,
        chain_hash(
            position, event.at, event.actor, event.device_id, event.action, detail, prev_hash
        ),
    )


@dataclass(frozen=True, slots=True)
class Problem:
    """Where the chain breaks. `kind`: changed, reordered, removed, out_of_order or
    broken_link; `message` says it in Indonesian for the office."""

    position: int
    kind: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"position": self.position, "kind": self.kind, "message": self.message}


def _moves(bad: list[AuditEntry]) -> dict[int, int]:
    """For entries whose content does not hash at their position: the other bad position
    at which it does (the entry was moved there from), when there is one."""
    if len(bad) > _MOVE_SEARCH_LIMIT:
        return {}
    positions = [e.position for e in bad]
    moved: dict[int, int] = {}
    for entry in bad:
        for other in positions:
            if other != entry.position and entry.computed_hash(other) == entry.hash:
                moved[entry.position] = other
                break
    return moved


def verify(entries: Iterable[AuditEntry]) -> list[Problem]:
    """Check the chain, oldest entry first. :returns: every break found, in order (empty:
    the chain is whole). A truncated tail cannot be seen here: what is left is a valid
    chain (see docs/audit.md for how the office anchors the head)."""
    entries = list(entries)
    bad = [e for e in entries if e.unreadable or e.computed_hash() != e.hash]
    moved = _moves([e for e in bad if not e.unreadable])
    bad_positions = {e.position for e in bad}
    # The hash each position's genuine entry has, where it can be told: an intact entry's
    # own, a moved entry's at the position it came from, an edited entry's stored hash
    # (an edit that leaves the hash column alone keeps the next entry's link intact).
    genuine: dict[int, str] = {}
    for e in entries:
        if e.position in moved:
            genuine[moved[e.position]] = e.hash
    for e in entries:
        genuine.setdefault(e.position, e.hash)

    problems: list[Problem] = []
    previous = 0
    for e in entries:
        n = e.position
        if n <= previous:
            problems.append(
                Problem(n, "out_of_order", f"entri {n} muncul sesudah entri {previous}.")
            )
        elif n > previous + 1:
            gap = f"{previous + 1}" if n == previous + 2 else f"{previous + 1}–{n - 1}"
            problems.append(Problem(previous + 1, "removed", f"entri {gap} hilang (dihapus)."))
        if n in moved:
            problems.append(
                Problem(
                    n,
                    "reordered",
                    f"entri {n} berisi entri yang semula di posisi {moved[n]} (urutan ditukar).",
                )
            )
        elif n in bad_positions and e.unreadable:
            problems.append(
                Problem(
                    n,
                    "changed",
                    f"entri {n} diubah: isi tidak terbaca (kolomnya bukan teks UTF-8).",
                )
            )
        elif n in bad_positions:
            problems.append(
                Problem(n, "changed", f"entri {n} diubah: isinya tidak cocok dengan hash-nya.")
            )
        elif n == previous + 1:
            expected = GENESIS if n == 1 else genuine.get(n - 1)
            if expected is not None and e.prev_hash != expected and n - 1 not in bad_positions:
                problems.append(
                    Problem(
                        n,
                        "broken_link",
                        f"entri {n} tidak menyambung ke entri {n - 1}: entri {n - 1} ditulis"
                        " ulang (hash dihitung ulang) atau prev_hash entri ini diubah.",
                    )
                )
        previous = max(previous, n)
    return problems
