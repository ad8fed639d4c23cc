"""Zip headers the stdlib refuses in unexpected ways are a BundleRefused, never a crash."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import pytest
from flask import Flask

from server.bundle import BundleRefused, import_bundle

# -- (2) hostile bundle files: a stack trace instead of BundleRefused ----------------------------


def _tiny_zip() -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("manifest.json", b'{"format": "pendamping-bundle"}')
        bundle.writestr("manifest.hmac", b"00" * 32)
    return bytearray(buffer.getvalue())


def _central_flag_bit_5() -> bytes:
    """manifest.json flagged 'compressed patched data' in the central directory."""
    data = _tiny_zip()
    at = data.find(b"PK\x01\x02")
    (flags,) = struct.unpack_from("<H", data, at + 8)
    struct.pack_into("<H", data, at + 8, flags | 0x20)
    return bytes(data)


def _local_utf8_name_not_utf8() -> bytes:
    """manifest.json's local header says UTF-8 name, and its name bytes are not UTF-8."""
    data = _tiny_zip()
    at = data.find(b"PK\x03\x04")
    (flags,) = struct.unpack_from("<H", data, at + 6)
    struct.pack_into("<H", data, at + 6, flags | 0x800)
    data[data.find(b"manifest.json", at)] = 0xFF
    return bytes(data)


@pytest.mark.parametrize("make", [_central_flag_bit_5, _local_utf8_name_not_utf8])
def test_a_hostile_zip_header_is_refused_as_a_bundle_not_a_crash(
    hub_app: Flask, tmp_path: Path, make
):
    path = tmp_path / "hostile.zip"
    path.write_bytes(make())
    with pytest.raises(BundleRefused):
        import_bundle(hub_app.extensions["pendamping"], path)
