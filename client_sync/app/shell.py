"""What every page of the field app shares: the blueprint, the menu entry of a page, the
unlocked device, rendering inside the base template (who is logged in, the menu, the sync
button and the status strip), and the error page (never a stack trace).

A page is one module of :mod:`client_sync.app.pages`: it routes its views on :data:`bp`,
reads and writes through :func:`device` (the store is unlocked whenever a page view runs:
the guard sends everyone else to the unlock page first), renders with :func:`render`, and
names its menu entry as ``PAGE`` (a :class:`Page`); ``client_sync.app.pages.PAGES`` lists
them in menu order. See docs/field-app.md, "Adding a page".
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import Blueprint, current_app, g, render_template, request, url_for
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from client_sync.app.i18n import LANGS, current_lang, gettext, lazy_gettext
from client_sync.app.state import Page, app_state
from client_sync.device import FieldDevice
from client_sync.errors import ClientError
from client_sync.instance_lock import is_held
from client_sync.photos import list_photos
from schemas.labels import field_label

__all__ = ["Page", "bp", "device", "error_page", "local_path", "render", "status_strip"]

log = logging.getLogger("client_sync.app")
bp = Blueprint("field", __name__)


def device() -> FieldDevice:
    """The unlocked laptop. Only on the store thread, i.e. inside a request (page views
    always are). :raises RuntimeError: the app is locked (the guard prevents that)."""
    state = app_state()
    if not state.store_thread.on_it():
        raise RuntimeError("the store is used only on the store thread")
    found = state.keeper.device
    if found is None:
        raise RuntimeError("locked")
    return found


def local_path(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this app (a ``next`` to return to), else `default`.

    A browser reads ``//host``, ``/\\host`` and ``/<tab>/host`` (it drops tabs and newlines and
    takes ``\\`` for ``/``) as another site, and a newline cannot go in a header at all:
    none of them passes.
    """
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or any(ord(c) < 0x20 or ord(c) == 0x7F for c in target):
        return default
    return target


def status_strip() -> dict[str, Any]:
    """The strip under the header: changes and photos waiting, the last sync and how it
    ended, whether the background daemon runs for this home, and the app's own round.
    Read once per request."""
    if "strip" in g:
        return dict(g.strip)
    dev = device()
    info = dev.store.status()
    photos = [p["state"] for p in list_photos(dev.store)]
    info["photos_waiting"] = photos.count("pending")
    info["daemon_running"] = is_held(dev.home)
    info["round"] = app_state().sync.snapshot()
    g.strip = info
    return dict(info)


@bp.app_template_filter("field_label")
def field_label_filter(name: str) -> str:
    """A record field's name as the pendamping reads it (schemas.labels), in their language."""
    return gettext(field_label(name))


@bp.app_template_filter("when")
def when(iso: str | None) -> str:
    """A stored UTC time (ISO 8601) as this laptop's local ``YYYY-MM-DD HH:MM``."""
    if not iso:
        return ""
    try:
        at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return iso
    return at.astimezone().strftime("%Y-%m-%d %H:%M")


def _menu() -> list[dict[str, Any]]:
    return [
        {
            "url": url_for(page.endpoint),
            "label": page.label,
            "current": request.endpoint == page.endpoint,
        }
        for page in app_state().pages
    ]


def render(template: str, status: int = 200, **context: Any) -> tuple[str, int]:
    """`template` inside the shell. On a locked app (the unlock and enrolment pages) the
    header shows no person, menu or strip."""
    keeper = app_state().keeper
    shell: dict[str, Any] = {"lang": current_lang(), "langs": LANGS, "unlocked": False}
    if keeper.device is not None and app_state().store_thread.on_it():
        me = keeper.device.store.identity
        shell.update(
            unlocked=True,
            me=me,
            wilayah=", ".join(me.wilayah) or gettext("semua"),
            menu=_menu(),
            strip=status_strip(),
        )
    kept = [(k, v) for k, v in request.args.items(multi=True) if k != "lang"]
    shell["switch_path"] = request.path + (f"?{urlencode(kept)}" if kept else "")
    return render_template(template, **shell, **context), status


def error_page(title: str, message: str, status: int) -> tuple[str, int]:
    return render("app/error.html", status, title=title, message=message)


@bp.app_errorhandler(CSRFError)
def _csrf_failed(error: CSRFError) -> tuple[str, int]:
    log.info("app: CSRF refused: %s", error.description)
    return error_page(
        gettext("Formulir tidak berlaku"),
        gettext("Formulir ini kedaluwarsa atau tidak sah. Muat ulang halamannya, lalu coba lagi."),
        400,
    )


_HTTP_TITLES = {
    404: lazy_gettext("Halaman tidak ditemukan"),
    405: lazy_gettext("Cara membuka halaman ini tidak didukung"),
}


@bp.app_errorhandler(Exception)
def _failed(error: Exception) -> tuple[str, int]:
    """Anything a page lets through, as a plain page in the user's language."""
    if isinstance(error, HTTPException):
        code = error.code or 500
        title = _HTTP_TITLES.get(code, lazy_gettext("Permintaan tidak dapat diproses"))
        return error_page(
            str(title), gettext("Periksa alamatnya, atau kembali ke halaman sebelumnya."), code
        )
    if isinstance(error, ClientError):  # worded where it was raised
        return error_page(gettext("Tidak dapat diproses"), str(error), 400)
    log.exception("app: unhandled error on %s", request.path)
    if current_app.testing and current_app.config.get("APP_RAISE"):
        raise error
    return error_page(
        gettext("Terjadi kesalahan"),
        gettext(
            "Halaman ini tidak dapat ditampilkan. Data Anda tetap tersimpan di laptop; "
            "coba lagi, atau mulai ulang aplikasi."
        ),
        500,
    )
