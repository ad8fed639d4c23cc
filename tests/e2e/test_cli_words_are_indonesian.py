"""Both command lines speak Indonesian where click would speak English (issue 15, item 3).

Help pages, a missing file, a bad option value and a mistyped confirmation, for
`pendamping-hub` and `pendamping`: through click's own runner (standalone mode), through our
entry points (`main`, which word failures themselves), and once each as a real process.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from client_sync.cli import cli as laptop_cli
from client_sync.cli import main as laptop_main
from server.cli import cli as hub_cli
from server.cli import main as hub_main

ROOT = Path(__file__).resolve().parents[2]

#: what click says in English; none of it may reach a pendamping or the office
ENGLISH = (
    "Usage:",
    "Options:",
    "Commands:",
    "Show ",
    "Error:",
    "Invalid value",
    "does not exist",
    "do not match",
    "No such option",
    "Missing argument",
    "Repeat for confirmation",
    "is not one of",
    "Aborted",
    "Try '",
)


def assert_indonesian(text: str) -> None:
    leaked = [phrase for phrase in ENGLISH if phrase in text]
    assert not leaked, f"English from click {leaked} in:\n{text}"


@pytest.fixture(autouse=True)
def no_env_passphrase(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PENDAMPING_PASSPHRASE", raising=False)
    monkeypatch.delenv("PENDAMPING_HOME", raising=False)


@pytest.mark.parametrize(
    ("cli", "args"),
    [
        (hub_cli, ["--help"]),
        (hub_cli, ["user", "add", "--help"]),
        (hub_cli, ["serve", "--help"]),
        (laptop_cli, ["--help"]),
        (laptop_cli, ["beneficiary", "add", "--help"]),
        (laptop_cli, ["photo", "add", "--help"]),
    ],
)
def test_help_pages_are_indonesian(cli, args):
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    assert_indonesian(result.output)
    assert "Penggunaan:" in result.output
    assert "Tampilkan bantuan ini lalu keluar." in result.output


def test_a_missing_file_is_worded_in_indonesian_by_the_laptop(tmp_path: Path, capsys):
    code = laptop_main(
        ["--home", str(tmp_path / "h"), "photo", "add", "beneficiary", "x", "rumah.jpg"]
    )
    err = capsys.readouterr().err
    assert code == 2
    assert_indonesian(err)
    assert err.strip() == (
        "Galat: Nilai tidak valid untuk 'FILE': Berkas 'rumah.jpg' tidak ada. "
        "(lihat `pendamping photo add --help`)"
    )


def test_a_missing_file_is_worded_in_indonesian_by_the_hub(tmp_path: Path, capsys):
    code = hub_main(["--data", str(tmp_path / "d"), "import-bundle", "tidak-ada.zip"])
    err = capsys.readouterr().err
    assert code == 2
    assert_indonesian(err)
    assert err.startswith("Galat: Nilai tidak valid untuk ")
    assert "Berkas 'tidak-ada.zip' tidak ada." in err


def test_a_bad_option_value_is_worded_in_indonesian(tmp_path: Path, capsys):
    hub_code = hub_main(["--data", str(tmp_path / "d"), "user", "add", "x", "--role", "raja"])
    hub_err = capsys.readouterr().err
    laptop_code = laptop_main(["--home", str(tmp_path / "h"), "list", "rumah"])
    laptop_err = capsys.readouterr().err

    assert (hub_code, laptop_code) == (2, 2)
    for err in (hub_err, laptop_err):
        assert_indonesian(err)
        assert err.startswith("Galat: Nilai tidak valid untuk ")
        assert "bukan salah satu dari" in err
        assert len(err.strip().splitlines()) == 1


def test_click_run_standalone_words_its_failures_in_indonesian_too(tmp_path: Path):
    result = CliRunner().invoke(laptop_cli, ["--home", str(tmp_path), "list", "--tidak-ada"])
    assert result.exit_code == 2
    assert_indonesian(result.output)
    assert "Galat: Opsi '--tidak-ada' tidak ada." in result.output
    assert "Lihat 'cli list --help' untuk bantuan." in result.output


def test_a_mistyped_password_confirmation_at_the_office_is_indonesian(tmp_path: Path):
    data = str(tmp_path / "d")
    assert hub_main(["--data", data, "user", "add", "bu-kasi", "--role", "admin"]) == 0

    result = CliRunner().invoke(
        hub_cli, ["--data", data, "user", "password", "bu-kasi"], input="rahasia-1\nrahasia-2\n"
    )

    assert result.exit_code == 1
    assert_indonesian(result.output)
    assert "Ulangi untuk konfirmasi" in result.output
    assert "Galat: kedua isian tidak sama." in result.output
    assert "Dibatalkan." in result.output


def test_a_mistyped_passphrase_confirmation_on_the_laptop_is_indonesian(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr("client_sync.cli.home.interactive", lambda: True)  # a terminal

    result = CliRunner().invoke(
        laptop_cli,
        ["--home", str(tmp_path / "h"), "enroll", "http://127.0.0.1:9", "ABCD-EFGH-JKLM"],
        input="kata-sandi-1\nkata-sandi-2\n",
    )

    assert result.exit_code == 1
    assert_indonesian(result.output)
    assert "tidak sama" in result.output  # the laptop words this prompt itself (home.py)
    assert "Dibatalkan." in result.output


def test_click_is_english_again_outside_our_commands():
    import click

    CliRunner().invoke(hub_cli, ["--help"])

    @click.command()
    def other() -> None:
        """Someone else's command."""

    assert "Show this message and exit." in CliRunner().invoke(other, ["--help"]).output


@pytest.mark.parametrize(
    ("module", "args", "code", "expected"),
    [
        ("server.cli", ["--help"], 0, "Tampilkan bantuan ini lalu keluar."),
        ("server.cli", ["user", "add", "x", "--role", "raja"], 2, "bukan salah satu dari"),
        ("client_sync.cli", ["--help"], 0, "Tampilkan bantuan ini lalu keluar."),
        ("client_sync.cli", ["photo", "add", "visit", "x", "rumah.jpg"], 2, "tidak ada."),
    ],
)
def test_a_real_process_prints_no_english_from_click(tmp_path: Path, module, args, code, expected):
    place = ["--data", str(tmp_path / "d")] if module == "server.cli" else ["--home", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", module, *place, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=120,
    )
    assert done.returncode == code, done.stderr
    assert_indonesian(done.stdout + done.stderr)
    assert expected in done.stdout + done.stderr
    assert "Traceback" not in done.stderr
