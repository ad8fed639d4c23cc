"""The browser is opened without the start's secret on its command line: any local user
can read another's process arguments (`ps`, /proc/PID/cmdline), and a browser started
for the URL keeps it there for its life. It is opened at a page in the laptop's home,
readable by its owner only, which sends it on to the secret URL."""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from client_sync.app import serve as serving


def test_the_browser_is_opened_without_the_secret_on_its_command_line(
    enrolled_home: Path, monkeypatch: pytest.MonkeyPatch
):
    opened: list[str] = []
    started: list[serving.Served] = []
    monkeypatch.setattr(serving.webbrowser, "open", lambda url, *a, **k: opened.append(url))
    monkeypatch.setattr(serving.Served, "run", lambda self: started.append(self))
    said: list[str] = []
    serving.serve(enrolled_home, 0, open_browser=True, say=said.append)
    [served] = started
    try:
        secret = served.state.start_secret
        [url] = opened
        assert secret not in url
        page = Path(
            unquote(
                urlsplit(url).path.lstrip("/") if sys.platform == "win32" else urlsplit(url).path
            )
        )
        assert page.parent == enrolled_home
        assert served.url in page.read_text(encoding="utf-8")  # it goes on to the secret URL
        if os.name == "posix":
            assert stat.S_IMODE(page.stat().st_mode) == 0o600
    finally:
        served.close()
    assert not page.exists()  # gone when the app stops
