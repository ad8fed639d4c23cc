"""What the background sync daemon says: one line per round, in Bahasa Indonesia.

Kept apart from :mod:`client_sync.daemon` so that module holds only the scheduling shell.
"""

from __future__ import annotations

from datetime import datetime

from client_sync.engine import SyncResult
from client_sync.errors import ClientError, HubRefused
from client_sync.schedule import Outcome
from client_sync.spans import span
from schemas.error_codes import ErrorCode

__all__ = ["clock_time", "describe", "duration", "revoked_text", "stamp"]


def revoked_text(pending: int | None) -> str:
    """What a revoked laptop says, plainly: it stops syncing, keeps its data, and how the
    work still on it can reach the office."""
    waiting = f" ({pending} perubahan belum terkirim)" if pending else ""
    return (
        "Laptop ini sudah dicabut oleh kantor dinas: hub tidak menerima sinkron darinya lagi. "
        f"Data tetap di laptop{waiting}; bawa `pendamping export-bundle` ke kantor."
    )


def describe(
    outcome: Outcome, result: SyncResult | None, pending: int | None, exc: Exception | None
) -> str:
    """The round's line, without time or next round."""
    if outcome is Outcome.OK and result is not None:
        tail = " (lihat `pendamping status`)" if result.rejected else ""
        return (
            f"Sinkron selesai: {result.pushed} terkirim, {result.pulled} diterima, "
            f"{result.conflicts} konflik, {result.rejected} ditolak{result.extras_text()}{tail}."
        )
    if outcome is Outcome.CANCELLED:
        return "Putaran sinkron dihentikan; semua data tetap tersimpan di laptop."
    reason = _reason(exc)
    revoked = isinstance(exc, HubRefused) and exc.code is ErrorCode.DEVICE_REVOKED
    if outcome is Outcome.UNAUTHORIZED and revoked:
        return revoked_text(pending)
    if outcome is Outcome.UNAUTHORIZED:
        kept = f"{pending} perubahan" if pending is not None else "semua data"
        return (
            f"Sinkron ditolak: hub tidak lagi menerima laptop ini ({reason.rstrip('.')}). "
            f"Hubungi kantor dinas; {kept} tetap tersimpan di laptop."
        )
    if outcome is Outcome.NOT_ENROLLED:
        return f"Sinkron tidak dapat berjalan: {reason}"
    waiting = f" {pending} perubahan menunggu di laptop." if pending is not None else ""
    if outcome is Outcome.BUSY:  # not a failure of anything: the hub asked to come back
        return f"Sinkron tertunda: {reason}{waiting}"
    return f"Sinkron gagal: {reason}{waiting}"


def _reason(exc: BaseException | None) -> str:
    """An error as one sentence on one line."""
    if exc is None:
        return "sebab tidak diketahui."
    text = " ".join(str(exc).split()).rstrip(".")
    if not isinstance(exc, ClientError):
        text = f"galat tak terduga ({type(exc).__name__}{': ' + text if text else ''})"
    return (text or type(exc).__name__) + "."


def stamp(at: datetime) -> str:
    return at.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def clock_time(at: datetime) -> str:
    return at.astimezone().strftime("%H:%M:%S")


def duration(seconds: float) -> str:
    """``dalam 4,5 detik``, ``dalam 45 detik``, ``dalam 15 menit``, ``dalam 1 jam 5 menit``."""
    if seconds < 10:
        return "dalam " + f"{max(seconds, 0):.1f}".replace(".", ",") + " detik"
    return "dalam " + span(seconds)
