"""`pendamping`: the laptop's command line, a thin shell over :class:`client_sync.FieldDevice`.

    pendamping [--home DIR] enroll | beneficiary add/edit | visit add | request add/status
                            | list | delete | sync | status | conflicts | photo add/list
                            | export-bundle | daemon | passphrase set/change | wipe

Every command but `enroll` and `sync` (and the `daemon` that runs `sync`) works with no
network at all. All rules live in the store and the hub; these modules only turn options into
calls and results into lines. Every failure is one plain line per problem on stderr and an exit
code from the table in `docs/cli.md`, never a stack trace.

One module per subject, each depending only on the modules below it::

    app         the group, `--home`, every command registered, `main()`
     ├── enroll, records, sync, conflicts, photo, bundle, daemon, passphrase, wipe
     │           the commands of one subject each
     ├── home    opening the laptop's home: passphrase, transport settings from the env
     ├── output  JSON and aligned tables (record labels: schemas.codes.ENTITY_LABELS)
     └── failures  exit codes and the one table from an exception to lines and a code
"""

from __future__ import annotations

from client_sync.cli.app import cli, main
from client_sync.cli.failures import (
    EXIT_ERROR,
    EXIT_HUB,
    EXIT_INVALID,
    EXIT_OK,
    EXIT_UNAUTHORIZED,
)

__all__ = ["EXIT_ERROR", "EXIT_HUB", "EXIT_INVALID", "EXIT_OK", "EXIT_UNAUTHORIZED", "cli", "main"]
