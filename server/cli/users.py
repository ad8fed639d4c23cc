"""`pendamping-hub user add | list | password`: the office's users, their roles and wilayah.

The rules (who needs a wilayah, who may hold a password, how long) are
:class:`server.users.UserService`'s; this module reads the command line, calls it, and
words its refusals as the command line's own.
"""

from __future__ import annotations

import math
import sys
from typing import Any

import click

from schemas.codes import ROLES
from server.audit import cli_actor
from server.cli.context import emit, hub, printable
from server.exceptions import HubError, Invalid, NotAllowed
from server.users import UserService, describe
from server.web.lockout import user_key

__all__ = ["user"]


def _users(ctx: click.Context) -> UserService:
    return hub(ctx).users


def _field_error(exc: HubError, field: str) -> str | None:
    """The first message `exc` gives for `field`, or None when it names another."""
    messages = (exc.errors or {}).get(field)
    return messages[0] if messages else None


def _password_refused(exc: Invalid) -> click.ClickException:
    return click.ClickException(f"{exc.message} Tidak ada yang diubah.")


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
    password = _stdin_line() if password_stdin else None
    try:
        added = _users(ctx).add(name, role, codes, password, actor=cli_actor())
    except Invalid as exc:
        bad_code = _field_error(exc, "wilayah")
        if bad_code is not None and not codes:
            raise click.UsageError("--wilayah wajib untuk pendamping dan supervisor.") from None
        if bad_code is not None:
            raise click.BadParameter(bad_code, param_hint="--wilayah") from None
        if _field_error(exc, "password") is not None:
            raise _password_refused(exc) from None
        raise
    except NotAllowed as exc:  # a password for a pendamping
        raise click.UsageError(exc.message) from None
    except HubError as exc:  # the name is taken
        raise click.ClickException(exc.message) from None
    click.echo(
        f"Pengguna {name} ({role}, wilayah {', '.join(codes) or 'semua'}) ditambahkan"
        + (", dengan kata sandi halaman web." if added.password_hash else ".")
    )


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def user_list(ctx: click.Context, as_json: bool) -> None:
    """Daftar pengguna: peran, wilayah, laptop, kata sandi web, dan apakah login web terkunci."""
    state = hub(ctx)
    devices = state.devices.list()
    payload = [
        describe(u, devices, state.lockout.locked_for(user_key(u.name))) for u in state.users.list()
    ]
    lines = [_user_line(u) for u in payload] or ["Belum ada pengguna."]
    emit(as_json, payload, lines)


def _user_line(user: dict[str, Any]) -> str:
    """One row of `user list`, its name and wilayah neutralised (:func:`printable`)."""
    wilayah = ", ".join(user["wilayah"]) or "semua"
    laptops = f"{user['devices_active']} aktif" + (
        f", {user['devices_revoked']} dicabut" if user["devices_revoked"] else ""
    )
    locked = math.ceil(user["locked_for_s"] / 60)
    status = f"login web terkunci {locked} menit lagi" if locked else "aktif"
    return (
        f"{printable(user['name']):<15} {user['role']:<11} wilayah: {printable(wilayah):<20} "
        f"laptop: {laptops:<20} web: {'ya' if user['web_password'] else 'tidak':<5} {status}"
    )


def _stdin_line() -> str:
    """One line of stdin, without its line ending."""
    return sys.stdin.readline().rstrip("\r\n")


@user.command("password")
@click.argument("name")
@click.option(
    "--password-stdin", is_flag=True, help="Baca kata sandi dari satu baris stdin (untuk skrip)."
)
@click.pass_context
def user_password(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Pasang atau ganti kata sandi halaman web milik supervisor atau admin NAME."""
    users = _users(ctx)
    try:
        users.password_holder(name)  # before asking for a password nobody may hold
        if password_stdin:
            password = _stdin_line()
        else:
            password = click.prompt("Kata sandi baru", hide_input=True, confirmation_prompt=True)
        users.set_password(name, password, actor=cli_actor())
    except Invalid as exc:
        raise _password_refused(exc) from None
    except HubError as exc:  # no such user, or one whose role has no password
        raise click.ClickException(exc.message) from None
    click.echo(f"Kata sandi {name} disimpan (argon2); ia masuk di /web/login.")
