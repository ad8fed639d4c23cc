"""Is a value one that JSON carries faithfully, end to end, on both sides?

A record's values travel laptop → outbox → wire → hub → every other laptop. Python lets
through values that break on the way: a lone surrogate in a string (from a badly encoded
command line) cannot be written as UTF-8, an integer beyond 64 bits or a NaN is not
portable JSON, and a structure nested hundreds deep exceeds the encoders' limits. They are
refused when the pendamping enters them, naming the field, instead of failing a sync later.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any

__all__ = ["MAX_DEPTH", "compact_json", "unsafe_fields"]

#: Nesting allowed inside a structured field such as `assessment`.
MAX_DEPTH = 6
_INT_RANGE = range(-(2**63), 2**63)


def _problem(value: Any, depth: int) -> str | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return "Teks berisi karakter yang tidak sah (surrogate)."
        return None
    if isinstance(value, int):
        return None if value in _INT_RANGE else "Bilangan bulat di luar batas 64 bit."
    if isinstance(value, float):
        return None if math.isfinite(value) else "Angka harus terhingga."
    if depth >= MAX_DEPTH and isinstance(value, (list, tuple, Mapping)):
        return f"Struktur terlalu dalam (maksimal {MAX_DEPTH} tingkat)."
    if isinstance(value, (list, tuple)):
        return next((p for v in value if (p := _problem(v, depth + 1))), None)
    if isinstance(value, Mapping):
        for key, item in value.items():
            problem = _problem(key, depth + 1) if isinstance(key, str) else "Kunci harus teks."
            if problem or (problem := _problem(item, depth + 1)):
                return problem
        return None
    return None  # other types are the schema's to refuse


def unsafe_fields(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Messages for every top-level field whose value JSON cannot carry faithfully."""
    errors: dict[str, list[str]] = {}
    for name, value in data.items():
        if type(value) is str and value.isascii():
            continue  # the common case, decided without a call
        problem = _problem(name, 0) if isinstance(name, str) else "Nama isian harus teks."
        if problem or (problem := _problem(value, 0)):
            errors[str(name)] = [problem]
    return errors


def compact_json(value: Any) -> str:
    """`value` as JSON text with no spaces and non-ASCII kept as it is: how both stores keep
    a change's fields and a receipt, and how the hub writes a compact answer."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
