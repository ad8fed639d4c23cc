"""A throw-away PostgreSQL cluster for the tests: initdb in a temporary folder, a loopback port.

The suite never needs a database that someone else started (issue 14): the binaries are found
on PATH or under /usr/lib/postgresql/*/bin (newest first), installed from Debian's
`postgresql` package with apt-get when missing and running as root, and the cluster lives in
a temporary folder that is removed when the session ends. initdb refuses to run as root, so a
root session runs the cluster as the `postgres` OS user (created when missing), through
subprocess' `user=`, never a shell.

Every test database is created with a non-C default collation (ICU `en-US` when the server
has ICU): a data centre's cluster is often `en_US.UTF-8`, and a column that forgot
`COLLATE "C"` would order ids and wilayah codes differently from SQLite. The tests see that
here instead of in production.

Durability is off (fsync, synchronous_commit, full_page_writes): this cluster only ever
holds test data, and a test session must not wait on a disk.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from psycopg import sql

from tests.support.served_hub import free_port

if sys.platform != "win32":  # the OS user a root session runs the cluster as (Linux)
    import pwd

__all__ = [
    "PgCluster",
    "PgUnavailable",
    "ensure_binaries",
    "find_binaries",
    "start_cluster",
]

#: Debian's package, which pulls the current major version's server and client.
PACKAGE = "postgresql"
#: the OS user a root session runs the cluster as (Debian's package creates it too).
OS_USER = "postgres"
#: the database superuser; initdb's `-U`.
SUPERUSER = "postgres"
#: the default collation of every test database (see the module docstring); None = the
#: cluster's own (C), used when the server has no ICU.
TEST_DB_ICU_LOCALE = "en-US"

_SETTINGS: Mapping[str, str] = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    # several hub processes, each with a pool, plus the tests' own connections
    "max_connections": "200",
    "shared_buffers": "32MB",
    "max_locks_per_transaction": "128",
    "log_min_messages": "warning",
    "log_min_error_statement": "panic",
    "log_checkpoints": "off",
    "log_connections": "off",
    "log_disconnections": "off",
    "timezone": "'UTC'",
}


class PgUnavailable(RuntimeError):
    """No PostgreSQL server can be had for the tests; the message says how to get one."""


def find_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: PATH first, then the newest
    /usr/lib/postgresql/N/bin; None when there is none."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).resolve().parent
    versions = []
    for candidate in Path("/usr/lib/postgresql").glob("*/bin"):
        if (candidate / "initdb").exists() and (candidate / "pg_ctl").exists():
            major = candidate.parent.name
            versions.append((int(major) if major.isdigit() else 0, candidate))
    return max(versions)[1] if versions else None


def _as_root() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "geteuid") and os.geteuid() == 0


def ensure_binaries() -> Path:
    """:func:`find_binaries`, installing Debian's `postgresql` when missing and root.

    :raises PgUnavailable: missing and cannot be installed here (one line saying how).
    """
    found = find_binaries()
    if found is not None:
        return found
    if not _as_root() or shutil.which("apt-get") is None:
        raise PgUnavailable(
            "PostgreSQL's initdb/pg_ctl not found: install the server (Debian/Ubuntu: "
            "`sudo apt-get install postgresql`; elsewhere put initdb and pg_ctl on PATH)."
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "-q", "--no-install-recommends", PACKAGE]
    done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:  # a fresh machine may have no package lists yet
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(install, env=env, capture_output=True, text=True, check=False)
    found = find_binaries()
    if done.returncode != 0 or found is None:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or [""]
        raise PgUnavailable(f"apt-get install {PACKAGE} failed (exit {done.returncode}): {tail[0]}")
    return found


def _ensure_os_user() -> pwd.struct_passwd:
    """The `postgres` OS user, created as a system user when missing (root only)."""
    try:
        return pwd.getpwnam(OS_USER)
    except KeyError:
        subprocess.run(
            ["useradd", "--system", "--user-group", "--no-create-home", OS_USER],
            check=True,
            capture_output=True,
        )
        return pwd.getpwnam(OS_USER)


@dataclass
class PgCluster:
    """A running throw-away cluster; :meth:`stop` ends it and removes its folder."""

    root: Path
    bindir: Path
    port: int
    runas: pwd.struct_passwd | None = None
    icu: bool = False
    _created: set[str] = field(default_factory=set)

    @property
    def datadir(self) -> Path:
        return self.root / "data"

    @property
    def socket_dir(self) -> Path:
        return self.root / "socket"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, dbname: str = "postgres") -> str:
        """`postgresql://postgres@127.0.0.1:PORT/DBNAME` (trust authentication)."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def connect(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit connection as the superuser."""
        return psycopg.connect(self.url(dbname), autocommit=True, connect_timeout=10)

    def create_database(self, prefix: str = "t", template: str | None = None) -> str:
        """A fresh database with a unique name; :returns: its URL.

        :param template: the name of a database to copy (one a test migrated once, say, and
            closed: nobody may be connected to it); by default the database is empty.
        """
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        statement = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
            sql.Identifier(name), sql.Identifier(template or "template0")
        )
        if self.icu and template is None:
            statement += sql.SQL(" LOCALE_PROVIDER icu ICU_LOCALE {}").format(
                sql.Literal(TEST_DB_ICU_LOCALE)
            )
        with self.connect() as conn:
            conn.execute(statement)
        self._created.add(name)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop `name`, ending any connection still open to it (a pool a test left open)."""
        with self.connect() as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        self._created.discard(name)

    def databases(self) -> set[str]:
        """The names of the databases in the cluster, templates and `postgres` left out."""
        with self.connect() as conn:
            rows = conn.execute(
                "SELECT datname FROM pg_database WHERE NOT datistemplate AND datname <> 'postgres'"
            ).fetchall()
        return {row[0] for row in rows}

    def pg_ctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return _run(self, [str(self.bindir / "pg_ctl"), "-D", str(self.datadir), *args], check)

    def stop(self) -> None:
        """End the server at once (its data is thrown away) and remove the folder."""
        if (self.datadir / "postmaster.pid").exists():
            self.pg_ctl("stop", "-m", "immediate", "-w", "-t", "30", check=False)
        shutil.rmtree(self.root, ignore_errors=True)


def _run(cluster: PgCluster, command: list[str], check: bool) -> subprocess.CompletedProcess[str]:
    """Run a PostgreSQL binary, as the `postgres` OS user when the cluster has one."""
    extra: dict = {}
    if cluster.runas is not None:
        extra = {
            "user": cluster.runas.pw_uid,
            "group": cluster.runas.pw_gid,
            "extra_groups": [],
        }
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LC_ALL": "C",
        "LANG": "C",
        "TZ": "UTC",
    }
    done = subprocess.run(
        command,
        cwd=cluster.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        **extra,
    )
    if check and done.returncode != 0:
        raise PgUnavailable(
            f"{Path(command[0]).name} failed (exit {done.returncode}): "
            f"{(done.stderr or done.stdout).strip()[-1500:]}"
        )
    return done


def start_cluster(base: Path | None = None) -> PgCluster:
    """Create, configure and start a cluster in a new temporary folder.

    :param base: where the folder is made (default: the system's temporary folder, which
        the `postgres` OS user can reach, unlike pytest's per-user one).
    :raises PgUnavailable: the binaries are missing and cannot be installed, or the server
        did not start (the message carries its log's last lines).
    """
    bindir = ensure_binaries()
    root = Path(tempfile.mkdtemp(prefix="pendamping-pg-", dir=base))
    runas = _ensure_os_user() if _as_root() else None
    cluster = PgCluster(root=root, bindir=bindir, port=0, runas=runas)
    try:
        cluster.socket_dir.mkdir()
        if runas is not None:
            for path in (root, cluster.socket_dir):
                os.chown(path, runas.pw_uid, runas.pw_gid)
        _initdb(cluster)
        _configure(cluster)
        _start(cluster)
        with cluster.connect() as conn:
            cluster.icu = bool(
                conn.execute(
                    "SELECT count(*) FROM pg_collation WHERE collprovider = 'i'"
                ).fetchone()[0]  # type: ignore[index]
            )
    except BaseException:
        cluster.stop()
        raise
    return cluster


def _initdb(cluster: PgCluster) -> None:
    base = [str(cluster.bindir / "initdb"), "-D", str(cluster.datadir), "-A", "trust"]
    base += ["-U", SUPERUSER, "--encoding=UTF8", "--no-sync"]
    done = _run(cluster, [*base, "--locale=C.UTF-8"], check=False)
    if done.returncode != 0:  # a system without the C.UTF-8 locale
        shutil.rmtree(cluster.datadir, ignore_errors=True)
        _run(cluster, [*base, "--locale=C"], check=True)


def _configure(cluster: PgCluster) -> None:
    lines = [f"{name} = {value}" for name, value in _SETTINGS.items()]
    lines.append(f"unix_socket_directories = '{cluster.socket_dir}'")
    with (cluster.datadir / "postgresql.conf").open("a") as conf:
        conf.write("\n# pendamping-sync tests (tests/support/postgres.py)\n")
        conf.write("\n".join(lines) + "\n")


def _start(cluster: PgCluster) -> None:
    """Start on a free port; another port when one was taken in between (a few tries)."""
    for _attempt in range(5):
        cluster.port = free_port()
        done = cluster.pg_ctl(
            "start",
            "-w",
            "-t",
            "60",
            "-l",
            str(cluster.log),
            "-o",
            f"-p {cluster.port}",
            check=False,
        )
        if done.returncode == 0:
            return
        log = cluster.log.read_text(errors="replace") if cluster.log.exists() else ""
        if not re.search(r"could not bind|Address already in use", log):
            tail = " | ".join(log.strip().splitlines()[-5:])
            raise PgUnavailable(f"PostgreSQL did not start (pg_ctl exit {done.returncode}): {tail}")
        time.sleep(0.2)
    raise PgUnavailable("PostgreSQL did not start: no free loopback port after 5 tries")
