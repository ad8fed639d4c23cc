"""Ekspor & bundle: the office's spreadsheets for download, and a USB bundle carried in
from a laptop, uploaded through the browser.

**Downloads** go through :func:`server.office.exports.export_to`, the very code of
`pendamping-hub export`, within the user's wilayah (OfficeQueries refuses a wilayah outside
it). The file is written to ``DATA_DIR/exports-web`` (openpyxl's write-only sheet and the
CSV writer stream rows there, so memory stays flat however many rows), then streamed to the
browser from disk and removed once sent. Each download is audited (``web_export``).

**Uploads** go through :func:`server.bundle.import_bundle`, the very import and checks of
`pendamping-hub import-bundle`, and the page shows the same report. The file is kept only
for the import, in ``DATA_DIR/uploads``, and removed after. Its size is bounded by
``WEB_BUNDLE_MAX_BYTES`` before the form is read (server/web/shell.py). A supervisor
imports only the bundles of laptops whose owner lies inside their wilayah; a revoked
laptop's bundle needs an admin's explicit tick, as the CLI's ``--allow-revoked``. Each
upload is audited (``web_bundle_upload``) beside the import's own ``bundle_import`` entries.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path

from flask import Response, current_app, g
from wtforms.fields.choices import SelectChoice  # type: ignore[attr-defined]  # stubs lag 3.3

from server.audit import AuditEvent
from server.bundle import BundleLimits, ImportSummary, import_bundle
from server.error_map import status_of
from server.exceptions import BundleRefused, HubError, OutsideScope
from server.office.exports import KINDS, export_to
from server.office.queries import OfficeQueries
from server.scope import Scope
from server.state import hub_state
from server.storage import Device, User
from server.timeutil import utc_iso
from server.users import acts_on
from server.web import bp
from server.web.forms import BundleForm, ExportForm
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.shell import MenuEntry, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.bundles", lazy_gettext("Ekspor & bundle"))
log = logging.getLogger(__name__)

#: the kinds' names on the page (a kind registered later shows its sheet title)
_KIND_LABELS = {
    "visits": lazy_gettext("Kunjungan"),
    "beneficiaries": lazy_gettext("Penerima manfaat"),
    "requests": lazy_gettext("Permohonan ABF"),
}
_MIME = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _export_form(user: User, bound: bool = True) -> ExportForm:
    """The download form with this hub's kinds and programmes and the user's pendamping;
    `bound`: holding what this request posted."""
    form = ExportForm() if bound else ExportForm(formdata=None)
    form.kind.choices = [
        SelectChoice(name, str(_KIND_LABELS.get(name, k.title))) for name, k in KINDS.items()
    ]
    scope = Scope.of(user)
    pendamping = [
        u.name
        for u in storage().list_users()
        if u.role == "pendamping" and scope.covers_any(u.wilayah)
    ]
    form.pendamping.choices = [SelectChoice("", gettext("semua"))] + [
        SelectChoice(n, n) for n in pendamping
    ]
    programs = list(current_app.config.get("PROGRAMS") or ())
    form.program.choices = [SelectChoice("", gettext("semua"))] + [
        SelectChoice(p, p) for p in programs
    ]
    return form


def _page(
    status: int = 200,
    form: BundleForm | None = None,
    export_form: ExportForm | None = None,
    report: ImportSummary | None = None,
    refused: str | None = None,
    file_name: str | None = None,
    export_refused: str | None = None,
):
    user: User = g.web_user
    return render(
        "web/bundles.html",
        status,
        form=form or BundleForm(formdata=None),
        export_form=export_form or _export_form(user, bound=False),
        report=report,
        created=local_time(report.created_at) if report and report.created_at else None,
        refused=refused,
        export_refused=export_refused,
        file_name=file_name,
        is_admin=user.role == "admin",
        max_mib=int(current_app.config["WEB_BUNDLE_MAX_BYTES"]) // (1024 * 1024),
    )


@bp.route("/ekspor")
@login_required
def bundles():
    return _page()


# -- download --------------------------------------------------------------------------


@bp.route("/ekspor/unduh", methods=["POST"])
@login_required
def export_download():
    user: User = g.web_user
    form = _export_form(user)
    if not form.validate():
        return _page(422, export_form=form)
    scope = Scope.of(user)
    queries = OfficeQueries.from_config(storage(), current_app.config)
    fmt = (form.format.data or "xlsx").rstrip(";")
    separator = ";" if form.format.data == "csv;" else ","
    kind = form.kind.data or ""
    folder = Path(current_app.config["DATA_DIR"]) / "exports-web"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(16)}.{fmt}"
    try:
        where = queries.record_filter(
            scope,
            month=form.month.data,
            day=form.day.data,
            wilayah=form.wilayah.data,
            program=form.program.data,
            pendamping=form.pendamping.data,
        )
        with path.open("wb") as target:
            rows = export_to(queries, scope, kind, where, fmt, target, separator)
    except HubError as exc:
        path.unlink(missing_ok=True)
        field = next(iter(exc.errors or {}), "wilayah" if isinstance(exc, OutsideScope) else "")
        target_field = getattr(form, field, None)
        message = _export_message(exc, form)
        if target_field is not None and hasattr(target_field, "errors"):
            target_field.errors = [message]
            return _page(status_of(exc), export_form=form)
        return _page(status_of(exc), export_form=form, export_refused=message)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    period = form.month.data or form.day.data or gettext("semua")
    detail = {
        "kind": kind,
        "format": fmt,
        "rows": rows,
        "month": form.month.data or None,
        "day": form.day.data or None,
        "wilayah": form.wilayah.data or None,
        "pendamping": form.pendamping.data or None,
        "program": form.program.data or None,
    }
    with storage().write() as session:
        session.audit(AuditEvent(utc_iso(), user.name, "web_export", detail))
    name = f"{kind}-{period}-{dt.date.today():%Y%m%d}.{fmt}".replace("/", "-")
    return Response(
        _Sent(path),
        mimetype=_MIME[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Content-Length": str(path.stat().st_size),
        },
    )


class _Sent:
    """The file's bytes in 256 KiB pieces, for the WSGI server to send; the server's
    `close()` (after the last byte, or when the browser went away) closes and removes it."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._file = path.open("rb")

    def __iter__(self) -> Iterator[bytes]:
        while chunk := self._file.read(256 * 1024):
            yield chunk

    def close(self) -> None:
        self._file.close()
        self._path.unlink(missing_ok=True)


def _export_message(exc: HubError, form: ExportForm) -> str:
    """The refusal in the page's words where the page has them (a value's own message is
    the office queries', in Indonesian)."""
    if isinstance(exc, OutsideScope):
        return gettext("Wilayah %(code)s berada di luar wilayah Anda.", code=form.wilayah.data)
    messages = next(iter((exc.errors or {}).values()), None)
    return messages[0] if messages else exc.message


# -- upload ----------------------------------------------------------------------------


def _inside(user: User):
    def authorise(device: Device) -> None:
        if not acts_on(user, device.user):
            raise OutsideScope(
                gettext(
                    "Bundle ini dari laptop %(laptop)s milik %(owner)s, di luar wilayah Anda.",
                    laptop=device.name,
                    owner=device.user.name,
                )
            )

    return authorise


@bp.route("/ekspor/bundle", methods=["POST"])
@login_required
def bundle_upload():
    user: User = g.web_user
    form = BundleForm()
    if not form.validate():
        return _page(422, form=form)
    upload = form.bundle.data
    name = Path(upload.filename or "bundle.zip").name
    folder = Path(current_app.config["DATA_DIR"]) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    kept = folder / f"{secrets.token_hex(16)}.zip"
    state = hub_state()
    try:
        upload.save(kept)
        with kept.open("rb") as raw:
            digest = hashlib.file_digest(raw, "sha256").hexdigest()
        summary = import_bundle(
            state,
            kept,
            allow_revoked=bool(form.allow_revoked.data) and user.role == "admin",
            limits=BundleLimits.from_config(current_app.config),
            attachments=state.attachments,
            actor=user.name,
            authorise=_inside(user),
        )
    except BundleRefused as exc:
        log.info("web: bundle %s refused for %s: %s", name, user.name, exc.slug)
        return _page(422, form=form, refused=exc.message, file_name=name)
    except HubError as exc:
        return _page(status_of(exc), form=form, refused=exc.message, file_name=name)
    finally:
        kept.unlink(missing_ok=True)
    detail = {
        "file": name[:200],
        "bundle_sha256": digest,
        "device": summary.device_id,
        "changes": summary.changes,
        "photos": summary.photos_stored,
    }
    with storage().write() as session:
        session.audit(
            AuditEvent(utc_iso(), user.name, "web_bundle_upload", detail, summary.device_id)
        )
    return _page(report=summary, file_name=name)
