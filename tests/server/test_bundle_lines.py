"""changes.json is read by cutting 1 MiB reads into lines (server/bundle_reader._Lines); it
must decide every layout exactly as reading it with `readline(cap)` did, and the cheap
long-integer check must be the regex it replaced."""

from __future__ import annotations

import io
import re
import zipfile
from typing import Any
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from schemas.bundle_format import (
    CHANGES,
    CHANGES_END,
    CHANGES_TAIL,
    SEPARATOR,
    BundleRefusal,
    changes_head,
)
from server.bundle_reader import (
    BundleLimits,
    Member,
    _check_head,
    _Lines,
    _loads,
    iter_changes,
)
from server.exceptions import BundleRefused
from server.jsonprovider import may_hold_long_integer

_COMMA = SEPARATOR.rstrip("\n").encode("ascii")
_LAST_LINE = CHANGES_TAIL.lstrip("\n").encode("ascii")


def readline_reference(member: Member, limits: BundleLimits) -> Any:
    """iter_changes as it was, reading with Member.readline (ZipExtFile.readline)."""
    cap = limits.change_bytes + 2
    _check_head(member.readline(cap))
    number = 1
    while True:
        line = member.readline(cap)
        number += 1
        if not line.endswith(b"\n"):
            if len(line) >= cap:
                raise BundleRefused(BundleRefusal.TOO_LARGE, f"baris {number}")
            raise BundleRefused(BundleRefusal.BAD_CHANGES, "terpotong")
        body = line[:-1]
        if body == CHANGES_END:
            break
        more = body.endswith(_COMMA)
        yield _loads(body[:-1] if more else body, number)
        if not more:
            if member.readline(8) != _LAST_LINE:
                raise BundleRefused(BundleRefusal.BAD_CHANGES, f"penutup {number}")
            break
    if member.read(1):
        raise BundleRefused(BundleRefusal.BAD_CHANGES, "setelah penutup")


def outcome(reader: Any, data: bytes, limits: BundleLimits) -> tuple[list[Any], str | None, str]:
    """The changes read, the refusal's slug (if any), and the digest of what was read."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        bundle.writestr(CHANGES, data)
    with zipfile.ZipFile(buffer) as bundle:
        member = Member(bundle, bundle.getinfo(CHANGES), 10**9)
        read: list[Any] = []
        slug = None
        with member:
            try:
                for change in reader(member, limits):
                    read.append(change)
            except BundleRefused as exc:
                slug = str(exc.slug)
        return read, slug, member.hexdigest() if slug is None else ""


HEAD = changes_head()


@st.composite
def layouts(draw: st.DrawFn) -> tuple[bytes, int]:
    """changes.json as the laptop writes it (changes of any length, near the line cap
    too), then perhaps damaged: a line dropped, replaced, or the tail cut or followed."""
    change_bytes = draw(st.integers(len(HEAD), len(HEAD) + 30))
    sizes = draw(st.lists(st.integers(0, change_bytes + 4), max_size=6))
    changes = [f'{{"t":"{"x" * max(0, size - 8)}"}}' for size in sizes]
    lines = [HEAD, *(c + "," for c in changes[:-1]), *changes[-1:], "]}"]
    if draw(st.booleans()):
        at = draw(st.integers(0, len(lines) - 1))
        damage = draw(st.sampled_from(["drop", "junk", "comma", "bare"]))
        if damage == "drop":
            del lines[at]
        elif damage == "junk":
            lines[at] = draw(st.sampled_from(["", ",", "x", "]}x", "1" * 20 + ","]))
        elif damage == "comma":
            lines[at] += ","
        else:
            lines[at] = lines[at].rstrip(",")
    text = "\n".join(lines) + draw(st.sampled_from(["\n", "", "\nextra", "\n\n", "\n]}\n"]))
    return text.encode(), change_bytes


@settings(max_examples=500, deadline=None)
@given(layouts(), st.sampled_from([1, 7, 64, _Lines.chunk]))
def test_lines_cut_from_big_reads_decide_as_readline_did(layout, chunk):
    data, change_bytes = layout
    limits = BundleLimits(change_bytes=change_bytes)
    expected = outcome(readline_reference, data, limits)
    with patch.object(_Lines, "chunk", chunk):  # lines straddling reads, or not
        assert outcome(iter_changes, data, limits) == expected


def test_a_well_formed_changes_json_reads_the_same_both_ways():
    changes = [f'{{"n":{n},"t":"{"x" * n}"}}' for n in range(50)]
    data = (changes_head() + "\n" + SEPARATOR.join(changes) + CHANGES_TAIL).encode()
    limits = BundleLimits()
    got = outcome(iter_changes, data, limits)
    assert got == outcome(readline_reference, data, limits)
    assert [c["n"] for c in got[0]] == list(range(50)) and got[1] is None


@settings(max_examples=500)
@given(st.binary(max_size=60), st.text("0123456789x", max_size=60))
def test_the_long_integer_check_is_the_regex_it_replaced(noise, digits):
    for data in (noise, digits.encode(), noise + digits.encode() + noise):
        assert may_hold_long_integer(data) == bool(re.search(rb"[0-9]{19}", data))
