"""The laptop's "who is due" and the office's Cakupan page name the same people for the
same records: one rule (schemas/coverage.py), applied by the hub over its read model and by
the laptop over its own, after the records travelled the real way (push, then pull)."""

from __future__ import annotations

import datetime as dt

from schemas.coverage import FIRST_PROGRAMS
from server.office import OfficeCalendar, OfficeQueries
from server.scope import Scope
from tests.conftest import beneficiary, visit

DAY = dt.timedelta(days=1)


def test_due_on_the_laptop_is_the_office_s_coverage_list(laptops, hub_app):
    now = dt.datetime.now(dt.UTC)
    office = OfficeQueries(
        hub_app.extensions["pendamping"].storage,
        OfficeCalendar(7),
        hub_app.config["PROGRAMS"],
        lambda: now,
    )
    siti = laptops.enroll("siti")
    people = {}
    for n, (name, programs, visited_days_ago) in enumerate(
        [
            ("Never Visited", ["KLJ"], []),
            ("Visited Long Ago", ["KLJ", "KAJ"], [45, 31]),
            ("Visited Lately", ["KLJ", "KPDJ"], [60, 29]),
            ("Visit Deleted", ["KPDJ"], [2]),
            ("No Programme", [], []),
        ]
    ):
        bid = siti.store.add(
            "beneficiary",
            beneficiary(name=name, programs=programs, nik=f"31710145084500{n + 1:02d}"),
        )
        people[name] = bid
        for days in visited_days_ago:
            at = (now - days * DAY).isoformat(timespec="seconds")
            vid = siti.store.add("visit", visit(bid, visited_at=at))
            if name == "Visit Deleted":
                siti.store.delete("visit", vid)
    siti.sync()
    rina = laptops.enroll("rina")  # a second laptop of the wilayah: everything by pull
    rina.sync()

    scope = Scope(("31.71.01",))
    for program in FIRST_PROGRAMS:
        hub_names = [u.name for u in office.coverage(scope, program).page.items]
        for laptop in (siti, rina):
            assert [d.name for d in laptop.store.views.due(program)] == hub_names, program
            assert laptop.store.views.due_counts()[program] == len(hub_names)
    assert [d.name for d in rina.store.views.due("KLJ")] == ["Never Visited", "Visited Long Ago"]
    assert rina.store.views.due_counts() == {"KLJ": 2, "KPDJ": 1, "KAJ": 1}
