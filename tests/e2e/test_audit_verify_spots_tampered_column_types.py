"""`audit verify` names an entry whose column type was tampered with."""

# ruff: noqa: F811  (fixtures imported from other test modules are parameters here)

from __future__ import annotations

import pytest

# `five` asks for `siti` and `sync`, which pytest finds here, by name
from tests.server.test_audit import five, hub_cli, siti, sync, tamper  # noqa: F401  (fixtures)

# -- the audit chain -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit SET detail = CAST(detail AS BLOB) WHERE position = 3",
        "UPDATE audit SET actor = CAST(X'ff' AS TEXT) WHERE position = 3",
    ],
)
def test_audit_verify_names_an_entry_whose_column_type_was_tampered(
    five, hub_app, hub_cli, statement
):
    tamper(hub_app, statement)
    code, out, _err = hub_cli("audit", "verify")
    assert code == 1
    assert "Posisi 3" in out
