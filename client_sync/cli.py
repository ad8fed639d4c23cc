"""`pendamping`: the laptop's command line, a thin shell over :class:`client_sync.FieldDevice`.

    pendamping [--home DIR] enroll | beneficiary add/edit | visit add | request add
                            | list | sync | status

Every command but `enroll` and `sync` works with no network at all. All rules live in the
store and the hub; this module only turns options into calls and results into lines. Every
failure is one plain line per problem on stderr and an exit code from the table in
`docs/cli.md`, never a stack trace.
"""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from client_sync.bundle import exported_pending
from client_sync.cli_support import (
    EXIT_ERROR,
    EXIT_HUB,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAUTHORIZED,
    Failure,
    JsonObject,
    emit_json,
    field_lines,
    new_passphrase,
    open_device,
    table,
    transport_factory,
)
from client_sync.daemon_lines import REVOKED, revoked_text
from client_sync.device import PASSPHRASE_ENV, FieldDevice, default_home, env_passphrase
from client_sync.errors import ClientError, InvalidRecord, SyncError, Unauthorized
from client_sync.photos import list_photos
from schemas.codes import (
    CATEGORIES,
    DEVICE_TYPES,
    DISABILITY_TYPES,
    ENTITIES,
    SEXES,
    VISIT_PURPOSES,
)

__all__ = ["EXIT_ERROR", "EXIT_HUB", "EXIT_INVALID", "EXIT_OK", "EXIT_UNAUTHORIZED", "cli", "main"]

_LABELS = {
    "beneficiary": "penerima manfaat",
    "visit": "kunjungan",
    "device_request": "permohonan alat",
}
_SYNC_STATES = {"synced": "tersinkron", "pending": "menunggu"}
_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "beneficiary": (("NAMA", "name"), ("NIK", "nik"), ("KELURAHAN", "kelurahan")),
    "visit": (("TANGGAL", "visited_at"), ("TUJUAN", "purpose"), ("PENERIMA", "beneficiary_id")),
    "device_request": (
        ("ALAT", "device_type"),
        ("STATUS", "status"),
        ("PENERIMA", "beneficiary_id"),
    ),
}
#: `beneficiary edit --clear` names: option name -> (field, empty value).
_CLEARABLE: dict[str, tuple[str, Any]] = {
    "nik": ("nik", None),
    "birth-date": ("birth_date", None),
    "address": ("address", None),
    "category": ("categories", []),
    "disability": ("disability_types", []),
    "program": ("programs", []),
    "dtsen-id": ("dtsen_id", None),
    "phone": ("phone", None),
}


def _given(**options: Any) -> dict[str, Any]:
    """The options the user actually gave, repeatable ones as lists."""
    return {
        k: list(v) if isinstance(v, tuple) else v
        for k, v in options.items()
        if v is not None and v != ()
    }


def _now_local() -> str:
    return dt.datetime.now().astimezone().replace(microsecond=0).isoformat()


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


# -- commands --------------------------------------------------------------------------------


@click.group()
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder data laptop. Bawaan: PENDAMPING_HOME, atau folder data pengguna.",
)
@click.pass_context
def cli(ctx: click.Context, home: Path | None) -> None:
    """Catatan lapangan pendamping: bekerja tanpa sinyal, sinkron ke hub saat ada jaringan."""
    ctx.ensure_object(dict)
    ctx.obj["home"] = home if home is not None else default_home()


@cli.command()
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

    Menanyakan kata sandi penyimpanan (dua kali), kecuali PENDAMPING_PASSPHRASE disetel."""
    home = ctx.obj["home"]
    if no_passphrase and env_passphrase() is not None:
        raise click.UsageError(
            f"--no-passphrase bertentangan dengan {PASSPHRASE_ENV} yang disetel."
        )
    passphrase = "" if no_passphrase else new_passphrase(PASSPHRASE_ENV)
    factory = transport_factory()
    try:
        dev = FieldDevice.enroll(home, hub_url, code, device_name, factory, passphrase)
    except SyncError as exc:
        raise Failure(f"Pendaftaran gagal: {_sentence(exc)}", EXIT_HUB) from exc
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


@cli.group()
def beneficiary() -> None:
    """Penerima manfaat."""


@beneficiary.command("add")
@_beneficiary_options
@click.pass_context
def beneficiary_add(ctx: click.Context, **options: Any) -> None:
    """Catat penerima manfaat baru; mencetak id-nya."""
    record_id = open_device(ctx).store.add("beneficiary", _given(**options))
    click.echo(f"Penerima manfaat dicatat: {record_id}")


@beneficiary.command("edit")
@click.argument("record_id", metavar="ID")
@_beneficiary_options
@click.option(
    "--clear",
    multiple=True,
    type=click.Choice(sorted(_CLEARABLE)),
    help="Kosongkan isian ini; boleh diulang.",
)
@click.pass_context
def beneficiary_edit(
    ctx: click.Context, record_id: str, clear: tuple[str, ...], **options: Any
) -> None:
    """Ubah isian penerima manfaat ID; hanya isian yang diberikan yang berubah."""
    fields = _given(**options)
    for name in clear:
        field, empty = _CLEARABLE[name]
        if field in fields:
            raise click.UsageError(f"--{name} diisi dan dikosongkan sekaligus.")
        fields[field] = empty
    if not fields:
        raise click.UsageError("Tidak ada isian yang diubah.")
    open_device(ctx).store.update("beneficiary", record_id, fields)
    click.echo(f"Penerima manfaat diperbarui: {record_id}")


@cli.group()
def visit() -> None:
    """Kunjungan."""


@visit.command("add")
@click.argument("beneficiary_id")
@click.option("--purpose", type=_choice(VISIT_PURPOSES), help="Tujuan kunjungan.")
@click.option(
    "--visited-at",
    metavar="ISO8601",
    help="Waktu kunjungan dengan zona waktu, mis. 2026-11-23T09:30:00+07:00 (bawaan: sekarang).",
)
@click.option("--findings", help="Temuan.")
@click.option("--follow-up", help="Tindak lanjut.")
@click.option("--lat", type=float, help="Lintang.")
@click.option("--lon", type=float, help="Bujur.")
@click.option("--assessment", type=JsonObject(), help="Asesmen terstruktur (objek JSON).")
@click.pass_context
def visit_add(ctx: click.Context, beneficiary_id: str, **options: Any) -> None:
    """Catat kunjungan ke penerima manfaat BENEFICIARY_ID; mencetak id-nya."""
    options["visited_at"] = options["visited_at"] or _now_local()
    record_id = open_device(ctx).store.add(
        "visit", _given(beneficiary_id=beneficiary_id, **options)
    )
    click.echo(f"Kunjungan dicatat: {record_id}")


@cli.group()
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
        "device_request", _given(beneficiary_id=beneficiary_id, **options)
    )
    click.echo(f"Permohonan alat diajukan: {record_id}")


@cli.command("list")
@click.argument("entity", type=click.Choice(ENTITIES), default="beneficiary")
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def list_records(ctx: click.Context, entity: str, as_json: bool) -> None:
    """Daftar data di laptop ini (bawaan: beneficiary), termasuk yang belum terkirim."""
    store = open_device(ctx).store
    records = store.list(entity)
    if as_json:
        emit_json(records)
        return
    if not records:
        click.echo(f"Belum ada {_LABELS[entity]}.")
        return
    names = {b["id"]: b.get("name") for b in store.list("beneficiary")}
    columns = (("ID", "id"), *_COLUMNS[entity], ("SINKRON", "sync"))
    table([c[0] for c in columns], [[_show(r, c[1], names) for c in columns] for r in records])


def _show(record: Mapping[str, Any], field: str, names: Mapping[str, Any]) -> Any:
    """One table cell: codes as they are, a beneficiary by name, times to the minute."""
    value = record.get(field)
    if field == "sync":
        return _SYNC_STATES.get(value, value)
    if field == "beneficiary_id":
        return names.get(value) or value
    if field == "visited_at" and isinstance(value, str):
        return value[:16].replace("T", " ")
    return value


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.pass_context
def sync(ctx: click.Context, as_json: bool) -> None:
    """Kirim perubahan ke hub lalu tarik data terbaru wilayah Anda."""
    from client_sync.progress import TerminalProgress

    dev = open_device(ctx, network=True)
    # One updating line on stderr, only on a terminal and never with --json.
    progress = TerminalProgress(None if as_json else sys.stderr)
    try:
        result = dev.sync(progress=progress if progress.active else None)
    except Unauthorized as exc:
        if exc.slug == REVOKED:
            raise Failure(revoked_text(dev.store.pending_count()), EXIT_UNAUTHORIZED) from exc
        raise Failure(
            f"Sinkron ditolak: hub tidak lagi menerima laptop ini ({_sentence(exc, '')}). "
            f"Hubungi kantor dinas; {dev.store.pending_count()} perubahan tetap tersimpan "
            "di laptop.",
            EXIT_UNAUTHORIZED,
        ) from exc
    except SyncError as exc:
        raise Failure(
            f"Sinkron gagal: {_sentence(exc)} Semua data tetap tersimpan di laptop; "
            f"{dev.store.pending_count()} perubahan menunggu.",
            EXIT_HUB,
        ) from exc
    finally:
        progress.close()
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(
        f"Sinkron selesai: {result.pushed} terkirim, {result.pulled} diterima, "
        f"{result.conflicts} konflik, {result.rejected} ditolak{result.extras_text()}"
    )
    refused = {r["change_id"]: r for r in dev.store.rejected()}
    for item in result.errors:
        click.echo(_rejected_lines(refused.get(item["change_id"], item), item["errors"]))


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def status(ctx: click.Context, as_json: bool) -> None:
    """Keadaan laptop: perubahan yang menunggu, sinkron terakhir, perubahan yang ditolak."""
    store = open_device(ctx).store
    info = store.status()
    info["in_bundle"] = exported_pending(store)
    photos = [p["state"] for p in list_photos(store)]
    info["photos_waiting"] = photos.count("pending")
    info["photos_refused"] = photos.count("refused")
    refused = store.rejected()
    if as_json:
        emit_json({**info, "rejected_changes": refused})
        return
    outcome = {"ok": "berhasil", "failed": "gagal"}.get(info["last_sync_outcome"] or "", "")
    click.echo(f"Laptop: {info['device_id']} ({info['user']}), hub {info['hub_url']}")
    click.echo(f"Menunggu dikirim: {info['pending']} perubahan")
    click.echo(f"Terkirim, menunggu ditarik kembali: {info['awaiting_pull']} perubahan")
    click.echo(f"Ditolak hub: {info['rejected']} perubahan")
    if info["in_bundle"]:
        click.echo(f"Sudah di bundle USB, menunggu konfirmasi hub: {info['in_bundle']} perubahan")
    if info["photos_waiting"] or info["photos_refused"]:
        click.echo(
            f"Foto menunggu dikirim: {info['photos_waiting']}; ditolak hub: "
            f"{info['photos_refused']} (lihat `pendamping photo list`)"
        )
    if info["last_sync_at"]:
        click.echo(
            f"Sinkron terakhir: {info['last_sync_at']} ({outcome}: {info['last_sync_message']})"
        )
        click.echo(f"Sinkron berhasil terakhir: {info['last_success_at'] or 'belum pernah'}")
    else:
        click.echo("Sinkron terakhir: belum pernah")
    if info["conflicts"]:
        click.echo(
            f"Konflik terbuka pada perubahan Anda: {info['conflicts']} "
            "(lihat `pendamping conflicts`)"
        )
    for change in refused:
        click.echo(_rejected_lines(change, change["errors"]))


def _rejected_lines(change: Mapping[str, Any], errors: Mapping[str, Any]) -> str:
    what = f"{_LABELS.get(change.get('entity', ''), 'perubahan')} {change.get('record_id', '')}"
    head = f"Ditolak hub ({what.strip()})"
    return "\n".join(f"{head}: {line}" for line in field_lines(errors)) or head


def _sentence(exc: BaseException, end: str = ".") -> str:
    text = str(exc).strip().rstrip(".")
    return text + end


# -- entry point -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code instead of raising."""
    try:
        rv = cli.main(args=argv, prog_name="pendamping", standalone_mode=False)
    except click.exceptions.Abort:
        return _fail("Dibatalkan.", EXIT_ERROR)
    except click.UsageError as exc:
        hint = f" (lihat `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        click.echo(f"Galat: {exc.format_message()}{hint}", err=True)
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except Failure as exc:
        return _fail(exc.lines, exc.exit_code)
    except InvalidRecord as exc:
        return _fail(field_lines(exc.errors), EXIT_INVALID)
    except Unauthorized as exc:
        return _fail(f"Hub menolak laptop ini: {_sentence(exc)}", EXIT_UNAUTHORIZED)
    except SyncError as exc:
        return _fail(f"Hub tidak dapat dipakai: {_sentence(exc)}", EXIT_HUB)
    except ClientError as exc:
        return _fail(str(exc), EXIT_ERROR)
    except OSError as exc:
        return _fail(f"Berkas atau folder tidak dapat dipakai: {exc}", EXIT_ERROR)
    except Exception as exc:  # a bug: still one line, never a stack trace
        return _fail(f"Galat tak terduga ({type(exc).__name__}): {exc}", EXIT_ERROR)
    return rv if isinstance(rv, int) else EXIT_OK


def _fail(lines: str | Sequence[str], code: int) -> int:
    for line in [lines] if isinstance(lines, str) else lines:
        click.echo(line, err=True)
    return code


from client_sync.cli_bundle import register as register_bundle  # noqa: E402
from client_sync.cli_daemon import register as register_daemon  # noqa: E402
from client_sync.cli_more import register  # noqa: E402 - the other commands join the group
from client_sync.cli_passphrase import register as register_passphrase  # noqa: E402
from client_sync.cli_photo import register as register_photo  # noqa: E402
from client_sync.cli_wipe import register as register_wipe  # noqa: E402

register(cli, request)
register_photo(cli)
register_bundle(cli)
register_daemon(cli)
register_passphrase(cli)
register_wipe(cli)

if __name__ == "__main__":
    sys.exit(main())
