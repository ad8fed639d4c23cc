"""The `pendamping-hub` group and what every command reaches through it: the hub app,
built once per run from `--data`, and its :class:`~server.state.HubState`."""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click
from flask import Config, Flask

from schemas.click_words import IndonesianGroup
from server.app import create_app
from server.config import load_config
from server.state import HubState, hub_state

__all__ = ["HUB_VERSION", "cli", "data_dir", "emit", "hub", "hub_app", "printable", "settings"]

try:  # the installed distribution's version (`pendamping-hub --version`)
    HUB_VERSION = version("pendamping-sync")
except PackageNotFoundError:  # a source tree that was never installed
    HUB_VERSION = "0+unknown"


@click.group(cls=IndonesianGroup)
@click.version_option(
    HUB_VERSION,
    prog_name="pendamping-hub",
    message="%(prog)s %(version)s",
    help="Tampilkan versi lalu keluar.",
)
@click.option(
    "--data",
    "data",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    show_default="PENDAMPING_HUB_DATA_DIR, PENDAMPING_HUB_DATA, lalu ./var",
    help="Folder data hub (berkas SQLite dan hub.cfg).",
)
@click.pass_context
def cli(ctx: click.Context, data: Path | None) -> None:
    """Hub pendamping-sync dan administrasi kantor dinas."""
    ctx.ensure_object(dict)
    ctx.obj["data"] = data


def hub_app(ctx: click.Context) -> Flask:
    """The app for this command line's data folder (created, and migrated, on first use).

    Without `--data` the folder comes from the configuration layers like every setting:
    `PENDAMPING_HUB_DATA_DIR`, then `PENDAMPING_HUB_DATA`, then `./var` (server/config.py)."""
    obj = ctx.find_root().obj
    if obj.get("app") is None:
        obj["app"] = create_app({"DATA_DIR": obj["data"]} if obj["data"] else None)
    return obj["app"]


def hub(ctx: click.Context) -> HubState:
    """The state (storage, services) of this command line's hub."""
    return hub_state(hub_app(ctx))


def data_dir(ctx: click.Context) -> Path:
    """The data folder the hub of this command line uses, absolute."""
    return Path(hub_app(ctx).config["DATA_DIR"]).resolve()


def printable(text: object) -> str:
    """`text` as the office's terminal may show it: each character that is not printable (a
    newline, a tab, ESC and the other C0/C1 controls, a bidi override) as its escape, e.g.
    ``\\n`` or ``\\x1b``. The schemas refuse such names now; rows stored before must
    still not split a table or recolour the screen."""
    shown = str(text)
    if shown.isprintable():
        return shown
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in shown)


def _json_escaped(text: str) -> str:
    """JSON text with every non-printable character inside its strings as a \\u escape
    (json.dumps escapes only C0 controls); the indent's newlines stay."""
    out = []
    for char in text:
        if char.isprintable() or char == "\n":
            out.append(char)
        elif ord(char) > 0xFFFF:  # a surrogate pair, as JSON writes such a character
            high, low = divmod(ord(char) - 0x10000, 0x400)
            out.append(f"\\u{0xD800 + high:04x}\\u{0xDC00 + low:04x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def settings(ctx: click.Context) -> Config:
    """This command line's configuration, layer by layer as the hub reads it, without
    building the hub (no database is opened: `restore` replaces it, `serve` marks the
    folder before it migrates anything). ``DATA_DIR`` in it is absolute."""
    obj = ctx.find_root().obj
    config = Config(".")
    folder = load_config(config, {"DATA_DIR": obj["data"]} if obj["data"] else None)
    config["DATA_DIR"] = str(folder.resolve())
    return config


def emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    """Print `payload` as JSON, or `lines` for people (whose parts the caller has passed
    through :func:`printable`). The JSON escapes whatever a terminal would act on."""
    if as_json:
        click.echo(_json_escaped(json.dumps(payload, ensure_ascii=False, indent=2)))
    else:
        for line in lines:
            click.echo(line)
