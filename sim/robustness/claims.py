"""Claims: a scenario's verdicts as checkable comparisons over its outputs.

A claim is one comparison of two sides::

    firms.Straight Talk.share > firms.Big Promises.share
    firms.Heads Up.retention_annual @ years 3-10 >= firms.Silent.retention_annual @ years 3-10 + .01
    abs(firms.Concierge.share - firms.AllRound.share) < 0.1
    satisfaction[banking] < satisfaction[banking] @ year 1

Each side is arithmetic (``+ - * /``, parentheses, numbers, ``abs``, ``min``, ``max``) over
*references*: an outcome named as in :mod:`sim.sweep.outcomes` (a market metric such as
``retention_annual`` or ``satisfaction[banking]``, or one firm's metric ``firms.<firm>.<metric>``),
optionally followed by a window: ``@ final`` (the default: the last step), ``@ year N`` (the
step ending year N), ``@ years A-B`` (the mean over the kept steps from the start of year A to the
end of year B) or ``@ step N``. The comparison is one of ``> >= < <=``.

A claim's *margin* is how far it holds: ``left - right`` for ``>``/``>=`` and ``right - left`` for
``<``/``<=``, so a claim holds when its margin is positive (or zero, for ``>=``/``<=``).

This module parses and checks claims (against a scenario's firms and industries); evaluating them
on run results is :mod:`sim.robustness.margins`. It never imports the model, the UI or an
executor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sim.sweep.outcomes import Outcome, firm_metric_names, parse_outcome

__all__ = [
    "COMPARISONS",
    "Call",
    "Claim",
    "ClaimError",
    "Const",
    "Node",
    "Op",
    "Ref",
    "Window",
    "check_claims",
    "parse_claim",
    "parse_expression",
    "scenario_claims",
]

COMPARISONS = (">=", "<=", ">", "<")
FUNCTIONS = {"abs": (1, 1), "min": (2, 99), "max": (2, 99), "versus": (1, 1)}

GRAMMAR = (
    "LEFT OP RIGHT with OP one of > >= < <=; each side arithmetic (+ - * / ( ) abs min max "
    "versus) over numbers and outcomes (retention_annual, satisfaction[industry], "
    "firms.<firm>.<metric>), each optionally followed by @ final | @ year N | @ years A-B "
    "| @ step N"
)
"""The claim form in one line, for error messages."""


class ClaimError(ValueError):
    """A claim that cannot be read; ``key`` says where (e.g. ``claims[1].holds``)."""

    def __init__(self, key: str, message: str) -> None:
        self.key, self.detail = key, message
        super().__init__(f"{key}: {message}" if key else message)


@dataclass(frozen=True)
class Window:
    """Which steps of a run a reference reads.

    Attributes
    ----------
    kind
        ``final`` (the run's last step), ``step`` (one step) or ``span`` (the mean over the kept
        steps from ``first`` to ``last``).
    first, last
        Steps, inclusive; for ``step`` both are the step; unused for ``final``.
    text
        As written (``final``, ``year 3``, ``years 3-10``, ``step 13``).
    """

    kind: str
    first: int = 0
    last: int = 0
    text: str = "final"


@dataclass(frozen=True)
class Ref:
    """An outcome read in a window: one number per run."""

    outcome: Outcome
    window: Window

    @property
    def text(self) -> str:
        """The reference as written, with its window unless it is the final step."""
        w = "" if self.window.kind == "final" else f" @ {self.window.text}"
        return f"{self.outcome.text}{w}"


@dataclass(frozen=True)
class Const:
    """A number."""

    value: float


@dataclass(frozen=True)
class Op:
    """A binary arithmetic operation (``+ - * /``)."""

    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """``abs(x)``, ``min(a, b, ...)``, ``max(a, b, ...)`` or ``versus(x)`` (:mod:`.versus`)."""

    name: str
    args: tuple[Node, ...]


Node = Ref | Const | Op | Call


@dataclass(frozen=True)
class Claim:
    """A parsed claim.

    Attributes
    ----------
    name
        Short identifier (unique within a scenario).
    says
        The verdict in words.
    text
        The expression as written.
    left, right
        The two sides.
    op
        The comparison.
    by_construction
        Why the claim holds whatever the parameters, if the rules or the scenario's set-up
        make it so (empty when its odds are a finding).
    versus, against
        The overrides ``versus(...)`` reads under, in words too (:mod:`.versus`); or empty.
    """

    name: str
    says: str
    text: str
    left: Node
    op: str
    right: Node
    by_construction: str = ""
    versus: tuple[tuple[str, Any], ...] = ()
    against: str = ""

    @property
    def strict(self) -> bool:
        """True for ``>``/``<``: a zero margin does not hold."""
        return self.op in (">", "<")

    @property
    def refs(self) -> list[Ref]:
        """Every reference of both sides, in order of appearance."""
        return [*_refs(self.left), *_refs(self.right)]

    @property
    def steps(self) -> set[int]:
        """The fixed steps the claim reads (the final step excluded)."""
        out: set[int] = set()
        for r in self.refs:
            if r.window.kind == "step":
                out.add(r.window.first)
        return out

    @property
    def label(self) -> str:
        """What a reader sees: the words, or the expression when there are none."""
        return self.says or self.text


def _refs(node: Node) -> Iterable[Ref]:
    if isinstance(node, Ref):
        yield node
    elif isinstance(node, Op):
        yield from _refs(node.left)
        yield from _refs(node.right)
    elif isinstance(node, Call):
        for a in node.args:
            yield from _refs(a)


# -- tokenizing --------------------------------------------------------------------------------

_NUMBER = re.compile(r"\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?")
_NAME = re.compile(r"[A-Za-z_]\w*(?:\[[^\]]*\])?")
_WINDOW = re.compile(
    r"@\s*(?:(?P<final>final)\b|years\s+(?P<a>\d+)\s*-\s*(?P<b>\d+)|year\s+(?P<y>\d+)"
    r"|step\s+(?P<s>\d+))"
)


@dataclass(frozen=True)
class _Tok:
    kind: str  # num, ref, op, cmp, lp, rp, comma, fn, end
    text: str
    pos: int
    value: object = None


class _Tokens:
    def __init__(
        self,
        text: str,
        firms: list[str],
        industries: list[str],
        steps_per_year: int,
        steps: int,
    ) -> None:
        self.text, self.firms, self.industries = text, firms, industries
        self.spy, self.steps = steps_per_year, steps
        self.toks = list(self._scan())
        self.i = 0

    def _fail(self, pos: int, what: str) -> ClaimError:
        near = self.text[pos : pos + 24] or "the end"
        if pos == 0 and near == self.text.strip():  # the whole claim: its place says nothing
            return ClaimError("", what)
        return ClaimError("", f"at {pos + 1} ({near!r}): {what}")

    def _scan(self) -> Iterable[_Tok]:
        t, i = self.text, 0
        while i < len(t):
            c = t[i]
            if c.isspace():
                i += 1
                continue
            two = t[i : i + 2]
            if two in (">=", "<="):
                yield _Tok("cmp", two, i)
                i += 2
                continue
            if c in "<>":
                yield _Tok("cmp", c, i)
                i += 1
                continue
            if c == "=" or two == "!=":
                raise self._fail(i, "expected one of > >= < <= (equality is not a claim)")
            if c in "+-*/":
                yield _Tok("op", c, i)
                i += 1
                continue
            if c in "(),":
                yield _Tok({"(": "lp", ")": "rp", ",": "comma"}[c], c, i)
                i += 1
                continue
            m = _NUMBER.match(t, i)
            if m:
                yield _Tok("num", m.group(), i, float(m.group()))
                i = m.end()
                continue
            if t.startswith("firms.", i):
                ref, i = self._firm_ref(i)
                yield ref
                continue
            m = _NAME.match(t, i)
            if m:
                name = m.group()
                after = t[m.end() :].lstrip()
                if name in FUNCTIONS and after.startswith("("):
                    yield _Tok("fn", name, i)
                    i = m.end()
                    continue
                if name == "market" and t.startswith(".", m.end()):
                    m = _NAME.match(t, m.end() + 1)
                    if not m:
                        raise self._fail(i, "expected a market metric after 'market.'")
                    name = "market." + m.group()
                yield self._ref(name, i, m.end())
                i = self._after
                continue
            if c == "@":
                raise self._fail(i, "a window (@ ...) must follow an outcome")
            raise self._fail(i, f"unexpected {c!r}; expected {GRAMMAR}")
        yield _Tok("end", "", len(t))

    def _firm_ref(self, i: int) -> tuple[_Tok, int]:
        t = self.text
        rest = t[i + len("firms.") :]
        firm = next(
            (f for f in sorted(self.firms, key=len, reverse=True) if rest.startswith(f + ".")),
            None,
        )
        if firm is None:
            # `firms.<metric>` (a sweep's outcome over every firm) names no firm: a claim needs
            # one number. Anything else here is a firm the scenario does not have.
            m = _NAME.match(rest)
            if m and m.group() in firm_metric_names() and not rest.startswith(".", m.end()):
                raise self._fail(
                    i,
                    "a claim compares single numbers; expected firms.<firm>.<metric> with a "
                    f"firm of the scenario ({', '.join(self.firms)})",
                )
            raise self._fail(
                i,
                f"expected firms.<firm>.<metric> with a firm of the scenario "
                f"({', '.join(self.firms)})",
            )
        start = i + len("firms.") + len(firm) + 1
        m = _NAME.match(t, start)
        if not m:
            raise self._fail(start, f"expected a metric name after 'firms.{firm}.'")
        tok = self._ref(f"firms.{firm}.{m.group()}", i, m.end())
        return tok, self._after

    def _ref(self, name: str, pos: int, end: int) -> _Tok:
        try:
            outcome = parse_outcome(name, self.firms, self.industries)
        except ValueError as e:
            raise self._fail(pos, str(e)) from None
        window, self._after = Window("final"), end
        rest = self.text[end:]
        stripped = rest.lstrip()
        if stripped.startswith("@"):
            at = end + len(rest) - len(stripped)
            m = _WINDOW.match(self.text, at)
            if not m:
                raise self._fail(
                    at, "expected a window: @ final, @ year N, @ years A-B or @ step N"
                )
            window = self._window(m, at)
            self._after = m.end()
        return _Tok("ref", name, pos, Ref(outcome, window))

    def _window(self, m: re.Match[str], pos: int) -> Window:
        spy, steps = self.spy, self.steps
        text = m.group()[1:].strip()
        if m.group("final"):
            return Window("final")
        if m.group("s"):
            s = int(m.group("s"))
            first = last = s
        elif m.group("y"):
            y = int(m.group("y"))
            if y < 1:
                raise self._fail(pos, f"expected a year of 1 or more, got {y}")
            first = last = y * spy
        else:
            a, b = int(m.group("a")), int(m.group("b"))
            if not 1 <= a <= b:
                raise self._fail(pos, f"expected years A-B with 1 <= A <= B, got {a}-{b}")
            first, last = (a - 1) * spy + 1, b * spy
        if not 1 <= last <= steps:
            raise self._fail(
                pos,
                f"{text} ends at step {last}; expected a step from 1 to the run's {steps} "
                f"({steps // spy} years of {spy} steps)",
            )
        kind = "span" if m.group("a") else "step"
        return Window(kind, first, last, text)

    # -- parser interface --

    @property
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, kind: str, what: str) -> _Tok:
        tok = self.peek
        if tok.kind != kind:
            raise self._fail(tok.pos, f"expected {what}")
        return self.take()


def _sum(ts: _Tokens) -> Node:
    node = _product(ts)
    while ts.peek.kind == "op" and ts.peek.text in "+-":
        op = ts.take().text
        node = Op(op, node, _product(ts))
    return node


def _product(ts: _Tokens) -> Node:
    node = _unary(ts)
    while ts.peek.kind == "op" and ts.peek.text in "*/":
        op = ts.take().text
        node = Op(op, node, _unary(ts))
    return node


def _unary(ts: _Tokens) -> Node:
    if ts.peek.kind == "op" and ts.peek.text == "-":
        ts.take()
        return Op("-", Const(0.0), _unary(ts))
    return _atom(ts)


def _atom(ts: _Tokens) -> Node:
    tok = ts.peek
    if tok.kind == "num":
        ts.take()
        return Const(float(tok.value))
    if tok.kind == "ref":
        ts.take()
        return tok.value  # type: ignore[return-value]
    if tok.kind == "lp":
        ts.take()
        node = _sum(ts)
        ts.expect("rp", "')'")
        return node
    if tok.kind == "fn":
        ts.take()
        ts.expect("lp", f"'(' after {tok.text}")
        args = [_sum(ts)]
        while ts.peek.kind == "comma":
            ts.take()
            args.append(_sum(ts))
        ts.expect("rp", f"')' closing {tok.text}(")
        lo, hi = FUNCTIONS[tok.text]
        if not lo <= len(args) <= hi:
            n = "one argument" if lo == hi == 1 else f"at least {lo} arguments"
            raise ts._fail(tok.pos, f"{tok.text} takes {n}, got {len(args)}")
        return Call(tok.text, tuple(args))
    what = "the end of a side" if tok.kind == "end" else repr(tok.text)
    raise ts._fail(tok.pos, f"expected a number, an outcome or '(' but found {what}")


def parse_expression(
    text: str,
    firms: list[str],
    industries: list[str],
    *,
    steps_per_year: int = 52,
    steps: int = 520,
) -> tuple[Node, str, Node]:
    """Parse ``LEFT OP RIGHT`` into its two sides and the comparison.

    Parameters
    ----------
    text
        The expression.
    firms, industries
        The scenario's, to check firm names and per-industry metrics.
    steps_per_year, steps
        The scenario's, to turn years into steps and check windows fall inside a run.

    Raises
    ------
    ClaimError
        Saying where in the text and what was expected (``key`` is empty; callers add it).
    """
    if not isinstance(text, str) or not text.strip():
        raise ClaimError("", f"expected an expression: {GRAMMAR}")
    ts = _Tokens(text, firms, industries, steps_per_year, steps)
    left = _sum(ts)
    tok = ts.peek
    if tok.kind != "cmp":
        raise ts._fail(tok.pos, "expected a comparison (> >= < <=) between two sides")
    op = ts.take().text
    right = _sum(ts)
    if ts.peek.kind == "cmp":
        raise ts._fail(ts.peek.pos, "expected one comparison; write a second claim for another")
    if ts.peek.kind != "end":
        raise ts._fail(ts.peek.pos, f"expected an operator or the end, got {ts.peek.text!r}")
    if not any(True for side in (left, right) for _ in _refs(side)):
        raise ClaimError("", "expected at least one outcome; numbers alone are not a claim")
    return left, op, right


def parse_claim(
    name: str,
    holds: str,
    says: str,
    firms: list[str],
    industries: list[str],
    *,
    steps_per_year: int = 52,
    steps: int = 520,
    by_construction: str = "",
    versus: Any = None,
) -> Claim:
    """Parse one claim (the form: the module docstring; ``versus``: :mod:`.versus`).

    Raises
    ------
    ClaimError
        ``key`` is ``holds`` or ``versus``; the message says where and what was expected.
    """
    from sim.robustness.versus import checked  # it reads this module's nodes

    try:
        left, op, right = parse_expression(
            holds, firms, industries, steps_per_year=steps_per_year, steps=steps
        )
    except ClaimError as e:
        raise ClaimError("holds", e.detail) from None
    claim = Claim(name, says, holds.strip(), left, op, right, by_construction.strip())
    return checked(claim, versus, firms, steps)


def scenario_claims(scenario: object, steps: int | None = None) -> list[Claim]:
    """Parse and check every claim a scenario states.

    Parameters
    ----------
    scenario
        A :class:`sim.scenario.Scenario` (its ``claims``, firms, industries and time base).
    steps
        Steps of the runs the claims will be read on (default: the scenario's).

    Raises
    ------
    ClaimError
        ``key`` is ``claims[i].holds`` (or ``.name``, ``.versus``); the message names the claim.
    """
    from sim.robustness.versus import check_market

    firms = [f.name for f in scenario.firms]
    industries = list(scenario.market.industries)
    steps = int(steps or scenario.steps)
    out: list[Claim] = []
    seen: dict[str, int] = {}
    for i, spec in enumerate(scenario.claims):
        if spec.name in seen:
            raise ClaimError(
                f"claims[{i}].name",
                f"expected a unique claim name, got {spec.name!r} twice "
                f"(claims[{seen[spec.name]}])",
            )
        seen[spec.name] = i
        try:
            claim = parse_claim(
                spec.name,
                spec.holds,
                spec.says,
                firms,
                industries,
                steps_per_year=scenario.steps_per_year,
                steps=steps,
                by_construction=getattr(spec, "by_construction", ""),
                versus=getattr(spec, "versus", None),
            )
            check_market(scenario, claim)
        except ClaimError as e:
            raise ClaimError(f"claims[{i}].{e.key}", f"claim {spec.name!r}: {e.detail}") from None
        out.append(claim)
    return out


_CHECKED: dict[tuple[object, ...], tuple[str, str] | None] = {}
"""What :func:`check_claims` found for each set of claims and what they read: ``None`` (they
fit) or the ``(key, detail)`` of the :class:`ClaimError`."""

_CHECKED_MAX = 64
"""Entries :data:`_CHECKED` holds before it starts over (a process checks a few scenarios)."""


def check_claims(scenario: Any) -> None:
    """Check that every claim of ``scenario`` can be read on it, as :func:`scenario_claims`
    does, but parse a given set of claims on a given scenario shape only once.

    What decides whether the claims fit is all :func:`scenario_claims` reads: the claims, the
    firms' names, the industries, ``steps_per_year``, ``steps`` and the values a versus table
    overrides. A sweep checks the scenario of every design point (``sim.sweep.plan``), whose
    claims and firms are nearly always those of its base: parsed again for each point, they
    took a fifth of the plan's CPU (10,000 points: 6.6 against 5.1 s, docs/performance.md).

    Raises
    ------
    ClaimError
        The same key and message as :func:`scenario_claims`.
    """
    from sim.robustness.versus import fingerprint

    key = (
        tuple((c.name, c.says, c.holds) for c in scenario.claims),
        fingerprint(scenario),  # versus tables and the values they override
        tuple(f.name for f in scenario.firms),
        tuple(scenario.market.industries),
        int(scenario.steps_per_year),
        int(scenario.steps),
    )
    if key not in _CHECKED:
        if len(_CHECKED) >= _CHECKED_MAX:
            _CHECKED.clear()
        try:
            scenario_claims(scenario)
            _CHECKED[key] = None
        except ClaimError as e:
            _CHECKED[key] = (e.key, e.detail)
    found = _CHECKED[key]
    if found is not None:
        raise ClaimError(*found)
