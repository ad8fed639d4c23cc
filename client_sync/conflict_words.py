"""A conflict on this laptop's changes in plain words, as `pendamping conflicts` prints it
and the field app's Konflik page shows it: one wording, written here once.

Each conflict is the hub's view of it (``server.sync.conflict_view``, kept by the store);
:func:`describe` splits it into the parts a page lays out, :func:`conflict_line` joins them
into the CLI's one line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from schemas.conflict_outcome import outcome
from schemas.labels import field_label

__all__ = ["KIND_LABELS", "ConflictWords", "conflict_line", "describe"]

#: what kind of conflict, in the pendamping's words
KIND_LABELS = {
    "field": "isian",
    "status": "status",
    "delete": "hapus vs ubah",
    "duplicate_person": "NIK ganda",
}


@dataclass(frozen=True, slots=True)
class ConflictWords:
    """One conflict in words: its number, kind, record, what the hub said, and its state."""

    number: int
    kind: str
    entity: str | None
    record_id: str
    body: str  # which value stayed and which did not, and who wrote each
    state: str  # terbuka, or who settled it and how
    open: bool


def describe(conflict: Mapping[str, Any]) -> ConflictWords:
    """The words of one conflict."""
    kind = KIND_LABELS.get(conflict["kind"], conflict["kind"])
    if conflict["kind"] == "duplicate_person":
        body = f"NIK {conflict['lost']['value']} sudah dipakai {conflict['other_record_id']}"
    else:
        now = outcome(conflict)  # after a take_lost, the value that lost the merge is in force
        chosen = f", pilihan {now.chosen_by}" if now.chosen_by else ""
        aside = ", ".join(f"{s.value!r} ({s.author or 'hub'})" for s in now.set_aside)
        body = (
            f"{field_label(conflict['field'])}: berlaku {now.in_force.value!r} "
            f"({now.in_force.author or 'hub'}{chosen}), tidak berlaku {aside}"
        )
    is_open = not conflict.get("resolved_at")
    state = (
        "terbuka"
        if is_open
        else f"diselesaikan {conflict['resolved_by']}: {conflict['resolution']['choice']}"
    )
    return ConflictWords(
        conflict["conflict_id"],
        kind,
        conflict.get("entity"),
        conflict["record_id"],
        body,
        state,
        is_open,
    )


def conflict_line(conflict: Mapping[str, Any]) -> str:
    """The CLI's line: ``#3 [isian] 7d4e... — phone: berlaku ... — terbuka``."""
    w = describe(conflict)
    return f"#{w.number} [{w.kind}] {w.record_id} — {w.body} — {w.state}"
