"""Unlocking the store in the browser, a wrong passphrase, the idle lock (an injected
clock), "Kunci", and a plain store that opens without asking."""

from __future__ import annotations

from pathlib import Path

from client_sync.app import create_app
from tests.client_sync.app.conftest import BASE, PASSPHRASE, PORT, make_field
from tests.conftest import Laptops
from tests.support.transports import WsgiTransport


def _keeper(field):
    return field.app.extensions["pendamping_app"].keeper


def test_a_wrong_passphrase_is_the_stores_own_message_and_stays_locked(field):
    refused = field.unlock("salah-sekali-123")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 400
    assert "Kata sandi penyimpanan salah." in page and 'aria-invalid="true"' in page
    assert _keeper(field).device is None
    assert field.unlock().status_code == 303 and _keeper(field).device is not None


def test_after_unlocking_the_app_returns_to_the_page_asked_for(field):
    asked = field.get("/sinkron?lang=id")
    assert asked.headers["Location"] == "/buka?next=/sinkron?lang%3Did"
    token_page = field.get(asked.headers["Location"])
    assert 'name="next" value="/sinkron?lang=id"' in token_page.get_data(as_text=True)
    back = field.post("/buka", {"passphrase": PASSPHRASE, "next": "/sinkron?lang=id"})
    assert back.headers["Location"] == "/sinkron?lang=id"


def test_next_never_leads_to_another_site(field):
    back = field.post("/buka", {"passphrase": PASSPHRASE, "next": "//evil.example/x"})
    assert back.headers["Location"] == "/"


def test_the_app_locks_itself_after_the_idle_time_and_the_store_is_closed(field):
    field.unlock()
    device = _keeper(field).device
    field.clock.now += 14 * 60
    assert field.get("/").status_code == 200  # activity: the idle time starts again
    field.clock.now += 14 * 60
    assert field.get("/").status_code == 200
    field.clock.now += 15 * 60
    locked = field.get("/sinkron")
    assert locked.status_code == 303 and locked.headers["Location"] == "/buka?next=/sinkron"
    assert _keeper(field).device is None and _keeper(field)._passphrase is None
    assert device is not None and _closed(device)
    assert field.unlock().headers["Location"] == "/"


def _closed(device) -> bool:
    try:
        device.store.status()
    except Exception:
        return True
    return False


def test_polling_the_sync_progress_is_not_activity(field):
    field.unlock()
    for _ in range(4):
        field.clock.now += 5 * 60
        assert field.get("/sinkron/kemajuan.json").status_code == 200
    assert field.get("/").status_code == 303


def test_kunci_locks_at_once_and_the_next_page_asks_again(field):
    field.unlock()
    locked = field.post("/kunci", page="/")
    assert locked.status_code == 303 and locked.headers["Location"] == "/buka"
    assert _keeper(field).device is None
    assert field.get("/").headers["Location"].startswith("/buka")


def test_a_form_posted_after_the_lock_returns_to_its_page_after_unlocking(field):
    field.unlock()
    token_page = field.get("/sinkron")
    field.clock.now += 16 * 60
    from tests.client_sync.app.conftest import csrf_of

    sent = field.client.post(
        "/sinkron",
        base_url=BASE,
        data={"csrf_token": csrf_of(token_page)},
        headers={"Referer": f"{BASE}/sinkron"},
    )
    assert sent.headers["Location"] == "/buka?next=/sinkron"
    assert field.app.extensions["pendamping_app"].sync.snapshot().number == 0


def test_a_plain_store_opens_without_asking(laptops: Laptops, hub_app):
    plain = laptops.enroll("budi", passphrase="")
    plain.close()
    field = make_field(plain.home, lambda _url: WsgiTransport(hub_app))
    opened = field.get("/")
    assert opened.headers["Location"].startswith("/buka")
    assert field.get(opened.headers["Location"]).headers["Location"] == "/"
    assert "budi · wilayah 31.71.01" in field.get("/").get_data(as_text=True)


def test_a_home_not_enrolled_asks_for_enrolment(tmp_path: Path):
    field = make_field(tmp_path / "kosong")
    assert field.get("/").headers["Location"] == "/daftar?next=/"
    page = field.get("/daftar").get_data(as_text=True)
    assert "Daftarkan laptop ini" in page and 'name="hub_url"' in page


def test_the_passphrase_is_written_nowhere_in_the_home(field):
    field.unlock()
    field.get("/")
    needle = PASSPHRASE.encode()
    for path in field.home.rglob("*"):
        if path.is_file():
            assert needle not in path.read_bytes(), path


def test_the_session_key_is_made_per_start(enrolled_home):
    one = create_app(enrolled_home, port=PORT).config["SECRET_KEY"]
    two = create_app(enrolled_home, port=PORT).config["SECRET_KEY"]
    assert one != two and len(one) >= 32
