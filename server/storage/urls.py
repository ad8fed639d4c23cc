"""The hub's storage URLs, read and shown: ``sqlite:///PATH`` and ``postgresql://...``.

Without psycopg: every `pendamping-hub` command loads the command line, and a SQLite hub
never needs the PostgreSQL driver to say where its file is or to print a URL.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote

__all__ = ["PG_SCHEMES", "hide_secrets", "one_line", "shown_url", "sqlite_path"]

PG_SCHEMES = ("postgresql://", "postgres://")
_QUERY_PASSWORD = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)
_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)


def _userinfo_password(url: str) -> tuple[int, int] | None:
    """Where the password of `url`'s ``user:PASSWORD@`` lies, as (start, end), or None.

    Read by hand rather than by a URL parser: libpq takes ``?``, ``#`` and ``/`` unescaped
    in a password, where a parser would end the userinfo early and print the rest. The
    userinfo runs to the LAST ``@`` (a host never holds one).
    """
    scheme = _SCHEME.match(url)
    if scheme is None:
        return None
    at = url.rfind("@")
    colon = url.find(":", scheme.end(), at)
    if at < 0 or colon < 0:
        return None
    return colon + 1, at


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
    span = _userinfo_password(url)
    hidden = url if span is None else f"{url[: span[0]]}***{url[span[1] :]}"
    return _QUERY_PASSWORD.sub(r"\1***", hidden)


def hide_secrets(text: str, url: str) -> str:
    """`text` (a driver's error message, say) with `url`'s password taken out, as written
    and percent-decoded: libpq quotes the piece of a URL it could not read."""
    secrets: list[str] = []
    span = _userinfo_password(url)
    if span is not None:
        secrets.append(url[span[0] : span[1]])
    secrets += [m.group(0).split("=", 1)[1] for m in _QUERY_PASSWORD.finditer(url)]
    for secret in [s for s in secrets if s]:
        for form in {secret, unquote(secret)}:
            text = text.replace(form, "***")
    return text
