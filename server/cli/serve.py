"""`pendamping-hub init | serve`: prepare the data folder, and run the hub."""

from __future__ import annotations

import click
import waitress

from server.cli.context import data_dir, hub, hub_app

__all__ = ["init", "serve"]


@click.command()
@click.pass_context
def init(ctx: click.Context) -> None:
    """Siapkan folder data dan basis data hub (aman diulang)."""
    hub(ctx)
    click.echo(f"Hub siap di {data_dir(ctx)}")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--threads", default=4, show_default=True, type=int)
@click.pass_context
def serve(ctx: click.Context, host: str, port: int, threads: int) -> None:
    """Jalankan hub dengan server WSGI waitress."""
    app = hub_app(ctx)
    click.echo(f"Hub berjalan di http://{host}:{port} (data: {data_dir(ctx)})")
    waitress.serve(
        app,
        host=host,
        port=port,
        threads=threads,
        ident="pendamping-hub",
        clear_untrusted_proxy_headers=True,
    )
