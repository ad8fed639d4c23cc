"""The terminal progress line of a sync round, and `pendamping sync` drawing it."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from client_sync import FieldDevice
from client_sync.cli import home as cli_home
from client_sync.cli import main
from client_sync.progress import TerminalProgress, describe
from tests.conftest import beneficiary
from tests.support.transports import WsgiTransport


class FakeTty(io.StringIO):
    """A terminal that remembers what was drawn."""

    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.parametrize(
    ("phase", "done", "total", "line"),
    [
        ("kirim", 4000, 10_000, "Mengirim 4.000/10.000 perubahan (40%)…"),
        ("kirim", 10_000, 10_000, "Mengirim 10.000/10.000 perubahan (100%)…"),
        ("kirim", 7, 0, "Mengirim 7 perubahan…"),
        ("terima", 2500, 0, "Menerima 2.500 data…"),
        ("terima", 1_250_000, 0, "Menerima 1.250.000 data…"),
        ("foto", 1_258_291, 5 * 1024 * 1024, "Mengirim foto 1,2/5,0 MB…"),
        ("foto", 524_288, 0, "Mengirim foto 0,5 MB…"),
    ],
)
def test_each_phase_reads_as_indonesian_with_dots_for_thousands(phase, done, total, line):
    assert describe(phase, done, total) == line


def test_a_percentage_never_claims_100_before_the_end():
    assert describe("kirim", 9_999, 10_000).endswith("(99%)…")


def test_a_terminal_gets_one_line_redrawn_in_place():
    tty = FakeTty()
    progress = TerminalProgress(tty, clock=Clock())
    progress("kirim", 4000, 10_000)
    assert tty.getvalue() == "\rMengirim 4.000/10.000 perubahan (40%)…"


def test_redraws_are_limited_to_about_five_a_second():
    tty, clock = FakeTty(), Clock()
    progress = TerminalProgress(tty, clock=clock)
    for step in range(100):  # 100 batches in one second
        clock.now = step / 100
        progress("kirim", step, 1000)
    assert 4 <= tty.getvalue().count("\r") <= 6


def test_the_last_step_and_a_new_phase_are_always_drawn():
    tty, clock = FakeTty(), Clock()
    progress = TerminalProgress(tty, clock=clock)
    progress("kirim", 1, 2)
    progress("kirim", 2, 2)  # at once, but the end of the phase
    progress("terima", 1000, 0)  # at once, but a new phase
    drawn = tty.getvalue().split("\r")[1:]
    assert [d.rstrip() for d in drawn] == [
        "Mengirim 1/2 perubahan (50%)…",
        "Mengirim 2/2 perubahan (100%)…",
        "Menerima 1.000 data…",
    ]


def test_a_shorter_line_blanks_what_the_longer_one_left():
    tty = FakeTty()
    progress = TerminalProgress(tty, clock=Clock())
    progress("kirim", 4000, 10_000)
    progress("terima", 5, 0)
    last = tty.getvalue().split("\r")[-1]
    assert last.startswith("Menerima 5 data…")
    assert len(last) == len("Mengirim 4.000/10.000 perubahan (40%)…")


def test_closing_erases_the_line_so_the_result_starts_clean():
    tty = FakeTty()
    with TerminalProgress(tty, clock=Clock()) as progress:
        progress("terima", 2500, 0)
    width = len("Menerima 2.500 data…")
    assert tty.getvalue().endswith("\r" + " " * width + "\r")


def test_closing_without_drawing_writes_nothing():
    tty = FakeTty()
    TerminalProgress(tty).close()
    assert tty.getvalue() == ""


@pytest.mark.parametrize("stream", [io.StringIO(), None])
def test_a_pipe_a_file_or_no_stream_at_all_get_nothing(stream):
    progress = TerminalProgress(stream)
    assert not progress.active
    progress("kirim", 1, 2)
    progress.close()
    assert stream is None or stream.getvalue() == ""


def test_a_terminal_that_cannot_take_the_line_turns_progress_off_not_the_round():
    class Broken(FakeTty):
        def write(self, text: str) -> int:
            raise UnicodeEncodeError("cp437", text, 0, 1, "no ellipsis here")

    progress = TerminalProgress(Broken())
    progress("kirim", 1, 2)  # no exception
    assert not progress.active


# -- `pendamping sync` on a terminal ---------------------------------------------------------


@pytest.fixture
def queued_home(hub_app, add_user, tmp_path: Path, monkeypatch) -> Path:
    """A laptop with three changes queued; `pendamping` reaches the in-process hub."""
    in_process = lambda _url: WsgiTransport(hub_app)  # noqa: E731
    monkeypatch.setattr(cli_home, "transport_factory", lambda *_args: in_process)
    home = tmp_path / "home-siti"
    with FieldDevice.enroll(home, "http://hub.test", add_user("siti"), "l", in_process) as dev:
        for n in range(3):
            dev.store.add(
                "beneficiary", beneficiary(name=f"Ibu {n}", nik=f"317101450845000{n + 1}")
            )
    return home


def test_sync_on_a_terminal_shows_progress_then_a_clean_result(queued_home, monkeypatch, capsys):
    tty = FakeTty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["--home", str(queued_home), "sync"]) == 0
    drawn = tty.getvalue()
    assert "\rMengirim 3/3 perubahan (100%)…" in drawn
    assert "\rMenerima " in drawn  # how many depends on what the hub echoes back
    assert drawn.endswith("\r")  # erased before the result line
    assert "Sinkron selesai: 3 terkirim" in capsys.readouterr().out


def test_sync_with_json_or_off_a_terminal_shows_no_progress(queued_home, monkeypatch, capsys):
    tty = FakeTty()
    monkeypatch.setattr(sys, "stderr", tty)
    assert main(["--home", str(queued_home), "sync", "--json"]) == 0
    assert tty.getvalue() == ""
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    assert main(["--home", str(queued_home), "sync"]) == 0
    assert pipe.getvalue() == ""
