"""Resolutions cannot reach into another district, and a conflict does not stay behind
in the queue of a district its record moved away from."""

# ruff: noqa: F811  (fixtures imported from other test modules are parameters here)

from __future__ import annotations

from schemas.hlc import wall_ms
from server.scope import EVERYWHERE, Scope
from tests.conftest import beneficiary
from tests.web.conftest import add_web_user, csrf_of, raise_conflict, web  # noqa: F401  (fixtures)


def _resolve(web, conflict_id: int, **fields: str):
    token = csrf_of(web.client.get("/web/conflicts"))
    data = {f"c{conflict_id}-csrf_token": token}
    data.update({f"c{conflict_id}-{k}": v for k, v in fields.items()})
    return web.client.post(f"/web/conflicts/{conflict_id}/resolve", data=data)


# -- scope: a supervisor's resolve form acting on another district ------------------------


def test_web_merge_cannot_tombstone_another_districts_beneficiary(
    web, add_web_user, laptops, hub_app, hub_storage
):
    add_web_user()  # bu-kasi, supervisor of 31.71
    far = laptops.enroll("ani", wilayah=("31.72.01",))
    near = laptops.enroll("siti", wilayah=("31.71.01",))
    nik = "3172014508450002"
    theirs = far.store.add(
        "beneficiary", beneficiary(kelurahan="31.72.01.1001", nik=nik, name="Ibu Ani")
    )
    far.sync()
    mine = near.store.add("beneficiary", beneficiary(kelurahan="31.71.01.1001", nik=nik))
    near.sync()
    [conflict] = hub_app.extensions["pendamping"].conflicts.list(Scope(("31.71",)))
    assert conflict["kind"] == "duplicate_person" and conflict["other_record_id"] == theirs
    assert web.login().status_code == 303
    _resolve(web, conflict["conflict_id"], choice="merge", survivor=mine)
    # the 31.72 district's record must not be deleted by a 31.71 supervisor
    assert not hub_storage.get_record(theirs).deleted


def test_web_resolve_value_cannot_move_a_record_out_of_the_supervisors_wilayah(
    web, add_web_user, laptops, hub_app, hub_storage
):
    add_web_user()
    a = laptops.enroll("siti", wilayah=("31.71",))
    b = laptops.enroll("budi", wilayah=("31.71",))
    bid = a.store.add("beneficiary", beneficiary(kelurahan="31.71.01.1001"))
    for laptop in (a, b, a, b):
        laptop.sync()
    a.store.update("beneficiary", bid, {"kelurahan": "31.71.02.1003"})
    b.store._wall = lambda: wall_ms() + 60_000
    b.store.update("beneficiary", bid, {"kelurahan": "31.71.03.1001"})
    for laptop in (a, b, a):
        laptop.sync()
    [conflict] = hub_app.extensions["pendamping"].conflicts.list(Scope(("31.71",)))
    assert conflict["field"] == "kelurahan"
    assert web.login().status_code == 303
    _resolve(web, conflict["conflict_id"], choice="value", value="31.72.01.1001")
    assert hub_storage.get_record(bid).kelurahan.startswith("31.71.")


def test_a_conflict_on_a_record_moved_away_leaves_the_old_districts_queue(
    web, add_web_user, laptops, hub_storage, raise_conflict
):
    add_web_user()
    raised = raise_conflict("31.71")
    boss = laptops.enroll("kadis", role="admin", wilayah=())
    boss.sync()
    boss.store.update("beneficiary", raised.record_id, {"kelurahan": "31.72.01.1001"})
    boss.sync()
    assert hub_storage.get_record(raised.record_id).kelurahan == "31.72.01.1001"
    assert web.login().status_code == 303
    before = hub_storage.get_record(raised.record_id).data["address"]
    page = web.client.get("/web/conflicts").get_data(as_text=True)
    answer = _resolve(web, raised.conflict_id, choice="value", value="Jl. Baru 9")
    assert raised.record_id not in page
    assert answer.status_code == 404
    assert hub_storage.get_record(raised.record_id).data["address"] == before


def test_a_laptop_does_not_pull_settlements_of_a_record_that_left_its_scope(
    laptops, hub_app, hub_storage, raise_conflict
):
    raised = raise_conflict("31.71")
    first, _second = raised.laptops
    boss = laptops.enroll("kadis", role="admin", wilayah=())
    boss.sync()
    boss.store.update("beneficiary", raised.record_id, {"kelurahan": "31.72.01.1001"})
    boss.sync()
    first.sync()  # the exit: its copy is dropped
    service = hub_app.extensions["pendamping"].conflicts
    service.resolve(raised.conflict_id, "kadis", EVERYWHERE, "value", "Jl. Rahasia 7")
    # any later write in 31.71.01 moves the laptop's pull span past the settlement
    _second.store.add("beneficiary", beneficiary(kelurahan="31.71.01.1001", nik="3171014508450099"))
    _second.sync()
    first.sync()
    assert "Jl. Rahasia 7" not in repr(first.store.conflicts(open_only=False))
