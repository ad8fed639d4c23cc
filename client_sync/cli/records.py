"""`pendamping beneficiary | visit | request | list | delete`: the field records, offline.

    pendamping beneficiary add | edit ID      pendamping visit add BENEFICIARY_ID | edit ID
    pendamping request add BENEFICIARY_ID     pendamping request status ID STATUS
    pendamping list [ENTITY] [--returned] [--json]     pendamping delete ENTITY ID

All of these work with no network at all: the store checks every field and queues the change
for the next `sync`. This module only turns options into store calls and results into lines.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import click

from client_sync.abf import move_request, request_fields
from client_sync.cli.home import open_device
from client_sync.cli.output import emit_json, table
from client_sync.record_fields import BENEFICIARY_CLEARABLE, VISIT_CLEARABLE, given, with_cleared
from client_sync.visits import NO_CHANGE, correct_visit, record_visit
from schemas.codes import (
    CATEGORIES,
    DEVICE_STATUSES,
    DEVICE_TYPES,
    DISABILITY_TYPES,
    ENTITIES,
    ENTITY_LABELS,
    SEXES,
    VERIFICATION_OUTCOMES,
    VISIT_PURPOSES,
)
from schemas.review import review_state

__all__ = [
    "JsonObject",
    "beneficiary",
    "delete",
    "list_records",
    "request",
    "visit",
]

_SYNC_STATES = {"synced": "tersinkron", "pending": "menunggu"}
#: the TINJAUAN column: the office's review of a visit (schemas/review.py)
_REVIEW = "review"
_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "beneficiary": (("NAMA", "name"), ("NIK", "nik"), ("KELURAHAN", "kelurahan")),
    "visit": (
        ("TANGGAL", "visited_at"),
        ("TUJUAN", "purpose"),
        ("PENERIMA", "beneficiary_id"),
        ("TINJAUAN", _REVIEW),
    ),
    "device_request": (
        ("ALAT", "device_type"),
        ("STATUS", "status"),
        ("PENERIMA", "beneficiary_id"),
    ),
}


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


def _cleared(
    fields: dict[str, Any], clear: Sequence[str], clearable: Mapping[str, tuple[str, Any]]
) -> dict[str, Any]:
    try:
        return with_cleared(fields, clear, clearable)
    except ValueError as exc:
        raise click.UsageError(f"--{exc.args[0]} diisi dan dikosongkan sekaligus.") from None


def _choice(values: Sequence[str]) -> click.Choice:
    return click.Choice(values)


def _many(flag: str, dest: str, help: str, choices: Sequence[str] | None = None) -> Any:
    kind = _choice(choices) if choices else None
    return click.option(flag, dest, multiple=True, type=kind, help=f"{help}; boleh diulang.")


_BENEFICIARY_OPTIONS = (
    click.option("--name", help="Nama lengkap."),
    click.option("--sex", type=_choice(SEXES), help="Jenis kelamin seperti di KTP."),
    click.option("--kelurahan", help="Kode kelurahan/desa, mis. 31.71.01.1001."),
    click.option("--nik", help="NIK 16 digit."),
    click.option("--birth-date", metavar="YYYY-MM-DD", help="Tanggal lahir."),
    click.option("--address", help="Alamat."),
    _many("--category", "categories", "Kategori", CATEGORIES),
    _many("--disability", "disability_types", "Jenis disabilitas", DISABILITY_TYPES),
    _many("--program", "programs", "Program bantuan, mis. KLJ, KPDJ, KAJ"),
    click.option("--dtsen-id", help="Nomor DTSEN."),
    click.option("--phone", help="Nomor telepon."),
)


def _beneficiary_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_BENEFICIARY_OPTIONS):
        command = option(command)
    return command


# -- beneficiary -----------------------------------------------------------------------------


@click.group()
def beneficiary() -> None:
    """Penerima manfaat."""


@beneficiary.command("add")
@_beneficiary_options
@click.pass_context
def beneficiary_add(ctx: click.Context, **options: Any) -> None:
    """Catat penerima manfaat baru; mencetak id-nya."""
    record_id = open_device(ctx).store.add("beneficiary", given(**options))
    click.echo(f"Penerima manfaat dicatat: {record_id}")


@beneficiary.command("edit")
@click.argument("record_id", metavar="ID")
@_beneficiary_options
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice(sorted(BENEFICIARY_CLEARABLE)),
    help="Kosongkan isian ini; boleh diulang.",
)
@click.pass_context
def beneficiary_edit(
    ctx: click.Context, record_id: str, clear: tuple[str, ...], **options: Any
) -> None:
    """Ubah isian penerima manfaat ID; hanya isian yang diberikan yang berubah."""
    fields = _cleared(given(**options), clear, BENEFICIARY_CLEARABLE)
    if not fields:
        raise click.UsageError("Tidak ada isian yang diubah.")
    open_device(ctx).store.update("beneficiary", record_id, fields)
    click.echo(f"Penerima manfaat diperbarui: {record_id}")


# -- visit -----------------------------------------------------------------------------------


@click.group()
def visit() -> None:
    """Kunjungan."""


_VISIT_OPTIONS = (
    click.option("--purpose", type=_choice(VISIT_PURPOSES), help="Tujuan kunjungan."),
    click.option(
        "--visited-at",
        metavar="ISO8601",
        help="Waktu kunjungan dengan zona waktu, mis. 2026-11-23T09:30:00+07:00"
        " (visit add: bawaan sekarang).",
    ),
    click.option("--findings", help="Temuan."),
    click.option("--follow-up", help="Tindak lanjut."),
    click.option("--lat", type=float, help="Lintang."),
    click.option("--lon", type=float, help="Bujur."),
    click.option("--assessment", type=JsonObject(), help="Asesmen terstruktur (objek JSON)."),
    click.option(
        "--verification-outcome",
        type=_choice(VERIFICATION_OUTCOMES),
        help="Hasil verifikasi bulanan: layak, tidak_layak, meninggal, pindah.",
    ),
)


def _visit_options(command: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(_VISIT_OPTIONS):
        command = option(command)
    return command


@visit.command("add")
@click.argument("beneficiary_id")
@_visit_options
@click.pass_context
def visit_add(ctx: click.Context, beneficiary_id: str, **options: Any) -> None:
    """Catat kunjungan ke penerima manfaat BENEFICIARY_ID; mencetak id-nya."""
    record_id = record_visit(open_device(ctx).store, beneficiary_id, given(**options))
    click.echo(f"Kunjungan dicatat: {record_id}")


@visit.command("edit")
@click.argument("record_id", metavar="ID")
@_visit_options
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice(sorted(VISIT_CLEARABLE)),
    help="Kosongkan isian ini; boleh diulang.",
)
@click.pass_context
def visit_edit(ctx: click.Context, record_id: str, clear: tuple[str, ...], **options: Any) -> None:
    """Perbaiki kunjungan ID; hanya isian yang diberikan yang berubah. Kunjungan yang
    dikembalikan kantor kembali menunggu tinjauan setelah diperbaiki."""
    fields = _cleared(given(**options), clear, VISIT_CLEARABLE)
    if not fields:
        raise click.UsageError(NO_CHANGE)
    was_returned = correct_visit(open_device(ctx).store, record_id, fields)
    tail = "; kembali menunggu tinjauan kantor setelah sinkron" if was_returned else ""
    click.echo(f"Kunjungan diperbarui (menunggu dikirim){tail}: {record_id}")


# -- request ---------------------------------------------------------------------------------


@click.group()
def request() -> None:
    """Permohonan alat bantu (ABF)."""


@request.command("add")
@click.argument("beneficiary_id")
@click.option("--device-type", type=_choice(DEVICE_TYPES), help="Jenis alat bantu.")
@click.option("--reason", help="Alasan permohonan.")
@click.option("--assessment", type=JsonObject(), help="Asesmen terstruktur (objek JSON).")
@click.pass_context
def request_add(ctx: click.Context, beneficiary_id: str, **options: Any) -> None:
    """Ajukan alat bantu untuk penerima manfaat BENEFICIARY_ID; mencetak id-nya."""
    record_id = open_device(ctx).store.add(
        "device_request", request_fields(beneficiary_id, **options)
    )
    click.echo(f"Permohonan alat diajukan: {record_id}")


@request.command("status")
@click.argument("record_id", metavar="ID")
@click.argument("status", type=click.Choice(DEVICE_STATUSES))
@click.pass_context
def request_status(ctx: click.Context, record_id: str, status: str) -> None:
    """Ubah status permohonan ID (pendamping: diverifikasi atau dibatalkan)."""
    move_request(open_device(ctx).store, record_id, status)
    click.echo(f"Status permohonan {record_id}: {status} (menunggu dikirim)")


# -- any record ------------------------------------------------------------------------------


@click.command("list")
@click.argument("entity", type=click.Choice(ENTITIES), default="beneficiary")
@click.option(
    "--returned",
    is_flag=True,
    help="Hanya kunjungan yang dikembalikan kantor untuk diperbaiki, dengan alasannya.",
)
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def list_records(ctx: click.Context, entity: str, returned: bool, as_json: bool) -> None:
    """Daftar data di laptop ini (bawaan: beneficiary), termasuk yang belum terkirim."""
    if returned and entity != "visit":
        if entity != "beneficiary":  # the default: `list --returned` means visits
            raise click.UsageError("--returned hanya untuk kunjungan (visit).")
        entity = "visit"
    store = open_device(ctx).store
    records = store.returned() if returned else store.list(entity)
    if as_json:
        emit_json(records)
        return
    if not records:
        click.echo(
            "Tidak ada kunjungan yang dikembalikan."
            if returned
            else f"Belum ada {ENTITY_LABELS[entity]}."
        )
        return
    names = {b["id"]: b.get("name") for b in store.list("beneficiary")}
    columns = (("ID", "id"), *_COLUMNS[entity], ("SINKRON", "sync"))
    if returned:
        columns = (*columns, ("ALASAN", "reason"))
    table([c[0] for c in columns], [[_show(r, c[1], names) for c in columns] for r in records])
    if returned:
        click.echo("Perbaiki dengan `pendamping visit edit ID ...`; lalu `pendamping sync`.")


def _show(record: Mapping[str, Any], field: str, names: Mapping[str, Any]) -> Any:
    """One table cell: codes as they are, a beneficiary by name, times to the minute."""
    value: Any = record.get(field)
    if field == _REVIEW:
        return review_state(record)
    if field == "reason":
        review = record.get(_REVIEW)
        return (review.get("reason") if isinstance(review, dict) else None) or "-"
    if field == "sync":
        return _SYNC_STATES.get(value, value)
    if field == "beneficiary_id":
        return names.get(value) or value
    if field == "visited_at" and isinstance(value, str):
        return value[:16].replace("T", " ")
    return value


@click.command("delete")
@click.argument("entity", type=click.Choice(ENTITIES))
@click.argument("record_id", metavar="ID")
@click.pass_context
def delete(ctx: click.Context, entity: str, record_id: str) -> None:
    """Hapus data ID; di hub data itu disimpan sebagai nisan (tombstone), tidak hilang."""
    open_device(ctx).store.delete(entity, record_id)
    click.echo(f"Dihapus (menunggu dikirim): {record_id}")
