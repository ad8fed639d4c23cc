"""`pendamping enroll` as a new user types it: a short passphrase, an address without http://.

The passphrase prompts run in a real process on a real terminal (a pseudo-terminal), since
what matters is what the person at the keyboard sees and whether they are asked again.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.cli import main
from client_sync.device import STORE_FILE
from client_sync.errors import InvalidHubUrl
from client_sync.hub_url import HubUrl, parse_hub_url

LONG_ENOUGH = "kopi-tubruk-2026"


@pytest.fixture(autouse=True)
def no_passphrase_in_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)
    monkeypatch.setenv("PENDAMPING_RETRIES", "0")
    monkeypatch.setenv("PENDAMPING_TIMEOUT", "2,10")


def run(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# -- the passphrase ---------------------------------------------------------------------------


class Terminal:
    """A child process on a pseudo-terminal: read what it shows, type into it."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        import pty

        self.master, slave = pty.openpty()
        # A session of its own: the pseudo-terminal is its only terminal.
        self.process = subprocess.Popen(
            command, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
        )
        os.close(slave)
        self.seen = ""

    def expect(self, text: str, timeout: float = 30) -> str:
        """Read until `text` has appeared since the last call; :returns: what was read."""
        deadline = time.monotonic() + timeout
        while text not in self.seen:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self.master], [], [], max(left, 0))
            if not ready:
                raise AssertionError(f"{text!r} not shown; the terminal shows {self.seen!r}")
            try:
                chunk = os.read(self.master, 4096)
            except OSError:  # the child closed the terminal
                chunk = b""
            if not chunk:
                raise AssertionError(f"{text!r} not shown before exit: {self.seen!r}")
            self.seen += chunk.decode("utf-8", "replace")
        shown, _, self.seen = self.seen.partition(text)
        return shown + text

    def type(self, line: str) -> None:
        os.write(self.master, line.encode() + b"\r")

    def finish(self, timeout: float = 60) -> tuple[int, str]:
        """Wait for the exit; :returns: the exit code and the rest of the output."""
        rest = self.seen
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(self.master, 4096)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                rest += chunk.decode("utf-8", "replace")
            elif self.process.poll() is not None:
                break
        code = self.process.wait(timeout=max(deadline - time.monotonic(), 1))
        os.close(self.master)
        return code, rest


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_short_or_mistyped_passphrase_is_asked_again_saying_why(live_hub, add_user, tmp_path):
    home = tmp_path / "laptop-siti"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENDAMPING_")}
    terminal = Terminal(
        [
            sys.executable,
            "-m",
            "client_sync.cli",
            "--home",
            str(home),
            "enroll",
            live_hub,
            add_user("siti"),
        ],
        {**env, "PENDAMPING_RETRIES": "0"},
    )
    try:
        terminal.expect("Kata sandi penyimpanan baru: ")
        terminal.type("pendek")
        shown = terminal.expect("Kata sandi penyimpanan baru: ")
        assert "minimal 8 karakter" in shown and "Coba lagi" in shown
        terminal.type(LONG_ENOUGH)
        terminal.expect("Ulangi kata sandi: ")
        terminal.type(LONG_ENOUGH + "x")
        shown = terminal.expect("Kata sandi penyimpanan baru: ")
        assert "tidak sama" in shown
        terminal.type(LONG_ENOUGH)
        terminal.expect("Ulangi kata sandi: ")
        terminal.type(LONG_ENOUGH)
        code, rest = terminal.finish()
    finally:
        if terminal.process.poll() is None:
            terminal.process.kill()
    assert code == 0, rest
    assert "Laptop terdaftar" in rest
    assert "Error" not in rest and "Traceback" not in rest
    with FieldDevice.open(home, passphrase=LONG_ENOUGH) as dev:
        assert dev.store.identity.user == "siti"


def test_a_short_passphrase_from_the_environment_is_one_line_naming_it(
    live_hub, add_user, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", "pendek")

    code, _out, err = run(capsys, "--home", tmp_path / "a", "enroll", live_hub, add_user("ani"))

    assert code == 2
    assert (
        err == "PENDAMPING_PASSPHRASE terlalu pendek: kata sandi penyimpanan minimal 8 karakter.\n"
    )
    assert not (tmp_path / "a" / STORE_FILE).exists()


# -- the hub's address ------------------------------------------------------------------------


def test_an_ip_address_without_http_is_taken_as_http_and_said_so(
    live_hub, add_user, tmp_path, capsys, monkeypatch
):
    monkeypatch.setenv("PENDAMPING_PASSPHRASE", LONG_ENOUGH)
    typed = live_hub.removeprefix("http://")  # 127.0.0.1:PORT

    code, out, err = run(capsys, "--home", tmp_path / "a", "enroll", typed, add_user("ani"))

    assert code == 0, err
    assert err == f"Alamat hub ditulis tanpa http://; dipakai {live_hub}.\n"
    assert f"Laptop terdaftar di {live_hub} " in out
    with FieldDevice.open(tmp_path / "a", passphrase=LONG_ENOUGH) as dev:
        assert dev.store.identity.hub_url == live_hub


def test_a_name_without_http_is_refused_before_any_passphrase_is_asked(tmp_path, capsys):
    code, out, err = run(capsys, "--home", tmp_path / "a", "enroll", "hub.dinsos.go.id", "K7QM")

    assert (code, out) == (2, "")
    [line] = err.splitlines()
    assert "'hub.dinsos.go.id'" in line and "https://hub.dinsos.go.id" in line
    assert "tidak dapat dihubungi" not in line and "PENDAMPING_PASSPHRASE" not in line
    assert not (tmp_path / "a").exists()


@pytest.mark.parametrize(
    ("typed", "url", "assumed"),
    [
        ("http://127.0.0.1:5000/", "http://127.0.0.1:5000", False),
        ("https://hub.dinsos.go.id", "https://hub.dinsos.go.id", False),
        ("HTTPS://hub.dinsos.go.id/", "HTTPS://hub.dinsos.go.id", False),
        ("127.0.0.1:5000", "http://127.0.0.1:5000", True),
        (" 192.168.1.10:5000 ", "http://192.168.1.10:5000", True),
        ("localhost:5000", "http://localhost:5000", True),
        ("[::1]:5000", "http://[::1]:5000", True),
    ],
)
def test_usable_hub_addresses(typed: str, url: str, assumed: bool):
    assert parse_hub_url(typed) == HubUrl(url, assumed)


@pytest.mark.parametrize(
    "typed", ["hub.dinsos.go.id", "hub.dinsos.go.id:5000", "ftp://hub", "http://", "", "hub:abc"]
)
def test_unusable_hub_addresses_name_what_was_typed(typed: str):
    with pytest.raises(InvalidHubUrl) as refused:
        parse_hub_url(typed)
    assert repr(typed) in str(refused.value) and "https://" in str(refused.value)


def test_the_python_api_assumes_nothing(tmp_path):
    with pytest.raises(InvalidHubUrl):
        FieldDevice.enroll(tmp_path / "a", "127.0.0.1:5000", "K7QM", passphrase="")
    assert not (tmp_path / "a").exists()
