"""`pendamping-hub enroll-code | device list | device revoke`: the district's laptops."""

from __future__ import annotations

from typing import Any

import click

from server.audit import AuditEvent, cli_actor
from server.cli.context import emit, hub, hub_app
from server.enrolment import issue_code
from server.storage import NotFound
from server.timeutil import utc_iso

__all__ = ["device", "enroll_code"]


@click.command("enroll-code")
@click.argument("name")
@click.option(
    "--ttl-hours",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Masa berlaku (default 24 jam).",
)
@click.pass_context
def enroll_code(ctx: click.Context, name: str, ttl_hours: float | None) -> None:
    """Buat kode pendaftaran sekali pakai untuk laptop milik NAME."""
    storage = hub(ctx).storage
    ttl = ttl_hours if ttl_hours is not None else hub_app(ctx).config["ENROLL_CODE_TTL_HOURS"]
    try:
        code = issue_code(storage, name, ttl, actor=cli_actor())
    except NotFound:
        raise click.ClickException(f"Pengguna {name} tidak ada.") from None
    click.echo(f"Kode pendaftaran untuk {name} (berlaku {ttl:g} jam, sekali pakai): {code}")


@click.group()
def device() -> None:
    """Lihat dan cabut laptop yang terdaftar."""


@device.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(ctx: click.Context, as_json: bool) -> None:
    """Daftar laptop: pemilik, kapan terakhir sinkron, antrean dan versi yang dilaporkannya."""
    devices = hub(ctx).storage.list_devices()
    payload = [
        {
            "device_id": d.device_id,
            "name": d.name,
            "user": d.user.name,
            "role": d.user.role,
            "wilayah": list(d.user.wilayah),
            "enrolled_at": d.enrolled_at,
            "last_seen_at": d.last_seen_at,
            "last_sync_at": d.last_sync_at,
            "revoked_at": d.revoked_at,
            "client_version": d.client_version,
            "queue_size": d.queue_size,
            "reported_at": d.reported_at,
        }
        for d in devices
    ]
    lines = [
        f"{d['device_id']}  {d['name']:<20} {d['user']:<15} terakhir sinkron: "
        f"{d['last_sync_at'] or 'belum pernah'}"
        + (f"  antrean: {d['queue_size']}" if d["queue_size"] is not None else "")
        + (f"  versi: {d['client_version']}" if d["client_version"] else "")
        + (f"  DICABUT {d['revoked_at']}" if d["revoked_at"] else "")
        for d in payload
    ] or ["Belum ada laptop."]
    emit(as_json, payload, lines)


@device.command("revoke")
@click.argument("device_id", metavar="ID")
@click.option("--reason", default=None, help="Alasan (mis. laptop hilang); masuk log audit.")
@click.pass_context
def device_revoke(ctx: click.Context, device_id: str, reason: str | None) -> None:
    """Cabut laptop ID: setiap panggilannya dijawab 401 device_revoked; data di hub tetap.

    Bundle USB-nya hanya diterima lewat `import-bundle --allow-revoked`."""
    storage = hub(ctx).storage
    try:
        found = storage.get_device(device_id)
    except NotFound:
        raise click.ClickException(f"Tidak ada laptop dengan ID {device_id}.") from None
    at = utc_iso()
    detail: dict[str, Any] = {"device": device_id, "user": found.user.name}
    if reason:
        detail["reason"] = reason[:200]
    event = AuditEvent(at, cli_actor(), "revoke_device", detail, device_id)
    try:
        revoked_now = storage.revoke_device(device_id, at, audit=event)
    except NotFound:
        raise click.ClickException(f"Tidak ada laptop dengan ID {device_id}.") from None
    label = f"{found.name} ({found.user.name})"
    if not revoked_now:
        when = storage.get_device(device_id).revoked_at
        click.echo(f"Laptop {label} sudah dicabut sejak {when}; tidak ada yang berubah.")
        return
    click.echo(
        f"Laptop {label} dicabut pada {at}. Sinkronnya kini ditolak (401 device_revoked); "
        "data yang belum terkirim hanya dapat masuk lewat "
        "`pendamping-hub import-bundle --allow-revoked`."
    )
