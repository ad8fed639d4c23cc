"""The USB bundle's format, written once: member names, manifest, signature, changes.json layout.

A bundle is a zip a laptop writes (client_sync/bundle.py) and the hub imports
(server/bundle.py, server/bundle_reader.py); docs/bundles.md describes it. Members:

- ``changes.json``: a push body, one change per line (:func:`changes_head`, then each
  change after :data:`FIRST_SEPARATOR` or :data:`SEPARATOR`, then :data:`CHANGES_TAIL`), so
  the hub reads it a line at a time;
- ``photos/<sha256>``: each pending photo, stored uncompressed;
- ``manifest.json``: :func:`manifest_bytes`, every other member's SHA-256;
- ``manifest.hmac``: :func:`sign_manifest` of the manifest's exact bytes, keyed with
  :func:`bundle_key` of the device token (the hub keeps that key as hex, not the token).

Why a hub refuses a bundle is one enumeration, :class:`BundleRefusal` (the stable slug and
what it means), which docs/bundles.md lists in the order the hub checks.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from enum import StrEnum

from schemas.protocol import PROTOCOL_VERSION, SCHEMA_VERSION

__all__ = [
    "BUNDLE_FORMAT",
    "BUNDLE_VERSION",
    "CHANGES",
    "CHANGES_END",
    "CHANGES_TAIL",
    "FIRST_SEPARATOR",
    "MANIFEST",
    "PHOTO_DIR",
    "PHOTO_NAME",
    "SEPARATOR",
    "SIGNATURE",
    "SIGNATURE_MAX_BYTES",
    "BundleRefusal",
    "bundle_key",
    "changes_head",
    "manifest_bytes",
    "sign_manifest",
]

#: The manifest's `format` and `version`; a hub refuses a bundle of another.
BUNDLE_FORMAT = "pendamping-bundle"
BUNDLE_VERSION = 1

CHANGES = "changes.json"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.hmac"
PHOTO_DIR = "photos/"
#: A photo member's name; the group is its SHA-256.
PHOTO_NAME = re.compile(PHOTO_DIR + r"([0-9a-f]{64})")
#: ``manifest.hmac`` holds 64 hex digits; anything past this is not a signature.
SIGNATURE_MAX_BYTES = 256

#: What comes before the first change of changes.json, and before every later one.
FIRST_SEPARATOR = "\n"
SEPARATOR = ",\n"
#: How changes.json ends: the closing of the push body on a line of its own.
CHANGES_TAIL = "\n]}\n"
#: That last line as the hub reads it, without its newline.
CHANGES_END = CHANGES_TAIL.strip("\n").encode("ascii")


def changes_head() -> str:
    """changes.json's first line: a push body's head up to its `changes` list."""
    return f'{{"protocol":{PROTOCOL_VERSION},"schema_version":{SCHEMA_VERSION},"changes":['


def manifest_bytes(
    *,
    device_id: str,
    user: str,
    hub_url: str,
    created_at: str,
    changes: int,
    files: Mapping[str, str],
) -> bytes:
    """``manifest.json``: who made the bundle, how many changes, every member's SHA-256.

    The signature covers these exact bytes, so the hub checks them before parsing.
    """
    return json.dumps(
        {
            "format": BUNDLE_FORMAT,
            "version": BUNDLE_VERSION,
            "device_id": device_id,
            "user": user,
            "hub_url": hub_url,
            "created_at": created_at,
            "changes": changes,
            "files": dict(files),
        },
        ensure_ascii=False,
        indent=2,
    ).encode("utf-8")


def bundle_key(token: str) -> bytes:
    """The key a device signs its bundles with: the SHA-256 of its token.

    The hub keeps exactly this (as hex) instead of the token, so it can check a bundle; by
    the same token, whoever reads the hub's database could forge one (docs/bundles.md).
    """
    return hashlib.sha256(token.encode("utf-8")).digest()


def sign_manifest(key: bytes, manifest: bytes) -> str:
    """The hex HMAC-SHA256 of the manifest's exact bytes, as ``manifest.hmac`` holds it."""
    return hmac.new(key, manifest, hashlib.sha256).hexdigest()


class BundleRefusal(StrEnum):
    """Why a hub refuses a whole bundle before writing anything. The value is the stable
    slug (``BundleRefused.slug`` on the hub); :attr:`meaning` says when."""

    meaning: str

    def __new__(cls, slug: str, meaning: str) -> BundleRefusal:
        member = str.__new__(cls, slug)
        member._value_ = slug
        member.meaning = meaning
        return member

    NOT_ZIP = ("not_zip", "the file is not a zip")
    NOT_BUNDLE = ("not_bundle", "a zip without manifest.json or manifest.hmac")
    BAD_MEMBER = (
        "bad_member",
        "a member name not allowed, named twice, encrypted, or a compressed photo",
    )
    TOO_LARGE = ("too_large", "too many members, or a member (or one change) over its limit")
    DAMAGED = ("damaged", "a member whose bytes do not match its zip header (size, CRC)")
    BAD_MANIFEST = (
        "bad_manifest",
        "the manifest is unreadable, of another format or version, or lists other members",
    )
    UNKNOWN_DEVICE = ("unknown_device", "the device the manifest names is not enrolled here")
    BAD_SIGNATURE = ("bad_signature", "manifest.hmac does not match the manifest's bytes")
    DEVICE_REVOKED = ("device_revoked", "the device is revoked (and no --allow-revoked)")
    BAD_CHECKSUM = ("bad_checksum", "a member's SHA-256 differs from the manifest's")
    BAD_CHANGES = ("bad_changes", "changes.json is not a protocol 1 push body in the bundle layout")
