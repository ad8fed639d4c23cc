"""The conflict policy end to end: laptops offline for a week, the office's review queue."""

from __future__ import annotations

import json

import pytest

from client_sync.errors import InvalidRecord
from schemas.hlc import wall_ms
from server.cli import main as hub_main
from server.exceptions import Invalid
from server.scope import EVERYWHERE
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.both_backends

YEAR_2031_MS = 1_930_000_000_000


def both_sync(*laptops) -> None:
    for laptop in laptops:
        laptop.sync()
    for laptop in laptops:
        laptop.sync()


@pytest.fixture
def office(hub_app):
    return hub_app.extensions["pendamping"].conflicts


def test_the_same_field_edited_offline_on_two_laptops_keeps_both_values(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)

    siti.store.update("beneficiary", bid, {"phone": "0811-1111-1111"})
    budi.store._wall = lambda: wall_ms() + 60_000  # budi edits a minute later: his value wins
    budi.store.update("beneficiary", bid, {"phone": "0822-2222-2222"})
    siti.sync()
    result = budi.sync()
    siti.sync()

    assert result.conflicts == 1
    assert siti.store.get("beneficiary", bid)["phone"] == "0822-2222-2222"
    [queued] = office.list(EVERYWHERE)
    assert (queued["kind"], queued["field"]) == ("field", "phone")
    assert (queued["kept"]["value"], queued["kept"]["author"]) == ("0822-2222-2222", "budi")
    assert (queued["lost"]["value"], queued["lost"]["author"]) == ("0811-1111-1111", "siti")
    assert siti.store.conflicts()[0]["conflict_id"] == queued["conflict_id"]


def test_a_supervisor_reverses_the_decision_and_every_laptop_learns_it(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)
    siti.store.update("beneficiary", bid, {"address": "Jl. Melati 3"})
    budi.store._wall = lambda: wall_ms() + 60_000  # budi's later edit wins at first
    budi.store.update("beneficiary", bid, {"address": "Jl. Mawar 1"})
    both_sync(siti, budi)
    [queued] = office.list(EVERYWHERE)

    settled = office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "take_lost")
    both_sync(siti, budi)

    assert settled["resolved_by"] == "bu-kasi"
    assert office.list(EVERYWHERE) == []
    for laptop in (siti, budi):
        assert laptop.store.get("beneficiary", bid)["address"] == "Jl. Melati 3"
    assert siti.store.conflicts() == []  # settled, so no longer open on the laptop
    assert siti.store.conflicts(open_only=False)[0]["resolution"]["choice"] == "take_lost"


def test_edits_of_different_fields_merge_without_a_conflict(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)

    siti.store.update("beneficiary", bid, {"phone": "0811-1111-1111"})
    budi.store.update("beneficiary", bid, {"address": "Jl. Mawar 1"})
    both_sync(siti, budi)

    for laptop in (siti, budi):
        record = laptop.store.get("beneficiary", bid)
        assert (record["phone"], record["address"]) == ("0811-1111-1111", "Jl. Mawar 1")
    assert office.list(EVERYWHERE) == []


def test_a_week_of_offline_edits_from_one_laptop_is_never_a_conflict(laptops, office):
    siti = laptops.enroll("siti")
    bid = siti.store.add("beneficiary", beneficiary())
    for n in range(7):
        siti.store.update("beneficiary", bid, {"address": f"Jl. Hari ke-{n}"})
    siti.sync()
    siti.store.update("beneficiary", bid, {"address": "Jl. Akhir"})
    siti.sync()

    assert siti.store.get("beneficiary", bid)["address"] == "Jl. Akhir"
    assert office.list(EVERYWHERE) == []


def test_the_office_approves_while_the_field_cancels_and_both_are_in_the_history(laptops):
    siti = laptops.enroll("siti")
    kasi = laptops.enroll("kasi", wilayah=("31.71",), role="supervisor")
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "kursi_roda"})
    siti.store.update("device_request", rid, {"status": "diverifikasi"})
    both_sync(siti, kasi)

    kasi.store.update("device_request", rid, {"status": "disetujui"})
    siti.store.update("device_request", rid, {"status": "dibatalkan"})  # the family moved
    kasi.sync()
    siti.sync()
    kasi.sync()

    request = kasi.store.get("device_request", rid)
    assert request["status"] == "dibatalkan"
    assert [(e["from"], e["to"]) for e in request["status_history"]] == [
        (None, "diajukan"),
        ("diajukan", "diverifikasi"),
        ("diverifikasi", "disetujui"),
        ("disetujui", "dibatalkan"),
    ]


def test_a_handover_and_a_cancellation_at_once_is_a_conflict_not_an_illegal_state(laptops, office):
    siti = laptops.enroll("siti")
    kasi = laptops.enroll("kasi", wilayah=("31.71",), role="supervisor")
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "kruk"})
    siti.store.update("device_request", rid, {"status": "diverifikasi"})
    both_sync(siti, kasi)
    kasi.store.update("device_request", rid, {"status": "disetujui"})
    both_sync(kasi, siti)

    kasi.store.update("device_request", rid, {"status": "diserahkan"})
    siti.store.update("device_request", rid, {"status": "dibatalkan"})
    kasi.sync()
    result = siti.sync()

    assert result.conflicts == 1
    assert siti.store.get("device_request", rid)["status"] == "diserahkan"
    [queued] = office.list(EVERYWHERE)
    assert (queued["kind"], queued["kept"]["value"], queued["lost"]["value"]) == (
        "status",
        "diserahkan",
        "dibatalkan",
    )


def test_a_pendamping_cannot_approve_a_request(laptops):
    siti = laptops.enroll("siti")
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "walker"})
    siti.store.update("device_request", rid, {"status": "diverifikasi"})
    siti.store.update("device_request", rid, {"status": "disetujui"})

    result = siti.sync()

    assert result.rejected == 1
    assert "status" in result.errors[0]["errors"]


def test_an_illegal_transition_is_refused_on_the_laptop(laptops):
    siti = laptops.enroll("siti")
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "walker"})
    siti.store.update("device_request", rid, {"status": "dibatalkan"})

    with pytest.raises(InvalidRecord) as refused:
        siti.store.update("device_request", rid, {"status": "diverifikasi"})
    assert "status" in refused.value.errors


def test_merging_duplicate_persons_moves_visits_and_every_laptop_learns(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    first = siti.store.add("beneficiary", beneficiary(phone=None))
    siti.sync()
    second = budi.store.add("beneficiary", beneficiary(name="Sri W.", phone="0813-3333-3333"))
    vid = budi.store.add("visit", visit(second))
    result = budi.sync()
    assert result.conflicts == 1
    [queued] = office.list(EVERYWHERE)
    assert (queued["kind"], queued["other_record_id"]) == ("duplicate_person", first)

    office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "merge", survivor=first)
    both_sync(siti, budi)

    for laptop in (siti, budi):
        assert [b["id"] for b in laptop.store.list("beneficiary")] == [first]
        assert laptop.store.get("visit", vid)["beneficiary_id"] == first
        assert laptop.store.get("beneficiary", first)["phone"] == "0813-3333-3333"


def test_a_delete_concurrent_with_an_edit_is_a_conflict_and_can_be_undone(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)

    siti.store.delete("beneficiary", bid)
    budi.store.update("beneficiary", bid, {"phone": "0822-2222-2222"})
    siti.sync()
    budi.sync()
    both_sync(siti, budi)
    assert siti.store.list("beneficiary") == []
    [queued] = office.list(EVERYWHERE)
    assert queued["kind"] == "delete"

    office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "take_lost")
    both_sync(siti, budi)

    for laptop in (siti, budi):
        assert laptop.store.get("beneficiary", bid)["phone"] == "0822-2222-2222"


def test_a_laptop_whose_clock_says_2031_does_not_win_for_years(laptops, hub_app):
    wrong = laptops.enroll("siti")
    right = laptops.enroll("budi")
    bid = right.store.add("beneficiary", beneficiary())
    both_sync(wrong, right)
    wrong.store._wall = lambda: YEAR_2031_MS

    wrong.store.update("beneficiary", bid, {"address": "dari 2031"})
    wrong.sync()
    right.sync()
    right.store.update("beneficiary", bid, {"address": "hari ini"})  # made after, on top
    right.sync()
    wrong.sync()

    record = wrong.store.get("beneficiary", bid)
    assert record["address"] == "hari ini"
    assert record["updated_at"] < "2030"


def test_a_conflict_the_laptop_lost_after_the_clamp_still_sorts_after_its_own_edits(laptops):
    wrong = laptops.enroll("siti")
    bid = wrong.store.add("beneficiary", beneficiary())
    wrong.sync()
    ticks = iter(range(YEAR_2031_MS, YEAR_2031_MS + 100))
    wrong.store._wall = lambda: next(ticks)
    wrong.store.update("beneficiary", bid, {"address": "pertama"})
    wrong.store.update("beneficiary", bid, {"address": "kedua"})

    wrong.sync()

    assert wrong.store.get("beneficiary", bid)["address"] == "kedua"


def test_the_queue_is_for_supervisors_only(laptops, hub_app):
    client = hub_app.test_client()
    kasi = laptops.enroll("kasi", wilayah=("31.71",), role="supervisor")
    pendamping = laptops.enroll("rina")

    forbidden = client.get(
        "/api/v1/conflicts", headers={"Authorization": f"Bearer {pendamping.store.identity.token}"}
    )
    allowed = client.get(
        "/api/v1/conflicts", headers={"Authorization": f"Bearer {kasi.store.identity.token}"}
    )

    assert forbidden.status_code == 403
    assert allowed.status_code == 200 and allowed.get_json() == []


def test_the_office_settles_a_conflict_from_its_terminal(laptops, hub_app, capsys):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)
    siti.store.update("beneficiary", bid, {"phone": "0811-1111-1111"})
    budi.store.update("beneficiary", bid, {"phone": "0822-2222-2222"})
    both_sync(siti, budi)
    data = hub_app.config["DATA_DIR"]
    capsys.readouterr()

    assert hub_main(["--data", data, "conflicts", "list", "--json"]) == 0
    [queued] = json.loads(capsys.readouterr().out)
    assert (
        hub_main(
            [
                "--data",
                data,
                "conflicts",
                "resolve",
                str(queued["conflict_id"]),
                "--choice",
                "value",
                "--value",
                '"0833-3333-3333"',
                "--by",
                "bu-kasi",
            ]
        )
        == 0
    )
    both_sync(siti, budi)

    assert siti.store.get("beneficiary", bid)["phone"] == "0833-3333-3333"


def _raise_conflict(laptops):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)
    siti.store.update("beneficiary", bid, {"phone": "0811-1111-1111"})
    budi.store._wall = lambda: wall_ms() + 60_000
    budi.store.update("beneficiary", bid, {"phone": "0822-2222-2222"})
    both_sync(siti, budi)
    return siti, budi, bid


def test_a_supervisor_settles_a_conflict_through_the_api(laptops, hub_app):
    siti, budi, bid = _raise_conflict(laptops)
    kasi = laptops.enroll("kasi", wilayah=("31.71",), role="supervisor")
    outsider = laptops.enroll("made", wilayah=("51.71",), role="supervisor")
    client = hub_app.test_client()

    def call(device, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {device.store.identity.token}"}
        return client.open(path, method=method, headers=headers, **kwargs)

    [queued] = call(kasi, "GET", "/api/v1/conflicts").get_json()
    path = f"/api/v1/conflicts/{queued['conflict_id']}/resolve"

    assert call(siti, "POST", path, json={"choice": "keep"}).status_code == 403
    assert call(outsider, "POST", path, json={"choice": "keep"}).status_code == 404
    wrong = call(kasi, "POST", path, json={"choice": "merge"})
    assert (wrong.status_code, list(wrong.get_json()["errors"])) == (422, ["choice"])
    bad_value = call(kasi, "POST", path, json={"choice": "value", "value": "bukan telepon"})
    assert (bad_value.status_code, list(bad_value.get_json()["errors"])) == (422, ["value"])
    done = call(kasi, "POST", path, json={"choice": "take_lost"})
    again = call(kasi, "POST", path, json={"choice": "keep"})
    both_sync(siti, budi)

    assert done.status_code == 200 and done.get_json()["resolved_by"] == "kasi"
    assert again.status_code == 409
    assert budi.store.get("beneficiary", bid)["phone"] == "0811-1111-1111"
    assert call(kasi, "GET", "/api/v1/conflicts").get_json() == []
    assert len(call(kasi, "GET", "/api/v1/conflicts?status=all").get_json()) == 1


def test_a_visit_recorded_for_a_merged_away_beneficiary_goes_to_the_survivor(laptops, office):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    first = siti.store.add("beneficiary", beneficiary())
    siti.sync()
    second = budi.store.add("beneficiary", beneficiary(name="Sri W."))
    budi.sync()
    [queued] = office.list(EVERYWHERE)
    office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "merge", survivor=first)

    vid = budi.store.add("visit", visit(second))  # budi has not pulled the merge yet
    budi.sync()
    budi.sync()

    assert budi.store.get("visit", vid)["beneficiary_id"] == first


def test_bringing_back_a_lost_value_does_not_silently_overwrite_a_later_edit(laptops, office):
    siti, _budi, bid = _raise_conflict(laptops)
    [queued] = office.list(EVERYWHERE)
    siti.store.update("beneficiary", bid, {"phone": "0833-3333-3333"})  # made after, on top
    siti.sync()

    office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "take_lost")

    queue = office.list(EVERYWHERE)
    assert [(c["kind"], c["field"]) for c in queue] == [("field", "phone")]
    values = {queue[0]["kept"]["value"], queue[0]["lost"]["value"]}
    assert values == {"0811-1111-1111", "0833-3333-3333"}


def test_a_typed_value_must_be_a_programme_the_hub_knows(laptops, office, hub_app):
    siti, budi = laptops.enroll("siti"), laptops.enroll("budi")
    bid = siti.store.add("beneficiary", beneficiary())
    both_sync(siti, budi)
    siti.store.update("beneficiary", bid, {"programs": ["KLJ", "PKH"]})
    budi.store._wall = lambda: wall_ms() + 60_000
    budi.store.update("beneficiary", bid, {"programs": ["KPDJ"]})
    both_sync(siti, budi)
    [queued] = office.list(EVERYWHERE)

    with pytest.raises(Invalid) as refused:
        office.resolve(queued["conflict_id"], "bu-kasi", EVERYWHERE, "value", ["ZZZ"])

    assert refused.value.errors == {"value": ["Program tidak dikenal hub: ZZZ."]}


def test_a_conflict_id_no_database_could_hold_is_a_404_not_a_500(laptops, hub_app):
    kasi = laptops.enroll("kasi", wilayah=("31.71",), role="supervisor")
    response = hub_app.test_client().post(
        f"/api/v1/conflicts/{10**20}/resolve",
        json={"choice": "keep"},
        headers={"Authorization": f"Bearer {kasi.store.identity.token}"},
    )
    assert (response.status_code, response.get_json()["error"]) == (404, "not_found")
