"""`pendamping enroll HUB_URL CODE`: join this laptop to the hub with a one-time code.

The only command besides `sync` that needs the network. It asks for the store's passphrase
(twice) unless `PENDAMPING_PASSPHRASE` is set, or `--no-passphrase` keeps the store plain.
"""

from __future__ import annotations

import click

from client_sync.cli.failures import EXIT_INVALID, Failure, enrol_failure
from client_sync.cli.home import home_of, new_passphrase, transport_factory
from client_sync.device import PASSPHRASE_ENV, FieldDevice, env_passphrase
from client_sync.errors import InvalidHubUrl, SyncError
from client_sync.hub_url import parse_hub_url

__all__ = ["enroll"]


@click.command("enroll")
@click.argument("hub_url")
@click.argument("code")
@click.option("--name", "device_name", help="Nama laptop ini (bawaan: nama komputer).")
@click.option(
    "--no-passphrase",
    is_flag=True,
    help="Tanpa kata sandi: penyimpanan laptop TIDAK terenkripsi (tidak dianjurkan).",
)
@click.pass_context
def enroll(
    ctx: click.Context, hub_url: str, code: str, device_name: str | None, no_passphrase: bool
) -> None:
    """Daftarkan laptop ini ke hub HUB_URL dengan kode sekali pakai CODE dari kantor dinas.

    HUB_URL lengkap dengan http:// atau https:// (alamat IP tanpa http:// dianggap http://).
    Menanyakan kata sandi penyimpanan (dua kali), kecuali PENDAMPING_PASSPHRASE disetel."""
    home = home_of(ctx)
    try:  # before the passphrase is asked: a wrong address is said first
        address = parse_hub_url(hub_url)
    except InvalidHubUrl as exc:
        raise Failure(str(exc), EXIT_INVALID) from exc
    if address.assumed_http:
        click.echo(f"Alamat hub ditulis tanpa http://; dipakai {address.url}.", err=True)
    if no_passphrase and env_passphrase() is not None:
        raise click.UsageError(
            f"--no-passphrase bertentangan dengan {PASSPHRASE_ENV} yang disetel."
        )
    passphrase = "" if no_passphrase else new_passphrase(PASSPHRASE_ENV)
    factory = transport_factory()
    try:
        dev = FieldDevice.enroll(home, address.url, code, device_name, factory, passphrase)
    except SyncError as exc:
        raise enrol_failure(exc) from exc
    if no_passphrase:
        click.echo(
            "Peringatan: penyimpanan laptop ini TIDAK terenkripsi (--no-passphrase); siapa pun "
            "yang memegang laptop dapat membaca NIK dan alamat. Enkripsi dengan "
            "`pendamping passphrase set`.",
            err=True,
        )
    with dev:
        me = dev.store.identity
        click.echo(f"Laptop terdaftar di {me.hub_url} (data: {home})")
        click.echo(f"ID perangkat: {me.device_id}")
        click.echo(f"Pengguna: {me.user} ({me.role})")
        click.echo(f"Wilayah: {', '.join(me.wilayah) or 'semua'}")
