"""How a scenario field is written in the parameter reference: its default as TOML, its type and
limits in plain words (``sim.docs`` builds the tables of docs/MODEL.md from these).

This module reads pydantic's field metadata only; it must never import the model, the rules,
the UI or the sweep layer.
"""

from __future__ import annotations

import types
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import PydanticUndefined

__all__ = ["field_limits", "format_default", "number_text"]


def format_default(value: Any) -> str:
    """A default value as it would be written in a TOML scenario, in backticks.

    Parameters
    ----------
    value
        The field's default (``PydanticUndefined`` for a required field).

    Returns
    -------
    str
        E.g. ```0.25```, ```true```, ```"honest"```, ```["speed", "service"]```,
        ```{ reliability = 0.3 }```; ``required`` for a required field and ``(not set)`` for
        ``None``.
    """
    if value is PydanticUndefined:
        return "required"
    if value is None:
        return "(not set)"
    return f"`{_toml(value)}`"


def _toml(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, BaseModel):
        return _toml(value.model_dump())
    return str(value)


def _kind(annotation: Any) -> str:
    """Plain-words type of a field as written in TOML."""
    origin, args = get_origin(annotation), get_args(annotation)
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "integer"
    if annotation is float:
        return "number"
    if annotation is str:
        return "text"
    if origin is Literal:
        return "one of " + ", ".join(f"`{a}`" for a in args)
    if origin is list:
        return f"list of {_plural(args[0]) if args else 'values'}"
    if origin is dict:
        return f"table of {_plural(args[1])}" if len(args) == 2 else "table"
    if origin in (Union, types.UnionType):
        kinds = [_kind(a) for a in args if a is not type(None)]
        return " or ".join(dict.fromkeys(kinds))
    return getattr(annotation, "__name__", str(annotation))


def _plural(annotation: Any) -> str:
    plural = {bool: "true/false values", int: "integers", float: "numbers", str: "strings"}
    return plural.get(annotation, "values")


def number_text(x: Any) -> str:
    """A limit or range end as written in the reference: ``1`` for ``1.0``, else as given."""
    return str(int(x)) if isinstance(x, float) and x.is_integer() else str(x)


def field_limits(field: FieldInfo) -> str:
    """Type and limits of a field from its annotation and ``ge/gt/le/lt`` and length metadata.

    Parameters
    ----------
    field
        A pydantic ``FieldInfo``.

    Returns
    -------
    str
        E.g. ``number in [0, 1]``, ``integer >= 1``, ``number in (0, 1.5]``, ``list of text,
        1 to 2 items``, ``one of `a`, `b```.
    """
    lower = upper = None
    min_len = max_len = None
    for meta in field.metadata:
        for attr, bracket in (("ge", "["), ("gt", "(")):
            if getattr(meta, attr, None) is not None:
                lower = (bracket, getattr(meta, attr))
        for attr, bracket in (("le", "]"), ("lt", ")")):
            if getattr(meta, attr, None) is not None:
                upper = (bracket, getattr(meta, attr))
        if getattr(meta, "min_length", None) is not None:
            min_len = meta.min_length
        if getattr(meta, "max_length", None) is not None:
            max_len = meta.max_length
    text = _kind(field.annotation)
    if lower and upper:
        text += f" in {lower[0]}{number_text(lower[1])}, {number_text(upper[1])}{upper[0]}"
    elif lower:
        text += f" {'>=' if lower[0] == '[' else '>'} {number_text(lower[1])}"
    elif upper:
        text += f" {'<=' if upper[0] == ']' else '<'} {number_text(upper[1])}"
    if min_len is not None or max_len is not None:
        if min_len is not None and max_len is not None:
            text += f", {min_len} to {max_len} items"
        elif min_len is not None:
            text += f", at least {min_len} items"
        else:
            text += f", at most {max_len} items"
    return text
