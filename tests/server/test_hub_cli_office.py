"""`pendamping-hub review` and `pendamping-hub request` (server/cli/office.py); their docs in
docs/cli.md are checked by test_hub_cli_docs.py like every hub command's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from server.storage import User
from server.timeutil import utc_iso
from tests.conftest import beneficiary, visit

pytestmark = pytest.mark.both_backends

DELIVER_BAD_PHOTO = ("--date", "2026-01-05", "--received-by", "Sri", "--photo", "/no/such.jpg")
DELIVER_BAD_PHOTO += ("--as", "kasi")
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(range(256)) * 4


@pytest.fixture
def data_dir(hub_app) -> Path:
    """The CLI works on the in-process hub's own data folder (one SQLite file)."""
    return Path(hub_app.config["DATA_DIR"])


@pytest.fixture
def siti(laptops, hub_storage):
    hub_storage.add_user(User("kasi", "supervisor", ("31.71",)), utc_iso())
    return laptops.enroll("siti")


def test_review_from_the_terminal_acts_as_the_named_supervisor(hub, siti, hub_storage):
    bid = siti.store.add("beneficiary", beneficiary())
    vids = [siti.store.add("visit", visit(bid)) for _ in range(2)]
    siti.sync()

    returned = hub("review", "return", vids[0], "--reason", "Foto kurang jelas.", "--as", "kasi")
    accepted = hub("review", "accept", *vids, "--as", "kasi", "--json")

    assert returned.code == 0
    assert returned.out.startswith("Dikembalikan ke pendamping: 1 kunjungan (seq ")
    assert accepted.code == 0
    assert json.loads(accepted.out)["written"] == vids
    [entry] = hub_storage.iter_audit(newest=1)
    assert entry.actor == "kasi" and json.loads(entry.detail)["via"].startswith("cli:")


def test_review_ids_can_come_from_a_file(hub, siti, tmp_path):
    bid = siti.store.add("beneficiary", beneficiary())
    vids = [siti.store.add("visit", visit(bid)) for _ in range(3)]
    siti.sync()
    listing = tmp_path / "ids.txt"
    listing.write_text("\n".join(vids) + "\n\n", encoding="utf-8")
    done = hub("review", "accept", "--ids-from", str(listing), "--as", "kasi", "--json")
    assert json.loads(done.out)["written"] == vids


@pytest.mark.parametrize(
    ("args", "code", "words"),
    [
        (("review", "return", "{vid}", "--as", "kasi"), 2, "--reason"),
        (("review", "return", "{vid}", "--reason", " ", "--as", "kasi"), 1, "Wajib diisi"),
        (("review", "accept", "{vid}", "--as", "nobody"), 1, "Pengguna nobody tidak ada."),
        (("review", "accept", "--as", "kasi"), 2, "VISIT_ID"),
        (("review", "accept", "bukan-id", "--as", "kasi"), 1, "Bukan id yang sah"),
        (("request", "approve", "{rid}", "--as", "kasi"), 1, "diajukan → disetujui"),
        (("request", "approve", "{rid}", "--as", "siti"), 1, "Peran pendamping"),
        (("request", "reject", "{rid}", "--as", "kasi"), 2, "--reason"),
        (
            ("request", "deliver", "{rid}", *DELIVER_BAD_PHOTO),
            2,
            "--photo",
        ),
    ],
)
def test_a_refusal_is_one_line_with_its_exit_code_and_writes_nothing(
    hub, siti, hub_storage, args, code, words
):
    bid = siti.store.add("beneficiary", beneficiary())
    vid = siti.store.add("visit", visit(bid))
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "kursi_roda"})
    siti.sync()
    before = hub_storage.stats()["changes"], len(list(hub_storage.iter_audit()))

    run = hub(*[a.format(vid=vid, rid=rid) for a in args])

    assert run.code == code, run.err
    assert words in run.err
    assert len(run.err.strip().splitlines()) == 1 and "Traceback" not in run.err
    assert (hub_storage.stats()["changes"], len(list(hub_storage.iter_audit()))) == before


def test_a_request_is_moved_delivered_and_its_history_read_from_the_terminal(hub, siti, tmp_path):
    bid = siti.store.add("beneficiary", beneficiary())
    rid = siti.store.add("device_request", {"beneficiary_id": bid, "device_type": "kursi_roda"})
    siti.sync()
    photo = tmp_path / "serah.jpg"
    photo.write_bytes(JPEG)
    assert hub("request", "verify", rid, "--as", "kasi").code == 0
    approved = hub("request", "approve", rid, "--as", "kasi")
    assert approved.out.startswith(f"Permohonan {rid}: disetujui (seq ")
    delivered = hub(
        "request", "deliver", rid, "--date", "2026-01-05", "--received-by", "Ibu Sri",
        "--photo", str(photo), "--as", "kasi", "--json",
    )  # fmt: skip
    assert json.loads(delivered.out)["status"] == "diserahkan"

    history = hub("request", "history", rid, "--as", "kasi")
    lines = history.out.splitlines()
    assert lines[0] == f"Permohonan {rid}: diserahkan"
    assert "diajukan → diverifikasi  oleh kasi (hub)" in history.out
    assert "Perubahan diterima hub: 4" in history.out
