"""One daemon per laptop home: a second one is refused, and a lock never outlives its holder."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from client_sync.instance_lock import LOCK_FILE, AlreadyRunning, only_instance


def test_a_second_daemon_on_the_same_home_is_refused(tmp_path: Path):
    with only_instance(tmp_path), pytest.raises(AlreadyRunning):  # noqa: SIM117
        with only_instance(tmp_path):
            pass


def test_the_lock_is_free_again_once_its_holder_is_done(tmp_path: Path):
    with only_instance(tmp_path):
        pass
    with only_instance(tmp_path):
        pass


def test_a_lock_dies_with_the_process_that_held_it(tmp_path: Path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path;"
            "from client_sync.instance_lock import only_instance;"
            "ctx = only_instance(Path(sys.argv[1])); ctx.__enter__();"
            "print('held', flush=True); time.sleep(60)",
            str(tmp_path),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(AlreadyRunning):  # noqa: SIM117
            with only_instance(tmp_path):
                pass
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()
    with only_instance(tmp_path):  # killed, not cleaned up: the lock is free anyway
        pass


def test_the_lock_file_stays_empty_so_it_reveals_nothing(tmp_path: Path):
    with only_instance(tmp_path):
        assert (tmp_path / LOCK_FILE).read_bytes() == b""
