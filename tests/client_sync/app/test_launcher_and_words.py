"""The one-click launcher's files, the app's English catalogue, the language switch, and a
bug shown as a plain page."""

from __future__ import annotations

import shlex
import stat
from pathlib import Path

from babel.messages.pofile import read_po
from click.testing import CliRunner

from client_sync.app import catalogue
from client_sync.app.i18n import TRANSLATIONS
from client_sync.app.launcher import desktop_entry, windows_cmd, write_launchers
from client_sync.cli import cli


def test_the_linux_launcher_runs_this_python_on_this_home(tmp_path: Path):
    user = tmp_path / "user"
    (user / "Desktop").mkdir(parents=True)
    home = tmp_path / "data dengan spasi"
    written = write_launchers(home, "/opt/py/bin/python3", "linux", user, env={})
    assert written == [
        user / ".local" / "share" / "applications" / "pendamping.desktop",
        user / "Desktop" / "pendamping.desktop",
    ]
    text = written[0].read_text(encoding="utf-8")
    assert text == written[1].read_text(encoding="utf-8")
    assert text.startswith("[Desktop Entry]\n") and "Type=Application\n" in text
    assert "Terminal=false\n" in text and "Name=Pendamping\n" in text
    [exec_line] = [line for line in text.splitlines() if line.startswith("Exec=")]
    argv = shlex.split(exec_line.removeprefix("Exec="))
    assert argv == ["/opt/py/bin/python3", "-m", "client_sync.cli", "--home", str(home), "app"]
    assert written[0].stat().st_mode & stat.S_IXUSR


def test_without_a_desktop_folder_only_the_menu_entry_is_written(tmp_path: Path):
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    written = write_launchers(tmp_path / "h", "/usr/bin/python3", "linux", tmp_path, env=env)
    assert written == [tmp_path / "xdg" / "applications" / "pendamping.desktop"]


def test_the_desktop_entry_quotes_what_the_spec_reserves():
    text = desktop_entry("/usr/bin/python3", Path('/home/a/data "x" $HOME 100%'))
    assert (
        'Exec=/usr/bin/python3 -m client_sync.cli --home "/home/a/data \\"x\\" \\$HOME 100%%" app'
        in text
    )


def test_the_windows_launcher_is_a_cmd_that_starts_pythonw_on_this_home():
    text = windows_cmd(r"C:\Python313\python.exe", Path(r"C:\Users\sari\AppData\Local\pendamping"))
    assert text == (
        "@echo off\r\n"
        'start "" "C:\\Python313\\pythonw.exe" "-m" "client_sync.cli" "--home" '
        '"C:\\Users\\sari\\AppData\\Local\\pendamping" "app"\r\n'
    )
    assert '"100%%"' in windows_cmd("py.exe", Path("100%"))


def test_the_windows_launchers_go_to_the_desktop_and_the_start_menu(tmp_path: Path):
    env = {"USERPROFILE": str(tmp_path / "sari"), "APPDATA": str(tmp_path / "roam")}
    written = write_launchers(tmp_path / "h", r"C:\py\python.exe", "win32", tmp_path, env=env)
    assert written == [
        tmp_path / "sari" / "Desktop" / "Pendamping.cmd",
        tmp_path / "roam" / "Microsoft" / "Windows" / "Start Menu" / "Programs" / "Pendamping.cmd",
    ]
    assert written[0].read_bytes().count(b"\r\n") == 2


def test_pendamping_app_launcher_writes_and_names_the_files(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "share"))
    done = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "app", "launcher"])
    assert done.exit_code == 0, done.output
    assert f"Pintasan dibuat: {tmp_path / 'share' / 'applications' / 'pendamping.desktop'}" in (
        done.output
    )


def test_every_string_of_the_app_has_its_english_and_nothing_stale():
    template = catalogue.extract()
    with (TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        english = read_po(po, locale="en")
    wanted = {m.id for m in template if m.id}
    held = {m.id: m for m in english if m.id}
    assert wanted - set(held) == set(), "run python -m client_sync.app.catalogue and translate"
    assert set(held) - wanted == set(), "stale entries: run python -m client_sync.app.catalogue"
    untranslated = [m.id for m in held.values() if m.fuzzy or not m.string]
    assert untranslated == []


def test_the_language_switch_is_kept_in_a_strict_cookie(field):
    field.unlock()
    english = field.get("/?lang=en")
    cookie = english.headers["Set-Cookie"]
    assert "pendamping_app_lang=en" in cookie and "SameSite=Strict" in cookie
    assert "<h1>Home</h1>" in english.get_data(as_text=True)
    page = field.get("/").get_data(as_text=True)
    assert "Waiting to be sent: 0 changes, 0 photos" in page and 'href="/?lang=id"' in page
    assert "<h1>Beranda</h1>" in field.get("/?lang=id").get_data(as_text=True)


def test_a_bug_in_a_page_is_a_plain_page_without_a_trace(field, monkeypatch):
    import client_sync.app.pages.beranda as beranda

    def broken():
        raise RuntimeError("rahasia dalam")

    field.unlock()
    monkeypatch.setattr(beranda, "status_strip", broken)
    failed = field.get("/")
    page = failed.get_data(as_text=True)
    assert failed.status_code == 500 and "Terjadi kesalahan" in page
    assert "rahasia dalam" not in page and "Traceback" not in page
