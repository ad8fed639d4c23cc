"""A revoked laptop loses nothing: it stops syncing, keeps its records, and carries them to
the office in a bundle that only an admin's explicit import lets in."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

from client_sync.bundle import export_bundle
from client_sync.errors import Unauthorized
from server.bundle import BundleRefused, import_bundle
from server.timeutil import utc_iso
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.both_backends


def test_a_revoked_laptops_unsent_work_reaches_the_hub_only_by_an_admins_import(
    laptops, hub_app: Flask, hub_storage, tmp_path: Path
):
    siti, dewi = laptops.enroll("siti"), laptops.enroll("dewi")
    bid = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    vid = siti.store.add("visit", visit(bid, findings="Kursi roda rusak."))
    hub_storage.revoke_device(siti.store.identity.device_id, utc_iso())

    with pytest.raises(Unauthorized) as refused:
        siti.sync()

    assert refused.value.slug == "device_revoked"
    assert siti.store.pending_count() == 1  # nothing was thrown away
    assert siti.store.get("visit", vid)["findings"] == "Kursi roda rusak."

    stick = tmp_path / "stick.zip"
    assert export_bundle(siti.store, siti.home, stick).changes == 1
    state = hub_app.extensions["pendamping"]
    with pytest.raises(BundleRefused) as not_without_admin:
        import_bundle(state, stick)
    assert not_without_admin.value.slug == "device_revoked"
    assert hub_storage.stats()["records"]["visit"] == 0

    summary = import_bundle(state, stick, allow_revoked=True)

    assert summary.changes == 1
    dewi.sync()
    (seen,) = dewi.store.list("visit")
    assert (seen["id"], seen["findings"]) == (vid, "Kursi roda rusak.")
