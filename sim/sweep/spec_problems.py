"""A sweep file's problems in the project's words: each a key path and one message.

Pydantic reports a sweep file's errors in its own terms (``Input should be a valid number``,
locations with its internal tags); :func:`problems` turns each into the key path as the file
writes it (``parameters[0].low``) and a message as the scenario loader words its own (``expected
a number, got "x"``; an unknown key lists the keys its table allows). The spec's validators raise
:class:`At` for a consistency problem at a key path below the table they check.
:func:`toml_text` and :func:`plain_words` word a value and a pydantic message the same way for
the checks the plan makes against the scenario (``sim.sweep.plan``).

It knows no sweep file's schema: :mod:`sim.sweep.spec` passes its tables in. This module never
imports the model, the UI or an executor.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from sim.scenario_types import out_of_range_message

__all__ = ["At", "Tables", "plain_words", "problems", "toml_text"]

Tables = Mapping[str, type[BaseModel]]
"""A sweep file's models by the name of the table each validates; ``""`` is the whole file."""


class At(ValueError):
    """A consistency error at a key path, raised inside a validator."""

    def __init__(self, loc: tuple[Any, ...], message: str) -> None:
        self.loc = loc
        super().__init__(message)


def _loc_str(loc: tuple[Any, ...]) -> str:
    s = ""
    for part in loc:
        s += f"[{part}]" if isinstance(part, int) else (f".{part}" if s else str(part))
    return s


def _fields_of(loc: tuple[Any, ...], tables: Tables) -> dict[str, Any]:
    """The fields, by the key a sweep file writes, of the table that holds ``loc``'s last key."""
    named = [p for p in loc[:-1] if isinstance(p, str)]
    model = tables.get(named[-1] if named else "", tables[""])
    return {f.alias or name: f for name, f in model.model_fields.items()}


def toml_text(value: Any) -> str:
    """``value`` as a sweep file writes it (``true``, ``"x"``, ``0.5``), for messages."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_text(v) for v in value) + "]"
    text = repr(value)
    return text if len(text) <= 80 else text[:75] + " ...)"


_PYDANTIC_WORDS = (
    (", unable to parse string as a number", ""),
    (", unable to parse string as an integer", ""),
    ("a valid number", "a number"),
    ("a valid integer", "a whole number"),
    ("a valid boolean", "true or false"),
    ("a valid string", "a text in quotes"),
    ("a valid list", "a list"),
    ("a valid dictionary", "a table"),
)
"""Pydantic's phrases, in the words the scenario loader uses."""


def plain_words(message: str) -> str:
    """A pydantic message in the project's words: ``Input should be a valid number, unable to
    parse string as a number (got 'x')`` is ``expected a number, got 'x'``."""
    m = re.fullmatch(r"[Ii]nput should be (.*) \(got (.*)\)", message)
    if m:
        message = f"expected {m.group(1)}, got {m.group(2)}"
    for words, plain in _PYDANTIC_WORDS:
        message = message.replace(words, plain)
    return message


def _problem(e: Any, tables: Tables) -> tuple[str, str]:
    """One pydantic error of a sweep file as ``(key path, message)``."""
    loc = tuple(
        x
        for x in e["loc"]
        if not (
            isinstance(x, str)
            and ("[" in x or x in ("int", "str", "float", "bool", "function-after", "literal"))
        )
    )
    key = _loc_str(loc)
    if e["type"] == "extra_forbidden":
        return key, f"unknown key; expected one of: {', '.join(_fields_of(loc, tables))}"
    if e["type"] == "missing":
        return key, "required key is missing"
    if loc and (ranged := out_of_range_message(_fields_of(loc, tables).get(loc[-1]), e)):
        return key, ranged
    ctx = (e.get("ctx") or {}).get("error")
    if isinstance(ctx, At):
        return _loc_str((*loc, *ctx.loc)), str(ctx)
    msg = e["msg"].removeprefix("Value error, ")
    msg = msg[0].lower() + msg[1:]
    if not msg.startswith("expected") and "input" in e:
        msg = plain_words(f"expected {msg.removeprefix('input should be ')}")
        msg = f"{msg}, got {toml_text(e['input'])}"
    return key, msg


def problems(err: ValidationError, tables: Tables) -> list[tuple[str, str]]:
    """Every problem of a sweep file's validation error, as ``(key path, message)``, in order
    and each once; ``tables`` are the file's models by the name of the table each validates
    (``""``: the whole file), to list the keys a table allows."""
    out: list[tuple[str, str]] = []
    for e in err.errors():
        p = _problem(e, tables)
        if p not in out:
            out.append(p)
    return out
