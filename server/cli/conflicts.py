"""`pendamping-hub conflicts list | resolve`: the review queue from the office's terminal.

The terminal is the office's own: it sees every wilayah, and a resolution is recorded under
the name given with `--by`.
"""

from __future__ import annotations

import json
from typing import Any

import click

from schemas.conflict_outcome import outcome
from schemas.labels import field_label
from server.audit import cli_actor
from server.cli.context import hub
from server.conflicts import CHOICES, ConflictService
from server.scope import EVERYWHERE

__all__ = ["conflicts"]


def _service(ctx: click.Context) -> ConflictService:
    return hub(ctx).conflicts


def _line(c: dict[str, Any]) -> str:
    state = f"selesai ({c['resolution']['choice']})" if c["resolved_at"] else "terbuka"
    if c["kind"] == "duplicate_person":
        what = f"NIK {c['lost']['value']} juga dipakai {c['other_record_id']}"
    else:
        now = outcome(c)  # after a take_lost, the value that lost the merge is in force
        chosen = f", pilihan {now.chosen_by}" if now.chosen_by else ""
        aside = ", ".join(f"{s.value!r} ({s.author or 'hub'})" for s in now.set_aside)
        what = (
            f"{field_label(c['field'])}: tetap {now.in_force.value!r} ({now.in_force.author or 'hub'}{chosen}),"
            f" kalah {aside}"
        )
    return f"#{c['conflict_id']} [{c['kind']}] {c['entity']} {c['record_id']} — {what} — {state}"


@click.group()
def conflicts() -> None:
    """Antrean konflik: nilai yang kalah oleh suntingan bersamaan, NIK ganda, dan lainnya."""


@conflicts.command("list")
@click.option("--all", "show_all", is_flag=True, help="Termasuk yang sudah selesai.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def list_conflicts(ctx: click.Context, show_all: bool, as_json: bool) -> None:
    """Daftar konflik, yang terlama dahulu."""
    found = _service(ctx).list(EVERYWHERE, open_only=not show_all, limit=1000)
    if as_json:
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    elif not found:
        click.echo("Tidak ada konflik terbuka." if not show_all else "Belum ada konflik.")
    else:
        for c in found:
            click.echo(_line(c))


@conflicts.command("resolve")
@click.argument("conflict_id", type=int)
@click.option(
    "--choice",
    required=True,
    type=click.Choice(sorted({c for cs in CHOICES.values() for c in cs})),
    help="keep | take_lost | value | merge | distinct, menurut jenis konflik.",
)
@click.option("--value", "value_json", help="Nilai baru sebagai JSON, untuk --choice value.")
@click.option("--survivor", help="Untuk merge: id penerima manfaat yang dipertahankan.")
@click.option("--by", default="kantor", show_default=True, help="Nama yang mencatat keputusan.")
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
def resolve(
    ctx: click.Context,
    conflict_id: int,
    choice: str,
    value_json: str | None,
    survivor: str | None,
    by: str,
    as_json: bool,
) -> None:
    """Selesaikan konflik CONFLICT_ID; hasilnya sampai ke semua laptop lewat sinkron."""
    value = None
    if value_json is not None:
        try:
            value = json.loads(value_json)
        except ValueError:
            raise click.BadParameter(
                "harus JSON, mis. '\"0812...\"'.", param_hint="--value"
            ) from None
    elif choice == "value":
        raise click.UsageError("--choice value memerlukan --value.")
    done = _service(ctx).resolve(
        conflict_id, by, EVERYWHERE, choice, value, survivor, actor=cli_actor()
    )
    if as_json:
        click.echo(json.dumps(done, ensure_ascii=False, indent=2))
    else:
        click.echo(_line(done))
