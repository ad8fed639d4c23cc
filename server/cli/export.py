"""`pendamping-hub export KIND --format xlsx|csv --out FILE`: the office's spreadsheets.

The same code as the web page's download (server/office/exports.py). The command line is
the district office's admin tool, run by whoever holds the hub's data folder: it sees every
wilayah, as `conflicts list` and `stats` do; `--wilayah` narrows an export to one area.
The file appears whole or not at all (written beside FILE, then moved into place).
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from server.cli.context import hub, hub_app
from server.exceptions import HubError
from server.office.exports import KINDS, export_file
from server.office.queries import OfficeQueries
from server.office.writers import FORMATS
from server.scope import EVERYWHERE

__all__ = ["EXIT_CODES", "export"]

#: what `export` exits with (docs/cli.md's table is checked against this)
EXIT_CODES: dict[int, str] = {
    0: "the file was written (also with no rows: then it holds the header only)",
    1: "the file could not be written (a missing folder, no permission, a full disk) or the"
    " hub's database failed; FILE is left as it was",
    2: "bad input: an unknown kind, format or option, a month, day, wilayah, programme or"
    " separator the hub does not take; nothing is written",
}

_OPTION_OF = {
    "month": "--month",
    "day": "--day",
    "wilayah": "--wilayah",
    "program": "--program",
    "separator": "--separator",
    "format": "--format",
}


@click.command()
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.option("--month", help="Bulan, mis. 2026-01 (zona waktu kantor).")
@click.option("--day", help="Satu hari, mis. 2026-01-15.")
@click.option("--wilayah", help="Hanya wilayah ini, mis. 31.71.01.")
@click.option("--program", help="Hanya penerima manfaat program ini, mis. KLJ.")
@click.option("--pendamping", help="Hanya data yang dibuat pendamping ini (nama pengguna).")
@click.option("--format", "fmt", type=click.Choice(FORMATS), required=True, help="xlsx atau csv.")
@click.option("--separator", default=",", show_default=True, help="Pemisah CSV, mis. ';'.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help="Berkas tujuan; ditimpa bila sudah ada.",
)
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.pass_context
def export(
    ctx: click.Context,
    kind: str,
    month: str | None,
    day: str | None,
    wilayah: str | None,
    program: str | None,
    pendamping: str | None,
    fmt: str,
    separator: str,
    out: Path,
    as_json: bool,
) -> None:
    """Ekspor kunjungan, penerima manfaat, atau permohonan ABF ke XLSX atau CSV.

    Satu baris per data; NIK dan kode ditulis sebagai teks, tanggal sebagai tanggal.
    """
    queries = OfficeQueries.from_config(hub(ctx).storage, hub_app(ctx).config)
    try:
        where = queries.record_filter(
            EVERYWHERE,
            month=month,
            day=day,
            wilayah=wilayah,
            program=program,
            pendamping=pendamping,
        )
        rows = export_file(queries, EVERYWHERE, kind, where, fmt, out, separator)
    except HubError as exc:
        field = next(iter(exc.errors), "") if exc.errors else ""
        raise click.BadParameter(exc.message, param_hint=_OPTION_OF.get(field)) from None
    except OSError as exc:
        raise click.ClickException(f"Tidak dapat menulis {out}: {exc.strerror or exc}") from exc
    if as_json:
        click.echo(json.dumps({"kind": kind, "format": fmt, "rows": rows, "out": str(out)}))
    else:
        click.echo(f"{rows} baris ditulis ke {out}.")
