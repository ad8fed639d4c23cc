"""`pendamping-hub verification show | close`: the monthly verification from a terminal.

    pendamping-hub verification show --program KLJ --month 2026-01 [--wilayah KODE]
                                     [--as USER] [--json]
    pendamping-hub verification close --program KLJ --month 2026-01 [--wilayah KODE]
                                      --as USER [--json]

The same service as the page (:mod:`server.office.verification`). `close` acts as the office
user named by `--as`: their role and wilayah apply and the audit entry names them. `show`
without `--as` sees every wilayah, as `export` does (the command line is the office's admin
tool); with it, what that user sees. The month's spreadsheet is `export verification`.
"""

from __future__ import annotations

from typing import Any

import click

from server.audit import cli_actor
from server.cli.context import emit, hub, hub_app, printable
from server.exceptions import Invalid, Missing
from server.office.queries import OfficeQueries
from server.office.verification import (
    AMENDMENTS,
    STATE_LABELS,
    MonthList,
    MonthlyVerification,
    wilayah_label,
)
from server.scope import EVERYWHERE, Scope
from server.storage import NotFound, User
from server.storage.verification import MonthClose

__all__ = ["verification"]

_OPTION_OF = {"program": "--program", "month": "--month", "wilayah": "--wilayah", "as": "--as"}


def _service(ctx: click.Context) -> MonthlyVerification:
    return MonthlyVerification(OfficeQueries.from_config(hub(ctx).storage, hub_app(ctx).config))


def _user(ctx: click.Context, name: str) -> User:
    try:
        return hub(ctx).storage.get_user(name)
    except NotFound:
        raise Missing.on("as", f"Pengguna {name} tidak ada.") from None


def _bad_value(exc: Invalid | Missing) -> click.BadParameter:
    field = next(iter(exc.errors or {}), "")
    return click.BadParameter(exc.message, param_hint=_OPTION_OF.get(field))


def _options(command: Any) -> Any:
    for option in reversed(
        (
            click.option("--program", required=True, help="Program, mis. KLJ."),
            click.option("--month", required=True, help="Bulan, mis. 2026-01 (zona waktu kantor)."),
            click.option("--wilayah", help="Hanya wilayah ini, mis. 31.71.01."),
            click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON."),
        )
    ):
        command = option(command)
    return command


@click.group()
def verification() -> None:
    """Verifikasi bulanan: status tiap penerima manfaat per program dan bulan; tutup bulan."""


def _close_json(close: MonthClose, service: MonthlyVerification) -> dict[str, Any]:
    return {
        "close_id": close.close_id,
        "program": close.program,
        "month": close.month,
        "wilayah": list(close.wilayah) if close.wilayah is not None else None,
        "closed_by": close.closed_by,
        "closed_at": close.closed_at,
        "counts": close.counts,
    }


def _close_line(close: MonthClose, service: MonthlyVerification) -> str:
    return (
        f"wilayah {wilayah_label(close.wilayah)} ditutup oleh {printable(close.closed_by)}"
        f" pada {service.local_time(close.closed_at)}"
    )


def _counts_line(month: MonthList) -> str:
    parts = [f"{STATE_LABELS[state]} {n}" for state, n in month.counts.items()]
    return " · ".join(parts) + f" · jumlah {month.total}"


@verification.command("show")
@_options
@click.option("--as", "as_user", metavar="USER", help="Lihat sebagai pengguna kantor ini.")
@click.pass_context
def show(
    ctx: click.Context,
    program: str,
    month: str,
    wilayah: str | None,
    as_json: bool,
    as_user: str | None,
) -> None:
    """Daftar bulan ini: status tiap penerima manfaat, dan perubahan setelah ditutup."""
    service = _service(ctx)
    try:
        scope = Scope.of(_user(ctx, as_user)) if as_user else EVERYWHERE
        found = service.month_list(scope, program, month, wilayah)
    except (Invalid, Missing) as exc:
        raise _bad_value(exc) from None
    rows = service.with_names(found.rows)
    status = "ditutup" if found.closed else ("sebagian ditutup" if found.closes else "terbuka")
    payload = {
        "program": found.program,
        "month": found.period.label,
        "wilayah": list(found.wilayah) if found.wilayah is not None else None,
        "status": status,
        "closes": [_close_json(c, service) for c in found.closes],
        "counts": found.counts,
        "amendments": found.amended,
        "rows": [
            {
                "beneficiary_id": r.shown.beneficiary_id,
                "kelurahan": r.shown.kelurahan,
                "nik": r.shown.nik,
                "name": r.shown.name,
                "state": r.shown.state,
                "visit_id": r.shown.visit_id,
                "visited_utc": r.shown.visited_utc,
                "pendamping": r.shown.pendamping,
                "frozen": r.frozen,
                "amendment": r.amendment,
                "live_state": r.live.state if r.live else None,
            }
            for r in rows
        ],
    }
    lines = [
        f"Verifikasi {found.program} {found.period.label}, wilayah"
        f" {wilayah_label(found.wilayah)}: {status}.",
        *(f"  {_close_line(c, service)}" for c in found.closes),
        _counts_line(found),
    ]
    if any(found.amended.values()):
        lines.append(
            "Perubahan setelah ditutup: "
            + ", ".join(f"{AMENDMENTS[k].lower()} {n}" for k, n in found.amended.items() if n)
        )
    for r in rows:
        s = r.shown
        when = service.local_time(s.visited_utc) if s.visited_utc else "-"
        note = ""
        if r.amendment:
            now = f" (kini: {STATE_LABELS[r.live.state]})" if r.live else ""
            note = f"  [{AMENDMENTS[r.amendment]}{now}]"
        lines.append(
            f"{s.kelurahan:<15} {s.nik or '-':<16}  {printable(s.name or '')[:28]:<28}"
            f" {STATE_LABELS.get(s.state, s.state):<18} {when:<20}"
            f" {printable(s.pendamping or '-')}{note}"
        )
    emit(as_json, payload, lines)


@verification.command("close")
@_options
@click.option(
    "--as",
    "as_user",
    required=True,
    metavar="USER",
    help="Pengguna kantor (supervisor atau admin) yang menutup; tercatat di audit.",
)
@click.pass_context
def close(
    ctx: click.Context,
    program: str,
    month: str,
    wilayah: str | None,
    as_json: bool,
    as_user: str,
) -> None:
    """Tutup bulan: daftar bulan ini dibekukan; perubahan sesudahnya menjadi amandemen."""
    service = _service(ctx)
    try:
        done = service.close(_user(ctx, as_user), program, month, wilayah, via=cli_actor())
    except (Invalid, Missing) as exc:
        raise _bad_value(exc) from None
    counts = ", ".join(f"{STATE_LABELS[k].lower()} {n}" for k, n in done.counts.items())
    emit(
        as_json,
        _close_json(done, service),
        [
            f"Bulan {done.month} program {done.program} ditutup: {_close_line(done, service)}.",
            f"{sum(done.counts.values())} penerima manfaat dibekukan ({counts}).",
        ],
    )
