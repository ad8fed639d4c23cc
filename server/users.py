"""The office's users: adding one with a role and wilayah, and web passwords, with audit.

The rules live here, not in a front end: which roles need a wilayah (everybody but an
all-seeing admin, :func:`schemas.scope.sees_everything`), that each code is a Kemendagri
wilayah, which roles may hold a password (:data:`server.passwords.PASSWORD_ROLES`) and how
long it must be. `pendamping-hub user` (server/cli/users.py) and the district office's
pages call this; each refusal is a :mod:`server.exceptions` naming the field.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from marshmallow import ValidationError

from schemas.codes import ROLES
from schemas.scope import sees_everything
from schemas.validators import validate_single_line, validate_wilayah
from server.audit import AuditEvent
from server.exceptions import Invalid, Missing, NameTaken, NotAllowed
from server.passwords import PASSWORD_ROLES, hash_password, password_problem
from server.scope import has_role
from server.storage import AlreadyExists, Device, HubStorage, NotFound, User
from server.timeutil import utc_iso

__all__ = ["NO_PASSWORD_FOR_PENDAMPING", "UserService", "describe"]

#: why a pendamping has no password (they log in through their enrolled laptop)
NO_PASSWORD_FOR_PENDAMPING = (
    "Hanya supervisor dan admin yang memakai kata sandi (halaman web); "
    "pendamping masuk lewat laptop yang terdaftar."
)


def describe(user: User, devices: Sequence[Device], locked_for_s: float) -> dict[str, Any]:
    """What the office sees of a user (never a password hash): role, wilayah, whether they
    hold a web password, their laptops (active and revoked), and for how many seconds web
    logins under their name stay locked (:class:`server.web.lockout.LoginLockout`; 0: not)."""
    theirs = [d for d in devices if d.user.name == user.name]
    return {
        "name": user.name,
        "role": user.role,
        "wilayah": list(user.wilayah),
        "web_password": user.password_hash is not None,
        "devices_active": sum(1 for d in theirs if d.revoked_at is None),
        "devices_revoked": sum(1 for d in theirs if d.revoked_at is not None),
        "locked_for_s": math.ceil(locked_for_s),
    }


class UserService:
    """Adds users and sets their web passwords over any :class:`HubStorage`.

    :param now: the hub's wall clock as an ISO string.
    """

    def __init__(self, storage: HubStorage, now: Callable[[], str] = utc_iso) -> None:
        self.storage = storage
        self._now = now

    def add(
        self,
        name: str,
        role: str,
        wilayah: Sequence[str],
        password: str | None = None,
        *,
        actor: str,
    ) -> User:
        """Add the user `name`; with `password`, one who logs in to the web pages.

        Checked in this order, nothing written on a refusal: the role; a wilayah for
        every role but an admin's; each wilayah code; a password only for
        :data:`PASSWORD_ROLES`, and long enough.

        :param actor: who adds them, for the audit entry (which never holds the password).
        :raises Invalid: naming `name` (empty, or with a control character such as a
            newline or a terminal escape), `role`, `wilayah` (its message starts with the
            bad code) or `password`.
        :raises NotAllowed: a password for a role that has none (`password`).
        :raises NameTaken: the name is taken (`name`).
        """
        codes = tuple(wilayah)
        if not name.strip():
            raise Invalid.on("name", "Nama pengguna wajib diisi.")
        try:
            validate_single_line(name)
        except ValidationError as exc:
            raise Invalid.on("name", f"Nama pengguna: {exc.messages[0]}") from exc
        if role not in ROLES:
            raise Invalid.on("role", f"Peran harus salah satu dari: {', '.join(ROLES)}.")
        if not sees_everything(role) and not codes:
            raise Invalid.on("wilayah", "Wilayah wajib untuk pendamping dan supervisor.")
        for code in codes:
            try:
                validate_wilayah(code)
            except ValidationError as exc:
                raise Invalid.on("wilayah", f"{code}: {exc.messages[0]}") from exc
        user = User(name, role, codes)
        if password is not None:
            if not has_role(user, *PASSWORD_ROLES):
                raise NotAllowed.on("password", NO_PASSWORD_FOR_PENDAMPING)
            user = replace(user, password_hash=hash_password(self._checked(password)))
        at = self._now()
        detail: dict[str, Any] = {"user": name, "role": role, "wilayah": codes}
        if user.password_hash:
            detail["password"] = True
        try:
            self.storage.add_user(user, at, audit=AuditEvent(at, actor, "add_user", detail))
        except AlreadyExists:
            raise NameTaken.on("name", f"Pengguna {name} sudah ada.") from None
        return user

    def list(self) -> list[User]:
        """Every user, by name."""
        return self.storage.list_users()

    def password_holder(self, name: str) -> User:
        """The user `name`, when they may have a web password.

        :raises Missing: no such user.
        :raises NotAllowed: their role has no password (`password`).
        """
        try:
            found = self.storage.get_user(name)
        except NotFound:
            raise Missing(f"Pengguna {name} tidak ada.") from None
        if not has_role(found, *PASSWORD_ROLES):
            raise NotAllowed.on(
                "password", f"{name} adalah {found.role}. {NO_PASSWORD_FOR_PENDAMPING}"
            )
        return found

    def set_password(self, name: str, password: str, *, actor: str) -> None:
        """Set or change the web password of `name` (kept as an argon2id hash).

        :param actor: who sets it, for the audit entry.
        :raises Missing: no such user.
        :raises NotAllowed: their role has no password.
        :raises Invalid: the password is too short or too long (`password`).
        """
        self.password_holder(name)
        password_hash = hash_password(self._checked(password))
        event = AuditEvent(self._now(), actor, "set_password", {"user": name})
        try:
            self.storage.set_password_hash(name, password_hash, audit=event)
        except NotFound:
            raise Missing(f"Pengguna {name} tidak ada.") from None

    @staticmethod
    def _checked(password: str) -> str:
        """:raises Invalid: `password` may not be set (`password`)."""
        problem = password_problem(password)
        if problem:
            raise Invalid.on("password", problem)
        return password
