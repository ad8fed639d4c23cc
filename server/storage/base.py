"""The hub's storage interface: what the sync service needs, with no HTTP and no merge rule.

Every backend implements :class:`HubStorage` and passes the one contract suite in
:mod:`server.storage.testing`, so a PostgreSQL backend is one more class run through it.
Writes happen inside :meth:`HubStorage.write`, one transaction per call: a push either lands
whole or not at all.

Hub-wide back-pressure state (buckets, failures, the write queue, the jobs' lease) is the
:class:`~server.storage.limits.LimitStore` facet, reached as :attr:`HubStorage.limits`;
what the scheduled jobs keep (their runs, silent laptops, the online backup) is the
:class:`~server.storage.jobs.JobStore` facet, :attr:`HubStorage.jobs`; what the office's
people page changes and reads beside the users (a wilayah, the laptops' last pushes) is
the :class:`~server.storage.people.PeopleStore` facet, :attr:`HubStorage.people`.

Exceptions::

    StorageError
     ├── NotFound          a user, device or code that is not there
     ├── AlreadyExists     a user or device name that is taken
     ├── WriterBusy        the write lock was not free within the wait allowed
     └── BackupUnsupported the database is backed up by its server's tools, not the hub
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from server.audit import AuditEntry, AuditEvent, link
from server.storage.jobs import JobRun, JobStore, SilentDevice
from server.storage.limits import LimitStore, QueuePlace
from server.storage.people import LastPush, PeopleStore

if TYPE_CHECKING:
    from server.storage.office import OfficeReads
    from server.storage.verification import VerificationStore

__all__ = [
    "AlreadyExists",
    "BackupUnsupported",
    "ChangeRow",
    "ConflictRow",
    "Device",
    "DeviceReport",
    "HubStorage",
    "JobRun",
    "JobStore",
    "LastPush",
    "LimitStore",
    "NotFound",
    "PeopleStore",
    "PullPage",
    "QueuePlace",
    "RecordRow",
    "ScopeExit",
    "SettingError",
    "SilentDevice",
    "StorageError",
    "User",
    "WriteSession",
    "WriterBusy",
    "WriterWait",
]


class SettingError(ValueError):
    """A setting that names no usable storage (`STORAGE_URL`) or is out of range: the hub
    cannot start; the command line says so in one line (server/cli/errors.py)."""


class StorageError(Exception):
    """Base of every storage failure; a wrapped driver error is kept as ``__cause__``."""


class NotFound(StorageError):
    """The user, device or code asked for is not there."""


class AlreadyExists(StorageError):
    """A user or device with that name exists already."""


class WriterBusy(StorageError):
    """Another write held the lock for longer than the wait allowed; nothing was written."""


class BackupUnsupported(StorageError):
    """This backend's database is backed up by its server's own tools (PostgreSQL: pg_dump,
    docs/operations.md), never copied by the hub; nothing was written."""


@dataclass(slots=True)
class WriterWait:
    """What :meth:`HubStorage.waiting_for_writer` yields: when the lock was obtained."""

    #: :func:`time.monotonic` when the first write in the block held the lock; None before
    acquired_at: float | None = None


@dataclass(frozen=True, slots=True)
class User:
    name: str
    role: str
    wilayah: tuple[str, ...]
    password_hash: str | None = None


@dataclass(frozen=True, slots=True)
class Device:
    device_id: str
    user: User
    name: str
    enrolled_at: str
    last_seen_at: str | None = None
    last_sync_at: str | None = None
    revoked_at: str | None = None
    #: what the laptop reported on its last sync: its version and its queue of changes
    client_version: str | None = None
    queue_size: int | None = None
    reported_at: str | None = None


@dataclass(frozen=True, slots=True)
class DeviceReport:
    """What a laptop says of itself on each sync, so the office sees who falls behind."""

    client_version: str | None
    queue_size: int | None


@dataclass(slots=True)
class RecordRow:
    """A record as the hub holds it. `data` and `clocks` are decoded JSON objects."""

    id: str
    entity: str
    kelurahan: str
    seq: int
    deleted: bool
    data: dict[str, Any]
    clocks: dict[str, str]
    created_at: str
    updated_at: str
    #: field -> hub seq of the write that set its value, for fields written before the
    #: record's latest write (a field not listed was set by the write at `seq`)
    seqs: dict[str, int] = field(default_factory=dict)
    #: the device whose write at `seq` it already holds exactly (its change was applied as
    #: sent on top of what it had), so its pulls skip this record; None: nobody
    quiet_device: str | None = None
    #: the user whose change created the record (a device's user, or the office user of a
    #: hub-made write); kept from the first write, later writes never change it
    author: str | None = None

    @property
    def hlc(self) -> str:
        """The latest HLC of any field: what a laptop that pulls this record has seen."""
        return max(self.clocks.values(), default="")


class ChangeRow(NamedTuple):
    """One accepted or refused change, kept forever so a resend gets the same receipt.

    A NamedTuple, not a frozen dataclass: a push builds one per change, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) cost ~2 µs of it."""

    change_id: str
    device_id: str
    author_id: str
    entity: str
    record_id: str
    hlc: str
    fields_json: str
    received_at: str
    receipt_json: str


@dataclass(frozen=True, slots=True)
class ConflictRow:
    """A value that lost to a concurrent edit, both sides of it, for a supervisor to review.

    `kind` is ``field``, ``status``, ``delete`` or ``duplicate_person``. `seq` is the hub
    seq of the write that raised it; the resolution fields are set once it is settled.
    """

    record_id: str
    entity: str
    field: str
    kind: str
    kept_value: Any
    kept_hlc: str | None
    lost_value: Any
    lost_hlc: str | None
    lost_change: str | None
    lost_device: str | None
    lost_author: str | None
    created_at: str
    kelurahan: str = ""
    seq: int = 0
    kept_device: str | None = None
    kept_author: str | None = None
    other_record_id: str | None = None
    conflict_id: int | None = None
    resolved_at: str | None = None
    resolved_by: str | None = None
    resolved_seq: int | None = None
    resolution: Any = None


@dataclass(frozen=True, slots=True)
class ScopeExit:
    """A write at `seq` moved a record from one kelurahan to another: laptops whose scope
    covered the old one but not the new one must drop their copy."""

    seq: int
    record_id: str
    entity: str
    old_kelurahan: str
    new_kelurahan: str


@dataclass(slots=True)
class PullPage:
    """Records above a seq, oldest first. `records_json` holds one JSON object per record.

    `exits` lists the records that left the caller's scope within the page's span, each as
    ``{"id", "entity", "seq"}``, oldest first.
    """

    records_json: list[str] = field(default_factory=list)
    next: int = 0
    more: bool = False
    exits: list[dict[str, Any]] = field(default_factory=list)


class WriteSession(abc.ABC):
    """The operations available inside one write transaction."""

    @abc.abstractmethod
    def receipts_for(self, change_ids: Sequence[str]) -> dict[str, str]:
        """:returns: the stored receipt JSON of each change id already seen."""

    @abc.abstractmethod
    def records_for(self, record_ids: Sequence[str]) -> dict[str, RecordRow]:
        """:returns: the current row of each record id the hub holds."""

    @abc.abstractmethod
    def last_seq(self) -> int:
        """:returns: the highest seq given so far (0 on an empty hub)."""

    @abc.abstractmethod
    def save(
        self,
        records: Iterable[RecordRow],
        changes: Iterable[ChangeRow],
        conflicts: Iterable[ConflictRow],
    ) -> None:
        """Upsert the records and append the changes and conflicts."""

    @abc.abstractmethod
    def add_scope_exits(self, exits: Iterable[ScopeExit]) -> None:
        """Keep the scope exits of this transaction's writes (see :meth:`HubStorage.pull`),
        and move each record's conflicts to its new kelurahan with it."""

    @abc.abstractmethod
    def touch_device(
        self, device_id: str, when: str, synced: bool, report: DeviceReport | None = None
    ) -> None:
        """Note that a device called (and, with `synced`, synced: pushed, pulled, or had
        its bundle imported) at `when`, and what it reported of itself."""

    @abc.abstractmethod
    def beneficiaries_with_nik(self, niks: Sequence[str]) -> dict[str, list[str]]:
        """:returns: for each NIK, the ids of live beneficiaries that carry it."""

    @abc.abstractmethod
    def records_of_beneficiary(self, beneficiary_id: str) -> list[RecordRow]:
        """Live visits and device requests that point at a beneficiary."""

    @abc.abstractmethod
    def users_of_devices(self, device_ids: Sequence[str]) -> dict[str, str]:
        """:returns: the user name of each known device id."""

    @abc.abstractmethod
    def conflict(self, conflict_id: int) -> ConflictRow:
        """:raises NotFound: no such conflict."""

    @abc.abstractmethod
    def resolve_conflict(
        self, conflict_id: int, when: str, by: str, seq: int, resolution: Any
    ) -> None:
        """Mark a conflict settled, with what was chosen and the seq of what it wrote."""

    @abc.abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A hub-wide setting kept in the database (the hub's clock)."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Keep a hub-wide setting, in this transaction."""

    # -- the audit chain (server/audit.py holds its logic) ---------------------------------

    @abc.abstractmethod
    def last_audit(self) -> tuple[int, str] | None:
        """:returns: the position and hash of the last audit entry; None on an empty log."""

    @abc.abstractmethod
    def append_audit(self, entry: AuditEntry) -> None:
        """Store `entry` as given, in this transaction; nothing is computed here.

        :raises StorageError: its position is taken (the chain was not extended from the
            last entry of this transaction).
        """

    def audit(self, event: AuditEvent) -> AuditEntry:
        """Chain `event` after the last entry and append it, in this transaction, so the
        log holds exactly the writes that commit. Writers hold the write lock, so
        positions have no gaps."""
        entry = link(event, self.last_audit())
        self.append_audit(entry)
        return entry


class HubStorage(abc.ABC):
    """Persistence of the hub. Knows nothing of HTTP nor of the merge rule."""

    @abc.abstractmethod
    def migrate(self) -> list[str]:
        """Bring the schema to head. :returns: the names of the migrations applied now."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release every connection; the storage is not used afterwards."""

    @abc.abstractmethod
    def write(self) -> AbstractContextManager[WriteSession]:
        """One write transaction; it commits on a clean exit and rolls back on any error."""

    @abc.abstractmethod
    def waiting_for_writer(self, seconds: float) -> AbstractContextManager[WriterWait]:
        """Writes this thread begins inside the block wait at most `seconds` (from entering
        the block) for the write lock, polling it so that a lock set free is taken within
        milliseconds, even from another process.

        :raises WriterBusy: from the write that would have waited longer.
        """

    @property
    @abc.abstractmethod
    def limits(self) -> LimitStore:
        """The hub-wide back-pressure state (one per storage, shared by every process)."""

    @property
    @abc.abstractmethod
    def people(self) -> PeopleStore:
        """A user's wilayah and the laptops' last pushes, as the office's pages need them."""

    @property
    @abc.abstractmethod
    def office(self) -> OfficeReads:
        """The district office's reads over the read model (server/storage/office.py)."""

    @property
    @abc.abstractmethod
    def jobs(self) -> JobStore:
        """What the scheduled jobs keep: their runs, silent laptops, the online backup."""

    @property
    @abc.abstractmethod
    def verification(self) -> VerificationStore:
        """The monthly verification: month states, closes, frozen lists
        (server/storage/verification.py)."""

    # -- people and laptops -------------------------------------------------------------

    @abc.abstractmethod
    def add_user(self, user: User, created_at: str, audit: AuditEvent | None = None) -> None:
        """:param audit: appended to the audit chain in the same transaction.
        :raises AlreadyExists: the name is taken."""

    @abc.abstractmethod
    def get_user(self, name: str) -> User:
        """:raises NotFound: no such user."""

    @abc.abstractmethod
    def list_users(self) -> list[User]:
        """Every user, by name."""

    @abc.abstractmethod
    def set_password_hash(
        self, name: str, password_hash: str | None, audit: AuditEvent | None = None
    ) -> None:
        """Replace a user's password hash (None: no password), with `audit` appended in
        the same transaction.

        :raises NotFound: no such user (nothing is appended).
        """

    @abc.abstractmethod
    def end_web_sessions(self, name: str, at: int, audit: AuditEvent | None = None) -> None:
        """End every web session of `name` that began before `at` (unix seconds), with
        `audit` appended in the same transaction. An unknown name changes nothing."""

    @abc.abstractmethod
    def web_sessions_after(self, name: str) -> int:
        """The time (unix seconds) before which `name`'s web sessions are over; 0 if none."""

    @abc.abstractmethod
    def add_enroll_code(
        self,
        code_hash: str,
        user_name: str,
        created_at: str,
        expires_at: str,
        audit: AuditEvent | None = None,
    ) -> None:
        """Keep the hash of a one-time enrolment code, and `audit` in the same transaction.

        :raises NotFound: no such user."""

    @abc.abstractmethod
    def redeem_enroll_code(
        self,
        code_hash: str,
        now: str,
        device_id: str,
        device_name: str,
        token_hash: str,
        audit: AuditEvent | None = None,
    ) -> Device:
        """Use a code once and register the device it enrols, in one transaction.

        :param audit: appended in that transaction, as done by the code's user (an empty
            `actor` is filled with it) from the new device.
        :raises NotFound: the code is unknown, used or expired.
        """

    @abc.abstractmethod
    def device_by_token(self, token_hash: str) -> Device:
        """:raises NotFound: no device holds that token."""

    @abc.abstractmethod
    def list_devices(self) -> list[Device]:
        """All devices, newest enrolment first."""

    @abc.abstractmethod
    def get_device(self, device_id: str) -> Device:
        """:raises NotFound: no such device."""

    @abc.abstractmethod
    def revoke_device(self, device_id: str, when: str, audit: AuditEvent | None = None) -> bool:
        """Revoke a device at `when`: every later call with its token is refused (401
        ``device_revoked``), and its bundles need an admin's explicit import.

        :param audit: appended in the same transaction, only when the device is revoked now.
        :returns: True when revoked now; False when it was revoked already (its first
            `revoked_at` is kept and nothing is appended).
        :raises NotFound: no such device.
        """

    @abc.abstractmethod
    def device_token_hash(self, device_id: str) -> str:
        """The SHA-256 hex of the device's token (the key its bundles are signed with).

        :raises NotFound: no such device.
        """

    @abc.abstractmethod
    def receipts_of_device(self, device_id: str, change_ids: Sequence[str]) -> dict[str, str]:
        """:returns: the stored receipt JSON of each of these changes that this device pushed
        (or that was imported from its bundle); another device's changes are not returned."""

    # -- records --------------------------------------------------------------------------

    @abc.abstractmethod
    def pull(
        self,
        scopes: Sequence[str] | None,
        since: int,
        limit: int,
        skip_quiet_for: str | None = None,
    ) -> PullPage:
        """Records with seq > since in any of `scopes` (wilayah prefixes).

        ``None`` means every record (an admin); an empty sequence means none. `limit` counts
        the records scanned; those whose `quiet_device` is `skip_quiet_for` are left out of
        the page (the caller holds them already) but still move `next` past them.

        The page's `exits` are the scope exits whose old kelurahan is in `scopes` and whose
        new one is not, with seq in the page's span: (since, next] when `more`, else every
        one above `since`, `next` then moving past the last of them. Records and exits are
        read from one snapshot, so `next` never passes a record the page did not see. A
        caller that sees everything (``None``) gets no exits.
        """

    @abc.abstractmethod
    def get_record(self, record_id: str) -> RecordRow:
        """:raises NotFound: no such record."""

    @abc.abstractmethod
    def iter_changes(self, record_id: str) -> Iterator[ChangeRow]:
        """The changes of one record in the order they arrived."""

    @abc.abstractmethod
    def list_conflicts(
        self,
        scopes: Sequence[str] | None,
        open_only: bool = True,
        limit: int = 100,
        after_id: int = 0,
    ) -> list[ConflictRow]:
        """Conflicts on records in `scopes` (None: all), oldest first, after an id."""

    @abc.abstractmethod
    def conflicts_for_device(
        self,
        device_id: str,
        since: int,
        upto: int,
        scopes: Sequence[str] | None = None,
    ) -> list[ConflictRow]:
        """Conflicts raised or settled in (since, upto] on either side of which is the device,
        on records now in `scopes` (None: anywhere). A conflict follows its record's
        kelurahan, so a laptop hears nothing more of a record that left its scope."""

    @abc.abstractmethod
    def stats(self) -> dict[str, Any]:
        """Counts: records per entity, devices, open conflicts."""

    # -- the audit chain ------------------------------------------------------------------

    @abc.abstractmethod
    def iter_audit(self, after: int = 0, newest: int | None = None) -> Iterator[AuditEntry]:
        """Audit entries above position `after`, by position, as stored (nothing checked).

        :param newest: only the last `newest` of them (still oldest first).
        """
