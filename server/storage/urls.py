"""The hub's storage URLs, read and shown: ``sqlite:///PATH`` and ``postgresql://...``.

Without psycopg: every `pendamping-hub` command loads the command line, and a SQLite hub
never needs the PostgreSQL driver to say where its file is or to print a URL.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["PG_SCHEMES", "one_line", "shown_url", "sqlite_path"]

PG_SCHEMES = ("postgresql://", "postgres://")
_USERINFO_PASSWORD = re.compile(r"^([a-z][a-z0-9+.-]*://[^:/@?#]*):[^/?#]*@", re.IGNORECASE)
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def sqlite_path(url: str) -> Path:
    """The file of a ``sqlite:///PATH`` URL (``sqlite:////abs`` or ``sqlite:///C:/x``).

    :raises ValueError: not such a URL (the message is Indonesian, for the command line).
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix) or len(url) == len(prefix):
        raise ValueError(f"harus berbentuk sqlite:///JALUR/hub.sqlite3, bukan {shown_url(url)!r}")
    return Path(url[len(prefix) :])


def one_line(exc: BaseException) -> str:
    """`exc`'s message on one line (libpq's span several), without a trailing period."""
    return " ".join(str(exc).split()).rstrip(".") or type(exc).__name__


def shown_url(url: str) -> str:
    """`url` fit to print: a password in it (``user:PASSWORD@``, ``?password=``) is ``***``."""
    hidden = _USERINFO_PASSWORD.sub(r"\1:***@", url, count=1)
    return _QUERY_PASSWORD.sub(r"\1***", hidden)
