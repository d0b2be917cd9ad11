"""Reading TOML the user wrote: one clear message for any malformed text, never a traceback.

Python's ``tomllib`` parses nested arrays and inline tables recursively, so a file nested a few
hundred levels deep raised ``RecursionError`` (a 3,000-line traceback) instead of a message. Here
every way a text can fail (bad syntax, nesting past what the parser can follow, nesting deeper
than any cxsim file needs) becomes a :class:`TomlError` whose message the caller prefixes with
the file's name.

This module must never import anything from the package.
"""

from __future__ import annotations

import tomllib
from typing import Any

__all__ = ["MAX_DEPTH", "TomlError", "TomlTooDeep", "parse_toml"]

MAX_DEPTH = 32
"""Deepest nesting of tables and arrays accepted (a scenario needs about five levels)."""


class TomlError(ValueError):
    """Text that is not TOML cxsim can use; the message says why (without the file name)."""


class TomlTooDeep(TomlError):
    """TOML nested deeper than :data:`MAX_DEPTH` (or than the parser can follow)."""


def parse_toml(text: str) -> dict[str, Any]:
    """Parse TOML text; refuse bad syntax and nesting deeper than :data:`MAX_DEPTH`.

    Parameters
    ----------
    text
        The TOML document.

    Returns
    -------
    dict
        The parsed document.

    Raises
    ------
    TomlError
        ``invalid TOML: ...`` with the parser's line and column, or the nesting depth found.
    """
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise TomlError(f"invalid TOML: {e}") from None
    except RecursionError:
        raise TomlTooDeep(
            f"invalid TOML: nested too deeply to read (expected at most {MAX_DEPTH} levels of "
            "arrays and tables)"
        ) from None
    where = _too_deep(data)
    if where is not None:
        raise TomlTooDeep(
            f"invalid TOML: {where or 'the document'} is nested more than {MAX_DEPTH} levels "
            "deep; expected at most that many levels of arrays and tables"
        )
    return data


def _too_deep(data: Any) -> str | None:
    """The key path of the first value nested deeper than :data:`MAX_DEPTH`, or None.

    Walks with an explicit stack, so the check itself never recurses.
    """
    stack: list[tuple[Any, int, str]] = [(data, 0, "")]
    while stack:
        node, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            return path
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, dict | list):
                    stack.append((value, depth + 1, f"{path}.{key}" if path else str(key)))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((value, depth + 1, f"{path}[{i}]"))
    return None
