"""Beranda and Konflik in the field app, on an enrolled laptop synced with the in-process
hub: who is due by programme (the office's rule) with names linked to their pages, the
visits the office returned with its reason, what waits to be sent, the last sync, and the
conflicts on this laptop's changes in the words of `pendamping conflicts`."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from client_sync.conflict_words import conflict_line
from server.storage import User
from server.timeutil import utc_iso
from tests.client_sync.app.test_abf_pages import on_store, text
from tests.conftest import beneficiary, visit


def sync(field) -> list[str]:
    field.post("/sinkron", page="/")
    state = field.app.extensions["pendamping_app"]
    state.sync.join(timeout=30)
    return state.sync.snapshot().lines


def recent() -> str:
    return (datetime.now().astimezone() - timedelta(days=3)).replace(microsecond=0).isoformat()


def test_a_new_laptop_s_beranda_says_there_is_nothing_yet(field):
    field.unlock()
    page = text(field.get("/"))
    assert "Belum ada penerima manfaat dengan program di laptop ini." in page
    assert "Tidak ada kunjungan yang dikembalikan." in page
    assert "Tidak ada perubahan yang menunggu." in page
    assert "Belum pernah sinkron." in page and "Tidak ada konflik terbuka." in page


def test_beranda_after_a_day_with_the_office_and_another_laptop(
    field, laptops, hub_app, hub_storage
):
    field.unlock()

    def seed(store) -> dict[str, str]:
        ids = {
            "ani": store.add("beneficiary", beneficiary(name="Ani Lestari", nik=None)),
            "budi": store.add("beneficiary", beneficiary(name="Budi Santoso", nik=None, sex="L")),
            "cici": store.add(
                "beneficiary", beneficiary(name="Cici Paramita", nik=None, programs=["KAJ"])
            ),
            "dedi": store.add("beneficiary", beneficiary(name="Dedi Kurnia", nik=None, sex="L")),
        }
        ids["visit"] = store.add("visit", visit(ids["dedi"], visited_at=recent()))
        return ids

    ids = on_store(field, seed)
    assert "Sinkron selesai" in " ".join(sync(field))

    # the office returns Dedi's visit; another laptop changes Ani's phone meanwhile
    hub_storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
    kasi = hub_storage.get_user("kasi")
    hub_app.extensions["pendamping"].reviews.send_back(kasi, [ids["visit"]], "Foto rumah buram.")
    budi = laptops.enroll("budi")
    budi.sync()
    budi.store.update("beneficiary", ids["ani"], {"phone": "0811-1111-1111"})
    budi.sync()
    budi.close()
    on_store(field, lambda s: s.update("beneficiary", ids["ani"], {"phone": "0822-2222-2222"}))
    sync(field)
    on_store(field, lambda s: s.update("beneficiary", ids["budi"], {"address": "Jl. Melati 3"}))

    page = text(field.get("/"))
    # due: KLJ Ani and Budi (Dedi was visited 3 days ago), KAJ Cici; each linked
    assert re.search(r"<strong>KLJ</strong></a>: 2 orang", page)
    assert re.search(r"<strong>KAJ</strong></a>: 1 orang", page)
    klj = page.split('data-program="KLJ"')[1].split("</ul>")[0]
    assert re.findall(r'href="/penerima/([^"]+)">([^<]+)<', klj) == [
        (ids["ani"], "Ani Lestari"),
        (ids["budi"], "Budi Santoso"),
    ]
    assert "belum pernah dikunjungi" in klj
    # returned by the office, with its reason, linked to the visit
    returned = page.split('id="returned"')[1].split("</section>")[0]
    assert f'href="/kunjungan/{ids["visit"]}"' in returned
    assert "Dedi Kurnia" in returned and "Foto rumah buram." in returned
    # one change waits: Budi's address, tersimpan di laptop
    waiting = page.split('id="waiting"')[1].split("</section>")[0]
    assert "Budi Santoso" in waiting and "place-tersimpan" in waiting
    assert "Foto menunggu dikirim: 0" in waiting
    # the last sync and its outcome
    assert re.search(r'id="last-sync">.*?berhasil', page, re.S)
    # the conflict on sari's own change, in the CLI's words, linked to Konflik
    [conflict] = on_store(field, lambda s: s.conflicts())
    words = page.split('id="conflicts"')[1].split("</section>")[0]
    assert "berlaku" in words and "0822-2222-2222" in words and "0811-1111-1111" in words
    assert f'href="/penerima/{ids["ani"]}">Ani Lestari' in words
    assert 'href="/konflik"' in words

    listed = text(field.get("/konflik"))
    line = conflict_line(conflict)
    number, kind, body = re.match(r"#(\d+) \[([^\]]+)\] \S+ — (.*) — terbuka", line).groups()
    assert f"<td>{number}</td>" in listed and f"<td>{kind}</td>" in listed
    assert body.replace("'", "&#39;") in listed and "<td>terbuka</td>" in listed

    due = text(field.get("/perlu-dikunjungi?program=KAJ"))
    assert f'href="/penerima/{ids["cici"]}">Cici Paramita' in due
    assert "Ani Lestari" not in due


def test_konflik_says_so_when_there_is_none(field):
    field.unlock()
    assert "Tidak ada konflik terbuka." in text(field.get("/konflik"))
    assert "Tidak ada konflik." in text(field.get("/konflik?semua=1"))
