"""The hub's configuration defaults, and the layers that override them.

Order, last wins, for every setting `DATA_DIR` included:

1. :data:`DEFAULTS`, below;
2. `hub.cfg` in the data folder (Python syntax, optional);
3. environment variables `PENDAMPING_HUB_<NAME>` (values parsed as JSON when they are);
4. the mapping given to :func:`server.app.create_app` (the tests', the CLI's `--data`).

`DATA_DIR` is settled first, from layers 4, 3 and 1 (then `PENDAMPING_HUB_DATA`, the
older name, then `./var`), because `hub.cfg` is read from inside it; a `DATA_DIR` written in
`hub.cfg` is ignored for the same reason.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Config

from schemas.codes import DEFAULT_PROGRAMS
from schemas.media import DEFAULT_ATTACHMENT_MAX_BYTES, DEFAULT_ATTACHMENT_TYPES

__all__ = ["DEFAULTS", "ENV_PREFIX", "default_data_dir", "load_config", "load_secret_key"]

#: environment variables `PENDAMPING_HUB_<NAME>` set the setting `<NAME>`
ENV_PREFIX = "PENDAMPING_HUB"

#: Every setting the hub reads, with its default.
DEFAULTS: dict[str, object] = {
    # Where the SQLite file, the photos and the instance configuration live.
    "DATA_DIR": None,
    # The hub's database (docs/postgresql.md): None is SQLite in DATA_DIR/hub.sqlite3;
    # "sqlite:///PATH" another SQLite file; "postgresql://USER@HOST:PORT/DATABASE" a
    # PostgreSQL database that any number of hub processes share.
    "STORAGE_URL": None,
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
    # Reverse proxies in front of the hub whose X-Forwarded-For / -Proto it believes
    # (docs/operations.md): 0 takes the connection's address as the client's; 1 the address
    # the one proxy appended. Set it only when clients can reach the hub through the proxy
    # alone, or they could name any address and slip past the per-address limits.
    "PROXY_HOPS": 0,
    # Failed enrolments (unknown, used or expired code) one client IP may make within the
    # window, in seconds; one more attempt gets 429 with Retry-After (0: no limit).
    "ENROLL_FAILURES_MAX": 10,
    "ENROLL_FAILURE_WINDOW_S": 900,
    # Photo attachments (tus uploads, docs/attachments.md): the largest file, in bytes, and
    # the media types taken, each checked against the file's magic bytes.
    "ATTACHMENT_MAX_BYTES": DEFAULT_ATTACHMENT_MAX_BYTES,
    "ATTACHMENT_TYPES": list(DEFAULT_ATTACHMENT_TYPES),
    # Calls one device may make: a burst, then so many a second (429 beyond; 0: no limit).
    "RATE_LIMIT_BURST": 300,
    "RATE_LIMIT_PER_S": 30.0,
    # The longest a push waits its turn for the one writer, in seconds (hub-wide queue,
    # server/throttle.py). A push whose queue ahead is estimated longer (changes queued
    # times the measured seconds per change) gets 503 hub_busy at once, with Retry-After
    # that estimate. Keep it well under the laptop's read timeout (60 s). 0: never wait.
    "WRITE_WAIT_MAX_S": 20.0,
    # Retry-After of a write the hub's disk refused (503, nothing written).
    "BUSY_RETRY_AFTER_S": 5,
    # -- the web pages (/web/, docs/web.md) ------------------------------------------------
    # Signs the session cookie and the CSRF tokens. None: made once and kept in
    # DATA_DIR/secret_key (see load_secret_key).
    "SECRET_KEY": None,
    # The session cookie: never readable by scripts; not sent with cross-site POSTs (Lax
    # rather than Strict, so a link to the hub from a message still arrives logged in).
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    # True once the hub is served over HTTPS. Off by default: district hubs often serve
    # plain http on the office LAN, where a Secure cookie would never come back.
    "SESSION_COOKIE_SECURE": False,
    # A login lasts at most this long (seconds), however active the supervisor is.
    "PERMANENT_SESSION_LIFETIME": 8 * 3600,
    # A form stays valid as long as the login (flask-wtf's default is one hour).
    "WTF_CSRF_TIME_LIMIT": 8 * 3600,
    # Failed logins per user name and per client IP before both are locked, and for how
    # long (seconds).
    "LOGIN_MAX_FAILURES": 5,
    "LOGIN_LOCKOUT_S": 15 * 60,
    # A laptop not heard from for more than this many days is marked on the dashboard.
    "WEB_SILENT_DAYS": 7,
    # Times on the pages are shown in this offset from UTC (7: WIB, 8: WITA, 9: WIT).
    "WEB_UTC_OFFSET_HOURS": 7,
    # The largest USB bundle the Ekspor & bundle page takes as an upload (1 GiB: waitress's
    # own request limit); the bundle's parts keep their own limits (BundleLimits).
    "WEB_BUNDLE_MAX_BYTES": 1024 * 1024 * 1024,
    # -- scheduled jobs (docs/jobs.md) -----------------------------------------------------
    # Run them in `serve` at all (one process of the hub runs them, whichever holds the lease).
    "JOBS_ENABLED": True,
    # When each job runs: a crontab line (minute hour day month weekday) in the offset
    # below, or six fields with the seconds first; "" turns the job off.
    "JOB_SILENT_LAPTOPS_AT": "0 6 * * *",  # every day at 06:00
    "JOB_BACKUP_AT": "30 1 * * *",  # every night at 01:30
    "JOB_MONTHLY_EXPORT_AT": "0 3 1 * *",  # the 1st of the month at 03:00, the month before
    # The jobs' clock, in hours from UTC (7: WIB, 8: WITA, 9: WIT; no tz database needed).
    "JOBS_UTC_OFFSET_HOURS": 7,
    # The lease that picks the one process that runs the jobs: a holder that stops renewing
    # is replaced after this many seconds (it renews every third of it).
    "JOBS_LEASE_TTL_S": 30,
    # An occurrence missed while no hub process ran (or while one died holding the lease)
    # is run when a process takes the lease, if it is at most this many seconds old.
    "JOBS_CATCH_UP_S": 12 * 3600,
    # Backups: the folder (None: DATA_DIR/backups), how many nightly ones stay (the newest
    # is never deleted), and whether photos are copied beside them (docs/jobs.md).
    "BACKUP_DIR": None,
    "BACKUP_KEEP": 14,
    "BACKUP_PHOTOS": True,
    # The monthly export's folder (None: DATA_DIR/exports) and its format (xlsx or csv).
    "EXPORT_DIR": None,
    "EXPORT_FORMAT": "xlsx",
}


def load_secret_key(data_dir: Path) -> str:
    """The hub's secret key from `data_dir/secret_key`, made there on first use.

    64 hex characters from :mod:`secrets`, in a file created exclusively with mode 0600
    (on Windows the folder's permissions apply). Deleting the file logs everybody out.
    """
    path = Path(data_dir) / "secret_key"
    try:
        path.touch(mode=0o600, exist_ok=False)
    except FileExistsError:
        return _read_secret_key(path)
    path.chmod(0o600)
    key = secrets.token_hex(32)
    path.write_text(key + "\n", encoding="ascii")
    return key


def _read_secret_key(path: Path) -> str:
    for _ in range(100):  # another process may be between creating and writing it
        key = path.read_text(encoding="ascii").strip()
        if len(key) >= 32:
            return key
        time.sleep(0.02)
    raise RuntimeError(f"{path} is shorter than 32 characters; delete it to make a new one")


def default_data_dir() -> Path:
    """The data folder when no layer names one: `PENDAMPING_HUB_DATA` (the name the CLI's
    `--data` reads), or `./var` beside where the hub is started."""
    return Path(os.environ.get(f"{ENV_PREFIX}_DATA") or "var")


def load_config(config: Config, overrides: Mapping[str, Any] | None = None) -> Path:
    """Fill `config` layer by layer (see the module's docstring). :returns: the data folder,
    also left in ``config["DATA_DIR"]`` as text.

    The environment is read straight into `config` after `hub.cfg`, as Flask's
    :meth:`~flask.Config.from_prefixed_env` does it, so a nested `PENDAMPING_HUB_X__Y`
    sets one key of the dict `X` the defaults or `hub.cfg` made, keeping its other keys.
    """
    overrides = dict(overrides or {})
    chosen = overrides.get("DATA_DIR") or _environment_data_dir()
    data_dir = Path(str(chosen)) if chosen else default_data_dir()
    config.from_mapping(DEFAULTS)
    config.from_pyfile(str((data_dir / "hub.cfg").resolve()), silent=True)
    config.from_prefixed_env(ENV_PREFIX)
    config.update(overrides)
    config["DATA_DIR"] = str(data_dir)
    return data_dir


def _environment_data_dir() -> Any:
    """`PENDAMPING_HUB_DATA_DIR`, parsed as :meth:`~flask.Config.from_prefixed_env` parses
    every variable (JSON when it is, text otherwise), or None when unset or empty."""
    raw = os.environ.get(f"{ENV_PREFIX}_DATA_DIR")
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw
