"""A hub's address as a person types it at `pendamping enroll`.

The office hands out `http://192.168.1.10:5000` or `https://hub.dinsos.go.id`; people type
`127.0.0.1:5000` or `hub.dinsos.go.id`. Without a scheme `requests` cannot connect, which
used to read as "hub unreachable". An IP address or `localhost` with no scheme is the
office's own `pendamping-hub serve` (plain HTTP, waitress), so `http://` is assumed and said;
a name with no scheme is refused with the right form, since guessing `http://` there could
send the enrolment code in clear to a hub that only speaks HTTPS (docs/cli.md).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from client_sync.errors import InvalidHubUrl

__all__ = ["HubUrl", "parse_hub_url"]

_SCHEMES = ("http", "https")


@dataclass(frozen=True, slots=True)
class HubUrl:
    """A hub URL the laptop can use; `assumed_http` when `http://` was added to it."""

    url: str
    assumed_http: bool = False


def parse_hub_url(text: str, *, assume_http: bool = True) -> HubUrl:
    """The hub URL in `text`, with `http://` added to a bare IP address or `localhost`
    when `assume_http`.

    :raises InvalidHubUrl: no usable URL, naming `text` and showing the right form.
    """
    raw = text.strip()
    if "://" in raw:
        parts = urlsplit(raw)
        if parts.scheme.lower() in _SCHEMES and _host(parts.netloc):
            return HubUrl(raw.rstrip("/"))
        raise InvalidHubUrl(
            f"Alamat hub {text!r} tidak dapat dipakai: harus diawali http:// atau https://"
            f" lalu nama atau alamat hub, mis. {_examples(_host(parts.netloc))}."
        )
    host = _host(urlsplit("//" + raw).netloc) if raw else ""
    if assume_http and host and _is_address(host):
        return HubUrl("http://" + raw.rstrip("/"), assumed_http=True)
    raise InvalidHubUrl(
        f"Alamat hub {text!r} tidak lengkap: tulis dengan http:// atau https:// di depannya,"
        f" persis seperti dari kantor dinas, mis. {_examples(host)}."
    )


def _host(netloc: str) -> str:
    try:
        return urlsplit("//" + netloc).hostname or ""
    except ValueError:  # a port that is not a number, a bad IPv6 literal
        return ""


def _is_address(host: str) -> bool:
    """`localhost`, or an IP address (loopback, the office's LAN, any)."""
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _examples(host: str) -> str:
    name = host or "hub.dinsos.go.id"
    return f"https://{name} atau http://{name}:5000"
