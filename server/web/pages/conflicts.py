"""Konflik: the open conflicts of the supervisor's wilayah, one card each, and settling
one through the same :class:`server.conflicts.ConflictService` as the API and the CLI."""

from __future__ import annotations

import json
from typing import Any

from flask import g, redirect, request, url_for

from schemas.protocol import MAX_SEQ
from server.conflicts import CHOICES
from server.error_map import status_of
from server.exceptions import HubError, Invalid
from server.scope import Scope
from server.state import hub_state
from server.storage import User
from server.web import bp
from server.web.cards import CardReader
from server.web.forms import CHOICE_LABELS, VALUE_MAX, ResolveForm
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.shell import MenuEntry, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.conflicts", lazy_gettext("Konflik"))

#: what a resolve form that fails its own checks says, by the field at fault
_FORM_ERRORS = {
    "choice": lazy_gettext("Pilih keputusan yang tersedia untuk konflik ini."),
    "value": lazy_gettext("Nilai baru paling panjang %(max)d karakter.", max=VALUE_MAX),
    "survivor": lazy_gettext("Pilih data yang dipertahankan."),
}
_PAGE = 50
#: the number of digits of the largest id a query value may name (SQLite's INTEGER)
_MAX_ID_DIGITS = len(str(MAX_SEQ))


def _conflict_item(
    conflict: dict[str, Any], reader: CardReader, posted: ResolveForm | None
) -> dict[str, Any]:
    """One card: the conflict, what :class:`CardReader` says of it, and its form, which
    keeps what the supervisor chose and typed when it comes back after an error."""
    kind = conflict["kind"]
    card = reader.card(conflict)
    choices = list(CHOICE_LABELS.get(kind, {}).items())
    form = posted or ResolveForm(prefix=f"c{conflict['conflict_id']}", formdata=None)
    offered = [value for value, _ in choices]
    survivors = [value for value, _ in card["survivors"]]
    return {
        **conflict,
        **card,
        "created": local_time(conflict["created_at"]),
        "form": form,
        "choices": choices,
        "chosen": _picked(form.choice.data, offered),
        "survivor_chosen": _picked(form.survivor.data, survivors),
        "takes_value": "value" in CHOICES[kind],
    }


def _picked(posted: str | None, offered: list[str]) -> str | None:
    """The option to show selected: the one posted, when offered; else the first."""
    return posted if posted in offered else next(iter(offered), None)


def _query_id(name: str) -> int | None:
    """A query value that names a row id: ASCII digits only, at most 19 of them, clamped to
    SQLite's INTEGER; None when absent or anything else ('²', 5,000 digits, '-1', ' 7')."""
    text = request.args.get(name, "")
    if not text or len(text) > _MAX_ID_DIGITS or not (text.isascii() and text.isdigit()):
        return None
    return min(int(text), MAX_SEQ)


def _conflicts_page(
    status: int = 200,
    error: str | None = None,
    done: int | None = None,
    posted: tuple[int, ResolveForm] | None = None,
):
    """The queue; `posted` is a conflict's form sent back with an error, shown as sent."""
    user: User = g.web_user
    scope = Scope.of(user)
    after = _query_id("after") or 0
    listed = hub_state().conflicts.list(scope, True, _PAGE + 1, after)
    more = len(listed) > _PAGE
    reader = CardReader(storage(), scope, local_time)
    items = [
        _conflict_item(c, reader, posted[1] if posted and posted[0] == c["conflict_id"] else None)
        for c in listed[:_PAGE]
    ]
    return render(
        "web/conflicts.html",
        status,
        conflicts=items,
        next_after=items[-1]["conflict_id"] if more and items else None,
        error=error,
        done=done,
    )


@bp.route("/conflicts")
@login_required
def conflicts():
    return _conflicts_page(done=_query_id("selesai"))


def _typed_value(text: str | None) -> Any:
    """What the supervisor typed as JSON (a list, a number), or None when it is not."""
    try:
        parsed = json.loads(text or "")
    except ValueError:
        return None
    return None if isinstance(parsed, str) else parsed


def _about(conflict_id: int, message: str) -> str:
    return gettext("Konflik #%(id)d: %(message)s", id=conflict_id, message=message)


@bp.route("/conflicts/<int:conflict_id>/resolve", methods=["POST"])
@login_required
def resolve(conflict_id: int):
    user: User = g.web_user
    form = ResolveForm(prefix=f"c{conflict_id}")
    if not form.validate():
        wrong = next((name for name in _FORM_ERRORS if name in form.errors), "choice")
        return _conflicts_page(
            422, error=_about(conflict_id, str(_FORM_ERRORS[wrong])), posted=(conflict_id, form)
        )
    service = hub_state().conflicts
    choice: str = form.choice.data or ""  # DataRequired: never empty after validate()
    value = form.value.data if choice == "value" else None

    def settle(value: Any) -> None:
        service.resolve_as(user, conflict_id, choice, value, form.survivor.data or None)

    try:
        try:
            settle(value)
        except Invalid as exc:
            # Text first (a phone number stays text); then the same typed as JSON, for a
            # list of programmes or a number, when the field refused the text.
            typed = _typed_value(value) if choice == "value" else None
            if status_of(exc) != 422 or typed is None:
                raise
            settle(typed)
    except HubError as exc:
        return _conflicts_page(
            status_of(exc), error=_about(conflict_id, exc.message), posted=(conflict_id, form)
        )
    return redirect(url_for("web.conflicts", selesai=conflict_id), 303)
