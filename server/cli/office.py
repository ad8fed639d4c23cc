"""`pendamping-hub review` and `pendamping-hub request`: the office's writes from a terminal.

    pendamping-hub review accept VISIT_ID... [--note TEKS] --as USER
    pendamping-hub review return VISIT_ID... --reason TEKS --as USER
    pendamping-hub request verify|approve ID --as USER
    pendamping-hub request reject ID --reason TEKS --as USER
    pendamping-hub request deliver ID --date YYYY-MM-DD --received-by NAMA --photo FILE --as USER
    pendamping-hub request history ID --as USER

The same services as the pages (:mod:`server.office.review`, :mod:`server.office.requests`),
acting as the office user named by `--as`: their role and wilayah apply, and the audit entry
names them (with ``cli:<os user>`` as the way it came).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import click

from server.audit import cli_actor
from server.cli.context import hub
from server.exceptions import Missing
from server.office.requests import Transition
from server.office.review import ReviewOutcome
from server.office.writes import MAX_BATCH
from server.storage import NotFound, User

__all__ = ["request", "review"]


def _user(ctx: click.Context, name: str) -> User:
    try:
        return hub(ctx).storage.get_user(name)
    except NotFound:
        raise Missing.on("as", f"Pengguna {name} tidak ada.") from None


def _as_option(command: Any) -> Any:
    return click.option(
        "--as",
        "as_user",
        required=True,
        metavar="USER",
        help="Pengguna kantor (supervisor atau admin) yang bertindak; tercatat di audit.",
    )(command)


def _json_option(command: Any) -> Any:
    return click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")(
        command
    )


def _ids(given: Iterable[str], source: IO[str] | None) -> list[str]:
    ids = [i.strip() for i in given if i.strip()]
    if source is not None:
        ids += [line.strip() for line in source if line.strip()]
    if not ids:
        raise click.UsageError("Sebutkan setidaknya satu VISIT_ID (atau --ids-from FILE).")
    return ids


# -- review ------------------------------------------------------------------------------


@click.group()
def review() -> None:
    """Tinjauan kunjungan: terima, atau kembalikan ke pendamping dengan alasan."""


def _review_options(command: Any) -> Any:
    command = click.argument("visit_ids", nargs=-1, metavar="VISIT_ID...")(command)
    command = click.option(
        "--ids-from",
        type=click.File("r", encoding="utf-8"),
        help=f"Baca id kunjungan dari berkas, satu per baris ('-': stdin); paling banyak "
        f"{MAX_BATCH} sekali jalan.",
    )(command)
    return _json_option(_as_option(command))


def _review_lines(done: ReviewOutcome, verb: str) -> list[str]:
    lines = []
    if done.written:
        span = f"seq {done.seqs[0]}–{done.seqs[1]}" if done.seqs else ""
        lines.append(f"{verb}: {len(done.written)} kunjungan ({span}).")
    if done.unchanged:
        lines.append(
            f"Sudah {done.state} sebelumnya, tidak diubah: {len(done.unchanged)} kunjungan."
        )
    return lines


def _review_json(done: ReviewOutcome) -> dict[str, Any]:
    return {
        "state": done.state,
        "written": done.written,
        "unchanged": done.unchanged,
        "seq": list(done.seqs) if done.seqs else None,
    }


def _emit(as_json: bool, payload: Any, lines: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            click.echo(line)


@review.command("accept")
@_review_options
@click.option("--note", help="Catatan (boleh kosong), paling banyak 1.000 karakter.")
@click.pass_context
def review_accept(
    ctx: click.Context,
    visit_ids: tuple[str, ...],
    ids_from: IO[str] | None,
    as_user: str,
    as_json: bool,
    note: str | None,
) -> None:
    """Terima kunjungan VISIT_ID... (diterima), semuanya dalam satu transaksi."""
    ids = _ids(visit_ids, ids_from)
    done = hub(ctx).reviews.accept(_user(ctx, as_user), ids, note, via=cli_actor())
    _emit(as_json, _review_json(done), _review_lines(done, "Diterima"))


@review.command("return")
@_review_options
@click.option(
    "--reason", required=True, help="Alasan dikembalikan (wajib), paling banyak 1.000 karakter."
)
@click.pass_context
def review_return(
    ctx: click.Context,
    visit_ids: tuple[str, ...],
    ids_from: IO[str] | None,
    as_user: str,
    as_json: bool,
    reason: str,
) -> None:
    """Kembalikan kunjungan VISIT_ID... ke pendamping untuk diperbaiki, dengan alasan."""
    ids = _ids(visit_ids, ids_from)
    done = hub(ctx).reviews.send_back(_user(ctx, as_user), ids, reason, via=cli_actor())
    _emit(as_json, _review_json(done), _review_lines(done, "Dikembalikan ke pendamping"))


# -- request -----------------------------------------------------------------------------


@click.group()
def request() -> None:
    """Permohonan alat bantu (ABF): langkah kantor dan riwayatnya."""


def _request_options(command: Any) -> Any:
    command = click.argument("request_id", metavar="ID")(command)
    return _json_option(_as_option(command))


def _transition_json(done: Transition) -> dict[str, Any]:
    return {
        "request_id": done.request_id,
        "requested": done.requested,
        "status": done.status,
        "outcome": done.outcome,
        "seq": done.seq,
    }


def _transition_lines(done: Transition) -> list[str]:
    if done.outcome == "conflict":
        return [
            f"Permohonan {done.request_id}: tetap {done.status}; {done.requested} bentrok dengan "
            "perubahan dari lapangan dan menunggu di antrean konflik "
            "(`pendamping-hub conflicts list`)."
        ]
    if done.status != done.requested:
        return [
            f"Permohonan {done.request_id}: {done.requested} dicatat, lalu {done.status} oleh "
            f"perubahan dari lapangan (seq {done.seq}); keduanya ada di riwayat."
        ]
    return [f"Permohonan {done.request_id}: {done.status} (seq {done.seq})."]


def _finish(as_json: bool, done: Transition) -> None:
    _emit(as_json, _transition_json(done), _transition_lines(done))


@request.command("verify")
@_request_options
@click.pass_context
def request_verify(ctx: click.Context, request_id: str, as_user: str, as_json: bool) -> None:
    """Verifikasi permohonan ID (diverifikasi)."""
    _finish(as_json, hub(ctx).requests.verify(_user(ctx, as_user), request_id, via=cli_actor()))


@request.command("approve")
@_request_options
@click.pass_context
def request_approve(ctx: click.Context, request_id: str, as_user: str, as_json: bool) -> None:
    """Setujui permohonan ID (disetujui)."""
    _finish(as_json, hub(ctx).requests.approve(_user(ctx, as_user), request_id, via=cli_actor()))


@request.command("reject")
@_request_options
@click.option(
    "--reason", required=True, help="Alasan penolakan (wajib), paling banyak 1.000 karakter."
)
@click.pass_context
def request_reject(
    ctx: click.Context, request_id: str, as_user: str, as_json: bool, reason: str
) -> None:
    """Tolak permohonan ID (ditolak) dengan alasan."""
    user = _user(ctx, as_user)
    _finish(as_json, hub(ctx).requests.reject(user, request_id, reason, via=cli_actor()))


@request.command("deliver")
@_request_options
@click.option(
    "--date", "handover_date", required=True, metavar="YYYY-MM-DD", help="Tanggal serah terima."
)
@click.option("--received-by", required=True, help="Nama penerima alat.")
@click.option(
    "--photo",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Foto serah terima (JPEG, PNG atau WebP).",
)
@click.pass_context
def request_deliver(
    ctx: click.Context,
    request_id: str,
    as_user: str,
    as_json: bool,
    handover_date: str,
    received_by: str,
    photo: Path,
) -> None:
    """Catat serah terima permohonan ID (diserahkan): tanggal, penerima, foto."""
    state, user = hub(ctx), _user(ctx, as_user)
    try:
        data = photo.read_bytes()
    except OSError as exc:
        raise click.BadParameter(
            f"tidak dapat dibaca: {exc.strerror}", param_hint="--photo"
        ) from None
    done = state.requests.deliver_with_photo(
        user,
        request_id,
        data,
        handover_date=handover_date,
        received_by=received_by,
        filename=photo.name,
        via=cli_actor(),
    )
    _finish(as_json, done)


@request.command("history")
@_request_options
@click.pass_context
def request_history(ctx: click.Context, request_id: str, as_user: str, as_json: bool) -> None:
    """Riwayat permohonan ID: status, siapa, kapan, dari perangkat mana."""
    found = hub(ctx).requests.history(_user(ctx, as_user), request_id)
    lines = [f"Permohonan {found['request_id']}: {found['status']}"]
    for step in found["status_history"]:
        lines.append(
            f"  {step.get('at')}  {step.get('from') or '-'} → {step.get('to')}"
            f"  oleh {step.get('by')} ({step.get('device')}), seq {step.get('seq')}"
        )
    lines.append(f"Perubahan diterima hub: {len(found['changes'])}")
    for change in found["changes"]:
        names = ", ".join(sorted(change["fields"])) or "(hapus/pulihkan)"
        lines.append(
            f"  seq {change['seq']}  {change['at']}  {change['by']} ({change['device']}): "
            f"{names} [{change['outcome']}]"
        )
    _emit(as_json, found, lines)
