"""Recording a visit and correcting one: what `pendamping visit add | edit` and the field
app's Kunjungan pages both do, so the two never differ.

A new visit takes *now* in the laptop's local time when no time is given (the CLI's rule);
its photos, when it comes with some, are checked and kept first and then queued in the same
store transaction as the visit itself (:func:`client_sync.photos.keep` / ``queue``): the
visit and its photos are written together or not at all. Correcting a visit is an ordinary
edit; the hub puts a visit the office returned back into review when the edit reaches it
(schemas/review.py), and :func:`correct_visit` says whether it was a returned one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from client_sync.errors import InvalidRecord
from client_sync.photos import InvalidPhoto, KeptPhoto, Source, check_kind, forget, keep, queue
from client_sync.store import FieldStore
from schemas.review import RETURNED, review_state

__all__ = ["NO_CHANGE", "NewPhoto", "correct_visit", "keep_photos", "now_local", "record_visit"]

#: what an edit that changes nothing is told (the CLI's words)
NO_CHANGE = "Tidak ada isian yang diubah."
#: writes the visit: ``save(fields) -> record id`` (default: the store's add or update;
#: the field app's turns the form's draft into the record in the same transaction)
Save = Callable[[dict[str, Any]], str]


@dataclass(frozen=True, slots=True)
class NewPhoto:
    """A photo to attach with a visit: its source, its kind (schemas.codes.PHOTO_KINDS),
    and the name a refusal calls it by (the file's name)."""

    source: Source
    kind: str
    name: str = ""


def now_local() -> str:
    """Now, in the laptop's local time with its UTC offset, to the second."""
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


def keep_photos(store: FieldStore, photos: Sequence[NewPhoto]) -> list[tuple[KeptPhoto, str]]:
    """Check and keep every photo before anything is written.

    :raises InvalidPhoto: a bad kind or file (the copies kept so far are removed).
    """
    kept: list[tuple[KeptPhoto, str]] = []
    try:
        for photo in photos:
            check_kind(photo.kind)
            try:
                kept.append((keep(store, photo.source), photo.kind))
            except InvalidPhoto as exc:
                if not photo.name:
                    raise
                raise InvalidPhoto(
                    {k: [f"{photo.name}: {m}" for m in v] for k, v in exc.errors.items()}
                ) from None
    except BaseException:
        forget([photo for photo, _ in kept])
        raise
    return kept


def _with_photos(
    store: FieldStore, kept: Sequence[tuple[KeptPhoto, str]], write: Callable[[], str]
) -> str:
    """`write()` and the photos' queueing on the visit it names, in one transaction."""
    try:
        with store.transaction():
            record_id = write()
            for photo, kind in kept:
                queue(store, "visit", record_id, photo, kind)
    except BaseException:
        forget([photo for photo, _ in kept])
        raise
    return record_id


def record_visit(
    store: FieldStore,
    beneficiary_id: str,
    fields: dict[str, Any],
    photos: Sequence[NewPhoto] = (),
    save: Save | None = None,
) -> str:
    """Record a visit to `beneficiary_id` (and its photos) with no network.

    :param fields: the visit's fields; `visited_at` defaults to :func:`now_local`.
    :param save: writes the visit (default ``store.add("visit", fields)``).
    :returns: the visit's id.
    :raises InvalidRecord: a field is refused (InvalidPhoto: a photo); nothing is written.
    """
    data = {**fields, "beneficiary_id": beneficiary_id}
    if data.get("visited_at") is None:
        data["visited_at"] = now_local()
    kept = keep_photos(store, photos)
    write = save or (lambda values: store.add("visit", values))
    return _with_photos(store, kept, lambda: write(data))


def correct_visit(
    store: FieldStore,
    record_id: str,
    fields: dict[str, Any],
    photos: Sequence[NewPhoto] = (),
    save: Save | None = None,
) -> bool:
    """Change some fields of a visit (and add photos to it); only those fields travel.

    :param save: writes the change (default ``store.update("visit", record_id, fields)``).
    :returns: whether the office had returned it (it goes back into review at the hub).
    :raises InvalidRecord: nothing to change, or a field is refused; nothing is written.
    :raises RecordNotFound: no such visit.
    """
    if not fields and not photos:
        raise InvalidRecord({"fields": [NO_CHANGE]})
    was_returned = review_state(store.get("visit", record_id)) == RETURNED
    kept = keep_photos(store, photos)

    def write() -> str:
        if save is not None and fields:
            return save(fields)
        if fields:
            store.update("visit", record_id, fields)
        return record_id

    _with_photos(store, kept, write)
    return was_returned
