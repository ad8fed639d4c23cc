"""`pendamping-hub audit verify | list`: check the hub's audit chain and read it.

`verify` exits 0 on a whole chain and 1 with one line per break, naming its position
(docs/audit.md says what it can and cannot see).
"""

from __future__ import annotations

import json

import click

from server.audit import AuditEntry, verify
from server.cli.context import hub

__all__ = ["audit"]


def _line(entry: AuditEntry) -> str:
    device = f" [{entry.device_id}]" if entry.device_id else ""
    return f"#{entry.position} {entry.at} {entry.actor}{device} {entry.action} {entry.detail}"


@click.group()
def audit() -> None:
    """Log audit: setiap penulisan di hub, berantai hash."""


@audit.command("verify")
@click.option("--json", "as_json", is_flag=True, help="Cetak hasil sebagai JSON.")
@click.pass_context
def verify_command(ctx: click.Context, as_json: bool) -> None:
    """Periksa rantai audit: entri yang diubah, dihapus, atau ditukar urutannya."""
    entries = list(hub(ctx).storage.iter_audit())
    problems = verify(entries)
    head = entries[-1] if entries else None
    if as_json:
        payload = {
            "intact": not problems,
            "entries": len(entries),
            "head": {"position": head.position, "hash": head.hash} if head else None,
            "problems": [p.as_dict() for p in problems],
        }
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
    elif not problems:
        click.echo(f"Rantai audit utuh: {len(entries)} entri.")
        if head is not None:
            click.echo(f"Entri terakhir: #{head.position}, hash {head.hash}")
    else:
        for problem in problems:
            click.echo(f"Posisi {problem.position}: {problem.message}")
    if problems:
        raise click.ClickException(
            f"Rantai audit rusak: {len(problems)} masalah dari {len(entries)} entri."
        )


@audit.command("list")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="Jumlah entri terbaru yang ditampilkan.",
)
@click.option("--json", "as_json", is_flag=True, help="Cetak sebagai JSON.")
@click.pass_context
def list_command(ctx: click.Context, limit: int, as_json: bool) -> None:
    """Entri audit terbaru, yang terlama dahulu."""
    entries = list(hub(ctx).storage.iter_audit(newest=limit))
    if as_json:
        click.echo(json.dumps([e.as_dict() for e in entries], ensure_ascii=False, indent=2))
    elif not entries:
        click.echo("Log audit masih kosong.")
    else:
        for entry in entries:
            click.echo(_line(entry))
