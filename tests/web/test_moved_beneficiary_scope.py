"""A person who moved to another wilayah keeps the visits and requests recorded where they
lived before. Neither office may read across the move: the lists and exports of the old
wilayah do not show the person's name or NIK, and the person's page in the new wilayah does
not show what was recorded in the old one. Also: odd digits and far years in query values
are refusals, never a 500."""

from __future__ import annotations

import io

import pytest

from server.office.exports import export_to
from server.office.queries import OfficeQueries
from server.scope import Scope
from server.state import hub_state
from server.storage import User
from tests.conftest import Laptops, beneficiary, visit
from tests.web.conftest import Web

pytestmark = pytest.mark.both_backends

NAME, NIK = "Ibu Pindahan", "3171014508450009"


@pytest.fixture
def moved(laptops: Laptops):
    """A pendamping of both wilayah records a person in 31.71 with a visit and a request,
    then the person moves to 31.72 (the visit and the request stay in 31.71)."""
    both = laptops.enroll("rina", wilayah=("31.71.01", "31.72.01"))
    person = both.store.add("beneficiary", beneficiary(name=NAME, nik=NIK))
    seen = both.store.add("visit", visit(person, findings="temuan-di-3171"))
    both.store.add(
        "device_request",
        {"beneficiary_id": person, "kelurahan": "31.71.01.1001", "device_type": "kursi_roda"},
    )
    both.sync()
    both.store.update("beneficiary", person, {"kelurahan": "31.72.01.1001"})
    both.sync()
    yield {"person": person, "visit": seen}
    both.close()


@pytest.fixture
def supervisor_71(web: Web, add_web_user) -> Web:
    add_web_user()  # bu-kasi, supervisor of 31.71
    assert web.login().status_code == 303
    return web


def test_the_old_wilayahs_lists_do_not_name_a_person_who_moved_away(moved, supervisor_71: Web):
    visits = supervisor_71.page("/web/kunjungan")
    assert "temuan-di-3171"[:10] in visits  # the visit itself is 31.71's
    assert NAME not in visits
    requests = supervisor_71.page("/web/permohonan?status=diajukan")
    assert NAME not in requests


def test_the_old_wilayahs_exports_carry_no_name_or_nik_of_a_person_who_moved_away(moved, hub_app):
    queries = OfficeQueries.from_config(hub_state(hub_app).storage, hub_app.config)
    scope = Scope.of(User("bu-kasi", "supervisor", ("31.71",)))
    for kind in ("visits", "requests"):
        out = io.BytesIO()
        rows = export_to(queries, scope, kind, queries.record_filter(scope), "csv", out)
        text = out.getvalue().decode("utf-8-sig")
        assert rows == 1 and NAME not in text and NIK not in text, kind


def test_the_new_wilayahs_page_of_the_person_leaves_out_what_the_old_one_recorded(
    moved, web: Web, add_web_user
):
    add_web_user("pak-kasi", wilayah=("31.72",))
    assert web.login("pak-kasi").status_code == 303
    page = web.page(f"/web/penerima/{moved['person']}")
    assert NAME in page  # the person is 31.72's now
    assert "temuan-di-3171" not in page


@pytest.mark.parametrize(
    "path",
    [
        "/web/kunjungan?month=9999-12",
        "/web/kunjungan?day=9999-12-31",
        "/web/verifikasi?program=KLJ&month=9999-12",
        "/web/kunjungan?n=%C2%B2",  # '²' is a digit to str.isdigit, not to int()
    ],
)
def test_far_years_and_odd_digits_in_a_query_are_no_500(supervisor_71: Web, path: str):
    assert supervisor_71.client.get(path).status_code < 500
