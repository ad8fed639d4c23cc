"""The hub app behind a `pendamping-hub` command, built once per run from `--data`."""

from __future__ import annotations

import click
from flask import Flask

from server.app import create_app

__all__ = ["hub_app"]


def hub_app(ctx: click.Context) -> Flask:
    """The app for this command line's data folder (created, and migrated, on first use)."""
    obj = ctx.find_root().obj
    if obj.get("app") is None:
        obj["app"] = create_app({"DATA_DIR": obj["data"]})
    return obj["app"]
