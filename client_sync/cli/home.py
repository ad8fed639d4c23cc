"""How a `pendamping` command gets at this laptop's home: its passphrase, and the transport
settings from the environment.

Every command opens the home the same way (:func:`open_device`), so a passphrase is asked or
read the same way everywhere and only the commands that reach the hub read the transport
settings: a bad `PENDAMPING_TIMEOUT` never blocks recording in the field.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from client_sync.cli.failures import EXIT_INVALID, Failure
from client_sync.database import is_encrypted
from client_sync.device import STORE_FILE, FieldDevice, TransportFactory, env_passphrase
from client_sync.transport import DEFAULT_WAIT_S, HttpTransport, default_retry

__all__ = [
    "DEFAULT_RETRIES",
    "MIN_PASSPHRASE",
    "home_of",
    "interactive",
    "new_passphrase",
    "open_device",
    "store_passphrase",
    "transport_factory",
]

DEFAULT_RETRIES = 4
MIN_PASSPHRASE = 8


def home_of(ctx: click.Context) -> Path:
    """The home folder the command works on (`--home`, else the default)."""
    return Path(ctx.find_root().obj["home"])


def _env_number(name: str, cast: Callable[[str], Any], default: Any) -> Any:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = cast(raw)
    except ValueError:
        value = None
    if value is None or (isinstance(value, int | float) and value < 0):
        raise Failure(f"{name} tidak valid: {raw!r}.", EXIT_INVALID)
    return value


def _timeout(raw: str) -> tuple[float, float] | None:
    parts = [float(p) for p in raw.split(",")]
    if len(parts) == 1:
        parts *= 2
    if len(parts) != 2 or min(parts) <= 0:
        return None
    return parts[0], parts[1]


def transport_factory(wait_s: float = DEFAULT_WAIT_S) -> TransportFactory:
    """The real HTTP transport, with retries (`PENDAMPING_RETRIES`) and timeouts
    (`PENDAMPING_TIMEOUT`, seconds: one number, or CONNECT,READ) from the environment.

    :param wait_s: the longest a request waits on a hub that keeps answering busy (a
        command's `--wait`); busy answers are not counted against `PENDAMPING_RETRIES`.
    :raises Failure: either variable is not a valid value (exit 2).
    """
    retries = _env_number("PENDAMPING_RETRIES", int, DEFAULT_RETRIES)
    timeout = _env_number("PENDAMPING_TIMEOUT", _timeout, None)
    extra = {"timeout": timeout} if timeout else {}
    return lambda url: HttpTransport(url, retry=default_retry(retries, wait_s), **extra)


def interactive() -> bool:
    """Whether someone can be asked: stdin is a terminal."""
    return sys.stdin is not None and sys.stdin.isatty()


def store_passphrase(home: Path) -> str:
    """The passphrase of the store in `home`: `PENDAMPING_PASSPHRASE`, else asked (hidden)
    when the store is encrypted and stdin is a terminal, else ``""`` (none; an encrypted
    store then refuses to open in one line)."""
    given = env_passphrase()
    if given is not None:
        return given
    if is_encrypted(Path(home) / STORE_FILE) and interactive():
        return click.prompt("Kata sandi penyimpanan", hide_input=True, err=True)
    return ""


def new_passphrase(env: str, what: str = "Kata sandi penyimpanan baru") -> str:
    """A new passphrase: from the variable `env`, else asked (hidden) on a terminal, and
    asked again, saying why, until it is long enough and typed the same twice.

    :raises Failure: none can be had (no variable, no terminal), or the variable's is
        shorter than 8 characters (exit 2), naming the variable.
    """
    value = os.environ.get(env) or None
    if value is not None:
        if len(value) < MIN_PASSPHRASE:
            raise Failure(
                f"{env} terlalu pendek: kata sandi penyimpanan minimal {MIN_PASSPHRASE} karakter.",
                EXIT_INVALID,
            )
        return value
    if not interactive():
        raise Failure(
            f"Kata sandi penyimpanan diperlukan: setel {env} (tidak ada terminal untuk "
            "menanyakannya).",
            EXIT_INVALID,
        )
    while True:
        value = click.prompt(what, hide_input=True, err=True)
        if len(value) < MIN_PASSPHRASE:
            click.echo(
                f"Terlalu pendek: kata sandi minimal {MIN_PASSPHRASE} karakter. Coba lagi.",
                err=True,
            )
            continue
        if click.prompt("Ulangi kata sandi", hide_input=True, err=True) == value:
            return value
        click.echo("Kedua kata sandi tidak sama. Coba lagi.", err=True)


def open_device(
    ctx: click.Context, network: bool = False, wait_s: float = DEFAULT_WAIT_S
) -> FieldDevice:
    """Open this laptop's home; closed when the command ends. Only `network` commands get
    the transport settings from the environment, so a bad setting never blocks recording;
    `wait_s` is how long they wait on a busy hub. The store's passphrase comes from
    :func:`store_passphrase`."""
    home = ctx.find_root().obj["home"]
    passphrase = store_passphrase(home)
    if network:
        factory = transport_factory(wait_s)
        dev = FieldDevice.open(home, transport_factory=factory, passphrase=passphrase)
    else:
        dev = FieldDevice.open(home, passphrase=passphrase)
    return ctx.with_resource(dev)
