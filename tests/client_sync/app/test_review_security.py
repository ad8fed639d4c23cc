"""Holes a review found in the field app's guard: redirects that a browser reads as another
site, and the parts of a request that must never reach a page or its links."""

from __future__ import annotations

import pytest

from tests.client_sync.app.conftest import BASE, Field, csrf_of

# a browser resolves each of these against http://127.0.0.1:PORT to ANOTHER host:
# "\" is read as "/" in http(s) addresses, and tabs and newlines are removed
OFF_SITE = [
    "/\\evil.example",
    "/\\/evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "\\\\evil.example",
]


def _stays_here(location: str) -> bool:
    from urllib.parse import urljoin, urlsplit

    browser_reads = location.replace("\\", "/").replace("\t", "").replace("\n", "")
    return urlsplit(urljoin(f"{BASE}/", browser_reads)).netloc == urlsplit(BASE).netloc


@pytest.mark.parametrize("target", OFF_SITE)
def test_unlocking_never_redirects_to_another_site(field: Field, target: str):
    token = csrf_of(field.get("/buka"))
    sent = field.client.post(
        "/buka",
        base_url=BASE,
        data={"csrf_token": token, "passphrase": "kata-sandi-lapangan", "next": target},
    )
    assert sent.status_code == 303
    assert _stays_here(sent.headers["Location"]), sent.headers["Location"]
    # and once unlocked, a GET with the same next
    again = field.client.get("/buka", base_url=BASE, query_string={"next": target})
    assert again.status_code == 303 and _stays_here(again.headers["Location"])


@pytest.mark.parametrize("target", OFF_SITE)
def test_discarding_a_draft_never_redirects_to_another_site(field: Field, target: str):
    field.unlock()
    token = csrf_of(field.get("/draf"))
    sent = field.client.post(
        "/draf/tidak-ada/buang", base_url=BASE, data={"csrf_token": token, "next": target}
    )
    assert sent.status_code == 303
    assert _stays_here(sent.headers["Location"]), sent.headers["Location"]


def test_the_language_switch_of_an_odd_address_stays_on_this_app(field: Field):
    field.unlock()
    page = field.client.get("/", base_url=BASE, environ_overrides={"PATH_INFO": "//evil.example/x"})
    assert page.status_code == 404
    body = page.get_data(as_text=True)
    assert 'href="//evil.example' not in body
