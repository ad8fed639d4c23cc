"""Helpers of the `pendamping` command: exit codes, worded failures, output, environment.

Kept apart from :mod:`client_sync.cli` so that module holds only the commands.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from client_sync.database import is_encrypted
from client_sync.device import STORE_FILE, FieldDevice, TransportFactory, env_passphrase
from client_sync.transport import HttpTransport, default_retry

__all__ = [
    "DEFAULT_RETRIES",
    "EXIT_ERROR",
    "EXIT_HUB",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNAUTHORIZED",
    "Failure",
    "JsonObject",
    "emit_json",
    "field_lines",
    "new_passphrase",
    "open_device",
    "store_passphrase",
    "table",
    "transport_factory",
]

EXIT_OK = 0
EXIT_ERROR = 1  # a local problem: not enrolled, no such record, store unusable
EXIT_INVALID = 2  # bad input: a usage error or a field that failed validation
EXIT_HUB = 3  # the hub could not be reached or refused; nothing was lost
EXIT_UNAUTHORIZED = 4  # the hub no longer accepts this laptop's token

DEFAULT_RETRIES = 4
MIN_PASSPHRASE = 8


class Failure(Exception):
    """A failure already worded for the user: its lines go to stderr as they are."""

    def __init__(self, lines: str | Sequence[str], exit_code: int = EXIT_ERROR) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.exit_code = exit_code
        super().__init__("; ".join(self.lines))


class JsonObject(click.ParamType):
    """A JSON object given on the command line, e.g. ``{"mobilitas": "terbatas"}``."""

    name = "JSON"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, dict):
            return value
        try:
            parsed = json.loads(value)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            self.fail('harus objek JSON, mis. {"mobilitas": "terbatas"}.', param, ctx)
        return parsed


def field_lines(errors: Mapping[str, Any], prefix: str = "") -> list[str]:
    """One ``field: message`` line per field of a validation error, nested fields dotted."""
    lines = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            lines += field_lines(value, f"{name}.")
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            for item in value:
                lines += field_lines(item, f"{name}.") if isinstance(item, Mapping) else []
        elif isinstance(value, list):
            lines.append(f"{name}: {' '.join(str(v) for v in value)}")
        else:
            lines.append(f"{name}: {value}")
    return lines


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


def transport_factory() -> TransportFactory:
    """The real HTTP transport, with retries (`PENDAMPING_RETRIES`) and timeouts
    (`PENDAMPING_TIMEOUT`, seconds: one number, or CONNECT,READ) from the environment."""
    retries = _env_number("PENDAMPING_RETRIES", int, DEFAULT_RETRIES)
    timeout = _env_number("PENDAMPING_TIMEOUT", _timeout, None)
    extra = {"timeout": timeout} if timeout else {}
    return lambda url: HttpTransport(url, retry=default_retry(retries), **extra)


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
    """A new passphrase: from the variable `env`, else asked twice (hidden) on a terminal.

    :raises Failure: none can be had, or it is shorter than 8 characters (exit 2).
    """
    value = os.environ.get(env) or None
    if value is None:
        if not interactive():
            raise Failure(
                f"Kata sandi penyimpanan diperlukan: setel {env} (tidak ada terminal untuk "
                "menanyakannya).",
                EXIT_INVALID,
            )
        value = click.prompt(
            what, hide_input=True, confirmation_prompt="Ulangi kata sandi", err=True
        )
    if len(value) < MIN_PASSPHRASE:
        raise Failure(f"Kata sandi minimal {MIN_PASSPHRASE} karakter.", EXIT_INVALID)
    return value


def open_device(ctx: click.Context, network: bool = False) -> FieldDevice:
    """Open this laptop's home; closed when the command ends. Only `network` commands get
    the transport settings from the environment, so a bad setting never blocks recording.
    The store's passphrase comes from :func:`store_passphrase`."""
    home = ctx.find_root().obj["home"]
    passphrase = store_passphrase(home)
    if network:
        dev = FieldDevice.open(home, transport_factory=transport_factory(), passphrase=passphrase)
    else:
        dev = FieldDevice.open(home, passphrase=passphrase)
    return ctx.with_resource(dev)


def emit_json(payload: Any) -> None:
    click.echo(json.dumps(payload, ensure_ascii=False, indent=2))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    cells = [[_cell(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        click.echo("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any, limit: int = 40) -> str:
    text = "-" if value is None or value == "" else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
