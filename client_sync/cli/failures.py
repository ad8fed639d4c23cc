"""Exit codes and the one table from an exception to what `pendamping` says and returns.

Every failure of a command is one plain line per problem on stderr and an exit code from
:data:`EXIT_CODES`, never a stack trace. The commands raise what they raise (the store's
:class:`~client_sync.errors.InvalidRecord`, the hub's :class:`~client_sync.errors.SyncError`, a
:class:`Failure` they worded themselves); :func:`failure_for` is the only place that turns an
exception into lines and a code, and :data:`ROUND_EXIT_CODES` the only place that does so for a
daemon round. `sync` and `enroll` word a hub failure with what only they know (changes waiting,
the step that failed) through :func:`sync_failure` and :func:`enrol_failure`, here too.

What each code means is written once, in :data:`EXIT_CODES`; the table in docs/cli.md must be
:func:`markdown_table`'s output, and a test says so when it is not.

Which exception gets which code and which lines (:func:`failure_for`, first match wins):

========================  ==================  ===============================================
exception                 code                line(s) on stderr
========================  ==================  ===============================================
Failure                   its own             its own lines (worded by the command)
click Abort (Ctrl-C)      EXIT_ERROR          ``Dibatalkan.``
click UsageError          its own             ``Galat: <message> (lihat `<command> --help`)``
other ClickException      its own             ``Galat: <message>`` (click's words in Indonesian)
InvalidRecord             EXIT_INVALID        ``field: message``, one line per field
Unauthorized (401)        EXIT_UNAUTHORIZED   ``Hub menolak laptop ini: <message>.``
SyncError                 EXIT_HUB            ``Hub tidak dapat dipakai: <message>.``
ClientError               EXIT_ERROR          the message (not enrolled, no such record, ...)
OSError                   EXIT_ERROR          ``Berkas atau folder tidak dapat dipakai: <error>``
anything else (a bug)     EXIT_ERROR          ``Galat tak terduga (<type>): <error>``
========================  ==================  ===============================================

A :class:`~client_sync.errors.SyncError`'s message already says what the fault is (errors.py's
tree, worded where it is raised): ``Hub tidak dapat dihubungi (…)`` (no connection),
``Hub sedang bermasalah (HTTP 500)`` (a fault on the hub), ``Hub tetap sibuk selama 10 menit;
data Anda aman di laptop.`` (:class:`~client_sync.errors.HubBusy`: busy past the wait, which
`sync` words as postponed, ``Sinkron tertunda: …``, and exits like a hub it cannot use).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import click

from client_sync.daemon_lines import revoked_text
from client_sync.errors import (
    ClientError,
    HubBusy,
    InvalidRecord,
    SyncError,
    Unauthorized,
)
from client_sync.schedule import Outcome
from schemas.click_words import indonesian_click
from schemas.error_codes import ErrorCode

__all__ = [
    "EXIT_CODES",
    "EXIT_ERROR",
    "EXIT_HUB",
    "EXIT_INVALID",
    "EXIT_OK",
    "EXIT_UNAUTHORIZED",
    "ROUND_EXIT_CODES",
    "TABLE_END",
    "TABLE_START",
    "Failure",
    "enrol_failure",
    "failure_for",
    "field_lines",
    "markdown_table",
    "sentence",
    "sync_failure",
]

EXIT_OK = 0
EXIT_ERROR = 1  # a local problem: not enrolled, no such record, store unusable
EXIT_INVALID = 2  # bad input: a usage error or a field that failed validation
EXIT_HUB = 3  # the hub could not be reached or refused; nothing was lost
EXIT_UNAUTHORIZED = 4  # the hub no longer accepts this laptop's token

#: What each exit code means, for people: the rows of docs/cli.md's table.
EXIT_CODES: dict[int, str] = {
    EXIT_OK: "done (a `sync` whose round finished, even with refused changes)",
    EXIT_ERROR: (
        "a local problem: the home is not enrolled, or is already enrolled; no record with"
        " that id; the store or folder cannot be used; a wrong or missing passphrase; cancelled"
    ),
    EXIT_INVALID: (
        "bad input: an unknown command or option, a value not in the code list, a field that"
        " failed validation (`InvalidRecord`), a bad `PENDAMPING_RETRIES`/`PENDAMPING_TIMEOUT`,"
        " no new passphrase to be had or one shorter than 8 characters in its variable, a hub"
        " address given to `enroll` that is not an http(s) URL"
    ),
    EXIT_HUB: (
        "the hub could not be reached, had a fault (HTTP 5xx), stayed busy longer than"
        " `--wait`, or refused (e.g. an unknown enrolment code); every record is still on"
        " the laptop"
    ),
    EXIT_UNAUTHORIZED: (
        "the hub no longer accepts this laptop's token (HTTP 401: unknown, or revoked by the"
        " office: then carry `export-bundle` to it); contact the district office"
    ),
}

#: The exit code of a daemon round (`pendamping daemon`), the same as `pendamping sync`
#: gives for it.
ROUND_EXIT_CODES = {
    Outcome.OK: EXIT_OK,
    Outcome.OFFLINE: EXIT_HUB,
    Outcome.BUSY: EXIT_HUB,
    Outcome.REFUSED: EXIT_HUB,
    Outcome.LOCAL: EXIT_ERROR,
    Outcome.UNAUTHORIZED: EXIT_UNAUTHORIZED,
    Outcome.NOT_ENROLLED: EXIT_ERROR,
    Outcome.CANCELLED: EXIT_ERROR,
}


class Failure(Exception):
    """A failure already worded for the user: its lines go to stderr as they are."""

    def __init__(self, lines: str | Sequence[str], exit_code: int = EXIT_ERROR) -> None:
        self.lines = [lines] if isinstance(lines, str) else list(lines)
        self.exit_code = exit_code
        super().__init__("; ".join(self.lines))


def failure_for(exc: Exception) -> Failure:
    """What `pendamping` says about `exc` and the code it exits with (the table above)."""
    if isinstance(exc, Failure):
        return exc
    if isinstance(exc, click.exceptions.Abort):
        return Failure("Dibatalkan.", EXIT_ERROR)
    if isinstance(exc, click.UsageError):
        hint = f" (lihat `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        with indonesian_click():  # click words the message when asked (schemas.click_words)
            return Failure(f"Galat: {exc.format_message()}{hint}", exc.exit_code)
    if isinstance(exc, click.ClickException):
        with indonesian_click():
            return Failure(f"Galat: {exc.format_message()}", exc.exit_code)
    if isinstance(exc, InvalidRecord):
        return Failure(field_lines(exc.errors), EXIT_INVALID)
    if isinstance(exc, Unauthorized):
        return Failure(f"Hub menolak laptop ini: {sentence(exc)}", EXIT_UNAUTHORIZED)
    if isinstance(exc, SyncError):
        return Failure(f"Hub tidak dapat dipakai: {sentence(exc)}", EXIT_HUB)
    if isinstance(exc, ClientError):
        return Failure(str(exc), EXIT_ERROR)
    if isinstance(exc, OSError):
        return Failure(f"Berkas atau folder tidak dapat dipakai: {exc}", EXIT_ERROR)
    return Failure(f"Galat tak terduga ({type(exc).__name__}): {exc}", EXIT_ERROR)


def sync_failure(exc: SyncError, pending: int) -> Failure:
    """What `pendamping sync` says when its round stopped with `pending` changes waiting."""
    if isinstance(exc, Unauthorized) and exc.code is ErrorCode.DEVICE_REVOKED:
        return Failure(revoked_text(pending), EXIT_UNAUTHORIZED)
    if isinstance(exc, Unauthorized):
        return Failure(
            f"Sinkron ditolak: hub tidak lagi menerima laptop ini ({sentence(exc, '')}). "
            f"Hubungi kantor dinas; {pending} perubahan tetap tersimpan di laptop.",
            EXIT_UNAUTHORIZED,
        )
    if isinstance(exc, HubBusy):  # its message says the data is safe already
        return Failure(
            f"Sinkron tertunda: {sentence(exc)} {pending} perubahan menunggu; coba lagi nanti.",
            EXIT_HUB,
        )
    return Failure(
        f"Sinkron gagal: {sentence(exc)} Semua data tetap tersimpan di laptop; "
        f"{pending} perubahan menunggu.",
        EXIT_HUB,
    )


def enrol_failure(exc: SyncError) -> Failure:
    """What `pendamping enroll` says when the hub could not be reached or refused the code.
    A 429 here is the hub's lockout after failed codes: its own words say what to do."""
    if isinstance(exc, HubBusy) and exc.status == 429 and exc.detail:
        return Failure(f"Pendaftaran gagal: {sentence(exc.detail)}", EXIT_HUB)
    return Failure(f"Pendaftaran gagal: {sentence(exc)}", EXIT_HUB)


def sentence(exc: BaseException | str, end: str = ".") -> str:
    """An error's message (or a text) as one sentence ending in `end`."""
    text = str(exc).strip().rstrip(".")
    return text + end


def field_lines(errors: Mapping[str, Any], prefix: str = "") -> list[str]:
    """One ``field: message`` line per field of a validation error, nested fields dotted."""
    lines = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            lines += field_lines(value, f"{name}.")
        elif isinstance(value, list) and any(isinstance(v, Mapping) for v in value):
            for item in value:
                lines += field_lines(item, f"{name}.") if isinstance(item, Mapping) else []
        elif isinstance(value, list):
            lines.append(f"{name}: {' '.join(str(v) for v in value)}")
        else:
            lines.append(f"{name}: {value}")
    return lines


TABLE_START = "<!-- exit-codes: the rows of client_sync.cli.failures.EXIT_CODES; a test checks -->"
TABLE_END = "<!-- /exit-codes -->"


def markdown_table() -> str:
    """The exit-code table of docs/cli.md, between its markers (tests check the two agree)."""
    rows = ["| code | meaning |", "|---|---|"]
    rows += [f"| {code} | {meaning} |" for code, meaning in sorted(EXIT_CODES.items())]
    return "\n".join([TABLE_START, *rows, TABLE_END])
