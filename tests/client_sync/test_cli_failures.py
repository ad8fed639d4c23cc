"""The one table from an exception to what `pendamping` says and the code it exits with."""

from __future__ import annotations

from pathlib import Path

import click
import pytest

from client_sync.cli.failures import (
    EXIT_ERROR,
    EXIT_HUB,
    EXIT_INVALID,
    EXIT_UNAUTHORIZED,
    ROUND_EXIT_CODES,
    TABLE_END,
    TABLE_START,
    Failure,
    failure_for,
    markdown_table,
    sync_failure,
)
from client_sync.errors import (
    HubRefused,
    HubUnreachable,
    InvalidRecord,
    NotEnrolled,
    Unauthorized,
    WrongPassphrase,
)
from client_sync.schedule import Outcome


@pytest.mark.parametrize(
    ("exc", "lines", "code"),
    [
        (Failure(["satu", "dua"], EXIT_HUB), ["satu", "dua"], EXIT_HUB),
        (click.exceptions.Abort(), ["Dibatalkan."], EXIT_ERROR),
        (
            InvalidRecord({"nik": ["NIK harus 16 digit angka."], "a": {"b": "c"}}),
            ["nik: NIK harus 16 digit angka.", "a.b: c"],
            EXIT_INVALID,
        ),
        (
            Unauthorized(401, "unauthorized", "Token tidak dikenal."),
            ["Hub menolak laptop ini: Token tidak dikenal."],
            EXIT_UNAUTHORIZED,
        ),
        (HubUnreachable("hub diam"), ["Hub tidak dapat dipakai: hub diam."], EXIT_HUB),
        (HubRefused(409, "conflict_state", "Sudah."), ["Hub tidak dapat dipakai: Sudah."], 3),
        (NotEnrolled("Belum terdaftar."), ["Belum terdaftar."], EXIT_ERROR),
        (WrongPassphrase("Kata sandi penyimpanan salah."), ["Kata sandi penyimpanan salah."], 1),
        (
            PermissionError("terkunci"),
            ["Berkas atau folder tidak dapat dipakai: terkunci"],
            EXIT_ERROR,
        ),
        (KeyError("x"), ["Galat tak terduga (KeyError): 'x'"], EXIT_ERROR),
    ],
)
def test_every_exception_becomes_its_lines_and_exit_code(exc, lines, code):
    failure = failure_for(exc)
    assert (failure.lines, failure.exit_code) == (lines, code)


def test_a_usage_error_points_at_the_commands_help():
    ctx = click.Context(click.Command("sync"), info_name="pendamping")
    failure = failure_for(click.UsageError("Tidak ada isian.", ctx))
    assert failure.lines == ["Galat: Tidak ada isian. (lihat `pendamping --help`)"]
    assert failure.exit_code == EXIT_INVALID


def test_a_revoked_laptop_is_told_to_carry_a_bundle_and_exits_4():
    failure = sync_failure(Unauthorized(401, "device_revoked", "Dicabut."), pending=2)
    assert failure.exit_code == EXIT_UNAUTHORIZED
    assert "(2 perubahan belum terkirim)" in failure.lines[0]


def test_every_daemon_round_outcome_has_an_exit_code():
    assert set(ROUND_EXIT_CODES) == set(Outcome)


def test_another_click_error_is_one_galat_line_in_indonesian():
    failure = failure_for(click.FileError("data.csv", "tidak ada"))
    assert failure.lines == ["Galat: Berkas 'data.csv' tidak dapat dibuka: tidak ada"]
    assert failure.exit_code == 1


def test_the_exit_code_table_in_docs_cli_md_is_the_codes_table():
    text = (Path(__file__).resolve().parents[2] / "docs" / "cli.md").read_text(encoding="utf-8")
    start, end = text.index(TABLE_START), text.index(TABLE_END) + len(TABLE_END)
    assert text[start:end] == markdown_table(), (
        "docs/cli.md's exit-code table is out of date; paste "
        "`python -c 'from client_sync.cli.failures import markdown_table; print(markdown_table())'`"
    )
