"""Nothing typed is lost to the idle lock: a form (or an autosave) sent after the app locked
itself is kept in memory, and becomes the form's draft as soon as the store is unlocked."""

from __future__ import annotations

import re

from tests.client_sync.app.conftest import BASE, PASSPHRASE, Field, csrf_of
from tests.client_sync.app.test_penerima import _new, in_store

_DRAFT_ID = re.compile(r'name="draft_id" value="([^"]+)"')


def test_a_form_sent_after_the_idle_lock_comes_back_as_its_draft(field: Field):
    field.unlock()
    page = field.get("/penerima/baru")
    token = csrf_of(page)
    draft_id = _DRAFT_ID.search(page.get_data(as_text=True)).group(1)
    assert 'name="draft_kind" value="beneficiary"' in page.get_data(as_text=True)
    field.clock.now += 16 * 60  # the pendamping typed for 16 minutes without JS
    sent = field.client.post(
        "/penerima/baru",
        base_url=BASE,
        data={
            "csrf_token": token,
            "draft_id": draft_id,
            "draft_kind": "beneficiary",
            "draft_record": "",
            **_new(name="Ibu Lama Mengetik"),
        },
        headers={"Referer": f"{BASE}/penerima/baru"},
    )
    assert sent.status_code == 303 and sent.headers["Location"].startswith("/buka")
    back = field.post("/buka", {"passphrase": PASSPHRASE, "next": "/penerima/baru"})
    assert back.status_code == 303
    assert f"draft={draft_id}" in back.headers["Location"]
    kept = in_store(field, lambda store: store.drafts.get(draft_id))
    assert kept.kind == "beneficiary" and kept.fields["name"] == "Ibu Lama Mengetik"
    resumed = field.get(back.headers["Location"]).get_data(as_text=True)
    assert 'value="Ibu Lama Mengetik"' in resumed


def test_an_autosave_sent_after_the_idle_lock_is_kept_too(field: Field):
    field.unlock()
    token = csrf_of(field.get("/penerima/baru"))
    field.clock.now += 16 * 60
    sent = field.client.post(
        "/draf/simpan",
        base_url=BASE,
        json={
            "draft_id": "d-lock-1",
            "kind": "beneficiary",
            "record_id": None,
            "fields": {"name": "Ketik Setelah Kunci"},
            "seq": 5,
        },
        headers={"X-CSRFToken": token},
    )
    assert sent.status_code != 200  # locked: not saved now
    back = field.post("/buka", {"passphrase": PASSPHRASE})
    assert "draft=d-lock-1" in back.headers["Location"]
    kept = in_store(field, lambda store: store.drafts.get("d-lock-1"))
    assert kept.fields == {"name": "Ketik Setelah Kunci"}


def test_a_form_without_a_draft_sent_after_the_lock_is_not_kept(field: Field):
    field.unlock()
    token = csrf_of(field.get("/sinkron"))
    field.clock.now += 16 * 60
    field.client.post("/sinkron", base_url=BASE, data={"csrf_token": token})
    back = field.post("/buka", {"passphrase": PASSPHRASE, "next": "/sinkron"})
    assert back.headers["Location"] == "/sinkron"
    assert in_store(field, lambda store: store.drafts.count()) == 0


def test_a_save_while_a_sync_round_writes_on_its_own_connection_waits_and_lands(field: Field):
    """The round's second FieldDevice holds the write lock (a pulled page being stored)
    while the pendamping saves: the save waits for it (the busy timeout) and is kept."""
    import threading
    import time

    from client_sync.device import FieldDevice

    field.unlock()
    page = field.get("/penerima/baru")
    token = csrf_of(page)
    draft_id = _DRAFT_ID.search(page.get_data(as_text=True)).group(1)
    holding, release = threading.Event(), threading.Event()

    def round_writes() -> None:
        with FieldDevice.open(field.home, passphrase=PASSPHRASE) as dev, dev.store.transaction():
            holding.set()
            release.wait(5)

    thread = threading.Thread(target=round_writes)
    thread.start()
    assert holding.wait(10)
    threading.Timer(1.0, release.set).start()
    started = time.monotonic()
    sent = field.client.post(
        "/penerima/baru",
        base_url=BASE,
        data={"csrf_token": token, "draft_id": draft_id, **_new(name="Saat Sinkron")},
    )
    thread.join(10)
    assert time.monotonic() - started >= 0.9  # it waited for the round's write
    assert sent.status_code == 303 and "/penerima/" in sent.headers["Location"]
    names = in_store(field, lambda s: [b["name"] for b in s.list("beneficiary")])
    assert "Saat Sinkron" in names
    assert in_store(field, lambda s: s.drafts.count()) == 0
