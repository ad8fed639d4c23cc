"""The Sinkron page: the button (POST starts a round unless one runs), the round's progress
(a small JSON endpoint that static/sync.js polls, and a meta refresh for a browser without
JS), and its outcome in the CLI's words (:mod:`client_sync.app.syncing`). Not a menu page:
the button sits in every page's header.
"""

from __future__ import annotations

from flask import jsonify, redirect, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm

from client_sync.app.guard import PROGRESS_PATH
from client_sync.app.shell import bp, render
from client_sync.app.state import app_state
from client_sync.cli.home import transport_factory
from client_sync.device import FieldDevice

__all__ = ["SyncForm"]


class SyncForm(FlaskForm):
    """The "Sinkron" button: a form of its own, for its CSRF token."""


@bp.post("/sinkron")
def sync_start() -> ResponseReturnValue:
    """Start a round (a second press while one runs only shows it)."""
    state = app_state()
    given = state.transport_factory
    keeper = state.keeper
    passphrase = keeper.held_passphrase()

    def opener() -> FieldDevice:  # runs in the round's thread: its own connection
        factory = given or transport_factory()  # the CLI's settings; a bad one is its line
        return FieldDevice.open(keeper.home, factory, passphrase=passphrase)

    state.sync.start(opener)
    return redirect(url_for("field.sync_page"), 303)


@bp.get("/sinkron")
def sync_page() -> ResponseReturnValue:
    return render("app/sync.html", round=app_state().sync.snapshot())


@bp.get(PROGRESS_PATH)
def sync_progress() -> ResponseReturnValue:
    """The latest round as JSON, for static/sync.js. Touches no store."""
    return jsonify(app_state().sync.snapshot().as_dict())
