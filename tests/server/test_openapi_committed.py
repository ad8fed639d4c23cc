"""docs/openapi.json is what the hub serves at /openapi.json, so a review sees API changes."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from server.api.spec import OPENAPI_FILE, REGENERATE, render, served_spec

ROOT = Path(__file__).resolve().parents[2]


def test_the_committed_openapi_description_is_the_one_the_hub_serves(hub_app: Flask) -> None:
    committed = (ROOT / OPENAPI_FILE).read_text(encoding="utf-8")
    assert committed == render(served_spec(hub_app)), (
        f"{OPENAPI_FILE} is out of date; regenerate it with `{REGENERATE}`"
    )
