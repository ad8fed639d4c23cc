"""Passwords of supervisors and admins for the web pages: argon2id through argon2-cffi.

Only the hash is stored (``users.password_hash``). :func:`verify_password` costs one argon2
verification whether or not the user exists or has a password, so the time a login takes
does not tell an unknown name from a wrong password. Pendamping have no password: their
laptops log in with device tokens (server/auth.py).
"""

from __future__ import annotations

import functools

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD_LENGTH",
    "MIN_PASSWORD_LENGTH",
    "PASSWORD_ROLES",
    "hash_password",
    "needs_rehash",
    "password_problem",
    "verify_password",
]

#: shortest password `pendamping-hub user add|password` accepts
MIN_PASSWORD_LENGTH = 10
#: longest one (the login form takes no more)
MAX_PASSWORD_LENGTH = 1024
#: roles that may have a password and log in to the web pages
PASSWORD_ROLES = ("supervisor", "admin")

_hasher = PasswordHasher()  # argon2-cffi's defaults (RFC 9106's low-memory profile)


@functools.cache
def _dummy_hash() -> str:
    """A hash nobody knows the password of, verified against for unknown users."""
    return _hasher.hash("pendamping-sync: no such user")


def password_problem(password: str) -> str | None:
    """Why `password` may not be set (in Indonesian), or None when it may."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Kata sandi minimal {MIN_PASSWORD_LENGTH} karakter."
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"Kata sandi paling panjang {MAX_PASSWORD_LENGTH} karakter."
    return None


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, salted, in the PHC string format."""
    return _hasher.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether `password` matches the `stored` hash.

    `stored` None (unknown user, or a user without a password) is checked against a dummy
    hash and is always False, in about the time a real check takes. A malformed stored
    hash is False too, never an exception.
    """
    try:
        return _hasher.verify(stored if stored else _dummy_hash(), password) and bool(stored)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether `stored` was made with other parameters than today's (rehash at login)."""
    try:
        return _hasher.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return False
