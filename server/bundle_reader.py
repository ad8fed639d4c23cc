"""Reading a USB bundle's zip without trusting it: names, sizes, and changes.json a line at a time.

The zip bomb guard has two halves: each member's declared size is checked against its limit
before anything is read (:func:`check_members`), and :class:`Member` stops reading at the
limit whatever the header claimed. Photos must be stored uncompressed, so they cannot
inflate at all. :func:`iter_changes` reads changes.json in the layout the laptop writes (the
envelope's head on the first line, then one change per line), parsing each change as a push
body is parsed, so 100,000 changes are never held at once.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import orjson
from marshmallow import ValidationError

from schemas.bundle_format import (
    CHANGES,
    CHANGES_END,
    CHANGES_TAIL,
    MANIFEST,
    PHOTO_NAME,
    SEPARATOR,
    SIGNATURE,
    SIGNATURE_MAX_BYTES,
    BundleRefusal,
)
from schemas.sync import PushRequestSchema
from server.exceptions import BundleRefused
from server.jsonprovider import may_hold_long_integer  # as a push body: huge ints kept exact

__all__ = [
    "BundleLimits",
    "Member",
    "check_members",
    "iter_changes",
    "limit_of",
    "read_small",
]

_READ_CHUNK = 1024 * 1024
_COMMA = SEPARATOR.rstrip("\n").encode("ascii")  # a change line that another follows ends so
_LAST_LINE = CHANGES_TAIL.lstrip("\n").encode("ascii")  # the closing line, newline and all
_MiB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class BundleLimits:
    """How large each part of a bundle may be, in bytes (a zip bomb stops at these)."""

    changes_bytes: int = 1024 * _MiB  # the whole changes.json; it is read a line at a time
    change_bytes: int = 32 * _MiB  # one change: what a push body may hold once inflated
    photo_bytes: int = 20 * _MiB
    manifest_bytes: int = 16 * _MiB
    members: int = 100_000

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> BundleLimits:
        """Limits from the hub's settings: `MAX_CONTENT_LENGTH` bounds one change as it
        bounds a push; `ATTACHMENT_MAX_BYTES` a photo; `BUNDLE_MAX_CHANGES_BYTES` the whole."""
        default = cls()
        return cls(
            changes_bytes=int(config.get("BUNDLE_MAX_CHANGES_BYTES") or default.changes_bytes),
            change_bytes=int(config.get("MAX_CONTENT_LENGTH") or default.change_bytes),
            photo_bytes=int(config.get("ATTACHMENT_MAX_BYTES") or default.photo_bytes),
        )


def check_members(bundle: zipfile.ZipFile, limits: BundleLimits) -> dict[str, zipfile.ZipInfo]:
    """Only the expected names, each once, plainly compressed and within its size limit."""
    infos = bundle.infolist()
    names = [info.filename for info in infos]
    if MANIFEST not in names or SIGNATURE not in names:
        raise BundleRefused(
            BundleRefusal.NOT_BUNDLE,
            "Bukan bundle pendamping: manifest.json atau manifest.hmac tidak ada.",
        )
    if len(infos) > limits.members:
        raise BundleRefused(
            BundleRefusal.TOO_LARGE, f"Bundle berisi {len(infos)} berkas, terlalu banyak."
        )
    for name in names:
        if name not in (CHANGES, MANIFEST, SIGNATURE) and not PHOTO_NAME.fullmatch(name):
            raise BundleRefused(
                BundleRefusal.BAD_MEMBER, f"Nama berkas tidak diizinkan di dalam bundle: {name!r}."
            )
    if len(set(names)) != len(names):
        raise BundleRefused(
            BundleRefusal.BAD_MEMBER, "Ada nama berkas yang muncul dua kali di dalam bundle."
        )
    for info in infos:
        if info.flag_bits & 0x1 or info.compress_type not in (
            zipfile.ZIP_STORED,
            zipfile.ZIP_DEFLATED,
        ):
            raise BundleRefused(
                BundleRefusal.BAD_MEMBER,
                f"{info.filename}: terenkripsi atau dimampatkan dengan cara lain.",
            )
        if PHOTO_NAME.fullmatch(info.filename) and (
            info.compress_type != zipfile.ZIP_STORED or info.compress_size != info.file_size
        ):
            raise BundleRefused(
                BundleRefusal.BAD_MEMBER, f"{info.filename}: foto harus disimpan apa adanya."
            )
        limit = limit_of(info.filename, limits)
        if info.file_size > limit:
            raise BundleRefused(
                BundleRefusal.TOO_LARGE,
                f"{info.filename} terlalu besar ({info.file_size} bayt; batas {limit} bayt).",
            )
    return {info.filename: info for info in infos}


def limit_of(name: str, limits: BundleLimits) -> int:
    """How many bytes the member `name` may hold."""
    if name == CHANGES:
        return limits.changes_bytes
    if name == MANIFEST:
        return limits.manifest_bytes
    if name == SIGNATURE:
        return SIGNATURE_MAX_BYTES
    return limits.photo_bytes


@contextmanager
def _damaged(name: str) -> Iterator[None]:
    try:
        yield
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, UnicodeError) as exc:
        # NotImplementedError: a zip feature the stdlib refuses (e.g. flag bit 5);
        # UnicodeError: a header that claims UTF-8 names and is not
        raise BundleRefused(
            BundleRefusal.DAMAGED, f"{name} rusak di dalam bundle ({exc})."
        ) from exc


class Member:
    """One member read front to back: hashed, and cut off at its limit whatever its header
    claimed (the zip bomb guard's second half)."""

    def __init__(self, bundle: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> None:
        self.name = info.filename
        self.limit = limit
        self.size = 0
        self._digest = hashlib.sha256()
        with _damaged(self.name):
            self._file = bundle.open(info)

    def __enter__(self) -> Member:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()

    def _take(self, data: bytes) -> bytes:
        self.size += len(data)
        if self.size > self.limit:
            raise BundleRefused(
                BundleRefusal.TOO_LARGE, f"{self.name} melebihi batas {self.limit} bayt."
            )
        self._digest.update(data)
        return data

    def read(self, size: int = _READ_CHUNK) -> bytes:
        with _damaged(self.name):
            return self._take(self._file.read(size))

    def readline(self, size: int) -> bytes:
        with _damaged(self.name):
            return self._take(self._file.readline(size))

    def drain(self) -> None:
        while self.read():
            pass

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


def read_small(bundle: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int) -> bytes:
    with Member(bundle, info, limit) as member:
        parts = []
        while chunk := member.read():
            parts.append(chunk)
    return b"".join(parts)


class _Lines:
    """A member's lines, read a megabyte at a time and cut here: `ZipExtFile.readline`
    costs several microseconds a line in Python, which a 100,000-change bundle feels."""

    #: bytes per read (tests make it small, so lines straddle reads)
    chunk = _READ_CHUNK

    def __init__(self, member: Member) -> None:
        self._member = member
        self._buffer = b""
        self._pos = 0

    def next(self, cap: int) -> bytes:
        """The next line with its newline, as ``readline(cap)`` gives it: at most `cap`
        bytes (a longer line comes back cut, without its newline), and at the end of the
        member whatever is left (possibly nothing)."""
        while True:
            end = self._buffer.find(b"\n", self._pos, self._pos + cap)
            if end >= 0:
                line = self._buffer[self._pos : end + 1]
                self._pos = end + 1
                return line
            if len(self._buffer) - self._pos >= cap:
                line = self._buffer[self._pos : self._pos + cap]
                self._pos += cap
                return line
            chunk = self._member.read(self.chunk)
            if not chunk:
                line = self._buffer[self._pos :]
                self._buffer, self._pos = b"", 0
                return line
            self._buffer = self._buffer[self._pos :] + chunk
            self._pos = 0

    def at_end(self) -> bool:
        """Nothing is left (the member is read to its end, so its digest is whole)."""
        return self._pos == len(self._buffer) and not self._member.read(1)


def iter_changes(member: Member, limits: BundleLimits) -> Iterator[Any]:
    """Each change of changes.json, parsed as a push body is. The layout is the one the
    laptop writes: the envelope's head on the first line, then one change per line."""
    cap = limits.change_bytes + 2  # a change, its comma and its newline
    lines = _Lines(member)
    head = lines.next(cap)
    _check_head(head)
    number = 1
    while True:
        line = lines.next(cap)
        number += 1
        if not line.endswith(b"\n"):
            if len(line) >= cap:
                raise BundleRefused(
                    BundleRefusal.TOO_LARGE,
                    f"changes.json baris {number}: satu perubahan terlalu besar.",
                )
            raise BundleRefused(BundleRefusal.BAD_CHANGES, "changes.json terpotong.")
        body = line[:-1]
        if body == CHANGES_END:
            break
        more = body.endswith(_COMMA)
        yield _loads(body[:-1] if more else body, number)
        if not more:
            if lines.next(8) != _LAST_LINE:
                raise BundleRefused(
                    BundleRefusal.BAD_CHANGES, f"changes.json: penutup setelah baris {number}."
                )
            break
    if not lines.at_end():
        raise BundleRefused(BundleRefusal.BAD_CHANGES, "changes.json: ada isi setelah penutup.")


def _check_head(head: bytes) -> None:
    try:
        PushRequestSchema().load(_loads(head.rstrip(b"\n") + CHANGES_END, 1))
    except (ValidationError, BundleRefused) as exc:
        raise BundleRefused(
            BundleRefusal.BAD_CHANGES, "changes.json: awalnya bukan kiriman protokol 1 yang sah."
        ) from exc


def _loads(data: bytes, number: int) -> Any:
    try:
        value = orjson.loads(data)
        if may_hold_long_integer(data):
            value = json.loads(data)
    except (ValueError, RecursionError):
        raise BundleRefused(
            BundleRefusal.BAD_CHANGES, f"changes.json baris {number} bukan JSON yang sah."
        ) from None
    return value
