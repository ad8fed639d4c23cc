"""A pull into the encrypted store cut half way resumes with nothing lost and nothing doubled.

Pulled pages are committed with ``synchronous = NORMAL`` and the next page is fetched while
one is written; what makes that safe is that each page's records and the cursor past them
commit in one transaction, so whatever a kill or a cut costs is pulled again. The laptop runs
in its own process and is killed once its store holds part of the pull; or its link is cut
between pages.
"""

from __future__ import annotations

import contextlib
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from client_sync import FieldDevice, database
from client_sync.device import STORE_FILE
from client_sync.errors import LinkDropped
from client_sync.transport import HttpTransport, default_retry
from tests.conftest import beneficiary, visit

pytestmark = [pytest.mark.e2e, pytest.mark.both_backends]

PASSPHRASE = "kunci-tarik-2026"
VISITS = 600
PAGE = 20  # records a page: 31 pages, so a kill lands between the first and the last


def quick(url: str) -> HttpTransport:
    return HttpTransport(url, timeout=(2.0, 10.0), retry=default_retry(1))


def enrolled(hub_process, tmp_path: Path, name: str, passphrase: str = "") -> FieldDevice:
    hub_process.cli("user", "add", name, "--role", "pendamping", "--wilayah", "31.71.01")
    code = hub_process.cli("enroll-code", name).split()[-1]
    return FieldDevice.enroll(
        tmp_path / f"laptop-{name}",
        hub_process.url,
        code,
        f"laptop-{name}",
        transport_factory=quick,
        passphrase=passphrase,
    )


@pytest.fixture
def district(hub_process, tmp_path) -> set[str]:
    """The served hub holding one beneficiary and VISITS visits; :returns: their ids."""
    hub_process.start()
    with enrolled(hub_process, tmp_path, "siti") as siti:
        bid = siti.store.add("beneficiary", beneficiary())
        for n in range(VISITS):
            siti.store.add("visit", visit(bid, findings=f"kunjungan ke-{n}"))
        siti.sync()
        return {bid} | {v["id"] for v in siti.store.list("visit")}


def held(home: Path) -> tuple[int, list[str]]:
    """(the pull cursor, the ids of the pulled copies) of an encrypted laptop store."""
    conn = database.connect(home / STORE_FILE, PASSPHRASE)
    try:
        cursor = conn.execute("SELECT value FROM meta WHERE key = 'pull_cursor'").fetchone()
        ids = [row[0] for row in conn.execute("SELECT id FROM pulled")]
    finally:
        conn.close()
    return int(cursor[0]) if cursor else 0, ids


def kill_when_pulled(home: Path, enough: int, kill) -> threading.Thread:
    """Kill the laptop once its store's cursor has passed `enough` (watched in its file)."""

    def watch() -> None:
        conn = database.connect(home / STORE_FILE, PASSPHRASE)  # one key derivation
        deadline = time.monotonic() + 60
        with contextlib.closing(conn):
            while time.monotonic() < deadline:
                row = conn.execute("SELECT value FROM meta WHERE key = 'pull_cursor'").fetchone()
                if row and int(row[0]) >= enough:
                    kill()
                    return
                time.sleep(0.002)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_killing_the_laptop_mid_pull_loses_and_doubles_nothing(hub_process, tmp_path, district):
    budi = enrolled(hub_process, tmp_path, "budi", PASSPHRASE)
    home = budi.home
    budi.close()
    # The laptop's own process, on a link that takes 30 ms a request: the kill lands mid-pull.
    script = textwrap.dedent(f"""
        import time
        from client_sync import FieldDevice
        from client_sync.transport import HttpTransport

        class Slow(HttpTransport):
            def send(self, *args, **kwargs):
                time.sleep(0.03)
                return super().send(*args, **kwargs)

        device = FieldDevice.open({str(home)!r}, Slow, passphrase={PASSPHRASE!r})
        device.sync(pull_limit={PAGE})
    """)
    laptop = subprocess.Popen([sys.executable, "-c", script], stderr=subprocess.DEVNULL)
    kill_when_pulled(home, enough=len(district) // 3, kill=laptop.kill).join()
    assert laptop.wait(timeout=10) != 0  # killed, not finished

    cursor, before = held(home)
    assert 0 < len(before) < len(district)
    assert len(before) == len(set(before))

    with FieldDevice.open(home, quick, passphrase=PASSPHRASE) as again:
        result = again.sync(pull_limit=PAGE)

    cursor_after, after = held(home)
    assert sorted(after) == sorted(district)  # nothing lost, each once
    assert len(before) + result.pulled == len(district)  # nothing pulled twice
    assert cursor_after > cursor


class CutAfter(HttpTransport):
    """A real transport whose link drops on the `pulls`-th pull request and every one after."""

    def __init__(self, url: str, pulls: int) -> None:
        super().__init__(url, timeout=(2.0, 10.0), retry=default_retry(1))
        self.left = pulls

    def send(self, method, path, **kwargs):
        if path.endswith("/sync/pull"):
            self.left -= 1
            if self.left <= 0:
                raise LinkDropped("Koneksi ke hub terputus (uji).")
        return super().send(method, path, **kwargs)


def test_a_link_cut_between_pages_keeps_the_pages_stored_and_resumes(
    hub_process, tmp_path, district
):
    budi = enrolled(hub_process, tmp_path, "budi", PASSPHRASE)
    home = budi.home
    budi.close()

    with (
        FieldDevice.open(home, lambda url: CutAfter(url, 5), passphrase=PASSPHRASE) as cut,
        pytest.raises(LinkDropped),
    ):
        cut.sync(pull_limit=PAGE)
    _cursor, before = held(home)
    assert len(before) == 4 * PAGE  # the four pages that arrived, the fifth was cut

    with FieldDevice.open(home, quick, passphrase=PASSPHRASE) as again:
        result = again.sync(pull_limit=PAGE)

    _cursor, after = held(home)
    assert sorted(after) == sorted(district)
    assert result.pulled == len(district) - 4 * PAGE
