"""The hub's settings come through one stack of layers, `DATA_DIR` included: defaults, then
`hub.cfg`, then `PENDAMPING_HUB_<NAME>` variables, then the mapping given to create_app."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask

from server.app import create_app
from server.cli import main
from server.state import hub_state


@pytest.fixture
def make_app() -> Iterator[Callable[..., Flask]]:
    """Builds hubs and closes their storage afterwards."""
    made: list[Flask] = []

    def make(overrides: dict | None = None) -> Flask:
        made.append(create_app(overrides))
        return made[-1]

    yield make
    for app in made:
        hub_state(app).storage.close()


def test_pendamping_hub_data_dir_in_the_environment_is_honoured(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv("PENDAMPING_HUB_DATA", raising=False)
    monkeypatch.setenv("PENDAMPING_HUB_DATA_DIR", str(tmp_path / "from-env"))
    app = make_app()
    assert Path(app.config["DATA_DIR"]) == tmp_path / "from-env"
    assert (tmp_path / "from-env" / "hub.sqlite3").exists()


def test_the_data_dir_given_to_create_app_wins_over_the_environment(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("PENDAMPING_HUB_DATA_DIR", str(tmp_path / "from-env"))
    app = make_app({"DATA_DIR": tmp_path / "given"})
    assert Path(app.config["DATA_DIR"]) == tmp_path / "given"
    assert not (tmp_path / "from-env").exists()


def test_the_environment_wins_over_hub_cfg_which_wins_over_the_defaults(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = tmp_path / "hub"
    data.mkdir()
    (data / "hub.cfg").write_text("WEB_SILENT_DAYS = 3\nGZIP_LEVEL = 2\n", encoding="utf-8")
    monkeypatch.setenv("PENDAMPING_HUB_DATA_DIR", str(data))
    monkeypatch.setenv("PENDAMPING_HUB_GZIP_LEVEL", "9")
    app = make_app()
    assert app.config["WEB_SILENT_DAYS"] == 3
    assert app.config["GZIP_LEVEL"] == 9
    assert app.config["LOGIN_MAX_FAILURES"] == 5  # the default


def test_the_cli_uses_pendamping_hub_data_dir_without_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    monkeypatch.delenv("PENDAMPING_HUB_DATA", raising=False)
    monkeypatch.setenv("PENDAMPING_HUB_DATA_DIR", str(tmp_path / "from-env"))
    assert main(["init"]) == 0
    assert str((tmp_path / "from-env").resolve()) in capsys.readouterr().out
    assert (tmp_path / "from-env" / "hub.sqlite3").exists()


def test_a_nested_variable_sets_one_key_and_keeps_the_others_of_hub_cfg(
    make_app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    data = tmp_path / "hub"
    data.mkdir()
    (data / "hub.cfg").write_text('EXTRA = {"A": 1, "B": 2}\n', encoding="utf-8")
    monkeypatch.setenv("PENDAMPING_HUB_DATA_DIR", str(data))
    monkeypatch.setenv("PENDAMPING_HUB_EXTRA__B", "3")
    app = make_app()
    assert app.config["EXTRA"] == {"A": 1, "B": 3}


@pytest.mark.parametrize(
    ("name", "value", "said"),
    [
        ("STORAGE_URL", "mysql://hub:s3kr1tpw@db/hub", "STORAGE_URL"),
        ("PROXY_HOPS", "abc", "PROXY_HOPS"),
        ("PROXY_HOPS", "-1", "PROXY_HOPS"),
    ],
)
def test_a_wrong_setting_stops_a_command_in_one_line_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys, name: str, value: str, said: str
):
    monkeypatch.setenv(f"PENDAMPING_HUB_{name}", value)
    assert main(["--data", str(tmp_path / "hub"), "user", "list"]) == 1
    err = capsys.readouterr().err
    assert said in err and "Traceback" not in err and "s3kr1tpw" not in err
    assert len(err.strip().splitlines()) == 1
