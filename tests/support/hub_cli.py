"""`pendamping-hub` run in-process on a data folder, as the hub's CLI tests drive it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from server.cli import main

__all__ = ["Run", "hub_runner"]


@dataclass(frozen=True)
class Run:
    """One command's exit code and what it printed."""

    code: int
    out: str
    err: str


def hub_runner(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> Callable[..., Run]:
    """Runs `pendamping-hub --data <data_dir> ARGS...` and returns its code and output."""

    def run(*args: str) -> Run:
        capsys.readouterr()
        code = main(["--data", str(data_dir), *args])
        captured = capsys.readouterr()
        return Run(code, captured.out, captured.err)

    return run
