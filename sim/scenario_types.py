"""Numbers are numbers: the check of a scenario's raw values before pydantic validates them.

Pydantic's lax mode converts ``true`` to 1, ``"2000"`` to 2000 and ``"0.5"`` to 0.5: a scenario
that says ``capability = true`` would run at full capability with no word. Its strict mode is
set per model (the behavioural sections are ``sim.params``' own, also validated alone), would
refuse the whole floats (``26.0``) that robustness worlds give integer parameters, and says
"a valid integer". So :func:`strict_numbers` walks the raw data along the schema before
validation: a number stays (a whole float becomes an int where a whole number is expected;
an int is a valid float), a NumPy scalar becomes the Python value it holds, and anything else
where a number is expected is replaced by a :class:`WrongType` that no field accepts, so
pydantic reports it at its key, with every other problem of the file, and
:func:`validation_problems` prints its message: ``expected a number from 0 to 1, got true``.

It is given the schema's models. This module must never import anything from the package.
"""

from __future__ import annotations

import datetime
import functools
import json
import math
import re
import types
import typing
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

__all__ = [
    "MAX_MAGNITUDE",
    "MAX_SHOWN",
    "WrongType",
    "expected_number",
    "out_of_range_message",
    "shown",
    "strict_numbers",
    "toml_value",
    "wrong_type_message",
]


class WrongType:
    """A value of the wrong type, standing in for it during validation, with its message."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __repr__(self) -> str:
        return self.message


@dataclass(frozen=True)
class _Number:
    """A number field: ``integer`` for whole numbers; ``expected`` in words."""

    integer: bool
    expected: str


@dataclass(frozen=True)
class _Plain:
    """A field with no number to check (a switch, free-form levers): NumPy scalars only."""


@dataclass(frozen=True)
class _Model:
    """A table validated by a schema model."""

    model: type[BaseModel]


@dataclass(frozen=True)
class _Items:
    """A list of ``item``."""

    item: Any


@dataclass(frozen=True)
class _Table:
    """A table of ``value`` by name."""

    value: Any


@dataclass(frozen=True)
class _OneOf:
    """A union: a number, a table or a list (the first that fits the value's type), or none."""

    expected: str
    number: _Number | None = None
    table: _Table | _Model | None = None
    items: _Items | None = None
    optional: bool = False


_CAPABILITY = "a number from 0 to 1"
_SPECIAL: dict[tuple[str, str], Any] = {
    ("FirmSpec", "capability"): _OneOf(
        expected=f"{_CAPABILITY} or a table of attributes",
        number=_Number(False, _CAPABILITY),
        table=_Table(_Number(False, _CAPABILITY)),
    ),
}
"""Fields whose expectation is not in their annotation (capability's 0..1 is a validator's)."""


def _bound(x: float) -> str:
    return f"{x:,}" if isinstance(x, int) and abs(x) >= 10_000 else f"{x:g}"


def _limits_text(info: Any) -> str:
    """A field's declared limits in words: ``" from 0 to 1"``, ``" >= 0"``, ``" > 0 and <= 10"``."""
    limits = {
        name: getattr(item, name)
        for item in getattr(info, "metadata", ())
        for name in ("ge", "gt", "le", "lt")
        if getattr(item, name, None) is not None
    }
    if "ge" in limits and "le" in limits:
        return f" from {_bound(limits['ge'])} to {_bound(limits['le'])}"
    ops = {"gt": ">", "ge": ">=", "lt": "<", "le": "<="}
    text = " and ".join(f"{ops[name]} {_bound(x)}" for name, x in limits.items())
    return f" {text}" if text else ""


def _node(annotation: Any, limits: str = "") -> Any:
    """What :func:`strict_numbers` checks for a value of ``annotation`` (None: nothing)."""
    if annotation is bool or annotation is Any:
        return _Plain()
    if annotation is int:
        return _Number(True, f"a whole number{limits}")
    if annotation is float:
        return _Number(False, f"a number{limits}")
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _Model(annotation)
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and args:
        item = _node(args[0])
        return _Items(item) if item is not None else None
    if origin is dict and len(args) == 2:
        value = _node(args[1])
        return _Table(value) if value is not None else None
    if origin in (typing.Union, types.UnionType):
        nodes = [_node(a, limits) for a in args if a is not type(None)]
        number = next((n for n in nodes if isinstance(n, _Number)), None)
        table = next((n for n in nodes if isinstance(n, _Table | _Model)), None)
        items = next((n for n in nodes if isinstance(n, _Items)), None)
        if not nodes or any(n is None or isinstance(n, _Plain) for n in nodes):
            return None  # a member of another kind (str | list[str]): pydantic says what fails
        words = [
            *([number.expected] if number else []),
            *(["a table"] if table else []),
            *(["a list"] if items else []),
        ]
        return _OneOf(" or ".join(words), number, table, items, type(None) in args)
    return None


def expected_number(info: Any) -> str | None:
    """What a number field expects, in words with its limits (``a number from 0 to 1``), else None.

    A value out of range is told in these words too, as a value of the wrong type is, so that
    ``customers = 1`` and ``customers = "1"`` get the same expectation.
    """
    node = _node(info.annotation, _limits_text(info))
    number = node if isinstance(node, _Number) else getattr(node, "number", None)
    return number.expected if isinstance(number, _Number) else None


_OUT_OF_RANGE = (
    "greater_than",
    "greater_than_equal",
    "less_than",
    "less_than_equal",
    "finite_number",
)
"""Pydantic's error types for a number outside a field's declared limits (or not finite)."""


def _finite(expected: str) -> str:
    """``a number > 0`` as ``a finite number > 0`` (a whole number is finite already)."""
    return expected.replace("a number", "a finite number", 1)


def out_of_range_message(info: Any, error: Any) -> str | None:
    """A pydantic error of a number out of ``info``'s limits in the words of a wrong type.

    ``expected a number from 0 to 1, got 1.5`` rather than pydantic's "greater than or equal
    to 0", ``expected a finite number > 0, got inf`` for an infinite or NaN value; None for any
    other error, or a field with no number.
    """
    if info is None or error.get("type") not in _OUT_OF_RANGE:
        return None
    words = expected_number(info)
    if words is not None and error.get("type") == "finite_number":
        words = _finite(words)
    return None if words is None else f"expected {words}, got {shown(error.get('input'))}"


@functools.cache
def _plan(model: type[BaseModel]) -> dict[str, Any]:
    """The :func:`_node` of each field of ``model`` that holds numbers (or NumPy scalars)."""
    out = {}
    for name, info in model.model_fields.items():
        node = _SPECIAL.get((model.__name__, name)) or _node(info.annotation, _limits_text(info))
        if node is not None:
            out[name] = node
    return out


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python value it holds (numpy is not imported to ask)."""
    if type(value).__module__ == "numpy" and getattr(value, "shape", None) == ():
        return value.item()
    return value


def strict_numbers(model: type[BaseModel], data: dict[str, Any]) -> dict[str, Any]:
    """``data`` for ``model`` with every value where a number is expected checked.

    A number stays (a whole float becomes an int where a whole number is expected), a NumPy
    scalar becomes a Python value, and anything else (``true``, ``"2000"``, ``2000.5`` for a
    whole number) becomes a :class:`WrongType` carrying its message. ``data`` is not changed:
    a copy is made of what changes.
    """
    plan = _plan(model)
    out = data
    for key, value in data.items():
        node = plan.get(key)
        new = value if node is None else _checked(node, value)
        if new is not value:
            out = dict(data) if out is data else out
            out[key] = new
    return out


def _checked(node: Any, value: Any) -> Any:
    value = _plain(value)
    if isinstance(node, _Number):
        return _number(node, value)
    if isinstance(node, _Model):
        return strict_numbers(node.model, value) if isinstance(value, dict) else value
    if isinstance(node, _Items):
        return _each(node.item, value) if isinstance(value, list) else value
    if isinstance(node, _Table):
        return _each(node.value, value) if isinstance(value, dict) else value
    if isinstance(node, _OneOf):
        if value is None and node.optional:
            return value
        if isinstance(value, dict) and node.table is not None:
            return _checked(node.table, value)
        if isinstance(value, list) and node.items is not None:
            return _checked(node.items, value)
        if node.number is not None and _is_number(value):
            return _number(node.number, value)
        return WrongType(f"expected {node.expected}, got {shown(value)}")
    if isinstance(value, list | dict):  # _Plain: free-form values may nest
        return _each(node, value)
    return value


def _each(node: Any, values: list[Any] | dict[str, Any]) -> list[Any] | dict[str, Any]:
    """``values`` (a list or a table) with each item :func:`_checked` (a copy if one changed)."""
    pairs = enumerate(values) if isinstance(values, list) else values.items()
    changed = {k: new for k, v in pairs if (new := _checked(node, v)) is not v}
    if not changed:
        return values
    if isinstance(values, list):
        return [changed.get(i, v) for i, v in enumerate(values)]
    return {k: changed.get(k, v) for k, v in values.items()}


def wrong_type_message(value: Any) -> str | None:
    """The message of a value :func:`strict_numbers` refused (an error's ``input``), else None."""
    return value.message if isinstance(value, WrongType) else None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


MAX_MAGNITUDE = 1e15
"""Largest size of a number where a number that need not be whole is expected (a price, a cost,
a weight). Not a limit of any market (money has no natural unit) but of the arithmetic: the model
multiplies money by up to 50 million customers and sums it over millions of steps in float64,
whose 15-16 significant digits would then drop the scenarios' costs of 1 to 100 from the sums,
and a price of 1e308 overflows to inf and NaN in the first step. The fields' own limits, where
they have any, are far below it."""


def _number(node: _Number, value: Any) -> Any:
    if _is_number(value):
        if isinstance(value, float) and not math.isfinite(value):  # inf passes gt=0
            return WrongType(f"expected {_finite(node.expected)}, got {shown(value)}")
        if not node.integer and abs(value) > MAX_MAGNITUDE:
            return WrongType(
                f"expected {node.expected} of size at most {MAX_MAGNITUDE:g} (larger numbers "
                f"overflow the model's sums), got {shown(value)}"
            )
        if not node.integer or isinstance(value, int):
            return value
        if value.is_integer():
            return int(value)
    return WrongType(f"expected {node.expected}, got {shown(value)}")


_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def toml_value(value: Any) -> str:
    """``value`` as a TOML file writes it: ``true``, ``"2000"``, ``[1, 2]``, ``{ a = 1 }``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return "nan" if value != value else repr(value)  # repr: inf, -inf, 0.5, 1e+30
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        items = (
            f"{k if _BARE_KEY.match(str(k)) else json.dumps(str(k))} = {toml_value(v)}"
            for k, v in value.items()
        )
        return "{ " + ", ".join(items) + " }" if value else "{}"
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if value is None:
        return "nothing"
    return repr(value)


MAX_SHOWN = 80
"""Longest wrong value quoted in a message."""


def shown(value: Any) -> str:
    text = toml_value(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 4] + " ..."
