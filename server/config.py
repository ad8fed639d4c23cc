"""The hub's configuration defaults, and where overrides come from.

Order, last wins: these defaults; `hub.cfg` in the data folder (Python syntax, optional);
environment variables `PENDAMPING_HUB_<NAME>`; the mapping given to :func:`create_app`.
"""

from __future__ import annotations

import os
from pathlib import Path

from schemas.codes import DEFAULT_PROGRAMS
from schemas.media import DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_ATTACHMENT_TYPES

__all__ = ["DEFAULTS", "default_data_dir"]

#: Every setting the hub reads, with its default.
DEFAULTS: dict[str, object] = {
    # Where the SQLite file and the instance configuration live.
    "DATA_DIR": None,
    "STORAGE_BACKEND": "sqlite",
    # Programme codes a beneficiary may carry (DESIGN.md §3 calls it a configurable list).
    "PROGRAMS": list(DEFAULT_PROGRAMS),
    # Largest gzip request body on the wire, and largest body once gunzipped (Flask's own
    # setting, so it also bounds plain bodies), in bytes.
    "MAX_COMPRESSED_LENGTH": 8 * 1024 * 1024,
    "MAX_CONTENT_LENGTH": 32 * 1024 * 1024,
    # Responses at least this large are gzipped when the client accepts it.
    "GZIP_MIN_BYTES": 512,
    "GZIP_LEVEL": 6,
    # How far ahead of the hub's clock a laptop's clock may run before the hub clamps its
    # changes to its own time (DESIGN.md §4), in seconds.
    "MAX_CLOCK_SKEW_S": 300,
    # How long an enrolment code stays valid, in hours.
    "ENROLL_CODE_TTL_HOURS": 24,
    # Photo attachments (tus uploads, docs/attachments.md): the largest file, in bytes, and
    # the media types taken, each checked against the file's magic bytes.
    "ATTACHMENT_MAX_BYTES": DEFAULT_ATTACHMENT_MAX_BYTES,
    "ATTACHMENT_TYPES": list(DEFAULT_ATTACHMENT_TYPES),
    # Calls one device may make: a burst, then so many a second (429 beyond; 0: no limit).
    "RATE_LIMIT_BURST": 300,
    "RATE_LIMIT_PER_S": 30.0,
    # Pushes in progress at once (waiting for the one writer or writing); one more gets 503
    # with Retry-After, keeping the server's other threads free for pulls (0: no limit).
    "WRITE_QUEUE_MAX": 3,
    "BUSY_RETRY_AFTER_S": 5,
}


def default_data_dir() -> Path:
    """`PENDAMPING_HUB_DATA`, or `./var` beside where the hub is started."""
    return Path(os.environ.get("PENDAMPING_HUB_DATA") or "var")
