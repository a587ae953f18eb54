"""The audit as JSON, exactly: what the decide step keeps between passes.

Each dataclass becomes the list of its fields' values in declaration order (datetimes
as ISO 8601, enums as their value, tuples as lists, nested dataclasses as lists), which
reads back equal to what was written. ``SCHEMA`` names every field: a stored audit
written under other fields is never read back (it is part of the analysis key).
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from enum import Enum
from functools import cache
from typing import Any, Union, get_args, get_origin, get_type_hints

from nudger.analysis.audit import ContactHealth

Convert = Callable[[Any], Any]


def to_json(healths: Sequence[ContactHealth]) -> list[Any]:
    encode = _codec(ContactHealth)[0]
    return [encode(h) for h in healths]


def from_json(data: Sequence[Any]) -> list[ContactHealth]:
    decode = _codec(ContactHealth)[1]
    return [decode(item) for item in data]


def _same(value: Any) -> Any:
    return value


def _optional(convert: Convert) -> Convert:
    return lambda value: None if value is None else convert(value)


@cache
def _codec(cls: type) -> tuple[Convert, Convert]:
    """(encode, decode) of one dataclass, built once from its type hints."""
    hints = get_type_hints(cls)
    names = [f.name for f in fields(cls) if f.init]
    pairs = [_field_codec(hints[name]) for name in names]
    encoders = [(name, pair[0]) for name, pair in zip(names, pairs, strict=True)]
    decoders = [pair[1] for pair in pairs]

    def encode(obj: Any) -> list[Any]:
        return [convert(getattr(obj, name)) for name, convert in encoders]

    def decode(values: list[Any]) -> Any:
        return cls(*(convert(v) for convert, v in zip(decoders, values, strict=True)))

    return encode, decode


def _field_codec(hint: Any) -> tuple[Convert, Convert]:
    args = [a for a in get_args(hint) if a is not type(None)]
    if get_origin(hint) in (Union, types.UnionType):
        if len(args) != 1:
            return _same, _same
        encode, decode = _field_codec(args[0])
        return _optional(encode), _optional(decode)
    if hint is datetime:
        return datetime.isoformat, datetime.fromisoformat
    if hint is date:
        return date.isoformat, date.fromisoformat
    if isinstance(hint, type) and issubclass(hint, Enum):
        return (lambda e: e.value), hint
    if get_origin(hint) is tuple:
        return list, tuple
    if isinstance(hint, type) and is_dataclass(hint):
        return _codec(hint)
    return _same, _same


@cache
def schema() -> str:
    """Every field of the stored dataclasses, nested ones included, in order."""
    return ";".join(_names(ContactHealth))


def _names(cls: type) -> list[str]:
    hints = get_type_hints(cls)
    names = [f"{cls.__name__}.{f.name}" for f in fields(cls) if f.init]
    nested = {
        a
        for h in hints.values()
        for a in (h, *get_args(h))
        if isinstance(a, type) and is_dataclass(a)
    }
    for inner in sorted(nested, key=lambda c: c.__name__):
        names += _names(inner)
    return names
