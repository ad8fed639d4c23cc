"""Kunjungan on the Flask test client: the list and its filters, a visit's page, accepting
and returning one visit from either, bulk accept through its confirm step, refusals on the
form with nothing written, scope (a 31.71 supervisor and 31.72's visits) and CSRF."""

from __future__ import annotations

import re

import pytest

from server.storage import HubStorage
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import Web, csrf_of

NIK_72 = "3172014508450002"


@pytest.fixture
def district(laptops: Laptops):
    """siti (31.71.01) visited Ibu Sri three times; ani (31.72.01) visited Pak Darto once."""
    siti = laptops.enroll("siti", wilayah=("31.71.01",))
    ani = laptops.enroll("ani", wilayah=("31.72.01",))
    ours = siti.store.add("beneficiary", beneficiary())
    mine = [
        siti.store.add(
            "visit",
            visit(
                ours,
                visited_at=f"2026-01-{day:02d}T09:30:00+07:00",
                purpose=purpose,
                findings=f"Temuan hari {day}. " + "Rumah layak. " * 20,
            ),
        )
        for day, purpose in ((5, "monitoring"), (12, "verifikasi"), (20, "monitoring"))
    ]
    theirs = ani.store.add(
        "beneficiary", beneficiary(nik=NIK_72, kelurahan="31.72.01.1001", name="Pak Darto")
    )
    other = ani.store.add("visit", visit(theirs, visited_at="2026-01-16T09:30:00+07:00"))
    siti.sync()
    ani.sync()
    yield {"siti": siti, "ani": ani, "mine": mine, "other": other, "beneficiary": ours}
    siti.close()
    ani.close()


@pytest.fixture
def logged_in(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def written(storage: HubStorage) -> tuple[int, int]:
    """Changes and audit entries so far: a refusal adds neither."""
    return storage.stats()["changes"], len(list(storage.iter_audit()))


def review(web: Web, storage: HubStorage, vid: str, action: str, reason: str = "", **extra):
    token = csrf_of(web.client.get("/web/kunjungan"))
    form = {
        "csrf_token": token,
        "seen": str(storage.get_record(vid).seq),
        "action": action,
        "reason": reason,
        "back": "month=2026-01",
        "view": "list",
        **extra,
    }
    return web.client.post(f"/web/kunjungan/{vid}/tinjau", data=form)


def state_of(storage: HubStorage, vid: str) -> tuple[str | None, str | None, str | None]:
    held = storage.get_record(vid).data.get("review") or {}
    return held.get("state"), held.get("reason"), held.get("by")


def test_the_empty_pages_render_in_both_languages(logged_in: Web):
    for lang in ("id", "en"):
        for path in ("/web/kunjungan", "/web/kunjungan/terima-semua"):
            answer = logged_in.client.get(f"{path}?lang={lang}")
            assert answer.status_code == 200, (path, lang)
    text = logged_in.page("/web/kunjungan?lang=id")
    assert "0 kunjungan" in text and "Tidak ada kunjungan yang cocok" in text
    assert "No visits match these filters" in logged_in.page("/web/kunjungan?lang=en")


def test_the_list_shows_the_wilayah_s_visits_newest_first_with_their_row(
    logged_in: Web, district, hub_storage: HubStorage
):
    text = logged_in.page("/web/kunjungan")
    rows = re.findall(r'data-visit="([^"]+)"', text)
    assert rows == district["mine"][::-1]  # newest first, and not 31.72's
    assert "Pak Darto" not in text and NIK_72 not in text
    assert "Ibu Sri Wahyuni" in text and "siti" in text and "Verifikasi" in text
    assert "Temuan hari 20. Rumah layak." in text and "…" in text  # an excerpt, cut
    assert "Menunggu tinjauan" in text
    assert "20-01-2026 09:30 WIB" in text


def test_filters_narrow_the_list_and_a_bad_value_comes_back_named(logged_in: Web, district):
    def ids(query: str) -> list[str]:
        return re.findall(r'data-visit="([^"]+)"', logged_in.page(f"/web/kunjungan?{query}"))

    mine = district["mine"]
    assert ids("purpose=verifikasi") == [mine[1]]
    assert ids("day=2026-01-05") == [mine[0]]
    assert ids("month=2026-02") == []
    assert ids("pendamping=siti&month=2026-01") == mine[::-1]
    assert ids("wilayah=31.71.01") == mine[::-1]
    answer = logged_in.client.get("/web/kunjungan?month=2026-13")
    assert answer.status_code == 422
    assert "Bulan harus berbentuk YYYY-MM" in answer.get_data(as_text=True)
    answer = logged_in.client.get("/web/kunjungan?wilayah=31.72.01")
    assert answer.status_code == 403
    text = answer.get_data(as_text=True)
    assert "Wilayah 31.72.01 berada di luar wilayah Anda." in text and "Pak Darto" not in text


def test_pages_follow_the_cursor_and_see_every_visit_once(logged_in: Web, district, monkeypatch):
    monkeypatch.setattr("server.web.pages.visits.PAGE_SIZE", 2)
    first = logged_in.page("/web/kunjungan")
    after = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = logged_in.page(after)
    seen = re.findall(r'data-visit="([^"]+)"', first) + re.findall(r'data-visit="([^"]+)"', second)
    assert seen == district["mine"][::-1]
    assert 'rel="next"' not in second and "Halaman pertama" in second


def test_accepting_from_the_list_is_written_audited_and_told(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][0]
    answer = review(logged_in, hub_storage, vid, "terima")
    assert answer.status_code == 303
    assert answer.location.startswith("/web/kunjungan?month=2026-01")
    assert state_of(hub_storage, vid) == ("diterima", None, "bu-kasi")
    [entry] = [e for e in hub_storage.iter_audit() if e.action == "review_visits"]
    assert entry.actor == "bu-kasi" and vid in entry.detail and '"via":"web"' in entry.detail
    text = logged_in.page(answer.location)
    assert "Kunjungan diterima." in text
    row = text.split(f'data-visit="{vid}"')[1].split("</tr>")[0]
    assert "Diterima" in row


def test_returning_without_a_reason_comes_back_on_the_row_and_writes_nothing(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][1]
    before = written(hub_storage)
    answer = review(logged_in, hub_storage, vid, "kembalikan", "   ")
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    row = text.split(f'data-visit="{vid}"')[1].split("</tr>")[0]
    assert "Wajib diisi." in row and 'aria-invalid="true"' in row
    assert written(hub_storage) == before
    assert state_of(hub_storage, vid) == (None, None, None)


def test_returning_from_the_visit_s_page_keeps_the_reason_and_tells_the_laptop(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][1]
    page = logged_in.page(f"/web/kunjungan/{vid}")
    assert "Temuan hari 12." in page and "Menunggu tinjauan" in page
    answer = review(
        logged_in, hub_storage, vid, "kembalikan", "Foto rumah belum ada.", view="detail"
    )
    assert answer.status_code == 303 and answer.location.startswith(f"/web/kunjungan/{vid}")
    assert state_of(hub_storage, vid) == ("dikembalikan", "Foto rumah belum ada.", "bu-kasi")
    assert "Alasan: Foto rumah belum ada." in logged_in.page(answer.location)
    siti = district["siti"]
    siti.sync()
    [returned] = siti.store.returned()
    assert returned["id"] == vid and returned["review"]["reason"] == "Foto rumah belum ada."


def test_a_reason_over_the_limit_is_refused_on_the_visit_s_page(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][1]
    before = written(hub_storage)
    answer = review(logged_in, hub_storage, vid, "kembalikan", "x" * 1001, view="detail")
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Paling banyak 1000 karakter." in text and "x" * 1001 in text  # kept as typed
    assert written(hub_storage) == before


def test_a_visit_edited_since_the_page_showed_it_is_not_accepted(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][2]
    shown = hub_storage.get_record(vid).seq
    siti = district["siti"]
    siti.store.update("visit", vid, {"findings": "Diperbaiki."})
    siti.sync()
    before = written(hub_storage)
    answer = review(logged_in, hub_storage, vid, "terima", seen=str(shown))
    assert answer.status_code == 409
    assert "Kunjungan berubah sejak ditampilkan" in answer.get_data(as_text=True)
    assert written(hub_storage) == before


def test_bulk_accept_says_how_many_and_accepts_exactly_those(
    logged_in: Web, district, hub_storage: HubStorage
):
    mine = district["mine"]
    review(logged_in, hub_storage, mine[0], "kembalikan", "Foto kurang.")
    confirm = logged_in.client.get("/web/kunjungan/terima-semua?month=2026-01")
    text = confirm.get_data(as_text=True)
    assert confirm.status_code == 200
    assert "2 kunjungan akan diterima." in text  # the returned one is not waiting
    siti = district["siti"]
    late = siti.store.add(
        "visit", visit(district["beneficiary"], visited_at="2026-01-25T09:30:00+07:00")
    )
    siti.sync()  # arrives after the confirm step counted
    carried = re.search(r'name="visits" type="hidden" value="([^"]+)"', text).group(1)
    back = re.search(r'name="back" type="hidden" value="([^"]+)"', text).group(1)
    answer = logged_in.client.post(
        "/web/kunjungan/terima-semua",
        data={"csrf_token": csrf_of(confirm), "visits": carried, "back": back},
    )
    assert answer.status_code == 303 and "selesai=massal" in answer.location
    assert "2 kunjungan diterima." in logged_in.page(answer.location)
    assert [state_of(hub_storage, v)[0] for v in mine] == ["dikembalikan", "diterima", "diterima"]
    assert state_of(hub_storage, late)[0] is None  # not counted, not accepted
    audit = hub_storage.iter_audit()
    [entry] = [e for e in audit if e.action == "review_visits" and "diterima" in e.detail]
    assert entry.actor == "bu-kasi"


def test_bulk_accept_is_bounded_and_says_so(logged_in: Web, district, monkeypatch):
    monkeypatch.setattr("server.web.pages.visits.MAX_BATCH", 2)
    text = logged_in.page("/web/kunjungan/terima-semua")
    assert "2 kunjungan akan diterima." in text
    assert "Ada 3 kunjungan yang menunggu. Paling banyak 2 diterima sekali jalan" in text
    assert (
        text.count(":")
        and len(re.search(r'name="visits"[^>]*value="([^"]+)"', text).group(1).split(",")) == 2
    )


def test_bulk_accept_of_a_list_of_accepted_visits_offers_nothing(logged_in: Web, district):
    text = logged_in.page("/web/kunjungan/terima-semua?review_state=diterima")
    assert "Hanya kunjungan yang menunggu tinjauan" in text and 'name="visits"' not in text
    listed = logged_in.page("/web/kunjungan?review_state=diterima")
    assert "Terima semua yang menunggu" not in listed


def test_another_wilayah_s_visit_is_not_found_to_see_or_to_review(
    logged_in: Web, district, hub_storage: HubStorage
):
    other = district["other"]
    assert logged_in.client.get(f"/web/kunjungan/{other}").status_code == 404
    before = written(hub_storage)
    answer = review(logged_in, hub_storage, other, "terima")
    assert answer.status_code == 404 and "Pak Darto" not in answer.get_data(as_text=True)
    token = csrf_of(logged_in.client.get("/web/kunjungan"))
    seq = hub_storage.get_record(other).seq
    answer = logged_in.client.post(
        "/web/kunjungan/terima-semua",
        data={"csrf_token": token, "visits": f"{other}:{seq}", "back": ""},
    )
    assert answer.status_code == 404
    assert written(hub_storage) == before
    assert state_of(hub_storage, other) == (None, None, None)


def test_a_review_without_its_csrf_token_is_refused_and_writes_nothing(
    logged_in: Web, district, hub_storage: HubStorage
):
    vid = district["mine"][0]
    before = written(hub_storage)
    seq = str(hub_storage.get_record(vid).seq)
    answer = logged_in.client.post(
        f"/web/kunjungan/{vid}/tinjau", data={"seen": seq, "action": "terima"}
    )
    assert answer.status_code == 400
    assert "Formulir ini kedaluwarsa atau tidak sah" in answer.get_data(as_text=True)
    answer = logged_in.client.post(
        "/web/kunjungan/terima-semua", data={"visits": f"{vid}:{seq}", "csrf_token": "x"}
    )
    assert answer.status_code == 400
    assert written(hub_storage) == before


def test_the_pages_need_a_login(web: Web, district):
    for path in ("/web/kunjungan", f"/web/kunjungan/{district['mine'][0]}"):
        assert web.client.get(path).status_code == 303


# -- a district's worth ------------------------------------------------------------------------


def test_kunjungan_and_permohonan_render_a_district_s_worth(
    hub_storage: HubStorage, web: Web, monkeypatch
):
    """bench.bench_office's district, smaller (3,000 visits, 2,000 beneficiaries, 300
    requests, 20 laptops) as the supervisor of 31.71: the pages' numbers are the office
    queries' own, and nothing of 31.72 shows."""
    import datetime as dt

    from bench.bench_office import seed
    from server.office import OfficeQueries
    from server.passwords import hash_password
    from server.scope import Scope
    from tests.web.conftest import PASSWORD

    seed(hub_storage, 3000, 2000, 300, 20, dt.datetime.now(dt.UTC))
    hub_storage.set_password_hash("spv7171", hash_password(PASSWORD))
    assert web.login("spv7171").status_code == 303
    office = OfficeQueries.from_config(hub_storage, {})
    scope = Scope(("31.71",))

    listed = web.page("/web/kunjungan")
    total = office.visits(scope, office.record_filter(scope), 1).total
    assert f"{total} kunjungan" in listed and listed.count("data-visit=") == 50
    assert "31.72." not in listed.split("<main>", 1)[1]
    after = re.search(r'href="([^"]+)" rel="next"', listed).group(1).replace("&amp;", "&")
    second = re.findall(r'data-visit="([^"]+)"', web.page(after))
    assert len(second) == 50 and not set(second) & set(re.findall(r'data-visit="([^"]+)"', listed))
    waiting = office.visits(scope, office.record_filter(scope, review_state="menunggu"), 1).total
    confirm = web.page("/web/kunjungan/terima-semua")
    assert f"{min(waiting, 500)} kunjungan akan diterima." in confirm
    if waiting > 500:
        assert f"Ada {waiting} kunjungan yang menunggu." in confirm
    first_visit = re.findall(r'data-visit="([^"]+)"', listed)[0]
    assert "Tinjauan kantor" in web.page(f"/web/kunjungan/{first_visit}")

    requests = web.page("/web/permohonan")
    assert requests.count("data-request=") == 50 and "31.72." not in requests.split("<main>")[1]
    counts = requests.split('class="status-counts"')[1].split("</table>")[0]
    for count, _age in office.requests_by_status(scope):
        assert f">{count.count}<" in counts
    rid = re.findall(r'data-request="([^"]+)"', requests)[0]
    assert "Riwayat status" in web.page(f"/web/permohonan/{rid}")
    delivered = office.requests(scope, office.record_filter(scope, status="diserahkan"), 1)
    sheet = web.page(f"/web/permohonan/{delivered.items[0][0].id}/berita-acara")
    assert "Berita acara serah terima alat bantu" in sheet
