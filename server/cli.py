"""`pendamping-hub`: run the hub and administer it from the district office.

    pendamping-hub --data DIR init | serve | user add | user password | enroll-code
                              | device list | device revoke | stats
                              | conflicts list | conflicts resolve | import-bundle
                              | audit verify | audit list

`--data` defaults to `PENDAMPING_HUB_DATA`, else `./var`. Every failure is one plain line on
stderr and a non-zero exit, never a stack trace.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click
from marshmallow import ValidationError

from schemas.codes import ROLES
from schemas.validators import validate_wilayah
from server.audit import AuditEvent, cli_actor
from server.cli_audit import audit
from server.cli_bundle import import_bundle_command
from server.cli_conflicts import conflicts
from server.cli_context import hub_app
from server.enrolment import issue_code
from server.errors import ApiError
from server.passwords import PASSWORD_ROLES, hash_password, password_problem
from server.storage import AlreadyExists, HubStorage, NotFound, StorageError, User
from server.timeutil import utc_iso

__all__ = ["main"]


_LABELS = {
    "beneficiary": "penerima manfaat",
    "visit": "kunjungan",
    "device_request": "permohonan alat",
}


def _storage(ctx: click.Context) -> HubStorage:
    return hub_app(ctx).extensions["pendamping"].storage


def _emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


@click.group()
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    envvar="PENDAMPING_HUB_DATA",
    default=Path("var"),
    show_default=True,
    help="Folder data hub (berkas SQLite dan hub.cfg).",
)
@click.pass_context
def cli(ctx: click.Context, data: Path) -> None:
    """Hub pendamping-sync dan administrasi kantor dinas."""
    ctx.ensure_object(dict)
    ctx.obj["data"] = data


@cli.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Siapkan folder data dan basis data hub (aman diulang)."""
    _storage(ctx)
    click.echo(f"Hub siap di {ctx.obj['data'].resolve()}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Jalankan hub dengan server WSGI waitress."""
    import waitress

    _storage(ctx)
    click.echo(f"Hub berjalan di http://{host}:{port} (data: {ctx.obj['data'].resolve()})")
    waitress.serve(
        ctx.obj["app"],
        host=host,
        port=port,
        threads=threads,
        ident="pendamping-hub",
        clear_untrusted_proxy_headers=True,
    )


@cli.group()
def user() -> None:
    """Kelola pengguna (pendamping, supervisor, admin)."""


@user.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--wilayah", multiple=True, help="Kode wilayah, boleh diulang atau dipisah koma, mis. 31.71.01."
)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Baca kata sandi halaman web (supervisor, admin) dari satu baris stdin.",
)
@click.pass_context
def user_add(
    ctx: click.Context, name: str, role: str, wilayah: tuple[str, ...], password_stdin: bool
) -> None:
    """Tambah pengguna dengan peran dan wilayahnya."""
    codes = tuple(c.strip() for item in wilayah for c in item.split(",") if c.strip())
    if role != "admin" and not codes:
        raise click.UsageError("--wilayah wajib untuk pendamping dan supervisor.")
    for code in codes:
        try:
            validate_wilayah(code)
        except ValidationError as exc:
            raise click.BadParameter(f"{code}: {exc.messages[0]}", param_hint="--wilayah") from exc
    password_hash = None
    if password_stdin:
        if role not in PASSWORD_ROLES:
            raise click.UsageError(_NO_PASSWORD_FOR_PENDAMPING)
        password_hash = hash_password(_password_from_stdin())
    at = utc_iso()
    detail: dict[str, Any] = {"user": name, "role": role, "wilayah": codes}
    if password_hash:
        detail["password"] = True
    event = AuditEvent(at, cli_actor(), "add_user", detail)
    try:
        _storage(ctx).add_user(User(name, role, codes, password_hash), at, audit=event)
    except AlreadyExists:
        raise click.ClickException(f"Pengguna {name} sudah ada.") from None
    click.echo(
        f"Pengguna {name} ({role}, wilayah {', '.join(codes) or 'semua'}) ditambahkan"
        + (", dengan kata sandi halaman web." if password_hash else ".")
    )


_NO_PASSWORD_FOR_PENDAMPING = (
    "Hanya supervisor dan admin yang memakai kata sandi (halaman web); "
    "pendamping masuk lewat laptop yang terdaftar."
)


def _password_from_stdin() -> str:
    """One line of stdin, without its line ending, checked for length."""
    password = sys.stdin.readline().rstrip("\r\n")
    problem = password_problem(password)
    if problem:
        raise click.ClickException(f"{problem} Tidak ada yang diubah.")
    return password


@user.command("password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Baca kata sandi dari satu baris stdin (untuk skrip)."
)
@click.pass_context
def user_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Pasang atau ganti kata sandi halaman web milik supervisor atau admin NAME."""
    storage = _storage(ctx)
    try:
        found = storage.get_user(name)
    except NotFound:
        raise click.ClickException(f"Pengguna {name} tidak ada.") from None
    if found.role not in PASSWORD_ROLES:
        raise click.ClickException(f"{name} adalah {found.role}. {_NO_PASSWORD_FOR_PENDAMPING}")
    if password_stdin:
        password = _password_from_stdin()
    else:
        password = click.prompt("Kata sandi baru", hide_input=True, confirmation_prompt=True)
        problem = password_problem(password)
        if problem:
            raise click.ClickException(f"{problem} Tidak ada yang diubah.")
    event = AuditEvent(utc_iso(), cli_actor(), "set_password", {"user": name})
    try:
        storage.set_password_hash(name, hash_password(password), audit=event)
    except NotFound:
        raise click.ClickException(f"Pengguna {name} tidak ada.") from None
    click.echo(f"Kata sandi {name} disimpan (argon2); ia masuk di /web/login.")


@cli.command("enroll-code")
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
    storage = _storage(ctx)
    ttl = ttl_hours if ttl_hours is not None else ctx.obj["app"].config["ENROLL_CODE_TTL_HOURS"]
    try:
        code = issue_code(storage, name, ttl, actor=cli_actor())
    except NotFound:
        raise click.ClickException(f"Pengguna {name} tidak ada.") from None
    click.echo(f"Kode pendaftaran untuk {name} (berlaku {ttl:g} jam, sekali pakai): {code}")


@cli.group()
def device() -> None:
    """Lihat dan cabut laptop yang terdaftar."""


@device.command("list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def device_list(ctx: click.Context, as_json: bool) -> None:
    """Daftar laptop: pemilik, kapan terakhir sinkron, antrean dan versi yang dilaporkannya."""
    devices = _storage(ctx).list_devices()
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
    _emit(as_json, payload, lines)


@device.command("revoke")
@click.argument("device_id", metavar="ID")
@click.option("--reason", default=None, help="Alasan (mis. laptop hilang); masuk log audit.")
@click.pass_context
def device_revoke(ctx: click.Context, device_id: str, reason: str | None) -> None:
    """Cabut laptop ID: setiap panggilannya dijawab 401 device_revoked; data di hub tetap.

    Bundle USB-nya hanya diterima lewat `import-bundle --allow-revoked`."""
    storage = _storage(ctx)
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


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def stats(ctx: click.Context, as_json: bool) -> None:
    """Jumlah data per jenis, laptop, dan konflik terbuka."""
    figures = _storage(ctx).stats()
    lines = [f"{_LABELS[entity]}: {count}" for entity, count in figures["records"].items()]
    lines += [
        f"laptop aktif: {figures['devices']}",
        f"konflik terbuka: {figures['open_conflicts']}",
    ]
    _emit(as_json, figures, lines)


cli.add_command(conflicts)
cli.add_command(import_bundle_command)
cli.add_command(audit)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code instead of raising."""
    try:
        cli.main(args=argv, prog_name="pendamping-hub", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Dibatalkan.", err=True)
        return 1
    except click.UsageError as exc:
        hint = f" (lihat `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"Galat: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except ApiError as exc:
        click.echo(f"Galat: {exc.description}", err=True)
        return 1
    except StorageError as exc:
        click.echo(f"Galat basis data hub: {exc}", err=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
