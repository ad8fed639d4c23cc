"""The shared poor-link emulator (`../shared/tools/badlink_proxy.py`) as a child process.

The benchmarks put it between a laptop and a served hub with the settings its README gives,
so that the project's figures sit beside the peers' in DESIGN.md §7. It exists only beside
the project on the benchmark machine, never in a fresh clone: the tests have their own
fault-injecting proxy (`tests/support/faultproxy.py`).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.served_hub import free_port

__all__ = ["PROXY", "BadLink"]

PROXY = Path(__file__).resolve().parents[2] / "shared" / "tools" / "badlink_proxy.py"


@dataclass
class BadLink:
    """One proxy run: `start`, point a laptop at `url`, `stop`, read `stats`."""

    target: str
    stats_file: Path
    options: tuple[str, ...] = ()
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        if not PROXY.exists():
            raise SystemExit(f"{PROXY} is missing: this benchmark needs the shared tools")
        self.process = subprocess.Popen(
            [
                sys.executable,
                str(PROXY),
                "--listen",
                f"127.0.0.1:{self.port}",
                "--target",
                self.target,
                "--stats",
                str(self.stats_file),
                *self.options,
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        self.process.stdout.readline()  # "badlink_proxy listening on ..."

    def stop(self) -> dict:
        """Stop the proxy. :returns: its final byte counters."""
        if self.process is not None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(timeout=30)
        return self.stats()

    def stats(self) -> dict:
        for _ in range(50):
            try:
                return json.loads(self.stats_file.read_text())
            except (OSError, ValueError):
                time.sleep(0.1)
        return {}
