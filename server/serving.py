"""Whether a hub serves a data folder: what a restore tests before it replaces anything.

Every `pendamping-hub serve` holds an exclusive operating-system lock on a file of its own,
``DATA_DIR/serving/<host>-<pid>-<token>.lock``, for as long as the process lives (gunicorn's
workers inherit it from their arbiter, so all of them count). The kernel drops the lock when
the process ends, however it ends (a crash, ``kill -9``, a power cut), so there is no stale
state to expire: a lock file nobody holds is one a dead hub left, and is removed.

A restore takes ``DATA_DIR/restore.lock`` exclusively, then tries each serving file: one it
cannot lock belongs to a live hub, and the restore is refused. A `serve` that starts during
a restore registers its own file first and then finds ``restore.lock`` held, and refuses to
start, so neither can slip past the other.

Locks: :func:`fcntl.flock` on POSIX, :func:`msvcrt.locking` on Windows (both are released by
the system when the process exits). Several serve processes on one folder (gunicorn's
workers, or several waitress services behind a proxy on Windows) are all seen.
"""

from __future__ import annotations

import atexit
import os
import secrets
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

__all__ = [
    "HubServing",
    "RestoreInProgress",
    "ServingMark",
    "hold_serving_mark",
    "restore_guard",
    "serving_owners",
]

_FOLDER = "serving"
_RESTORE = "restore.lock"


class HubServing(Exception):
    """A hub process serves the data folder; `owners` says which (host, pid)."""

    def __init__(self, owners: list[str]) -> None:
        super().__init__(", ".join(owners))
        self.owners = owners


class RestoreInProgress(Exception):
    """A restore holds the data folder; the hub must not start on it now."""


def _try_lock(handle: IO[bytes]) -> bool:
    """Lock `handle` exclusively without waiting. :returns: whether it was locked."""
    try:
        if sys.platform == "win32":
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _unlock(handle: IO[bytes]) -> None:
    if sys.platform == "win32":
        import msvcrt

        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
    else:
        import fcntl

        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@dataclass
class ServingMark:
    """The serving lock of this process; released at exit (by the system if not before)."""

    path: Path
    handle: IO[bytes]
    pid: int

    def release(self) -> None:
        """Drop the lock and the file; only in the process that took it (a forked gunicorn
        worker must not drop its arbiter's lock on its way out)."""
        if os.getpid() != self.pid or self.handle.closed:
            return
        try:
            _unlock(self.handle)
        finally:
            self.handle.close()
        self.path.unlink(missing_ok=True)


def hold_serving_mark(data_dir: Path) -> ServingMark:
    """Mark `data_dir` as served by this process until it exits.

    :raises RestoreInProgress: a restore holds the folder (nothing is left behind).
    """
    folder = Path(data_dir) / _FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    who = f"{socket.gethostname()}-{os.getpid()}"
    path = folder / f"{who}-{secrets.token_hex(4)}.lock"
    handle = open(path, "wb+")  # noqa: SIM115 - held for the life of the process
    handle.write(f"{who}\n".encode())
    handle.flush()
    if not _try_lock(handle):  # a fresh name nobody else opens: cannot happen but be safe
        handle.close()
        raise RestoreInProgress(str(path))
    mark = ServingMark(path, handle, os.getpid())
    with open(Path(data_dir) / _RESTORE, "ab+") as probe:
        if not _try_lock(probe):
            mark.release()
            raise RestoreInProgress(str(Path(data_dir) / _RESTORE))
        _unlock(probe)
    atexit.register(mark.release)
    return mark


def serving_owners(data_dir: Path) -> list[str]:
    """The processes that serve `data_dir` now, as ``host-pid``; removes files left by dead
    ones. (Only a restore's check needs this; see :func:`restore_guard`.)"""
    folder = Path(data_dir) / _FOLDER
    if not folder.is_dir():
        return []
    alive = []
    for path in sorted(folder.glob("*.lock")):
        try:
            handle = open(path, "rb+")  # noqa: SIM115
        except OSError:  # Windows: a file another process holds open may refuse us
            alive.append(path.stem.rsplit("-", 1)[0])
            continue
        with handle:
            if _try_lock(handle):
                _unlock(handle)
                stale = True
            else:
                stale = False
                alive.append(path.stem.rsplit("-", 1)[0])
        if stale:
            path.unlink(missing_ok=True)
    return alive


@contextmanager
def restore_guard(data_dir: Path) -> Iterator[None]:
    """Hold `data_dir` for a restore: no hub serves it, and none can start until the block ends.

    :raises HubServing: a hub process serves it (nothing was changed).
    :raises RestoreInProgress: another restore holds it.
    """
    Path(data_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(data_dir) / _RESTORE, "ab+") as handle:
        if not _try_lock(handle):
            raise RestoreInProgress(str(Path(data_dir) / _RESTORE))
        try:
            owners = serving_owners(data_dir)
            if owners:
                raise HubServing(owners)
            yield
        finally:
            _unlock(handle)
