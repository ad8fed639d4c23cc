"""`Schema.load` without the per-call machinery, for flat schemas with no hooks.

A push brings thousands of changes, and marshmallow spends about half of each load in
bookkeeping around the fields (error stores, hook lookups, partial handling) rather than in
the fields themselves. :class:`FastLoader` calls each field's own public `deserialize`, which
runs the same type checks and validators, and on the first error of any kind hands the
input to the schema itself. So the schema stays the one authority on what is valid and on
every error message; the fast loader only skips work on input the schema would accept.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from marshmallow import RAISE, Schema, ValidationError
from marshmallow.utils import missing

__all__ = ["FastLoader"]


class _Fallback(Exception):
    """Input the fast path does not handle; the schema decides."""


class FastLoader:
    """Loads like `schema.load(data, partial=...)`, faster when the data is valid.

    :raises ValueError: the schema has hooks, schema validators, `data_key`s or a policy
        for unknown fields other than RAISE, which this loader does not reproduce.
    """

    def __init__(self, schema: Schema) -> None:
        if any(schema._hooks.values()) or schema.opts.unknown != RAISE:
            raise ValueError(f"{type(schema).__name__} has hooks or lets unknown fields in")
        fields = schema.load_fields
        if any(f.data_key not in (None, name) or f.attribute for name, f in fields.items()):
            raise ValueError(f"{type(schema).__name__} renames fields")
        self.schema = schema
        self._fields = dict(fields)
        self._required = tuple(name for name, f in fields.items() if f.required)
        self._defaults = {
            name: f.load_default for name, f in fields.items() if f.load_default is not missing
        }

    def load(self, data: Any, *, partial: bool = False) -> dict[str, Any]:
        """The loaded data. :raises ValidationError: exactly as the schema would."""
        try:
            return self._load(data, partial)
        except (ValidationError, _Fallback):
            return self.schema.load(data, partial=partial)

    def _load(self, data: Any, partial: bool) -> dict[str, Any]:
        if type(data) is not dict:
            raise _Fallback
        fields = self._fields
        out: dict[str, Any] = {}
        for name, value in data.items():
            field = fields.get(name)
            if field is None:
                raise _Fallback
            out[name] = field.deserialize(value, name, data)
        if not partial:
            for name in self._required:
                if name not in data:
                    raise _Fallback
            for name, default in self._defaults.items():
                if name not in out:
                    out[name] = default() if callable(default) else default
        return out

    def __repr__(self) -> str:
        return f"FastLoader({type(self.schema).__name__})"


def loaders(schemas: Mapping[str, Schema]) -> dict[str, FastLoader]:
    """One :class:`FastLoader` per schema of a mapping."""
    return {name: FastLoader(schema) for name, schema in schemas.items()}
