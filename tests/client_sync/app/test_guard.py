"""Who may drive the field app: the Host check (DNS rebinding), the per-start secret traded
for a session cookie, CSRF on every POST, the session key made per start."""

from __future__ import annotations

from client_sync.app import create_app
from tests.client_sync.app.conftest import BASE, PORT, SECRET, csrf_of, make_field


def test_a_request_for_another_host_is_refused_even_with_the_cookie(field):
    field.unlock()
    for host in ("evil.example:8765", f"evil.example:{PORT}", "127.0.0.1:9999", "localhost"):
        refused = field.client.get("/", base_url=f"http://{host}")
        assert refused.status_code == 403, host
        assert "Akses ditolak" in refused.get_data(as_text=True)
    local = f"http://localhost:{PORT}"  # the cookie is per host name: enter there too
    assert field.client.get(f"/masuk?kunci={SECRET}", base_url=local).status_code == 303
    assert field.client.get("/", base_url=local).status_code == 200


def test_without_the_cookie_every_page_is_a_plain_refusal(enrolled_home):
    app = create_app(enrolled_home, port=PORT, start_secret=SECRET)
    client = app.test_client()
    for path in ("/", "/buka", "/daftar", "/sinkron", "/sinkron/kemajuan.json", "/static/app.css"):
        refused = client.get(path, base_url=BASE)
        page = refused.get_data(as_text=True)
        assert refused.status_code == 403, path
        assert "Akses ditolak" in page and "pendamping app" in page and "Traceback" not in page
    assert client.post("/kunci", base_url=BASE).status_code == 403


def test_a_wrong_secret_gives_no_cookie(enrolled_home):
    client = create_app(enrolled_home, port=PORT, start_secret=SECRET).test_client()
    wrong = client.get("/masuk?kunci=tebakan", base_url=BASE)
    assert wrong.status_code == 403 and "Set-Cookie" not in wrong.headers
    assert client.get("/", base_url=BASE).status_code == 403


def test_the_secret_becomes_an_httponly_strict_cookie_and_leaves_the_address(enrolled_home):
    client = create_app(enrolled_home, port=PORT, start_secret=SECRET).test_client()
    entered = client.get(f"/masuk?kunci={SECRET}", base_url=BASE)
    assert entered.status_code == 303 and entered.headers["Location"] == "/"
    cookie = entered.headers["Set-Cookie"]
    assert cookie.startswith(f"pendamping_app_{PORT}=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and SECRET not in cookie
    assert client.get("/", base_url=BASE).headers["Location"].startswith("/buka")


def test_a_cookie_of_an_earlier_start_is_worth_nothing(enrolled_home):
    first = make_field(enrolled_home)
    later = create_app(enrolled_home, port=PORT, start_secret="another-start-secret").test_client()
    cookie = first.client.get_cookie(f"pendamping_app_{PORT}", domain="127.0.0.1")
    assert cookie is not None
    later.set_cookie(cookie.key, cookie.value, domain="127.0.0.1")
    assert later.get("/", base_url=BASE).status_code == 403


def test_a_post_without_the_csrf_token_is_refused_and_changes_nothing(field):
    field.unlock()
    refused = field.client.post("/kunci", base_url=BASE)
    assert refused.status_code == 400
    assert "Formulir tidak berlaku" in refused.get_data(as_text=True)
    assert field.app.extensions["pendamping_app"].keeper.device is not None
    wrong = field.client.post("/kunci", base_url=BASE, data={"csrf_token": "palsu"})
    assert wrong.status_code == 400
    assert field.app.extensions["pendamping_app"].keeper.device is not None


def test_a_json_post_carries_the_token_in_its_header(field):
    field.unlock()
    token = csrf_of(field.get("/"))
    bare = field.client.post("/sinkron", base_url=BASE, json={})
    assert bare.status_code == 400
    sent = field.client.post("/sinkron", base_url=BASE, json={}, headers={"X-CSRFToken": token})
    assert sent.status_code == 303
    field.app.extensions["pendamping_app"].sync.join(timeout=10)


def test_every_page_says_no_caching_no_framing_and_no_inline_script(field):
    field.unlock()
    headers = field.get("/").headers
    assert headers["Cache-Control"] == "no-store" and headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in headers["Content-Security-Policy"]
    assert "unsafe-inline" not in headers["Content-Security-Policy"]
