"""The office's users: adding one with a role and wilayah, and web passwords, with audit.

The rules live here, not in a front end: which roles need a wilayah (everybody but an
all-seeing admin, :func:`schemas.scope.sees_everything`), that each code is a Kemendagri
wilayah, which roles may hold a password (:data:`server.passwords.PASSWORD_ROLES`) and how
long it must be. `pendamping-hub user` (server/cli/users.py) and the district office's
pages call this; each refusal is a :mod:`server.exceptions` naming the field.

The office's pages act as a user (``*_as``): a supervisor adds and moves only pendamping
whose every wilayah code lies inside their own, an admin anyone. A pendamping with a laptop
still enrolled keeps their wilayah: the laptop's pull cursor has passed the new area's older
records, which it would then never receive (revoke, change, enrol again; docs/web.md).
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
from server.exceptions import Invalid, Missing, NameTaken, NotAllowed, OutsideScope, StateConflict
from server.passwords import PASSWORD_ROLES, hash_password, password_problem
from server.scope import Scope, has_role
from server.storage import AlreadyExists, Device, HubStorage, NotFound, User
from server.timeutil import utc_iso

__all__ = [
    "NO_PASSWORD_FOR_PENDAMPING",
    "OUTSIDE_WILAYAH",
    "STILL_ENROLLED",
    "UserService",
    "acts_on",
    "describe",
]

#: why a pendamping has no password (they log in through their enrolled laptop)
NO_PASSWORD_FOR_PENDAMPING = (
    "Hanya supervisor dan admin yang memakai kata sandi (halaman web); "
    "pendamping masuk lewat laptop yang terdaftar."
)

#: a wilayah code outside the acting supervisor's own (the field: `wilayah`)
OUTSIDE_WILAYAH = "Wilayah {code} berada di luar wilayah Anda."
#: why a pendamping with an enrolled laptop keeps their wilayah (the field: `wilayah`)
STILL_ENROLLED = (
    "Wilayah {name} tidak dapat diubah selama laptopnya masih terdaftar: laptop itu tidak "
    "akan menerima data lama wilayah barunya. Cabut laptopnya setelah datanya terkirim, "
    "ubah wilayahnya, lalu daftarkan laptopnya lagi dengan kode baru."
)


def acts_on(actor: User, target: User) -> bool:
    """May `actor` (a supervisor or admin) act on the pendamping `target`: is every code
    of their wilayah inside the actor's scope? A pendamping with no wilayah is an admin's."""
    scope = Scope.of(actor)
    if scope.prefixes is None:
        return True
    return bool(target.wilayah) and all(scope.covers(code) for code in target.wilayah)


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
        self._checked_codes(codes)
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

    def add_pendamping_as(self, actor: User, name: str, wilayah: Sequence[str]) -> User:
        """Add the pendamping `name` for an office user, inside `actor`'s wilayah.

        :raises Invalid: naming `wilayah` (none, a bad code, one outside `actor`'s scope).
        :raises NameTaken: the name is taken (`name`).
        """
        codes = tuple(wilayah)
        if not codes:
            raise Invalid.on("wilayah", "Wilayah wajib untuk pendamping dan supervisor.")
        self._checked_codes(codes)
        self._inside(actor, codes)
        return self.add(name, "pendamping", codes, actor=actor.name)

    def pendamping_of(self, actor: User, name: str) -> User:
        """The pendamping `name`, when `actor` may act on them (:func:`acts_on`).

        :raises Missing: no such pendamping, or one outside `actor`'s wilayah (alike).
        """
        try:
            found = self.storage.get_user(name)
        except NotFound:
            found = None
        if found is None or found.role != "pendamping" or not acts_on(actor, found):
            raise Missing(f"Tidak ada pendamping {name} di wilayah Anda.")
        return found

    def set_wilayah_as(
        self, actor: User, name: str, wilayah: Sequence[str], *, enrolled: bool
    ) -> User:
        """Move the pendamping `name` to `wilayah`, for an office user, audited
        (``set_wilayah``, with the old and the new codes).

        :param enrolled: the pendamping has a laptop that is not revoked (then refused).
        :raises Missing: no such pendamping within `actor`'s wilayah.
        :raises Invalid: naming `wilayah` (none, a bad code, outside the scope, or the
            pendamping still has an enrolled laptop).
        """
        found = self.pendamping_of(actor, name)
        codes = tuple(wilayah)
        if not codes:
            raise Invalid.on("wilayah", "Wilayah wajib untuk pendamping dan supervisor.")
        self._checked_codes(codes)
        self._inside(actor, codes)
        if codes == found.wilayah:
            return found
        if enrolled:
            raise StateConflict.on("wilayah", STILL_ENROLLED.format(name=name))
        detail = {"user": name, "from": list(found.wilayah), "to": list(codes)}
        try:
            self.storage.people.set_wilayah(
                name, codes, AuditEvent(self._now(), actor.name, "set_wilayah", detail)
            )
        except NotFound:
            raise Missing(f"Pengguna {name} tidak ada.") from None
        return replace(found, wilayah=codes)

    @staticmethod
    def _checked_codes(codes: Sequence[str]) -> None:
        """:raises Invalid: a code that is no Kemendagri wilayah (`wilayah`)."""
        for code in codes:
            try:
                validate_wilayah(code)
            except ValidationError as exc:
                raise Invalid.on("wilayah", f"{code}: {exc.messages[0]}") from exc

    @staticmethod
    def _inside(actor: User, codes: Sequence[str]) -> None:
        """:raises OutsideScope: a code outside `actor`'s wilayah (`wilayah`)."""
        scope = Scope.of(actor)
        for code in codes:
            if not scope.covers(code):
                raise OutsideScope.on("wilayah", OUTSIDE_WILAYAH.format(code=code))

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
