"""The field app's reads: search, who is due a visit, and the lists of the home page.

Every query here asks the read model's indexes (:mod:`client_sync.store.read_model`) for
ids and the few columns a list shows, and decodes whole records only for the rows of the
page it returns (:func:`client_sync.store.records.find_many`), so a page costs the same
with 20,000 beneficiaries as with 20. A beneficiary's page and a record's *where is it*
state live beside this, in :mod:`client_sync.store.record_page`.

Reached as ``FieldStore.views``; the pages and the CLI call these, never SQL of their own.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from client_sync.store import pull, records
from client_sync.store.db import Db
from client_sync.store.meta import read_identity
from client_sync.store.record_page import BeneficiaryPage, Place, RecordPages
from client_sync.store.request_views import RequestViews
from schemas.coverage import COVERAGE_DAYS, FIRST_PROGRAMS, coverage_since, instant_text
from schemas.name_keys import name_words, prefix_end
from schemas.scope import sees_everything

__all__ = [
    "SEARCH_LIMIT",
    "VISIT_SHOWS",
    "BeneficiaryHit",
    "DueItem",
    "Home",
    "ReturnedVisit",
    "Views",
    "VisitRow",
    "WaitingChange",
]

#: the most rows a search as one types returns
SEARCH_LIMIT = 20
#: the longest list any query returns
MAX_LIMIT = 500
_HIT = "id, name, nik, kelurahan, sync"
#: the pulled rows an overlay row stands for (by rowid: every index of `pulled` holds it)
_HIDDEN = "SELECT pulled_rowid FROM local_overlay WHERE pulled_rowid IS NOT NULL"
#: a live visit of beneficiary `p.record_id` at or after the window's start, in either
#: half of the read model ({skip}: the pulled copies an overlay row hides, when any);
#: its two parameters are both the window's start
_VISITED = (
    "(EXISTS (SELECT 1 FROM pulled AS v WHERE v.beneficiary_id = p.record_id"
    " AND v.entity = 'visit' AND v.deleted = 0 AND v.visited_utc >= ?{skip})"
    " OR EXISTS (SELECT 1 FROM local_overlay AS o WHERE o.beneficiary_id = p.record_id"
    " AND o.entity = 'visit' AND o.live = 1 AND o.visited_utc >= ?))"
)
#: the live returned visits of both halves (the pulled ones an overlay row hides left out);
#: `+entity` keeps SQLite on the small partial index of returned visits
_RETURNED = (
    "SELECT id, beneficiary_id, kelurahan, visited_utc, review_reason FROM pulled"
    " WHERE review_state = 'dikembalikan' AND deleted = 0 AND +entity = 'visit'"
    f" AND rowid NOT IN ({_HIDDEN})"
    " UNION ALL SELECT id, beneficiary_id, kelurahan, visited_utc, review_reason"
    " FROM local_overlay WHERE review_state = 'dikembalikan' AND live = 1 AND entity = 'visit'"
)


@dataclass(frozen=True, slots=True)
class BeneficiaryHit:
    """A beneficiary in a list: enough to show the row and link to their page."""

    id: str
    name: str
    nik: str | None
    kelurahan: str | None
    sync: str  # synced, pending or rejected (records.overlay's words)


@dataclass(frozen=True, slots=True)
class DueItem:
    """A beneficiary due a visit: `last_visit` is their newest visit's UTC instant (None:
    never visited); `key` is the cursor of the next page when this is the last row."""

    id: str
    name: str
    nik: str | None
    kelurahan: str | None
    last_visit: str | None
    key: tuple[str, str]


@dataclass(frozen=True, slots=True)
class ReturnedVisit:
    """A visit the office returned for correction, not edited since."""

    id: str
    beneficiary_id: str | None
    beneficiary_name: str | None
    kelurahan: str | None
    visited_utc: str | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class VisitRow:
    """A visit in the Kunjungan list: its record as shown, its beneficiary's name, and
    `key`, the cursor of the next page when this is the last row."""

    record: dict[str, Any]
    beneficiary_name: str | None
    key: tuple[str, str]


#: the Kunjungan list's filters: every visit, those the office returned, those waiting
VISIT_SHOWS: tuple[str, ...] = ("all", "returned", "waiting")
#: each half of the read model's live visits newest first, {cond} and LIMIT ? appended:
#: the pulled ones by the `pulled_visits` index (those an overlay row hides left out),
#: the overlaid ones (the laptop's unsent work: few) sorted
_VISITS = {
    "all": (
        "SELECT * FROM (SELECT id, visited_utc FROM pulled WHERE entity = 'visit'"
        " AND deleted = 0 AND id NOT IN (SELECT id FROM local_overlay){cond}"
        " ORDER BY visited_utc DESC, id DESC LIMIT ?)"
        " UNION ALL SELECT * FROM (SELECT id, visited_utc FROM local_overlay"
        " WHERE entity = 'visit' AND live = 1{cond} ORDER BY visited_utc DESC, id DESC LIMIT ?)"
    ),
    "returned": (
        "SELECT * FROM (SELECT id, visited_utc FROM pulled WHERE review_state = 'dikembalikan'"
        " AND deleted = 0 AND +entity = 'visit' AND id NOT IN (SELECT id FROM local_overlay)"
        "{cond} ORDER BY visited_utc DESC, id DESC LIMIT ?)"
        " UNION ALL SELECT * FROM (SELECT id, visited_utc FROM local_overlay"
        " WHERE review_state = 'dikembalikan' AND entity = 'visit' AND live = 1{cond}"
        " ORDER BY visited_utc DESC, id DESC LIMIT ?)"
    ),
    "waiting": (
        "SELECT * FROM (SELECT id, visited_utc FROM local_overlay WHERE entity = 'visit'"
        " AND live = 1 AND id IN (SELECT record_id FROM outbox WHERE state = 'pending'){cond}"
        " ORDER BY visited_utc DESC, id DESC LIMIT ?)"
    ),
}


@dataclass(frozen=True, slots=True)
class WaitingChange:
    """A change in the outbox the hub has not confirmed yet (*tersimpan di laptop*)."""

    change_id: str
    entity: str
    record_id: str
    op: str  # put or delete
    created_at: str
    label: str | None  # the beneficiary's name (the record's, or its owner's)


@dataclass(frozen=True, slots=True)
class Home:
    """What Beranda shows: each list limited, each count whole."""

    due: dict[str, int]  # programme -> beneficiaries due, the monthly-paid ones first
    returned: list[ReturnedVisit]
    returned_count: int
    waiting: list[WaitingChange]
    waiting_count: int
    photos: list[dict[str, Any]]  # attachments waiting to be sent (Attachments.listed)
    photo_count: int
    conflicts: list[dict[str, Any]]  # open conflicts on this laptop's changes
    rejected_count: int
    last_sync: dict[str, Any]  # last_sync_at, last_sync_outcome, last_sync_message, ...


def _limit(limit: int) -> int:
    return max(1, min(int(limit), MAX_LIMIT))


class Views:
    """The field app's reads over one store's connection.

    :param wall: the wall clock in ms (the store's), for "the last 30 days".
    """

    def __init__(self, db: Db, wall: Callable[[], int]) -> None:
        self._db = db
        self._wall = wall
        self._pages = RecordPages(db)
        #: the ABF requests' counts, lists and pages (:mod:`client_sync.store.request_views`)
        self.requests = RequestViews(db, self._pages)

    # -- scope --------------------------------------------------------------------------

    def _scope(self, column: str = "kelurahan") -> tuple[str, list[str]]:
        """The SQL on `column` that keeps the laptop's wilayah (all for an admin)."""
        identity = read_identity(self._db)
        if sees_everything(identity.role):
            return "1", []
        if not identity.wilayah:
            return "0", []
        parts, params = [], []
        for code in identity.wilayah:
            parts.append(f"({column} = ? OR {column} LIKE ?)")
            params += [code, f"{code}.%"]
        return f"({' OR '.join(parts)})", params

    def _hits(self, ids: list[str]) -> list[BeneficiaryHit]:
        """These beneficiaries as list rows, in the order of `ids`."""
        found: dict[str, BeneficiaryHit] = {}
        for start in range(0, len(ids), MAX_LIMIT):
            chunk = ids[start : start + MAX_LIMIT]
            rows = self._db.conn.execute(
                f"SELECT {_HIT} FROM local_records WHERE id IN ({','.join('?' * len(chunk))})",
                chunk,
            )
            found.update((row[0], BeneficiaryHit(*row)) for row in rows)
        return [found[i] for i in ids if i in found]

    def _people(self, where: str, params: list[Any], limit: int) -> list[BeneficiaryHit]:
        """Live beneficiaries in the wilayah matching `where` (on plain column names, its
        `params` once), by NIK: each half of the read model sorted and limited first."""
        scope, scoped = self._scope()
        # `+entity`: the partial NIK index, not the entity index, must drive the search
        arm = f"+entity = 'beneficiary' AND {where} AND {scope}"
        rows = self._db.conn.execute(
            f"SELECT {_HIT} FROM (SELECT * FROM (SELECT id, name, nik, kelurahan,"
            f" 'synced' AS sync FROM pulled WHERE deleted = 0 AND {arm}"
            f" AND rowid NOT IN ({_HIDDEN}) ORDER BY nik, id LIMIT ?)"
            f" UNION ALL SELECT * FROM (SELECT {_HIT} FROM local_overlay WHERE live = 1"
            f" AND {arm} ORDER BY nik, id LIMIT ?)) ORDER BY nik, id LIMIT ?",
            [*params, *scoped, limit, *params, *scoped, limit, limit],
        ).fetchall()
        return [BeneficiaryHit(*row) for row in rows]

    # -- search ----------------------------------------------------------------------------

    def search(self, text: str, limit: int = SEARCH_LIMIT) -> list[BeneficiaryHit]:
        """Beneficiaries of the wilayah whose NIK starts with `text` (when it is digits,
        spaces ignored; by NIK) or whose name has, for every word typed, a word starting
        with it (case, accents and apostrophes ignored: ``"sit nur"`` finds *Siti
        Nur'aini*; by name).

        Fast enough to run on every key press: one index range, then the limit.
        """
        typed = (text or "").strip()
        digits = typed.replace(" ", "")
        if digits.isdigit() and digits.isascii():
            return self._people("nik >= ? AND nik < ?", [digits, prefix_end(digits)], _limit(limit))
        words = name_words(typed)
        if not words:
            return []
        first = max(words, key=len)  # the longest word narrows the index range most
        rest = [w for w in words if w != first]
        others = "".join(" AND (' ' || w.name_key) LIKE ?" for _ in rest)
        scope, params = self._scope("w.kelurahan")
        # one range of the words, sorted by name there; the records read only for the page
        rows = self._db.conn.execute(
            "SELECT DISTINCT w.name_key, w.record_id FROM local_words AS w"
            f" WHERE w.word >= ? AND w.word < ? AND {scope}{others}"
            " ORDER BY w.name_key, w.record_id LIMIT ?",
            [first, prefix_end(first), *params, *(f"% {w}%" for w in rest), _limit(limit)],
        ).fetchall()
        return self._hits([row[1] for row in rows])

    def records_of(self, record_ids: list[str]) -> dict[str, dict[str, Any]]:
        """The live records among these ids (a page's rows, e.g. a search's hits, for the
        fields a hit does not carry, such as the programmes), by id; one query per 500."""
        return records.find_many(self._db, record_ids)

    def nik_holders(self, nik: str, exclude: str | None = None) -> list[BeneficiaryHit]:
        """The live beneficiaries of the wilayah on this laptop with exactly this NIK, but
        `exclude` (the record being edited): "this NIK is already on this laptop"."""
        found = self._people("nik = ?", [(nik or "").strip()], MAX_LIMIT)
        return [hit for hit in found if hit.id != exclude]

    # -- who is due --------------------------------------------------------------------------

    def _since(self, days: int) -> str:
        now = dt.datetime.fromtimestamp(self._wall() / 1000, dt.UTC)
        return instant_text(coverage_since(now, days))

    def _visited(self) -> str:
        """:data:`_VISITED`, hiding the pulled visits an overlay row stands for, if any."""
        if self._db.conn.execute("SELECT 1 FROM local_overlay LIMIT 1").fetchone() is None:
            return _VISITED.format(skip="")
        return _VISITED.format(skip=f" AND v.rowid NOT IN ({_HIDDEN})")

    def due(
        self,
        program: str,
        limit: int = 50,
        after: tuple[str, str] | None = None,
        days: int = COVERAGE_DAYS,
    ) -> list[DueItem]:
        """Beneficiaries of `program` in the wilayah with no live visit in the last `days`
        days (the office's Cakupan rule, :mod:`schemas.coverage`), by name.

        :param after: the last row's `key`: the page after it.
        """
        scope, params = self._scope("p.kelurahan")
        keyset, keys = "", []
        if after is not None:
            keyset, keys = " AND (p.name_key, p.record_id) > (?, ?)", list(after)
        rows = self._db.conn.execute(
            "SELECT p.record_id, p.name_key FROM local_programs AS p"
            f" WHERE p.program = ?{keyset} AND {scope} AND NOT {self._visited()}"
            " ORDER BY p.name_key, p.record_id LIMIT ?",
            [program, *keys, *params, *[self._since(days)] * 2, _limit(limit)],
        ).fetchall()
        ids = [row[0] for row in rows]
        hits = {hit.id: hit for hit in self._hits(ids)}
        last = self._last_visits(ids)
        return [
            DueItem(i, hits[i].name or "", hits[i].nik, hits[i].kelurahan, last.get(i), (k, i))
            for i, k in rows
            if i in hits
        ]

    def _last_visits(self, owners: list[str]) -> dict[str, str]:
        if not owners:
            return {}
        rows = self._db.conn.execute(
            "SELECT beneficiary_id, MAX(visited_utc) FROM local_records"
            f" WHERE beneficiary_id IN ({','.join('?' * len(owners))}) AND entity = 'visit'"
            " AND live = 1 GROUP BY beneficiary_id",
            owners,
        )
        return dict(rows.fetchall())

    def due_counts(self, days: int = COVERAGE_DAYS) -> dict[str, int]:
        """Per programme held on this laptop, how many of its beneficiaries in the wilayah
        are due a visit (0 included); KLJ, KPDJ and KAJ first, then by code."""
        scope, params = self._scope("p.kelurahan")
        rows = self._db.conn.execute(
            f"SELECT p.program, TOTAL(NOT {self._visited()})"
            f" FROM local_programs AS p WHERE {scope} GROUP BY p.program",
            [*[self._since(days)] * 2, *params],
        ).fetchall()
        counts = {program: int(n) for program, n in rows}
        order = {p: n for n, p in enumerate(FIRST_PROGRAMS)}
        return {p: counts[p] for p in sorted(counts, key=lambda p: (order.get(p, 99), p))}

    # -- home lists --------------------------------------------------------------------------

    def returned(self, limit: int = 100) -> list[ReturnedVisit]:
        """Visits the office returned for correction and not edited since, oldest visit
        first, with the office's reason and the beneficiary's name."""
        rows = self._db.conn.execute(
            f"SELECT * FROM ({_RETURNED}) ORDER BY visited_utc, id LIMIT ?", (_limit(limit),)
        ).fetchall()
        names = {h.id: h.name for h in self._hits(sorted({r[1] for r in rows if r[1]}))}
        return [ReturnedVisit(r[0], r[1], names.get(r[1]), r[2], r[3], r[4]) for r in rows]

    def returned_count(self) -> int:
        """How many visits :meth:`returned` would list without a limit."""
        return int(self._db.conn.execute(f"SELECT COUNT(*) FROM ({_RETURNED})").fetchone()[0])

    def returned_records(self) -> list[dict[str, Any]]:
        """The same visits as whole records (``FieldStore.returned``), oldest first."""
        ids = [row[0] for row in self._db.conn.execute(f"SELECT id FROM ({_RETURNED})")]
        found = list(records.find_many(self._db, ids).values())
        found.sort(key=lambda r: (r.get("created_at") or "", r["id"]))
        return found

    def visits(
        self,
        show: str = "all",
        between: tuple[dt.datetime, dt.datetime] | None = None,
        limit: int = 25,
        after: tuple[str, str] | None = None,
    ) -> list[VisitRow]:
        """Live visits on this laptop, newest visit first: all of them, those the office
        returned (``show="returned"``), or those with a change waiting to be sent
        (``"waiting"``); only those visited in ``[start, end)`` when `between` is given.

        Each half of the read model is one index range, limited before the merge, so a
        page costs the same with 50,000 visits as with 50; only the page's rows are decoded.
        :param after: the last row's `key`: the page after it.
        """
        if show not in VISIT_SHOWS:
            raise ValueError(f"show: one of {VISIT_SHOWS}")
        cond, params = "", list[Any]()
        if between is not None:
            cond += " AND visited_utc >= ? AND visited_utc < ?"
            params += [instant_text(between[0]), instant_text(between[1])]
        if after is not None:
            cond += " AND (visited_utc, id) < (?, ?)"
            params += list(after)
        n = _limit(limit)
        arms = _VISITS[show].count("LIMIT ?")
        rows = self._db.conn.execute(
            f"SELECT * FROM ({_VISITS[show].format(cond=cond)})"
            " ORDER BY visited_utc DESC, id DESC LIMIT ?",
            [*(x for _ in range(arms) for x in (*params, n)), n],
        ).fetchall()
        found = records.find_many(self._db, [r[0] for r in rows])
        owners = sorted(
            {str(v["beneficiary_id"]) for v in found.values() if v.get("beneficiary_id")}
        )
        names = {h.id: h.name for h in self._hits(owners)}
        return [
            VisitRow(found[i], names.get(found[i].get("beneficiary_id") or ""), (at, i))
            for i, at in rows
            if i in found
        ]

    def waiting(self, limit: int = 100) -> list[WaitingChange]:
        """Changes waiting to be sent, in the order they were made, each with the name of
        the beneficiary it concerns."""
        rows = self._db.conn.execute(
            "SELECT change_id, entity, record_id, op, created_at FROM outbox"
            " WHERE state = 'pending' ORDER BY position LIMIT ?",
            (_limit(limit),),
        ).fetchall()
        ids = sorted({row[2] for row in rows})
        owners = dict(
            self._db.conn.execute(
                "SELECT id, COALESCE(beneficiary_id, id) FROM local_records"
                f" WHERE id IN ({','.join('?' * len(ids))})",
                ids,
            ).fetchall()
        )
        names = {h.id: h.name for h in self._hits(sorted(set(owners.values())))}
        return [
            WaitingChange(c, e, r, op, at, names.get(owners.get(r, r))) for c, e, r, op, at in rows
        ]

    def home(self, limit: int = 20) -> Home:
        """Everything Beranda shows, each list at most `limit` long."""
        conn = self._db.conn
        counts = dict(
            conn.execute(
                "SELECT state, COUNT(*) FROM outbox WHERE state IN ('pending', 'rejected')"
                " GROUP BY state"
            ).fetchall()
        )
        photos = conn.execute(
            "SELECT sha256, entity, record_id, kind, media_type, size, bytes_sent, state,"
            " error, created_at, uploaded_at FROM attachments WHERE state = 'pending'"
            " ORDER BY created_at, sha256 LIMIT ?",
            (_limit(limit),),
        )
        names = [c[0] for c in photos.description]
        waiting_photos = [dict(zip(names, row, strict=True)) for row in photos.fetchall()]
        meta = self._db.all_meta()
        return Home(
            due=self.due_counts(),
            returned=self.returned(limit),
            returned_count=self.returned_count(),
            waiting=self.waiting(limit),
            waiting_count=int(counts.get("pending", 0)),
            photos=waiting_photos,
            photo_count=conn.execute(
                "SELECT COUNT(*) FROM attachments WHERE state = 'pending'"
            ).fetchone()[0],
            conflicts=pull.list_conflicts(self._db)[: _limit(limit)],
            rejected_count=int(counts.get("rejected", 0)),
            last_sync={
                key: meta.get(key)
                for key in (
                    "last_sync_at",
                    "last_sync_outcome",
                    "last_sync_message",
                    "last_success_at",
                )
            },
        )

    # -- a record's page and where it is (record_page) ----------------------------------------

    def beneficiary(self, record_id: str) -> BeneficiaryPage:
        """Everything a beneficiary's page shows (:meth:`RecordPages.beneficiary`).

        :raises RecordNotFound: no such beneficiary on this laptop.
        """
        return self._pages.beneficiary(record_id)

    def history(self, record_id: str) -> list[dict[str, Any]]:
        """What the laptop knows of a record's past (:meth:`RecordPages.history`)."""
        return self._pages.history(record_id)

    def where(self, record_id: str) -> Place | None:
        """Where one record is (:meth:`RecordPages.where`); None: not on this laptop."""
        return self._pages.where_many([record_id]).get(record_id)

    def where_many(self, record_ids: list[str]) -> dict[str, Place]:
        """Where each of these records is, in three queries whatever their number."""
        return self._pages.where_many(record_ids)
