"""Ringkasan, Penerima manfaat (with its photos) and Cakupan on the Flask test client: each
page with empty data and with a district's worth, the numbers against the office's own
queries, the photo route, and scope on every page (a supervisor of 31.71 never sees a
31.72 beneficiary, visit, photo or count)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.routing import Rule

from bench.bench_office import seed
from client_sync import FieldDevice
from client_sync.photos import attach
from server.office import OfficeQueries, summary
from server.passwords import hash_password
from server.scope import EVERYWHERE, Scope
from server.storage import HubStorage
from tests.conftest import beneficiary, visit
from tests.web.conftest import AREAS, PASSWORD, Web, make_silent


@dataclass
class Area:
    """What one wilayah's laptops recorded: a beneficiary with a visit, a request and two
    photos (the house's on the beneficiary, one on the visit), and an unvisited KLJ one."""

    laptop: FieldDevice
    beneficiary_id: str
    unvisited_id: str
    house_sha: str
    visit_sha: str
    house_bytes: bytes


def _jpeg(seed_text: str) -> bytes:
    return b"\xff\xd8\xff\xe0" + hashlib.shake_256(seed_text.encode()).digest(3000)


def _png(seed_text: str) -> bytes:
    return b"\x89PNG\r\n\x1a\n" + hashlib.shake_256(seed_text.encode()).digest(2000)


@pytest.fixture
def district(raise_conflict, tmp_path: Path) -> dict[str, Area]:
    """31.71 and 31.72 each with an open conflict, a beneficiary called Ibu Sri Wahyuni (the
    same name in both), a visit this month, a request and photos; plus an unvisited one."""
    areas = {}
    for area in ("31.71", "31.72"):
        raised = raise_conflict(area)
        laptop = raised.laptops[0]
        kelurahan, _nik, _owners = AREAS[area]
        bid = raised.record_id
        house = tmp_path / f"rumah-{area}.jpg"
        house.write_bytes(_jpeg(f"rumah {area}"))
        house_sha = attach(laptop.store, "beneficiary", bid, house, "rumah")
        now = dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=7)))
        vid = laptop.store.add(
            "visit", visit(bid, visited_at=now.isoformat(timespec="seconds"), purpose="verifikasi")
        )
        snap = tmp_path / f"kunjungan-{area}.png"
        snap.write_bytes(_png(f"kunjungan {area}"))
        visit_sha = attach(laptop.store, "visit", vid, snap, "lainnya")
        laptop.store.add(
            "device_request",
            {"beneficiary_id": bid, "device_type": "kursi_roda", "reason": f"Lumpuh {area}"},
        )
        other = laptop.store.add(
            "beneficiary",
            beneficiary(
                kelurahan=kelurahan,
                nik=f"{kelurahan[:2]}{kelurahan[3:5]}{kelurahan[6:8]}0101500009",
                name=f"Pak Belum Dikunjungi {area}",
            ),
        )
        laptop.sync()
        areas[area] = Area(laptop, bid, other, house_sha, visit_sha, house.read_bytes())
    return areas


@pytest.fixture
def supervisor(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@dataclass
class Fetched:
    status: int
    data: bytes
    mimetype: str
    headers: dict[str, str]


def _fetch(web: Web, path: str) -> Fetched:
    """A photo's answer, read whole and closed (it streams from its file)."""
    with web.client.get(path) as answer:
        return Fetched(answer.status_code, answer.get_data(), answer.mimetype, dict(answer.headers))


# -- empty hub ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "indonesian", "english"),
    [
        ("/web/", "Sinkron hari ini", "Syncs today"),
        ("/web/ringkasan", "Belum ada penerima manfaat di wilayah ini.", "No beneficiaries"),
        ("/web/penerima", "Ketik NIK atau nama untuk mencari.", "Type a NIK or a name"),
        ("/web/penerima?q=wahyuni", "Tidak ada penerima manfaat bernama", "No beneficiary named"),
        ("/web/penerima?q=3171", "Tidak ada penerima manfaat dengan NIK", "No beneficiary whose"),
        ("/web/cakupan", "Semua penerima manfaat KLJ di wilayah ini", "Every KLJ beneficiary"),
        ("/web/cakupan?program=KAJ&by=pendamping", "Semua penerima manfaat KAJ", "Every KAJ"),
    ],
)
def test_each_page_renders_with_empty_data_in_both_languages(
    supervisor: Web, path: str, indonesian: str, english: str
):
    assert indonesian in supervisor.page(path)
    joiner = "&" if "?" in path else "?"
    in_english = supervisor.page(f"{path}{joiner}lang=en")
    assert english in in_english and indonesian not in in_english


def test_the_start_page_is_ringkasan_and_the_menu_lists_the_new_pages(supervisor: Web):
    home = supervisor.page("/web/")
    assert "<h1>Ringkasan</h1>" in home
    nav = home.split("<nav", 1)[1].split("</nav>", 1)[0]
    labels = re.findall(r">([^<>]+)</a>", nav)
    assert labels[:4] == ["Ringkasan", "Pendamping &amp; perangkat", "Penerima manfaat", "Cakupan"]
    assert 'aria-current="page" class="current">Ringkasan<' in nav


# -- Ringkasan ---------------------------------------------------------------------------------


def _tile(html: str, tile_id: str) -> str:
    return _text(html.split(f'id="{tile_id}">', 1)[1].split("</div>", 1)[0]).strip()


def test_ringkasan_counts_only_the_supervisor_s_wilayah_and_links_each_number(
    supervisor: Web, district, hub_storage: HubStorage
):
    page = supervisor.page("/web/ringkasan")
    # 31.71 has two laptops (siti, budi), one open conflict, one visit waiting, one request
    assert _tile(page, "syncs-today").startswith("Sinkron hari ini 2 dari 2 laptop")
    assert _tile(page, "open-conflicts") == "Konflik terbuka 1"
    assert _tile(page, "visits-waiting") == "Kunjungan menunggu tinjauan 1"
    assert _tile(page, "visits-months").startswith("Kunjungan bulan ini 1 bulan lalu 0")
    diajukan = _text(page.split('data-status="diajukan"', 1)[1].split("</tr>", 1)[0])
    assert "diajukan 1 0 hari" in diajukan
    klj = _text(page.split('data-program="KLJ"', 1)[1].split("</tr>", 1)[0])
    assert klj.split()[:4] == [">", "KLJ", "2", "1"]  # enrolled 2, visited this month 1
    assert '<a href="/web/conflicts" class="num">1</a>' in page
    assert '<a href="/web/perangkat" class="num">2</a>' in page
    assert 'href="/web/cakupan?program=KLJ"' in page
    # the admin sees both wilayah
    office = OfficeQueries.from_config(hub_storage, {})
    assert summary(office, EVERYWHERE).open_conflicts == 2
    assert summary(office, Scope(("31.71",))).open_conflicts == 1


def test_a_number_links_to_kunjungan_and_permohonan_once_those_pages_exist(
    supervisor: Web, district, hub_app: Flask
):
    page = supervisor.page("/web/ringkasan")
    assert "/web/kunjungan" not in page and "/web/permohonan" not in page
    for path, endpoint in (("/web/kunjungan", "web.visits"), ("/web/permohonan", "web.requests")):
        # as those pages' modules will route them (the app has served requests already)
        hub_app.url_map.add(Rule(path, endpoint=endpoint))
        hub_app.view_functions[endpoint] = lambda: ""
    page = supervisor.page("/web/ringkasan")
    assert 'href="/web/kunjungan?review_state=menunggu" class="num">1<' in page
    month = dt.datetime.now(dt.timezone(dt.timedelta(hours=7))).strftime("%Y-%m")
    assert f'href="/web/kunjungan?month={month}" class="num">1<' in page
    assert 'href="/web/permohonan?status=diajukan" class="num">1<' in page


def test_ringkasan_and_the_devices_page_count_the_same_silent_laptops(
    supervisor: Web, laptops, hub_storage: HubStorage, hub_app: Flask
):
    quiet = laptops.enroll("siti")
    quiet.store.add("beneficiary", beneficiary())
    quiet.sync()
    make_silent(hub_storage, quiet, days=10)
    never = laptops.enroll("budi")  # enrolled (the hub heard from it), never synced
    laptops.enroll("ani", wilayah=("31.72.01",))  # outside: never counted
    assert hub_storage.get_device(never.store.identity.device_id).last_sync_at is None

    ringkasan = supervisor.page("/web/ringkasan")
    devices = supervisor.page("/web/perangkat")
    assert _tile(ringkasan, "silent-laptops").startswith("Laptop yang diam 2 ")
    assert "2 laptop yang diam" in devices
    assert "laptop-siti" in ringkasan and "laptop-budi" in ringkasan
    assert "laptop-ani" not in ringkasan
    # the daily job's flags add since when; the number stays the live rule's
    from server.jobs.tasks import JobContext, silent_laptops

    silent_laptops(
        JobContext(
            hub_storage,
            hub_app.config,
            Path(hub_app.config["DATA_DIR"]),
            dt.datetime.now(dt.UTC),
            dt.UTC,
        )
    )
    flagged = supervisor.page("/web/ringkasan")
    row = _text(flagged.split("laptop-siti", 1)[1].split("</tr>", 1)[0])
    assert "WIB" in row.split("siti", 1)[1]  # flagged since, a time
    assert _tile(flagged, "silent-laptops").startswith("Laptop yang diam 2 ")


# -- Penerima manfaat --------------------------------------------------------------------------


def test_search_by_nik_and_by_name_finds_only_the_wilayah_s_beneficiaries(
    supervisor: Web, district
):
    mine, theirs = district["31.71"], district["31.72"]
    by_name = supervisor.page("/web/penerima?q=wahyuni")
    assert f"/web/penerima/{mine.beneficiary_id}" in by_name
    assert theirs.beneficiary_id not in by_name and "3172" not in by_name
    by_nik = supervisor.page("/web/penerima?q=31710145")
    assert f"/web/penerima/{mine.beneficiary_id}" in by_nik and "3171014508450001" in by_nik
    assert "Tidak ada penerima manfaat dengan NIK berawalan 3172" in supervisor.page(
        "/web/penerima?q=3172"
    )
    assert "Tidak ada penerima manfaat bernama" in supervisor.page(
        "/web/penerima?q=Dikunjungi+31.72"
    )


def test_a_beneficiary_s_page_shows_programmes_visits_requests_photos_and_field_history(
    supervisor: Web, district
):
    mine = district["31.71"]
    mine.laptop.store.update("beneficiary", mine.beneficiary_id, {"phone": "0812-3456-7890"})
    mine.laptop.sync()
    page = supervisor.page(f"/web/penerima/{mine.beneficiary_id}")
    text = _text(page)
    assert "<h1>Ibu Sri Wahyuni</h1>" in page
    assert 'href="/web/cakupan?program=KLJ">KLJ<' in page
    assert "Kunjungan (1)" in text and "verifikasi" in text and "menunggu" in text
    assert "Permohonan ABF (1)" in text and "kursi roda" in text and "Lumpuh 31.71" in text
    assert "Foto (2)" in text
    for sha in (mine.house_sha, mine.visit_sha):
        assert f'src="/web/penerima/{mine.beneficiary_id}/foto/{sha}"' in page
    history = _text(page.split('class="history"', 1)[1].split("</table>", 1)[0])
    assert "nomor telepon 0812-3456-7890" in history
    assert "siti (laptop-siti)" in history and "alamat" in history and "NIK" in history
    english = _text(supervisor.page(f"/web/penerima/{mine.beneficiary_id}?lang=en"))
    assert "Field history" in english and "phone number" in english


def test_a_beneficiary_of_another_wilayah_is_not_found(supervisor: Web, district):
    theirs = district["31.72"]
    response = supervisor.client.get(f"/web/penerima/{theirs.beneficiary_id}")
    assert response.status_code == 404
    assert "Ibu Sri Wahyuni" not in response.get_data(as_text=True)
    assert supervisor.client.get("/web/penerima/no-such-id").status_code == 404


def test_a_photo_is_served_with_its_type_and_never_cached(supervisor: Web, district):
    mine = district["31.71"]
    house = _fetch(supervisor, f"/web/penerima/{mine.beneficiary_id}/foto/{mine.house_sha}")
    assert house.status == 200 and house.data == mine.house_bytes
    assert house.mimetype == "image/jpeg" and house.headers["Cache-Control"] == "no-store"
    assert house.headers["X-Content-Type-Options"] == "nosniff"
    snap = _fetch(supervisor, f"/web/penerima/{mine.beneficiary_id}/foto/{mine.visit_sha}")
    assert snap.status == 200 and snap.mimetype == "image/png"


def test_a_photo_is_served_only_through_a_record_in_scope_never_by_its_sha_alone(
    supervisor: Web, district
):
    mine, theirs = district["31.71"], district["31.72"]
    client = supervisor.client
    # another wilayah's photo: through its beneficiary, or through one of ours
    for owner in (theirs.beneficiary_id, mine.beneficiary_id, mine.unvisited_id):
        answer = client.get(f"/web/penerima/{owner}/foto/{theirs.house_sha}")
        assert answer.status_code == 404 and theirs.house_bytes not in answer.data
    # our photo through a beneficiary it is not attached to
    assert client.get(f"/web/penerima/{mine.unvisited_id}/foto/{mine.house_sha}").status_code == 404
    # not a sha256, a path trick
    for sha in ("abc", "../" * 3 + "secret_key", mine.house_sha.upper()):
        assert client.get(f"/web/penerima/{mine.beneficiary_id}/foto/{sha}").status_code == 404


def test_a_photo_the_laptop_has_not_sent_yet_is_named_but_not_linked(
    supervisor: Web, district, tmp_path: Path
):
    mine = district["31.71"]
    later = tmp_path / "nanti.jpg"
    later.write_bytes(_jpeg("nanti"))
    sha = attach(mine.laptop.store, "beneficiary", mine.unvisited_id, later, "rumah")
    from client_sync.engine import SyncResult, push_outbox
    from client_sync.hub import HubClient
    from tests.conftest import WsgiTransport

    hub = HubClient(WsgiTransport(supervisor.client.application), mine.laptop.store.identity.token)
    push_outbox(mine.laptop.store, hub, SyncResult())  # the record, not the photo
    page = supervisor.page(f"/web/penerima/{mine.unvisited_id}")
    assert "Foto belum terkirim dari laptop." in page and f"/foto/{sha}" not in page
    assert supervisor.client.get(f"/web/penerima/{mine.unvisited_id}/foto/{sha}").status_code == 404


def test_the_photo_route_wants_a_login(web: Web, district):
    mine = district["31.71"]
    answer = web.client.get(f"/web/penerima/{mine.beneficiary_id}/foto/{mine.house_sha}")
    assert answer.status_code == 303 and answer.headers["Location"] == "/web/login"


def test_an_admin_sees_both_wilayah(web: Web, add_web_user, district):
    add_web_user("kadis", role="admin", wilayah=())
    web.login("kadis")
    found = web.page("/web/penerima?q=wahyuni")
    for area in district.values():
        assert area.beneficiary_id in found
        photo = _fetch(web, f"/web/penerima/{area.beneficiary_id}/foto/{area.house_sha}")
        assert photo.status == 200 and photo.data == area.house_bytes
    assert "Pak Belum Dikunjungi 31.72" in web.page("/web/cakupan")


# -- Cakupan -----------------------------------------------------------------------------------


def test_cakupan_names_the_unvisited_of_the_wilayah_by_kelurahan_and_by_pendamping(
    supervisor: Web, district
):
    mine = district["31.71"]
    page = supervisor.page("/web/cakupan?program=KLJ")
    assert '<span class="num" id="unvisited-total">1</span>' in page
    assert f'href="/web/penerima/{mine.unvisited_id}">Pak Belum Dikunjungi 31.71<' in page
    assert "31.72" not in _text(page.split("<main>", 1)[1])
    assert 'data-group="31.71.01.1001"' in page
    by_person = supervisor.page("/web/cakupan?program=KLJ&by=pendamping")
    assert 'data-group="siti"' in by_person and "Pak Belum Dikunjungi 31.71" in by_person
    assert "Pak Belum Dikunjungi 31.72" not in by_person
    # the visited one is not listed; another programme has nobody
    assert mine.beneficiary_id not in page
    assert "Semua penerima manfaat KPDJ" in supervisor.page("/web/cakupan?program=KPDJ")


def test_an_unknown_programme_or_grouping_is_a_page_not_a_failure(supervisor: Web):
    answer = supervisor.client.get("/web/cakupan?program=XYZ")
    assert answer.status_code == 422 and "KLJ, KPDJ, KAJ" in answer.get_data(as_text=True)
    assert supervisor.client.get("/web/cakupan?by=rumah&after=%%%").status_code == 200


# -- a district's worth ------------------------------------------------------------------------


@pytest.fixture
def seeded(hub_storage: HubStorage, web: Web) -> tuple[Web, dict]:
    """bench.bench_office's district, smaller: 5,000 beneficiaries, 3,000 visits (all this
    month: about half the beneficiaries unvisited), 150 requests, 20 laptops; the
    supervisor of 31.71 logged in."""
    facts = seed(hub_storage, 3000, 5000, 150, 20, dt.datetime.now(dt.UTC))
    for name in ("spv7171", "admin"):
        hub_storage.set_password_hash(name, hash_password(PASSWORD))
    assert web.login("spv7171").status_code == 303
    return web, facts


def test_every_page_renders_a_district_s_worth_with_the_office_s_own_numbers(
    seeded, hub_storage: HubStorage
):
    web, facts = seeded
    office = OfficeQueries.from_config(hub_storage, {})
    scope = Scope(("31.71",))
    expected = summary(office, scope)
    page = web.page("/web/")
    assert _tile(page, "visits-waiting") == f"Kunjungan menunggu tinjauan {expected.visits_waiting}"
    assert _tile(page, "silent-laptops").startswith(f"Laptop yang diam {expected.silent_laptops}")
    found = web.page(f"/web/penerima?q={facts['nik_prefix']}")
    assert found.count("/web/penerima/") == len(office.search(scope, facts["nik_prefix"]))
    assert "persempit pencarian" in web.page("/web/penerima?q=a")  # more than 50 match
    first = office.search(scope, "siti")[0]
    assert "Riwayat isian" in web.page(f"/web/penerima/{first.id}")
    report = office.coverage(scope, "KLJ", limit=200)
    cover = web.page("/web/cakupan?program=KLJ")
    assert f'id="unvisited-total">{report.counts.total}<' in cover
    assert cover.count('href="/web/penerima/') == len(report.page.items) == 200
    assert "31.72." not in _text(cover.split("<main>", 1)[1])
    follow = re.search(r'href="([^"]+)" rel="next"', cover)
    assert follow, "a next page of names"
    assert web.page(follow.group(1).replace("&amp;", "&")).count('href="/web/penerima/') > 0
    person = web.page("/web/cakupan?program=KLJ&by=pendamping")
    jump = re.findall(r'href="(/web/cakupan\?[^"]*dari=[^"]+)"', person)
    assert jump and "data-group" in web.page(jump[-1].replace("&amp;", "&"))


def test_the_pages_bench_runs_every_page_it_names(tmp_path: Path):
    """bench/bench_web_pages.py on a small district: every page answers 200 (its own
    assertion) and is timed for both viewers. A smoke test, not a timing."""
    import argparse

    from bench.bench_web_pages import run

    args = argparse.Namespace(
        visits=600, beneficiaries=300, requests=30, laptops=10, runs=1, page=None
    )
    figures = run(args, tmp_path)
    for timed in figures["pages"].values():
        assert len(timed) == 9  # Ringkasan 1, Penerima manfaat 4, Cakupan 4
        assert all(f["p95_ms"] > 0 for f in timed.values())


def test_one_silent_rule_for_ringkasan_the_laptops_table_and_the_daily_job(hub_app: Flask):
    from server.jobs.tasks import silent_device_ids
    from server.office import is_silent
    from server.storage import Device, User
    from server.web.laptops import laptop_row

    now = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
    owner = User("siti", "pendamping", ("31.71.01",))

    def ago(days: float) -> str:
        return (now - dt.timedelta(days=days)).isoformat().replace("+00:00", "Z")

    shapes = {
        "fresh": Device("fresh", owner, "a", ago(30), ago(1), ago(1)),
        "quiet": Device("quiet", owner, "b", ago(30), ago(8), ago(8)),
        "seen-lately-synced-long-ago": Device("seen", owner, "c", ago(30), ago(1), ago(9)),
        "never-synced-but-called": Device("called", owner, "d", ago(30), ago(1), None),
        "never-heard": Device("never", owner, "e", ago(30)),
        "revoked": Device("revoked", owner, "f", ago(30), None, None, ago(2)),
    }
    job = set(silent_device_ids(list(shapes.values()), now, 7))
    with hub_app.test_request_context():  # the row's times are in the page's language
        for name, device in shapes.items():
            table = laptop_row(device, now, 7)["silent"]
            assert is_silent(device, now, 7) == table == (device.device_id in job), name
    assert job == {"quiet", "called", "never"}
