"""Fixtures for the hub's command-line tests: a data folder and `pendamping-hub` run on it.

(test_push_never_fails.py has a module fixture of its own named `hub`; it wins there.)
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.support.hub_cli import Run, hub_runner


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "hub-data"


@pytest.fixture
def hub(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Runs `pendamping-hub --data <tmp> ARGS...` and returns its exit code and output."""
    return hub_runner(data_dir, capsys)
