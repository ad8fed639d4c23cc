"""`pendamping-hub`: run the hub and administer it from the district office.

    pendamping-hub [--data DIR] init | serve | user add | user list | user password
                                | enroll-code
                                | device list | device revoke | stats
                                | conflicts list | conflicts resolve | import-bundle
                                | audit verify | audit list | export
                                | backup | restore | jobs | check | migrate-storage
                                | review accept | review return
                                | request verify | approve | reject | deliver | history
                                | verification show | verification close

One module per subject; every command is registered here, and every failure is turned into
an exit code and one plain line on stderr by :mod:`server.cli.errors`, never a stack trace;
click's own words are Indonesian (:mod:`schemas.click_words`).
`--data` defaults to the configured data folder (`PENDAMPING_HUB_DATA_DIR`, then
`PENDAMPING_HUB_DATA`, then `./var`).
"""

from __future__ import annotations

from server.cli.audit import audit
from server.cli.backup import backup, restore_command
from server.cli.bundle import import_bundle_command
from server.cli.check import check
from server.cli.conflicts import conflicts
from server.cli.context import cli
from server.cli.devices import device, enroll_code
from server.cli.errors import run
from server.cli.export import export
from server.cli.jobs import jobs
from server.cli.migrate import migrate_storage
from server.cli.office import request, review
from server.cli.serve import init, serve
from server.cli.stats import stats
from server.cli.users import user
from server.cli.verification import verification

__all__ = ["cli", "main"]

for _command in (
    init,
    serve,
    user,
    enroll_code,
    device,
    stats,
    conflicts,
    import_bundle_command,
    audit,
    export,
    backup,
    restore_command,
    jobs,
    review,
    request,
    verification,
    check,
    migrate_storage,
):
    cli.add_command(_command)


def main(argv: list[str] | None = None) -> int:
    """Console entry point; returns the exit code instead of raising."""
    return run(cli, argv)
