"""What one conflict card on /web/conflicts says, in the words of the people involved.

A supervisor decides about people, not UUIDs: a card names the beneficiary (for a visit
also the visit's date, for a request the device), the field by its label
(:mod:`schemas.labels`), the laptops by their names, and for a duplicate NIK puts both
records side by side with the differing rows marked. Every word of a card goes through the
pages' catalogue (server/web/i18n.py); the field and entity labels of :mod:`schemas.labels`
and :mod:`schemas.codes` are looked up in it by their Indonesian text. Records are read
through the storage (no SQL here), once per page, and only within the supervisor's
wilayah: a record outside it is shown by its kelurahan alone. Jinja escapes everything
this module returns.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from schemas.codes import ENTITY_LABELS
from schemas.labels import field_label
from server.scope import Scope
from server.storage import HubStorage, NotFound, RecordRow
from server.web.i18n import gettext, lazy_gettext

__all__ = ["KIND_LABELS", "CardReader", "Comparison", "shown"]

KIND_LABELS = {
    "field": lazy_gettext("nilai bertabrakan"),
    "status": lazy_gettext("perpindahan status"),
    "delete": lazy_gettext("dihapus dan diubah bersamaan"),
    "duplicate_person": lazy_gettext("NIK ganda"),
}
#: the fields a duplicate-NIK card compares, in the order a KTP lists them
_COMPARED = ("name", "nik", "sex", "birth_date", "kelurahan", "address")
_SEXES = {"L": lazy_gettext("laki-laki"), "P": lazy_gettext("perempuan")}
UNKNOWN_NAME = lazy_gettext("(nama tidak diketahui)")


def shown(value: Any) -> str:
    """A value as text for the page (Jinja escapes it)."""
    if value is None or value == "":
        return gettext("(kosong)")
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def _date(text: Any) -> str:
    """``1945-08-05`` or ``2026-11-23T09:30:00+07:00`` as ``05-08-1945``, ``23-11-2026``
    (the date where it was recorded); anything else as it is."""
    if not isinstance(text, str) or not text:
        return shown(text)
    try:
        return f"{datetime.fromisoformat(text.replace('Z', '+00:00')):%d-%m-%Y}"
    except ValueError:
        return text


@dataclass(frozen=True, slots=True)
class Comparison:
    """One row of the side-by-side table of a duplicate NIK."""

    label: str
    earlier: str
    newer: str
    differs: bool


class CardReader:
    """Reads what the cards of one page need, each record and laptop at most once.

    :param when: formats an ISO time as the pages show it.
    """

    def __init__(self, storage: HubStorage, scope: Scope, when: Callable[[str | None], str]):
        self._storage = storage
        self._scope = scope
        self._when = when
        self._records: dict[str, RecordRow | None] = {}
        self._laptops: dict[str, str] = {}

    def card(self, conflict: dict[str, Any]) -> dict[str, Any]:
        """What the card shows beside the conflict itself (see the module docstring)."""
        kind = conflict["kind"]
        record = self._record(conflict["record_id"])
        card: dict[str, Any] = {
            "kind_label": str(KIND_LABELS.get(kind, kind)),
            "entity_label": gettext(ENTITY_LABELS.get(conflict["entity"], conflict["entity"])),
            "subject": self._subject(conflict["entity"], record),
            "field_label": (
                gettext(field_label(conflict["field"])) if kind in ("field", "status") else None
            ),
            "kept_shown": shown(conflict["kept"]["value"]),
            "lost_shown": shown(conflict["lost"]["value"]),
            "kept_by": self._by(conflict["kept"]["author"], conflict["kept"]["device"]),
            "lost_by": self._by(conflict["lost"]["author"], conflict["lost"]["device"]),
            "comparison": [],
            "survivors": [],
        }
        other_id = conflict["other_record_id"]
        if kind == "duplicate_person" and other_id:
            other = self._record(other_id)
            card["comparison"] = self._compare(other, record, self._row(other_id))
            card["survivors"] = [
                (
                    other_id,
                    gettext("%(name)s — data yang lebih dulu ada", name=self._name(other)),
                ),
                (conflict["record_id"], gettext("%(name)s — data baru", name=self._name(record))),
            ]
        return card

    # -- reading ---------------------------------------------------------------------------

    def _record(self, record_id: Any) -> RecordRow | None:
        """The record, when the hub holds it and it lies in the scope; else None."""
        row = self._row(record_id)
        return row if row is not None and self._scope.covers(row.kelurahan) else None

    def _row(self, record_id: Any) -> RecordRow | None:
        """The record wherever it lies (only its kelurahan leaves this class unscoped)."""
        if not isinstance(record_id, str):
            return None
        if record_id not in self._records:
            try:
                self._records[record_id] = self._storage.get_record(record_id)
            except NotFound:
                self._records[record_id] = None
        return self._records[record_id]

    def _laptop(self, device_id: str) -> str:
        if device_id not in self._laptops:
            try:
                self._laptops[device_id] = self._storage.get_device(device_id).name
            except NotFound:
                self._laptops[device_id] = gettext("laptop tak dikenal")
        return self._laptops[device_id]

    def _registered(self, record: RecordRow) -> tuple[str, str]:
        """Who registered the record (its first change's author, on which laptop) and when."""
        first = next(iter(self._storage.iter_changes(record.id)), None)
        who = self._by(first.author_id, first.device_id) if first else "—"
        return who, self._when(record.created_at)

    # -- wording ---------------------------------------------------------------------------

    def _by(self, author: str | None, device_id: str | None) -> str:
        """``siti (laptop-siti)``; the hub itself when a supervisor's resolution wrote it."""
        who = author or "hub"
        return f"{who} ({self._laptop(device_id)})" if device_id else who

    @staticmethod
    def _name(record: RecordRow | None) -> str:
        name = record.data.get("name") if record is not None else None
        return name if isinstance(name, str) and name else str(UNKNOWN_NAME)

    def _subject(self, entity: str, record: RecordRow | None) -> str:
        """``Ibu Sri Wahyuni``, ``Kunjungan ke Ibu Sri Wahyuni, 23-11-2026``, ``Permohonan
        kursi roda untuk Ibu Sri Wahyuni``: the start of the card's first line."""
        if record is None:
            return gettext("(Data tidak ditemukan di wilayah Anda)")
        if entity == "beneficiary":
            return self._name(record)
        person = self._name(self._record(record.data.get("beneficiary_id")))
        if entity == "visit":
            return gettext(
                "Kunjungan ke %(person)s, %(date)s",
                person=person,
                date=_date(record.data.get("visited_at")),
            )
        device = str(record.data.get("device_type") or gettext("alat")).replace("_", " ")
        return gettext("Permohonan %(device)s untuk %(person)s", device=device, person=person)

    def _compare(
        self, earlier: RecordRow | None, newer: RecordRow | None, earlier_row: RecordRow | None
    ) -> list[Comparison]:
        """Both records of a duplicate NIK, field by field, then who registered each. A
        record outside the wilayah (`earlier_row` is its row anyway) shows its kelurahan."""
        sides = [self._facts(earlier, earlier_row), self._facts(newer, None)]
        rows = [
            Comparison(
                gettext(field_label(name)),
                sides[0].get(name, "—"),
                sides[1].get(name, "—"),
                earlier is not None and newer is not None and sides[0][name] != sides[1][name],
            )
            for name in _COMPARED
        ]
        for key, label in (
            ("by", gettext("didaftarkan oleh")),
            ("at", gettext("didaftarkan pada")),
        ):
            rows.append(Comparison(label, sides[0].get(key, "—"), sides[1].get(key, "—"), False))
        return rows

    def _facts(self, record: RecordRow | None, outside: RecordRow | None) -> dict[str, str]:
        if record is None and outside is not None:
            return {"name": gettext("(di luar wilayah Anda)"), "kelurahan": outside.kelurahan}
        if record is None:
            return {"name": gettext("(data tidak ditemukan)")}
        data = record.data
        by, at = self._registered(record)
        return {
            "name": self._name(record),
            "nik": shown(data.get("nik")),
            "sex": str(_SEXES.get(str(data.get("sex")), shown(data.get("sex")))),
            "birth_date": _date(data.get("birth_date")),
            "kelurahan": record.kelurahan,
            "address": shown(data.get("address")),
            "by": by,
            "at": at,
        }
