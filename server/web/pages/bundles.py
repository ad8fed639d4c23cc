"""Ekspor & bundle: a USB bundle carried in from a laptop, uploaded through the browser.

The upload goes through :func:`server.bundle.import_bundle`, the very import and checks of
`pendamping-hub import-bundle`, and the page shows the same report. The file is kept only
for the import, in ``DATA_DIR/uploads`` (so it lands on the hub's disk, never in memory),
and removed after. Its size is bounded by ``WEB_BUNDLE_MAX_BYTES`` before the form is read
(server/web/shell.py). A supervisor imports only the bundles of laptops whose owner lies
inside their wilayah; a revoked laptop's bundle needs an admin's explicit tick, as the
CLI's ``--allow-revoked``. Each upload is audited (``web_bundle_upload``) with the
uploader's name, beside the import's own ``bundle_import`` entries.

(The downloads of this page, the XLSX/CSV exports, come with ``server/office/exports.py``.)
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from pathlib import Path

from flask import current_app, g

from server.audit import AuditEvent
from server.bundle import BundleLimits, ImportSummary, import_bundle
from server.error_map import status_of
from server.exceptions import BundleRefused, HubError, OutsideScope
from server.state import hub_state
from server.storage import Device, User
from server.timeutil import utc_iso
from server.users import acts_on
from server.web import bp
from server.web.forms import BundleForm
from server.web.i18n import gettext, lazy_gettext
from server.web.laptops import local_time
from server.web.shell import MenuEntry, login_required, render, storage

__all__ = ["MENU"]

MENU = MenuEntry("web.bundles", lazy_gettext("Ekspor & bundle"))
log = logging.getLogger(__name__)


def _page(
    status: int = 200,
    form: BundleForm | None = None,
    report: ImportSummary | None = None,
    refused: str | None = None,
    file_name: str | None = None,
):
    user: User = g.web_user
    return render(
        "web/bundles.html",
        status,
        form=form or BundleForm(formdata=None),
        report=report,
        created=local_time(report.created_at) if report and report.created_at else None,
        refused=refused,
        file_name=file_name,
        is_admin=user.role == "admin",
        max_mib=int(current_app.config["WEB_BUNDLE_MAX_BYTES"]) // (1024 * 1024),
    )


@bp.route("/bundle")
@login_required
def bundles():
    return _page()


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


@bp.route("/bundle/unggah", methods=["POST"])
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
