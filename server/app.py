"""The hub's application factory: defaults, instance config, environment, then overrides.

No module-level app: `pendamping-hub serve`, the tests and the benchmarks each build their
own with :func:`create_app`. Everything the process holds beside its settings is one
:class:`server.state.HubState` (see :func:`server.state.hub_state`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from server import error_map, errors, web, wire
from server.api import register_blueprints
from server.attachments import AttachmentStore
from server.config import load_config, load_secret_key
from server.conflicts import ConflictService
from server.devices import DeviceService
from server.jsonprovider import OrjsonProvider
from server.office.requests import RequestService
from server.office.review import ReviewService
from server.state import EXTENSION_KEY, HubState
from server.storage import SettingError, load_from_config
from server.sync import SyncService
from server.throttle import ENROLL_LIMIT_MESSAGE, FailureLimiter, RateLimiter, WriteGate
from server.timeutil import utc_iso
from server.users import UserService
from server.web.lockout import LoginLockout

__all__ = ["create_app"]


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build a hub.

    :param overrides: settings that win over everything else (tests pass `DATA_DIR` here).
    """
    app = Flask("server", instance_relative_config=False)
    data_dir = load_config(app.config, overrides)
    app.config.update(
        API_TITLE="pendamping-sync hub",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.json = OrjsonProvider(app)
    hops = app.config["PROXY_HOPS"]
    if isinstance(hops, bool) or not isinstance(hops, int) or not 0 <= hops <= 5:
        raise SettingError(f"PROXY_HOPS must be a whole number from 0 to 5, not {hops!r}")
    if hops > 0:  # the client's address as the trusted proxies saw it (enrolment, login limits)
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]

    data_dir.mkdir(parents=True, exist_ok=True)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = load_secret_key(data_dir)
    app.extensions[EXTENSION_KEY] = _state(app.config, data_dir)

    api = errors.HubApi(app)
    register_blueprints(api)
    web.init_app(app)  # the office's pages under /web/, with CSRF on them alone
    errors.init_app(app)
    error_map.init_app(app)
    wire.init_app(app)
    logging.getLogger("server").setLevel(app.config.get("LOG_LEVEL", "INFO"))
    return app


def _state(config: Mapping[str, Any], data_dir: Path) -> HubState:
    """The services and registries of one hub, built from its settings."""
    storage = load_from_config(dict(config))
    storage.migrate()
    skew_ms = int(config["MAX_CLOCK_SKEW_S"] * 1000)
    attachments = AttachmentStore(
        data_dir / "attachments",
        int(config["ATTACHMENT_MAX_BYTES"]),
        tuple(config["ATTACHMENT_TYPES"]),
    )
    return HubState(
        storage=storage,
        sync=SyncService(storage, config["PROGRAMS"], utc_iso, skew_ms),
        conflicts=ConflictService(storage, utc_iso, skew_ms, config["PROGRAMS"]),
        users=UserService(storage, utc_iso),
        devices=DeviceService(storage, utc_iso),
        reviews=ReviewService(storage, utc_iso, skew_ms),
        requests=RequestService(storage, attachments, utc_iso, skew_ms),
        attachments=attachments,
        rate_limiter=RateLimiter(
            storage.limits, float(config["RATE_LIMIT_PER_S"]), int(config["RATE_LIMIT_BURST"])
        ),
        write_gate=WriteGate(
            storage, float(config["WRITE_WAIT_MAX_S"]), int(config["BUSY_RETRY_AFTER_S"])
        ),
        enroll_limiter=FailureLimiter(
            storage.limits,
            int(config["ENROLL_FAILURES_MAX"]),
            float(config["ENROLL_FAILURE_WINDOW_S"]),
            ENROLL_LIMIT_MESSAGE,
        ),
        lockout=LoginLockout(
            storage.limits, int(config["LOGIN_MAX_FAILURES"]), float(config["LOGIN_LOCKOUT_S"])
        ),
    )
