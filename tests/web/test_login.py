"""The office's web pages on the Flask test client: login, lockout, CSRF, cookies, scope,
and resolving conflicts through the same service as the API."""

from __future__ import annotations

import io
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from flask import Flask

from server.app import create_app
from server.cli import main as hub_main
from server.passwords import hash_password, verify_password
from server.scope import EVERYWHERE
from server.state import hub_state
from server.storage import HubStorage, User
from server.timeutil import utc_iso
from server.web.lockout import LoginLockout
from tests.web.conftest import PASSWORD, Web, csrf_of, make_silent

WRONG = "Nama pengguna atau kata sandi salah."


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(hub_app: Flask) -> FakeClock:
    """The login lockout on a clock the test moves."""
    fake = FakeClock()
    state = hub_state(hub_app)
    hub_app.extensions["pendamping"] = replace(
        state, lockout=LoginLockout(state.storage.limits, 5, 900, clock=fake)
    )
    return fake


def logged_in(web: Web) -> bool:
    return web.client.get("/web/").status_code == 200


# -- passwords -----------------------------------------------------------------------------


def test_user_add_stores_an_argon2_hash_and_never_the_password(tmp_path: Path, monkeypatch):
    data = tmp_path / "hub"
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    assert hub_main(["--data", str(data), "user", "add", "bu-kasi", "--role", "supervisor",
                     "--wilayah", "31.71", "--password-stdin"]) == 0  # fmt: skip
    app = create_app({"DATA_DIR": data, "TESTING": True})
    try:
        stored = app.extensions["pendamping"].storage.get_user("bu-kasi").password_hash
    finally:
        app.extensions["pendamping"].storage.close()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert verify_password(stored, PASSWORD) and not verify_password(stored, PASSWORD + "x")
    for path in data.rglob("*"):  # nowhere on disk, WAL included
        assert not path.is_file() or PASSWORD.encode() not in path.read_bytes()


def test_the_secret_key_is_made_once_and_kept_private(tmp_path: Path):
    first = create_app({"DATA_DIR": tmp_path / "hub", "TESTING": True})
    second = create_app({"DATA_DIR": tmp_path / "hub", "TESTING": True})
    for app in (first, second):
        app.extensions["pendamping"].storage.close()
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) == 64
    if os.name == "posix":
        assert (tmp_path / "hub" / "secret_key").stat().st_mode & 0o077 == 0


# -- logging in ----------------------------------------------------------------------------


def test_a_supervisor_logs_in_and_the_login_is_audited(web: Web, add_web_user, hub_storage):
    add_web_user()
    response = web.login()
    assert response.status_code == 303 and response.headers["Location"] == "/web/"
    assert "Laptop di wilayah 31.71" in web.page("/web/perangkat")
    last = list(hub_storage.iter_audit())[-1]
    assert (last.actor, last.action, last.device_id) == ("bu-kasi", "web_login", None)


def test_a_wrong_password_and_an_unknown_user_get_the_same_answer(web: Web, add_web_user):
    add_web_user()
    wrong = web.login(password="bukan-kata-sandinya")
    unknown = web.login(name="tidak-ada")
    for response in (wrong, unknown):
        assert response.status_code == 200
        assert WRONG in response.get_data(as_text=True)
    assert not logged_in(web)


def test_a_pendamping_cannot_log_in_even_with_a_password_hash(web: Web, add_web_user):
    add_web_user("siti", role="pendamping", wilayah=("31.71.01",))
    response = web.login("siti")
    assert response.status_code == 200 and WRONG in response.get_data(as_text=True)
    assert not logged_in(web)


def test_five_failures_lock_the_name_for_fifteen_minutes(web: Web, add_web_user, clock):
    add_web_user()
    for attempt in range(4):
        assert WRONG in web.login(password=f"salah-{attempt}-xxxxx").get_data(as_text=True)
    fifth = web.login(password="salah-lagi-xxxxx")
    assert fifth.status_code == 429 and "Coba lagi dalam 15 menit" in fifth.get_data(as_text=True)

    locked = web.login()  # the right password, from another address: still locked
    again = web.login(environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert (locked.status_code, again.status_code) == (429, 429)
    assert not logged_in(web)

    clock.now += 15 * 60 + 1
    assert web.login().status_code == 303


def test_five_failures_from_one_address_lock_that_address(web: Web, add_web_user, clock):
    add_web_user()
    for guess in ("a", "b", "c", "d", "e"):  # five names, one address
        web.login(name=f"tebakan-{guess}")
    assert web.login().status_code == 429
    assert web.login(environ_base={"REMOTE_ADDR": "10.0.0.9"}).status_code == 303


def test_a_login_without_or_with_a_wrong_csrf_token_is_refused(web: Web, add_web_user):
    add_web_user()
    web.client.get("/web/login")
    for token in (None, "bukan-token"):
        data = {"name": "bu-kasi", "password": PASSWORD}
        if token:
            data["csrf_token"] = token
        response = web.client.post("/web/login", data=data)
        assert response.status_code == 400
        assert "Formulir ini kedaluwarsa atau tidak sah" in response.get_data(as_text=True)
    assert not logged_in(web)


def test_the_session_cookie_is_httponly_and_samesite(web: Web, add_web_user):
    add_web_user()
    cookie = web.login().headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie  # plain http on the office LAN, by default


def test_a_secure_cookie_is_a_setting(tmp_path: Path):
    app = create_app({"DATA_DIR": tmp_path / "hub", "SESSION_COOKIE_SECURE": True})
    try:
        app.extensions["pendamping"].storage.add_user(
            User("bu-kasi", "supervisor", ("31.71",), None), utc_iso()
        )
        page = app.test_client().get("/web/login")
        assert "; Secure" in page.headers["Set-Cookie"]
    finally:
        app.extensions["pendamping"].storage.close()


def test_logout_ends_the_session_and_needs_its_csrf_token(web: Web, add_web_user):
    add_web_user()
    web.login()
    refused = web.client.post("/web/logout")
    assert refused.status_code == 400 and logged_in(web)

    token = csrf_of(web.client.get("/web/"))
    response = web.client.post("/web/logout", data={"csrf_token": token})
    assert response.status_code == 303
    assert not logged_in(web)
    assert "Anda sudah keluar." in web.page("/web/login?keluar=1")


def test_a_login_older_than_eight_hours_is_over(web: Web, add_web_user):
    add_web_user()
    web.login()
    with web.client.session_transaction() as session:
        session["login_at"] = int(time.time()) - 8 * 3600 - 5
    response = web.client.get("/web/")
    assert response.status_code == 303 and response.headers["Location"] == "/web/login"


def test_removing_a_password_ends_that_users_logins(web: Web, add_web_user, hub_storage):
    add_web_user()
    web.login()
    hub_storage.set_password_hash("bu-kasi", None)
    assert not logged_in(web)


# -- what a supervisor sees ----------------------------------------------------------------


def test_a_supervisor_sees_the_laptops_and_conflicts_of_their_wilayah_only(
    web: Web, add_web_user, raise_conflict, hub_storage: HubStorage
):
    ours, theirs = raise_conflict("31.71"), raise_conflict("31.72")
    make_silent(hub_storage, ours.laptops[0], days=10)
    add_web_user()
    web.login()

    dashboard = web.page("/web/perangkat")
    assert "laptop-siti" in dashboard and "laptop-budi" in dashboard
    assert "laptop-ani" not in dashboard and "laptop-dewi" not in dashboard
    assert "1 laptop yang diam" in dashboard and "(10 hari)" in dashboard

    page = web.page("/web/conflicts")
    assert f"#{ours.conflict_id} " in page and ours.record_id in page
    assert f"#{theirs.conflict_id} " not in page and theirs.record_id not in page


def test_an_admin_sees_every_wilayah(web: Web, add_web_user, raise_conflict):
    ours, theirs = raise_conflict("31.71"), raise_conflict("31.72")
    add_web_user("pak-admin", role="admin", wilayah=())
    web.login("pak-admin")
    page = web.page("/web/conflicts")
    assert ours.record_id in page and theirs.record_id in page


def test_what_the_pages_show_is_escaped(web: Web, add_web_user, raise_conflict):
    raise_conflict(values=("<script>alert(1)</script>", "Jl. <b>Mawar</b>"))
    add_web_user()
    web.login()
    page = web.page("/web/conflicts")
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<b>Mawar" not in page


# -- resolving -----------------------------------------------------------------------------


def resolve(web: Web, conflict_id: int, token: str | None, **fields: str):
    data = {f"c{conflict_id}-{name}": value for name, value in fields.items()}
    if token is not None:
        data[f"c{conflict_id}-csrf_token"] = token
    return web.client.post(f"/web/conflicts/{conflict_id}/resolve", data=data)


def test_resolving_through_the_form_writes_through_the_conflict_service(
    web: Web, add_web_user, raise_conflict, hub_app: Flask, hub_storage: HubStorage
):
    raised = raise_conflict()
    add_web_user()
    web.login()
    token = csrf_of(web.client.get("/web/conflicts"))

    response = resolve(web, raised.conflict_id, token, choice="take_lost")
    assert response.status_code == 303
    assert f"Konflik #{raised.conflict_id} sudah diselesaikan." in web.page(
        response.headers["Location"]
    )
    [settled] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE, open_only=False)
    assert settled["resolved_by"] == "bu-kasi"
    assert settled["resolution"]["choice"] == "take_lost"
    entry = list(hub_storage.iter_audit())[-1]
    assert (entry.action, entry.actor) == ("resolve_conflict", "bu-kasi")
    laptop = raised.laptops[1]
    laptop.sync()
    assert laptop.store.get("beneficiary", raised.record_id)["address"] == "Jl. Melati 3"


def test_a_typed_value_is_validated_like_any_field(web: Web, add_web_user, raise_conflict, hub_app):
    raised = raise_conflict()
    add_web_user()
    web.login()
    token = csrf_of(web.client.get("/web/conflicts"))
    response = resolve(web, raised.conflict_id, token, choice="value", value="Jl. Kenanga 7")
    assert response.status_code == 303
    [settled] = hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE, open_only=False)
    assert settled["resolution"]["value"] == "Jl. Kenanga 7"


def test_a_resolve_without_a_valid_csrf_token_changes_nothing(
    web: Web, add_web_user, raise_conflict, hub_app: Flask
):
    raised = raise_conflict()
    add_web_user()
    web.login()
    before = len(list(hub_app.extensions["pendamping"].storage.iter_audit()))
    for token in (None, "bukan-token"):
        assert resolve(web, raised.conflict_id, token, choice="keep").status_code == 400
    assert [
        c["conflict_id"] for c in hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)
    ] == [raised.conflict_id]
    assert len(list(hub_app.extensions["pendamping"].storage.iter_audit())) == before


def test_a_conflict_outside_the_wilayah_cannot_be_resolved(
    web: Web, add_web_user, raise_conflict, hub_app: Flask
):
    theirs = raise_conflict("31.72")
    add_web_user()
    web.login()
    token = csrf_of(web.client.get("/web/conflicts"))
    response = resolve(web, theirs.conflict_id, token, choice="keep")
    assert response.status_code == 404
    assert "Konflik tidak ditemukan." in response.get_data(as_text=True)
    assert len(hub_app.extensions["pendamping"].conflicts.list(EVERYWHERE)) == 1


def test_the_pages_need_a_login(web: Web):
    for path in ("/web/", "/web/conflicts"):
        response = web.client.get(path)
        assert response.status_code == 303 and response.headers["Location"] == "/web/login"
    assert web.client.post("/web/conflicts/1/resolve").status_code == 400  # no CSRF token


def test_the_api_stays_token_only_and_ignores_the_web_login(web: Web, add_web_user):
    add_web_user()
    web.login()
    response = web.client.post("/api/v1/conflicts/1/resolve", json={"choice": "keep"})
    assert response.status_code == 401  # no bearer token; the session cookie counts for nothing
    assert response.json["error"] == "unauthorized"


def test_a_logout_ends_a_copy_of_the_session_cookie_taken_elsewhere(
    web: Web, add_web_user, hub_app
):
    add_web_user()
    web.login()
    with web.client.session_transaction() as session:
        stolen = dict(session)
    thief = Web(hub_app.test_client())
    with thief.client.session_transaction() as session:
        session.update(stolen)
    assert logged_in(thief)

    token = csrf_of(web.client.get("/web/"))
    web.client.post("/web/logout", data={"csrf_token": token})

    assert not logged_in(thief)
    assert logged_in(web) is False
    web.login()  # a new login after the logout works at once
    assert logged_in(web)


def test_a_password_change_ends_the_logins_made_with_the_old_one(
    web: Web, add_web_user, hub_storage
):
    add_web_user()
    web.login()
    assert logged_in(web)

    hub_storage.set_password_hash("bu-kasi", hash_password("kata-sandi-baru-2026"))

    assert not logged_in(web)


@pytest.mark.both_backends
@pytest.mark.parametrize("field", ["name", "password"])
def test_a_nul_in_a_login_is_a_bad_request_not_a_failing_hub(web: Web, add_web_user, field: str):
    """PostgreSQL cannot compare a text holding NUL (the name's lockout and user lookups
    would fail as storage errors, a 503): the pages refuse such input as a bad request,
    on either backend, and the right login still works after it."""
    add_web_user()
    typed = {"name": "bu-kasi", "password": PASSWORD, field: "bu\x00kasi"}
    answer = web.login(**typed)
    assert answer.status_code == 400
    assert "Hub sedang bermasalah" not in answer.get_data(as_text=True)
    assert web.login().status_code in (302, 303)


@pytest.mark.both_backends
def test_a_nul_in_a_search_is_a_bad_request(web: Web, add_web_user):
    add_web_user()
    web.login()
    assert web.client.get("/web/penerima?q=31%0071").status_code == 400
