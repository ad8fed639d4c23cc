"""`pendamping-hub enroll-code | device list | device revoke`: the district's laptops.

The work is :mod:`server.enrolment`'s and :class:`server.devices.DeviceService`'s; this
module reads the command line and prints what they did.
"""

from __future__ import annotations

import click

from server.audit import cli_actor
from server.cli.context import emit, hub, hub_app, printable
from server.devices import describe
from server.enrolment import issue_code
from server.exceptions import Missing

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
    except Missing as exc:
        raise click.ClickException(exc.message) from None
    click.echo(f"Kode pendaftaran untuk {name} (berlaku {ttl:g} jam, sekali pakai): {code}")


@click.group()
def device() -> None:
    """Lihat dan cabut laptop yang terdaftar."""


@device.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(ctx: click.Context, as_json: bool) -> None:
    """Daftar laptop: pemilik, kapan terakhir sinkron, antrean dan versi yang dilaporkannya."""
    payload = [describe(d) for d in hub(ctx).devices.list()]
    lines = [  # names and versions come from laptops: shown neutralised (printable)
        f"{d['device_id']}  {printable(d['name']):<20} {printable(d['user']):<15} "
        f"terakhir sinkron: {d['last_sync_at'] or 'belum pernah'}"
        + (f"  antrean: {d['queue_size']}" if d["queue_size"] is not None else "")
        + (f"  versi: {printable(d['client_version'])}" if d["client_version"] else "")
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
    try:
        done = hub(ctx).devices.revoke(device_id, reason, actor=cli_actor())
    except Missing as exc:
        raise click.ClickException(exc.message) from None
    found = done.device
    label = f"{found.name} ({found.user.name})"
    if not done.revoked_now:
        click.echo(
            f"Laptop {label} sudah dicabut sejak {found.revoked_at}; tidak ada yang berubah."
        )
        return
    click.echo(
        f"Laptop {label} dicabut pada {found.revoked_at}. "
        "Sinkronnya kini ditolak (401 device_revoked); "
        "data yang belum terkirim hanya dapat masuk lewat "
        "`pendamping-hub import-bundle --allow-revoked`."
    )
