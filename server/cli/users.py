"""`pendamping-hub user add | password`: the office's users, their roles and wilayah."""

from __future__ import annotations

import sys
from typing import Any

import click
from marshmallow import ValidationError

from schemas.codes import ROLES
from schemas.validators import validate_wilayah
from server.audit import AuditEvent, cli_actor
from server.cli.context import hub
from server.passwords import PASSWORD_ROLES, hash_password, password_problem
from server.scope import has_role, sees_everything
from server.storage import AlreadyExists, NotFound, User
from server.timeutil import utc_iso

__all__ = ["user"]

_NO_PASSWORD_FOR_PENDAMPING = (
    "Hanya supervisor dan admin yang memakai kata sandi (halaman web); "
    "pendamping masuk lewat laptop yang terdaftar."
)


@click.group()
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
    if not sees_everything(role) and not codes:
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
        hub(ctx).storage.add_user(User(name, role, codes, password_hash), at, audit=event)
    except AlreadyExists:
        raise click.ClickException(f"Pengguna {name} sudah ada.") from None
    click.echo(
        f"Pengguna {name} ({role}, wilayah {', '.join(codes) or 'semua'}) ditambahkan"
        + (", dengan kata sandi halaman web." if password_hash else ".")
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
    storage = hub(ctx).storage
    try:
        found = storage.get_user(name)
    except NotFound:
        raise click.ClickException(f"Pengguna {name} tidak ada.") from None
    if not has_role(found, *PASSWORD_ROLES):
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
