"""Lengths of time as a pendamping reads them: ``45 detik``, ``10 menit``, ``1 jam 5 menit``.

One function, shared by the error messages, the progress line and the daemon's lines, so a
wait is always written the same way.
"""

from __future__ import annotations

__all__ = ["span"]


def span(seconds: float) -> str:
    """`seconds`, rounded to whole seconds: seconds up to 89, then minutes (and seconds),
    then hours (and minutes)."""
    whole = max(round(seconds), 0)
    if whole < 90:
        return f"{whole} detik"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} menit" + (f" {secs} detik" if secs else "")
    hours, minutes = divmod(minutes, 60)
    return f"{hours} jam" + (f" {minutes} menit" if minutes else "")
