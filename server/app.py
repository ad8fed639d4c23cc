"""The hub's application factory: defaults, instance config, environment, then overrides.

No module-level app: `pendamping-hub serve`, the tests and the benchmarks each build their
own with :func:`create_app`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask

from server import errors, web, wire
from server.api import register_blueprints
from server.config import DEFAULTS, default_data_dir, load_secret_key
from server.conflicts import ConflictService
from server.jsonprovider import OrjsonProvider
from server.storage import HubStorage, load_from_config
from server.sync import SyncService
from server.throttle import ENROLL_LIMIT_MESSAGE, FailureLimiter, RateLimiter, WriteGate
from server.timeutil import utc_iso

__all__ = ["HubState", "create_app"]


@dataclass(frozen=True, slots=True)
class HubState:
    """What the views reach through ``current_app.extensions["pendamping"]``."""

    storage: HubStorage
    sync: SyncService
    conflicts: ConflictService
    rate_limiter: RateLimiter
    write_gate: WriteGate
    #: failed enrolments per client IP (POST /enroll)
    enroll_limiter: FailureLimiter | None = None


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a hub.

    :param overrides: settings that win over everything else (tests pass `DATA_DIR` here).
    """
    app = Flask("server", instance_relative_config=False)
    app.config.from_mapping(DEFAULTS)
    data_dir = Path((overrides or {}).get("DATA_DIR") or default_data_dir())
    app.config.from_pyfile(str((data_dir / "hub.cfg").resolve()), silent=True)
    app.config.from_prefixed_env("PENDAMPING_HUB")
    app.config.from_mapping(overrides or {})
    app.config["DATA_DIR"] = str(data_dir)
    app.config.update(
        API_TITLE="pendamping-sync hub",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json = OrjsonProvider(app)

    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(data_dir)
    storage = load_from_config(app.config)
    storage.migrate()
    skew_ms = int(app.config["MAX_CLOCK_SKEW_S"] * 1000)
    app.extensions["pendamping"] = HubState(
        storage,
        SyncService(storage, app.config["PROGRAMS"], utc_iso, skew_ms),
        ConflictService(storage, utc_iso, skew_ms, app.config["PROGRAMS"]),
        RateLimiter(float(app.config["RATE_LIMIT_PER_S"]), int(app.config["RATE_LIMIT_BURST"])),
        WriteGate(int(app.config["WRITE_QUEUE_MAX"]), int(app.config["BUSY_RETRY_AFTER_S"])),
        FailureLimiter(
            int(app.config["ENROLL_FAILURES_MAX"]),
            float(app.config["ENROLL_FAILURE_WINDOW_S"]),
            ENROLL_LIMIT_MESSAGE,
        ),
    )

    api = errors.HubApi(app)
    register_blueprints(api)
    web.init_app(app)  # the office's pages under /web/, with CSRF on them alone
    errors.init_app(app)
    wire.init_app(app)
    logging.getLogger("server").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app
