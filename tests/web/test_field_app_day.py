"""A pendamping's whole day in the field app (issue 13's Proof; docs/field-app.md, "A
pendamping's day"), end to end over real parts: `pendamping-hub serve` as its own process,
`pendamping app --no-browser` as its own process (``python -m client_sync.cli``, waitress
on a free port, exactly as the command starts it), Debian's Chromium through Playwright.

Enrol the laptop from the app (an encrypted store); register a beneficiary (a bad NIK
first, refused under the field with the schema's message); record a visit with a photo;
file an ABF request; stop the hub and keep working (a second visit saved, pages open);
type half a visit, wait for its draft, kill the app process, start it again, unlock, find
the draft and finish it; start the hub again, Sinkron, and see each record *terkirim* with
its receipt time; the office returns a visit (`pendamping-hub review return`), Sinkron, the
visit shows *dikembalikan* with the office's reason; correct it, Sinkron, *terkirim* again.

One browser context for the whole day; a screenshot of every step under the test's tmp dir
(``screens/day-NN-step.png``).
"""

from __future__ import annotations

import os
import queue
import re
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.hub_cli import Run, hub_runner
from tests.support.served_hub import ServedHub, free_port
from tests.web.conftest import VIEWPORT, fits_the_window

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
PASSPHRASE = "kata-sandi-lapangan-hari"
NIK = "3171014508450001"  # a woman born 5 August 1945, of kecamatan 31.71.01
BAD_NIK = "3171013208450001"  # the 32nd of August: no such day
KELURAHAN = "31.71.01.1001"
REASON = "Foto rumah belum ada; lengkapi asesmen mobilitas."
#: a small real JPEG (1x1), as a camera folder holds them
JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300080606070605080707070909080a0c140d0c0b"
    "0b0c1912130f141d1a1f1e1d1a1c1c20242e2720222c231c1c2837292c30313434341f27393d38323c2e3334"
    "32ffc0000b080001000101011100ffc4001f0000010501010101010100000000000000000102030405060708"
    "090a0bffc400b5100002010303020403050504040000017d01020300041105122131410613516107227114"
    "328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748"
    "494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999a"
    "a2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8"
    "e9eaf1f2f3f4f5f6f7f8f9faffda0008010100003f00fbd3ffd9"
)
_ID = re.compile(r"/(?:penerima|kunjungan|abf)/([0-9a-f-]{36})")


class AppProcess:
    """`pendamping --home HOME app --no-browser --port PORT` as its own process: the address
    it prints is read from its output, which a thread drains until it exits."""

    def __init__(self, home: Path, port: int) -> None:
        self.home = home
        self.port = port
        self.process: subprocess.Popen[str] | None = None
        self.drain: threading.Thread | None = None
        self.lines: queue.Queue[str] = queue.Queue()

    def start(self) -> str:
        """Start it; :returns: the secret address it prints (``Buka di peramban: URL``)."""
        command = [sys.executable, "-m", "client_sync.cli", "--home", str(self.home)]
        command += ["app", "--no-browser", "--port", str(self.port)]
        env = {
            **os.environ,
            "PYTHONUNBUFFERED": "1",
            "PENDAMPING_RETRIES": "0",
            "PENDAMPING_TIMEOUT": "2",
        }
        env.pop("PENDAMPING_HOME", None)
        env.pop("PENDAMPING_PASSPHRASE", None)
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,  # this checkout's code, as `python -m` from the project's root
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        lines = self.lines = queue.Queue()
        self.drain = threading.Thread(target=self._drain, args=(self.process, lines), daemon=True)
        self.drain.start()
        said: list[str] = []
        while True:
            try:
                line = lines.get(timeout=30)
            except queue.Empty:
                raise AssertionError(f"the app printed no address: {said}") from None
            said.append(line)
            if line.startswith("Buka di peramban: "):
                return line.split(": ", 1)[1].strip()
            if self.process.poll() is not None and lines.empty():
                raise AssertionError(f"the app exited: {said}")

    @staticmethod
    def _drain(process: subprocess.Popen[str], lines: queue.Queue[str]) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line.rstrip("\n"))

    def kill(self) -> None:
        """End it at once (as a crash or a power cut would), no clean shutdown."""
        if self.process is not None:
            self.process.kill()
            self._ended()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
            self._ended()

    def _ended(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        self.process.wait(timeout=10)
        if self.drain is not None:
            self.drain.join(timeout=5)
        self.process.stdout.close()
        self.process = None


@pytest.fixture
def hub(
    hub_process: ServedHub, capsys: pytest.CaptureFixture[str]
) -> Iterator[tuple[ServedHub, Callable[..., Run], str]]:
    """The served hub with siti (pendamping of 31.71.01) and kasi (the office's supervisor
    of 31.71); yields it, `pendamping-hub` in-process on its data, and siti's code."""
    office = hub_runner(hub_process.data, capsys)
    assert office("user", "add", "siti", "--role", "pendamping", "--wilayah", "31.71.01").code == 0
    assert office("user", "add", "kasi", "--role", "supervisor", "--wilayah", "31.71").code == 0
    code = office("enroll-code", "siti").out.split()[-1]
    hub_process.start()
    yield hub_process, office, code
    hub_process.kill()


@pytest.fixture
def app_process(tmp_path: Path) -> Iterator[AppProcess]:
    made = AppProcess(tmp_path / "laptop-siti", free_port())
    yield made
    made.stop()


def test_a_pendamping_s_whole_day_in_the_field_app(
    browser, hub, app_process: AppProcess, tmp_path: Path
):
    served, office, code = hub
    shots = tmp_path / "screens"
    step = 0
    context = browser.new_context(locale="id-ID", viewport=VIEWPORT)
    context.set_default_timeout(15_000)
    page = context.new_page()

    def shot(name: str) -> None:
        nonlocal step
        step += 1
        fits_the_window(page)
        page.screenshot(path=shots / f"day-{step:02d}-{name}.png", full_page=True)

    def record_id(url: str) -> str:
        found = _ID.search(url)
        assert found, url
        return found.group(1)

    # -- morning: enrol this laptop from the app, with a passphrase for its store ---------------
    page.goto(app_process.start())
    base = f"http://127.0.0.1:{app_process.port}"
    assert page.url.startswith(f"{base}/daftar")
    page.fill("#hub_url", served.url)
    page.fill("#code", code)
    page.fill("#passphrase", PASSPHRASE)
    page.fill("#again", PASSPHRASE)
    shot("enrol")
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/")
    assert page.locator("h1").inner_text() == "Beranda"
    assert "siti · wilayah 31.71.01" in page.locator("header").inner_text()
    shot("beranda-enrolled")

    # -- register a beneficiary: a bad NIK is refused under the field, with the schema's words
    page.goto(f"{base}/penerima/baru")
    page.fill("#nik", BAD_NIK)
    page.fill("#name", "Ibu Sri Wahyuni")
    page.check("input[name=sex][value=P]")
    page.fill("#kelurahan", KELURAHAN)
    page.fill("#address", "Jl. Melati No. 3, RT 02/RW 05")
    page.check("input[name=categories][value=lansia]")
    page.check("input[name=programs][value=KLJ]")
    page.click("button[type=submit].primary")
    message = "Tanggal lahir pada NIK (digit 7-12, DDMMYY) tidak valid."
    page.wait_for_selector("#nik-error")
    assert page.locator("#nik-error").inner_text().strip() == message
    assert page.input_value("#name") == "Ibu Sri Wahyuni"  # what was typed is kept
    shot("nik-refused")
    page.fill("#nik", NIK)
    page.click("button[type=submit].primary")
    page.wait_for_url(re.compile(r"/penerima/[0-9a-f-]{36}"))
    person = record_id(page.url)
    assert "Ibu Sri Wahyuni" in page.locator("h1").inner_text()
    assert "tersimpan di laptop" in page.locator(".place").first.inner_text()
    shot("registered")

    # -- a visit with a photo from a file ---------------------------------------------------
    photo = tmp_path / "rumah-ibu-sri.jpg"
    photo.write_bytes(JPEG)
    page.click(f"a[href='/kunjungan/baru?penerima={person}']")
    page.select_option("#purpose", "monitoring")
    page.fill("#findings", "Ibu Sri sehat; rumah bersih, lantai kamar mandi licin.")
    page.fill("#a_adl_barthel", "15")
    page.select_option("#a_mobilitas", "perlu alat bantu")
    page.set_input_files("#foto", str(photo))
    shot("visit-form-with-photo")
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/kunjungan/[0-9a-f-]{36}"))
    first_visit = record_id(page.url)
    assert page.locator("img[src^='/foto/']").count() == 1
    assert "tersimpan di laptop" in page.locator(".place").first.inner_text()
    shot("visit-saved")

    # -- an ABF request -----------------------------------------------------------------------
    page.goto(f"{base}/penerima/{person}")
    page.click(f"a[href='/abf/baru?penerima={person}']")
    page.select_option("#device_type", "kursi_roda")
    page.fill("#reason", "Tidak dapat berjalan ke luar rumah tanpa bantuan.")
    shot("abf-form")
    page.click("#save-request")
    page.wait_for_url(re.compile(r"/abf/[0-9a-f-]{36}"))
    request = record_id(page.url)
    assert "diajukan" in page.locator("#status-history").inner_text().lower()
    assert "tersimpan di laptop" in page.locator(".place").first.inner_text()
    shot("abf-filed")

    # -- the hub goes away; the day goes on ----------------------------------------------------
    served.stop()
    page.goto(f"{base}/kunjungan/baru?penerima={person}")
    page.select_option("#purpose", "verifikasi")
    page.check("input[name=verification_outcome][value=layak]")
    page.fill("#findings", "Verifikasi bulanan: masih tinggal di alamat yang sama.")
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/kunjungan/[0-9a-f-]{36}"))
    second_visit = record_id(page.url)
    shot("visit-saved-hub-down")
    page.click("button.sync")
    page.wait_for_selector("#round-outcome.message")
    assert "Hub tidak dapat dihubungi" in page.locator("#round-outcome").inner_text()
    shot("sync-hub-down")
    page.goto(f"{base}/penerima?q=sri+wah")
    assert page.locator(f"a[href='/penerima/{person}']").count() >= 1
    shot("search-hub-down")

    # -- half a visit typed, its draft kept, then the app dies ------------------------------
    page.goto(f"{base}/kunjungan/baru?penerima={person}")
    page.select_option("#purpose", "asesmen")
    half = "Asesmen lanjutan: Ibu Sri perlu kursi roda untuk ke puskesmas"
    page.locator("#findings").press_sequentially(half, delay=5)
    status = page.locator("[data-draft-status]")
    page.wait_for_function(
        "el => el.textContent.includes('Draf tersimpan di laptop')", arg=status.element_handle()
    )
    shot("draft-kept")
    app_process.kill()
    page.goto(app_process.start())  # a new start: a new secret, the store locked
    base = f"http://127.0.0.1:{app_process.port}"
    assert page.url.startswith(f"{base}/buka")
    page.fill("#passphrase", PASSPHRASE)
    page.press("#passphrase", "Enter")
    page.wait_for_url(f"{base}/")
    page.goto(f"{base}/draf")
    row = page.locator("table.drafts tbody tr")
    assert row.count() == 1 and "Ibu Sri Wahyuni" in row.inner_text()
    shot("draft-found-after-kill")
    row.locator("a", has_text="Lanjutkan").click()
    page.wait_for_selector("#findings")
    assert page.input_value("#findings") == half
    assert page.input_value("#purpose") == "asesmen"
    page.fill("#findings", half + ". Dicatat setelah aplikasi tertutup.")
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(r"/kunjungan/[0-9a-f-]{36}"))
    third_visit = record_id(page.url)
    page.goto(f"{base}/draf")
    assert page.locator("table.drafts tbody tr").count() == 0
    shot("draft-finished")

    # -- the hub is back: Sinkron, and every record's receipt ------------------------------
    served.start()
    page.goto(f"{base}/")
    waiting = re.search(r"Menunggu dikirim: (\d+) perubahan, 1 foto", page.inner_text(".strip"))
    assert waiting, page.inner_text(".strip")
    changes = int(waiting.group(1))
    assert changes >= 5  # the person, three visits, the request (a photo may be one more)
    page.click("button.sync")
    page.wait_for_selector("#round-outcome")
    outcome = page.locator("#round-outcome").inner_text()
    assert f"Sinkron selesai: {changes} terkirim" in outcome and "0 ditolak" in outcome, outcome
    assert "Menunggu dikirim: 0 perubahan, 0 foto" in page.inner_text(".strip")
    shot("synced")
    page.goto(f"{base}/penerima/{person}")
    places = page.locator(".place")
    assert places.count() >= 5  # the person, three visits, the request
    for n in range(places.count()):
        text = places.nth(n).inner_text()
        assert "terkirim" in text and re.search(r"\d{1,2}[.:]\d{2}", text), text
    shot("each-record-terkirim")
    for n, address in enumerate(
        (
            f"/kunjungan/{first_visit}",
            f"/kunjungan/{second_visit}",
            f"/kunjungan/{third_visit}",
            f"/abf/{request}",
        )
    ):
        page.goto(base + address)
        text = page.locator(".place").first.inner_text()
        assert "terkirim" in text and re.search(r"\d{1,2}[.:]\d{2}", text), (address, text)
        if n == 0:
            shot("visit-terkirim-receipt")
    shot("request-terkirim-receipt")

    # -- the office returns a visit; it comes back, is corrected and goes again -----------
    returned = office("review", "return", first_visit, "--reason", REASON, "--as", "kasi")
    assert returned.code == 0, returned.err
    page.goto(f"{base}/")
    page.click("button.sync")
    page.wait_for_selector("#round-outcome")
    assert "Sinkron selesai" in page.locator("#round-outcome").inner_text()
    page.goto(f"{base}/")
    assert REASON in page.locator("main").inner_text()
    shot("beranda-returned")
    page.goto(f"{base}/kunjungan/{first_visit}")
    place = page.locator(".place").first.inner_text()
    assert "dikembalikan" in place and REASON in place, place
    shot("visit-returned")
    page.fill("#findings", "Ibu Sri sehat; foto rumah sudah dilampirkan, mobilitas dinilai.")
    page.select_option("#a_risiko_jatuh", "tinggi")
    page.click("form button[type=submit].primary")
    page.wait_for_url(re.compile(rf"/kunjungan/{first_visit}\?"))
    assert "tersimpan di laptop" in page.locator(".place").first.inner_text()
    shot("visit-corrected")
    page.click("button.sync")
    page.wait_for_selector("#round-outcome")
    assert "Sinkron selesai: 1 terkirim" in page.locator("#round-outcome").inner_text()
    page.goto(f"{base}/kunjungan/{first_visit}")
    place = page.locator(".place").first.inner_text()
    assert "terkirim" in place and "dikembalikan" not in place, place
    shot("visit-corrected-terkirim")
    context.close()
