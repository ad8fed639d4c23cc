"""README's "A first round, by hand", walked as written, and its Python snippet, run as written.

The commands are read out of README.md itself, so this test breaks when README changes and its
commands no longer work. Each runs as a real process (`.venv/bin/NAME` becomes this Python
with `-m` and the console script's module) in a temporary folder, against `pendamping-hub
serve` on a socket, with `PENDAMPING_PASSPHRASE` set. The README's placeholders are filled
from what the earlier commands printed: the enrolment code, `<ID>`, `<DEVICE_ID>`, `<N>`; the
hub's address is the served hub's; `rumah.jpg` is a small JPEG; `<USB>` a folder.

Two lines do not run as they stand: `daemon` runs until its first round has finished and is
then stopped with Ctrl-C (SIGINT), as the README says (on Windows, `--once`); `conflicts
resolve <N>` needs a conflict, and a first round by one laptop has none: it is skipped once
`conflicts list` has said so.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.served_hub import ServedHub

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
PASSPHRASE = "kopi-tubruk-2026"
MODULES = {".venv/bin/pendamping": "client_sync.cli", ".venv/bin/pendamping-hub": "server.cli"}
#: The commands that are groups: their subject is two words (`user add`).
GROUPS = {"user", "conflicts", "device", "audit", "beneficiary", "visit", "request", "photo"}
#: The README's example values, standing for what the office or the laptop gives.
README_HUB = "http://127.0.0.1:5000"
README_CODE = "K7QM-2XHP-9RTA"
#: The smallest file the photo check takes as a JPEG (its magic bytes and an end marker).
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\0" * 64
    + b"\xff\xd9"
)


@dataclass
class Command:
    """One command of the README's block: its words, and what is piped into it."""

    words: list[str]
    stdin: str | None = None

    @property
    def subject(self) -> str:
        """The command's own words after the program and `--home DIR`, e.g. `visit add`."""
        words = self.words[1:]
        if words[:1] == ["--home"]:
            words = words[2:]
        return " ".join(words[:2] if words[0] in GROUPS else words[:1])


def first_round(readme: str) -> list[Command]:
    """The commands of README's "A first round, by hand" block, in order."""
    found = re.search(r"^## A first round, by hand\n.*?^```\n(.*?)^```", readme, re.S | re.M)
    assert found, "README.md has no 'A first round, by hand' block"
    text = found.group(1).replace("\\\n", " ")
    commands = []
    for line in text.splitlines():
        piped, _, command = line.rpartition(" | ")
        words = shlex.split(command, comments=True)
        if not words:
            continue
        stdin = None
        if piped:
            said = shlex.split(piped)
            assert said[0] == "echo", line
            stdin = " ".join(said[1:]) + "\n"
        assert words[0] in MODULES, f"README runs something else: {line}"
        commands.append(Command(words, stdin))
    return commands


def python_snippet(readme: str) -> str:
    """The Python block under "The same from Python"."""
    found = re.search(r"^The same from Python.*?^```python\n(.*?)^```", readme, re.S | re.M)
    assert found, "README.md has no Python snippet"
    return found.group(1)


@pytest.fixture
def office(tmp_path: Path) -> Iterator[tuple[ServedHub, Path]]:
    """A temporary folder standing for the project folder, with the hub serving `./var`."""
    here = tmp_path / "project"
    here.mkdir()
    hub = ServedHub(here / "var")
    hub.cli("init")
    hub.start()
    yield hub, here
    hub.kill()


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PENDAMPING_")}
    # This checkout's code, not whatever is installed in the environment.
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return {**env, "PENDAMPING_PASSPHRASE": PASSPHRASE, "PENDAMPING_RETRIES": "0"}


@dataclass
class Walk:
    hub: ServedHub
    here: Path
    values: dict[str, str]

    def argv(self, command: Command) -> list[str]:
        words = []
        for word in command.words[1:]:
            for placeholder, value in self.values.items():
                word = word.replace(placeholder, value)
            assert "<" not in word, f"no value for {word} yet"
            words.append(word)
        return [sys.executable, "-m", MODULES[command.words[0]], *words]

    def run(self, command: Command) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            self.argv(command),
            cwd=self.here,
            env=environment(),
            input=command.stdin,
            stdin=None if command.stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, f"{shlex.join(command.words)}: {done.stdout}{done.stderr}"
        return done

    def daemon(self, command: Command) -> str:
        """Run `daemon` until its first round has finished, then Ctrl-C it; its stderr."""
        argv = self.argv(command)
        if os.name == "nt":
            argv.append("--once")
        process = subprocess.Popen(
            argv,
            cwd=self.here,
            env=environment(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stderr is not None
        seen = []
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                line = process.stderr.readline()
                seen.append(line)
                if "Sinkron selesai" in line or not line:
                    break
            if os.name != "nt":
                process.send_signal(signal.SIGINT)
            seen.append(process.stderr.read())
            code = process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()
            process.stderr.close()
        text = "".join(seen)
        assert code == 0, text
        return text


def test_the_first_round_in_readme_works_as_written(office):
    hub, here = office
    (here / "rumah.jpg").write_bytes(JPEG)
    (here / "usb").mkdir()
    walk = Walk(hub, here, {README_HUB: hub.url, "<USB>": str(here / "usb")})
    said: dict[str, str] = {}
    skipped = []
    for command in first_round(README.read_text(encoding="utf-8")):
        subject = command.subject
        if subject == "daemon":
            said[subject] = walk.daemon(command)
            continue
        if subject == "conflicts resolve" and "<N>" not in walk.values:
            assert "Tidak ada konflik terbuka." in said["conflicts list"]
            skipped.append(subject)
            continue
        done = walk.run(command)
        said[subject] = done.stdout + done.stderr
        # the walk's transcript, for a closing note: pytest -rP shows it
        print(f"$ {shlex.join(walk.argv(command)[3:]) or subject}\n{said[subject]}")
        if subject == "enroll-code":
            walk.values[README_CODE] = done.stdout.split()[-1]
        elif subject == "enroll":
            walk.values["<DEVICE_ID>"] = re.search(r"ID perangkat: (\S+)", done.stdout)[1]
        elif subject == "beneficiary add":
            walk.values["<ID>"] = done.stdout.split()[-1]
        elif subject == "conflicts list" and done.stdout.startswith("#"):
            walk.values["<N>"] = done.stdout[1:].split()[0]

    assert "Laptop terdaftar di " + hub.url in said["enroll"]
    assert "Menunggu dikirim: 2 perubahan" in said["status"]
    assert "Sinkron selesai: 2 terkirim" in said["sync"]
    assert "Sinkron selesai: " in said["daemon"] and "1 foto terkirim" in said["daemon"]
    assert "Sinkron latar belakang berhenti." in said["daemon"] or os.name == "nt"
    assert "Bundle ditulis: " in said["export-bundle"] and "(1 perubahan" in said["export-bundle"]
    assert "1 diterapkan" in said["import-bundle"]
    assert "penerima manfaat: 1" in said["stats"] and "kunjungan: 2" in said["stats"]
    assert skipped == ["conflicts resolve"]
    assert set(said) >= {"user add", "audit verify", "device revoke", "device list"}


@pytest.mark.skipif(os.name == "nt", reason="getpass reads the console itself on Windows")
def test_the_python_snippet_in_readme_runs_on_an_encrypted_store(office):
    hub, here = office
    code = hub.enroll_code("siti")
    enrolled = subprocess.run(
        [sys.executable, "-m", "client_sync.cli", "--home", "laptop-siti", "enroll", hub.url, code],
        cwd=here,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert enrolled.returncode == 0, enrolled.stderr
    snippet = python_snippet(README.read_text(encoding="utf-8"))
    typed_env = {k: v for k, v in environment().items() if k != "PENDAMPING_PASSPHRASE"}

    # As a person runs it: no PENDAMPING_PASSPHRASE, the passphrase typed when asked. A
    # session of its own has no terminal, so getpass reads the line from stdin.
    typed = subprocess.run(
        [sys.executable, "-W", "ignore::getpass.GetPassWarning", "-c", snippet],
        cwd=here,
        env=typed_env,
        input=PASSPHRASE + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        start_new_session=True,
    )
    # As a script or the daemon's task runs it: from PENDAMPING_PASSPHRASE.
    scripted = subprocess.run(
        [sys.executable, "-c", snippet],
        cwd=here,
        env=environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert typed.returncode == 0, typed.stderr
    assert scripted.returncode == 0, scripted.stderr
    assert "penerima manfaat: 2" in hub.cli("stats")  # Pak Harun, once per run, on the hub
