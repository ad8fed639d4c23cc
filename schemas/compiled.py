"""A msgspec decoder derived from a marshmallow schema: the push's fast path for valid records.

A 10,000-change push spent over a third of the hub's time in marshmallow calling each
field's `deserialize` (type check, validator objects, error stores), even with
:class:`schemas.fastload.FastLoader` skipping the schema's own bookkeeping.
:class:`CompiledLoader` reads the schema's declared fields once and builds a msgspec
`TypedDict` from them (types, lengths, choices, ranges, patterns), which checks a record in
C in a couple of microseconds. What msgspec cannot say (a function validator such as the NIK
check, a custom field such as :class:`schemas.fields.IsoDateTime`) runs as the field's own
code after it.

It only ever *accepts*: on any doubt (a value msgspec refuses, an unknown key, a required
field missing, a validator raising) the data goes to the fallback loader, i.e. the schema,
which stays the one definition of a record and the one author of every error message. The
Hypothesis tests in tests/schemas/test_compiled_records.py hold the two to that: whatever
the compiled loader accepts, the schema loads to the same JSON.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterable
from typing import Annotated, Any, Literal, Optional, TypedDict, Union, get_args, get_origin

import msgspec
from marshmallow import RAISE, Schema, ValidationError, validate
from marshmallow import fields as ma
from marshmallow.utils import missing

from schemas.jsonsafe import MAX_DEPTH

__all__ = ["CompiledLoader", "annotation_of", "json_plain"]

#: A step on one converted value: returns the loaded value, raises to fall back.
Step = Callable[[Any], Any]
#: A validator: raises (or returns False) when the value is bad.
Check = Callable[[Any], Any]

_PLAIN_FLAGS = re.compile("").flags  # the flags of a plain str pattern (re.UNICODE)
_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_typed_dict: Any = TypedDict  # called with a name made at run time, which mypy cannot follow


class _Fallback(Exception):
    """The compiled path does not decide this input; the schema does."""


def _meta_for(field: ma.Field, kind: str) -> tuple[dict[str, Any], list[Check], Any]:
    """msgspec constraints for the field's validators that msgspec states exactly, the
    others as checks (the validator itself), and a Literal type for a OneOf of strings."""
    meta: dict[str, Any] = {}
    checks: list[Check] = []
    literal: Any = None
    for check in field.validators:
        if type(check) is validate.Length and kind in ("str", "list", "dict"):
            if check.equal is not None:
                meta["min_length"] = meta["max_length"] = check.equal
            else:
                if check.min is not None:
                    meta["min_length"] = check.min
                if check.max is not None:
                    meta["max_length"] = check.max
        elif (
            type(check) is validate.OneOf
            and kind == "str"
            and literal is None
            and check.choices
            and all(type(c) is str for c in check.choices)
        ):
            literal = Literal[tuple(check.choices)]
        elif type(check) is validate.Range and kind == "float":
            if check.min is not None:
                meta["ge" if check.min_inclusive else "gt"] = check.min
            if check.max is not None:
                meta["le" if check.max_inclusive else "lt"] = check.max
        elif (
            type(check) is validate.Regexp
            and kind == "str"
            and isinstance(check.regex.pattern, str)
            and check.regex.flags == _PLAIN_FLAGS
            and "pattern" not in meta
        ):
            # Regexp uses re.match, msgspec re.search: anchor the pattern at the start
            meta["pattern"] = rf"\A(?:{check.regex.pattern})"
        else:
            checks.append(check)  # raises ValidationError (or returns False) itself
    if literal is not None and meta:  # a Literal takes no constraints: check them after
        checks.append(functools.partial(_constrained, Annotated[str, msgspec.Meta(**meta)]))
        meta = {}
    return meta, checks, literal


def _constrained(annotation: Any, value: Any) -> None:
    msgspec.convert(value, annotation, strict=True)


def _annotate(base: Any, meta: dict[str, Any]) -> Any:
    return Annotated[base, msgspec.Meta(**meta)] if meta else base


def annotation_of(field: ma.Field) -> tuple[Any, list[Check]] | None:
    """The msgspec type of the values `field` loads to themselves, and the checks msgspec
    cannot make; None when the field is not of a kind mapped here (the field's own code
    then loads it).

    Mapped: String, Integer(strict), Float, Boolean, Raw, List and Dict of mapped fields,
    and a field class that names its own accept-only annotation (``fast_annotation``, as
    :class:`schemas.fields.UuidText` does). Each only *narrows* what marshmallow takes (no
    bytes for a string, no text for a number): a value msgspec refuses goes to the schema.
    """
    if getattr(field, "pre_load", None) or getattr(field, "post_load", None):
        return None
    kind = type(field)
    own = getattr(kind, "fast_annotation", None)
    checks: list[Check] = []
    if own is not None:
        if field.validators:
            return None
        base = own
    elif kind is ma.String:
        meta, checks, literal = _meta_for(field, "str")
        base = literal if literal is not None else _annotate(str, meta)
    elif kind is ma.Float:
        meta, checks, _ = _meta_for(field, "float")
        base = _annotate(float, meta)
        if not field.allow_nan:  # type: ignore[attr-defined]
            checks.insert(0, _finite)
    elif kind in (ma.Integer, ma.Boolean, ma.Raw):
        if field.validators or (kind is ma.Integer and not field.strict):  # type: ignore[attr-defined]
            return None
        base = {ma.Integer: int, ma.Boolean: bool, ma.Raw: Any}[kind]
    elif kind is ma.List:
        inner = annotation_of(field.inner)  # type: ignore[attr-defined]
        if inner is None or inner[1]:
            return None
        meta, checks, _ = _meta_for(field, "list")
        base = _annotate(list.__class_getitem__(inner[0]), meta)
    elif kind is ma.Dict:
        key_field, value_field = field.key_field, field.value_field  # type: ignore[attr-defined]
        keys = annotation_of(key_field) if key_field else (Any, [])
        values = annotation_of(value_field) if value_field else (Any, [])
        if keys is None or values is None or keys[1] or values[1]:
            return None
        meta, checks, _ = _meta_for(field, "dict")
        base = _annotate(dict.__class_getitem__((keys[0], values[0])), meta)
    else:
        return None
    if field.allow_none:
        base = Optional[base]  # noqa: UP045  (a runtime type object for msgspec)
    return base, checks


def _json_typed(annotation: Any) -> bool:
    """msgspec's check of `annotation` leaves only values JSON carries faithfully: finite
    floats (a range or :func:`_finite`), bools, None, the schema's own choices of text,
    and lists and dicts of those. Not free text (msgspec lets a lone surrogate through
    where the text has a length limit), not int (it takes 64-bit unsigned integers,
    JSON's portable range is signed), not Any."""
    if annotation in (float, bool, type(None)):
        return True
    origin = get_origin(annotation)
    if origin is Literal:
        return all(type(choice) is str and _encodes(choice) for choice in get_args(annotation))
    if origin is Annotated:
        return _json_typed(get_args(annotation)[0])
    if origin in (list, dict, Union):
        return all(_json_typed(arg) for arg in get_args(annotation))
    return False


def json_plain(value: Any, depth: int = 0) -> bool:
    """True when :func:`schemas.jsonsafe.unsafe_fields` would find nothing wrong with a
    field holding `value` (text without lone surrogates, 64-bit integers, finite floats,
    text keys, at most MAX_DEPTH deep) and the value is made of plain JSON types only.
    Accept-only like the rest: False sends the value to the full check."""
    kind = type(value)
    if kind is str:
        return value.isascii() or _encodes(value)
    if kind is float:
        return math.isfinite(value)
    if value is None or kind is bool:
        return True
    if kind is int:
        return _INT64_MIN <= value <= _INT64_MAX
    if depth >= MAX_DEPTH:
        return False
    if kind is dict:
        return all(
            type(key) is str and (key.isascii() or _encodes(key)) and json_plain(item, depth + 1)
            for key, item in value.items()
        )
    if kind is list:
        return all(json_plain(item, depth + 1) for item in value)
    return False


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _finite(value: float) -> None:
    if not math.isfinite(value):
        raise _Fallback


def _field_step(field: ma.Field, name: str) -> Step:
    """Load one value with the field's own `_deserialize` and validators: what
    `Field.deserialize` does with a present value, without its per-call machinery."""

    def step(value: Any) -> Any:
        if value is None:
            if field.allow_none:
                return None
            raise _Fallback
        out = field._deserialize(value, name, None)
        _run(field.validators, out)
        return out

    return step


def _run(checks: Iterable[Check], value: Any) -> None:
    for check in checks:
        if check(value) is False:  # marshmallow counts a False return as a failure
            raise _Fallback


def _check_step(checks: list[Check]) -> Step:
    """Run the checks on an accepted value; None skips them, as in marshmallow."""

    def step(value: Any) -> Any:
        if value is not None:
            _run(checks, value)
        return value

    return step


class CompiledLoader:
    """Loads like `schema.load(data, partial=...)` for data msgspec and the field steps
    accept; everything else goes to `fallback` (the schema, or a loader that ends there).

    :param skippable: validators :meth:`accept` may leave out when told (`lean`) that
        they cannot refuse the data, e.g. the control-character checks of text fields,
        which one search over the whole change's JSON settles for every field at once.
    :raises ValueError: the schema has hooks, `data_key`s, or lets unknown fields in.
    """

    def __init__(
        self,
        schema: Schema,
        fallback: Callable[..., dict[str, Any]],
        skippable: Iterable[Check] = (),
    ) -> None:
        if any(schema._hooks.values()) or schema.opts.unknown != RAISE:
            raise ValueError(f"{type(schema).__name__} has hooks or lets unknown fields in")
        fields = schema.load_fields
        if any(f.data_key not in (None, name) or f.attribute for name, f in fields.items()):
            raise ValueError(f"{type(schema).__name__} renames fields")
        self.schema = schema
        self._fallback = fallback
        skip = frozenset(skippable)
        types: dict[str, Any] = {}
        steps: dict[str, Step] = {}
        lean: dict[str, Step] = {}
        for name, field in fields.items():
            mapped = annotation_of(field)
            if mapped is None:
                types[name] = Any
                steps[name] = lean[name] = _field_step(field, name)
            else:
                types[name] = mapped[0]
                if mapped[1]:
                    steps[name] = _check_step(mapped[1])
                    kept = [check for check in mapped[1] if check not in skip]
                    if kept:
                        lean[name] = _check_step(kept)
        #: the msgspec type derived from the schema (every field optional: required fields
        #: are checked here, so one type serves full and partial loads)
        self.type: Any = _typed_dict(f"{type(schema).__name__}Compiled", types, total=False)
        self.compiled = frozenset(name for name in fields if name not in steps)
        #: fields whose loaded value msgspec has not fully typed (text, Any, int, a field's
        #: own code): only these need the JSON check (:func:`json_plain`) after it
        self.loose = frozenset(name for name in fields if not _json_typed(types[name]))
        self._steps = steps
        #: the steps without the `skippable` checks, for data the caller has found those
        #: checks cannot refuse (:meth:`accept`'s `lean`)
        self._lean_steps = lean
        self._required = frozenset(name for name, f in fields.items() if f.required)
        self._defaults = {
            name: f.load_default for name, f in fields.items() if f.load_default is not missing
        }

    def load(self, data: Any, *, partial: bool = False) -> dict[str, Any]:
        """The loaded data. :raises ValidationError: exactly as the fallback would."""
        out = self.accept(data, partial=partial)
        return out if out is not None else self._fallback(data, partial=partial)

    def accept(
        self, data: Any, *, partial: bool = False, lean: bool = False
    ) -> dict[str, Any] | None:
        """The loaded data when the compiled path decides it, else None.

        :param lean: leave out the `skippable` checks: the caller has made sure they pass
            on every value of `data` (e.g. no control character anywhere in its JSON).
        """
        if type(data) is not dict:
            return None
        try:
            out: dict[str, Any] = msgspec.convert(data, self.type, strict=True)
            if len(out) != len(data):
                return None  # an unknown key: the schema names it
            for name, step in (self._lean_steps if lean else self._steps).items():
                if name in out:
                    out[name] = step(out[name])
        except (msgspec.ValidationError, ValidationError, _Fallback, ValueError, TypeError):
            return None
        return out if partial else self.complete(out)

    def complete(self, loaded: dict[str, Any]) -> dict[str, Any] | None:
        """A partial load's result as a full load's: None when a required field is
        missing (the schema names it), else with the load defaults added (a new dict)."""
        if not self._required <= loaded.keys():
            return None
        missing_defaults = self._defaults.keys() - loaded.keys()
        if not missing_defaults:
            return loaded
        out = dict(loaded)
        for name, default in self._defaults.items():
            if name not in out:
                out[name] = default() if callable(default) else default
        return out

    def __repr__(self) -> str:
        return f"CompiledLoader({type(self.schema).__name__})"
