"""Find the tabulatable parts of a model: pure sympy in, frozen dataclasses out.

Nothing here imports Brian2. The caller describes the model as a `Model`: its
equations as sympy expressions and, for every symbol and function name, what
kind of thing it is. `find_candidates` then walks every equation and returns
the *largest* costly subexpressions whose only varying symbol is one axis
variable (or that vary with exactly two axis variables with ranges, and do not
factor into functions of one: 2-D tables), plus the costly subexpressions it
had to leave exact and why.

`rewrite_expression` and `substitute_back` are the two directions of the
substitution; the property tests check that they are inverse to each other.

Examples
--------
>>> import sympy
>>> v, m, mV = (sympy.Symbol(n, real=True) for n in ('v', 'm', 'mV'))
>>> model = Model(
...     equations=(Equation('m', 'differential equation',
...                         sympy.exp(-v/mV)*(1 - m) - m),),
...     symbols={'v': AXIS, 'm': AXIS, 'mV': CONSTANT})
>>> analysis = find_candidates(model)
>>> [str(c.expression) for c in analysis.tabulatable]
['exp(-v/mV)']
"""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping

import sympy

from .kinds import Kind, Role

__all__ = [
    "STANDARD_FUNCTIONS", "INDEX_COST", "without_cheap_axes", "TABLE", "STEADY_STATE",
    "STEP_FACTOR", "AXIS", "CONSTANT", "PARAMETER", "SHARED", "TIME", "DT", "STOCHASTIC",
    "Equation", "Model", "TableAxis", "axis_identifier", "Candidate", "Site", "Analysis",
    "Gate", "find_gates", "gate_candidates", "without_equations",
    "referenced_subexpressions", "DT_SYMBOL", "find_candidates", "estimate_cost",
    "rewrite_expression", "rewrite_model", "substitute_back", "reference_points",
    "denominators",
]

# Roles of a candidate and kinds of symbols (see `autolut.kinds`), under the short
# names the analysis and its tests use.
TABLE, STEADY_STATE, STEP_FACTOR = Role.TABLE, Role.STEADY_STATE, Role.STEP_FACTOR
AXIS, CONSTANT, PARAMETER, SHARED = Kind.AXIS, Kind.CONSTANT, Kind.PARAMETER, Kind.SHARED
TIME, DT, STOCHASTIC = Kind.TIME, Kind.DT, Kind.STOCHASTIC

# Cost of one evaluation, in rough "flops". One more table on an axis costs about
# 5 (two loads and one FMA); computing the index that all tables of the axis
# share costs about 15 more (subtract, multiply, clamp, convert, range check).
# So one lone table costs about as much as one exp: an integrate-and-fire model's
# single exp((v - VT)/DeltaT) ran at 1.0x as a table on every target (AdEx,
# 10 000 neurons), while the many curves of an HH model share one index.
# Both costs are per axis: a two-axis (bilinear) lookup loads four grid points
# and blends them with three FMAs, about twice a linear one, and needs an index
# on each of its axes (shared by the tables of the same pair of axes), so a lone
# 2-D table costs about 2*5 + 2*15 = 40.
_TRANSCENDENTAL_COST = 20
_DIVISION_COST = 4
LOOKUP_COST = 5
INDEX_COST = 15
DEFAULT_MIN_COST = 10
# Single-axis expressions cheaper than the minimum are still *reported* (as too
# cheap) when they divide or call a function, since a user may expect them to be
# tabulated; polynomials like `v - E_L` or `n**4` are not worth a row.


#: Functions that are pure functions of their arguments, under their Brian2 and sympy names.
STANDARD_FUNCTIONS = frozenset(
    {"exp", "log", "log10", "exprel", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
     "arcsin", "arccos", "arctan", "asin", "acos", "atan", "abs", "Abs", "sign", "floor",
     "ceil", "ceiling", "clip", "int_", "int", "expm1", "log1p"})


@dataclasses.dataclass(frozen=True)
class Equation:
    """One equation of the model, as the user wrote it (subexpressions not inlined)."""

    name: str
    kind: str  # 'subexpression' or 'differential equation'
    expression: sympy.Expr


@dataclasses.dataclass(frozen=True)
class Model:
    """What the analysis needs to know about a model.

    Parameters
    ----------
    equations
        Subexpressions and differential equations, in any order.
    symbols
        Kind of every symbol (`AXIS`, `CONSTANT`, ...). Subexpression names need
        not be listed: they are inlined.
    pure_functions
        Names of functions that are pure functions of their arguments (`exp`,
        `exprel`, user `Function` objects...). Any other call (``rand()``) is
        treated as random.
    excluded
        Names of equations the user does not want touched.
    min_cost
        Expressions cheaper than this (see `estimate_cost`) are not tabulated,
        nor are the tables of an axis that together save fewer operations (see
        `without_cheap_axes`).
    tabulate_own_variable
        Whether a differential equation may contain a table over its own
        variable. Only for integration methods that evaluate the right-hand side
        as a black box (Euler, Runge–Kutta): linear methods (exact, exponential
        Euler) must see how the equation depends on its variable.
    element
        What one index of the object is (``'neuron'``, ``'compartment'``), for
        the reasons given.
    bounded
        The axis variables with a known range, in the order the model declares
        them: an expression of exactly two of them (and constants) that does
        not factor into a sum or product of functions of one becomes one 2-D
        table, whose axes come in this order.
    refused_2d
        Expressions (subexpressions inlined) whose 2-D tables were refused (too
        many points, too cheap...): neither they nor any part of them becomes a
        2-D table, and their parts of one variable are tabulated as usual.
    """

    equations: tuple[Equation, ...]
    symbols: Mapping[str, Kind]
    pure_functions: frozenset[str] = STANDARD_FUNCTIONS
    excluded: frozenset[str] = frozenset()
    min_cost: int = DEFAULT_MIN_COST
    tabulate_own_variable: bool = False
    element: str = "neuron"
    bounded: tuple[str, ...] = ()
    refused_2d: frozenset[sympy.Expr] = frozenset()


@dataclasses.dataclass(frozen=True)
class TableAxis:
    """What a table is looked up with: a variable, or a variable plus a run-time shift.

    A plain axis is a variable (``v``). A *shifted* axis adds parameters read
    at run time: a rate that depends on ``v`` and a per-neuron ``VT`` only
    through ``v - VT`` is one table over ``u = v - VT``, looked up with every
    neuron's own ``u``. ``shift`` is a sum ``c1*p1 + c2*p2 ...`` of the
    `parameters` with constant coefficients.

    >>> v, VT = sympy.symbols('v VT', real=True)
    >>> axis = TableAxis('v', -VT, ('VT',))
    >>> axis.name, axis.argument, axis.unshifted(sympy.exp(VT - v))
    ('v - VT', -VT + v, exp(-v))
    """

    variable: str
    shift: sympy.Expr = sympy.S.Zero
    parameters: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        """The axis as written, the variable first (``'v - VT'``)."""
        text = self.variable
        for term in sorted(sympy.Add.make_args(self.shift), key=sympy.default_sort_key):
            if term != 0:
                negative = term.could_extract_minus_sign()
                text += f" {'-' if negative else '+'} {sympy.sstr(-term if negative else term)}"
        return text

    @property
    def argument(self) -> sympy.Expr:
        """The expression the table is looked up with (``v - VT``)."""
        return sympy.Symbol(self.variable, real=True) + self.shift

    def unshifted(self, expression: sympy.Expr) -> sympy.Expr:
        """`expression`, a function of the argument, as a function of the variable alone
        (the parameters set to zero): what the table holds."""
        return expression.xreplace({sympy.Symbol(name, real=True): sympy.S.Zero
                                    for name in self.parameters})


def axis_identifier(name: str) -> str:
    """A name for the table axis `name` that can be part of a variable name
    (``'v - VT'`` gives ``'v_minus_VT'``, ``'v, Ca'`` gives ``'v_and_Ca'``).

    >>> axis_identifier('v - 2*VT'), axis_identifier('v, Ca')
    ('v_minus_2_VT', 'v_and_Ca')
    """
    words = name.replace(" - ", " minus ").replace(" + ", " plus ").replace(", ", " and ")
    return re.sub(r"\W+", "_", words).strip("_")


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A subexpression that could be replaced by a table over one axis (or two).

    ``expression`` has every subexpression inlined, so it can be evaluated on
    its own. ``reason`` is empty when the expression can be tabulated, and
    otherwise says why it is left exact. ``axes`` are the table's axes (one,
    or two for a 2-D table; empty when no table could have them).
    """

    expression: sympy.Expr
    axes: tuple[TableAxis, ...]
    origins: tuple[str, ...]
    cost: int
    reason: str = ""
    label: str = ""  # base of the table's name; the first origin when empty
    role: Role = Role.TABLE
    gate: str = ""  # the gate variable, for the integration tables of a gate
    # For a 2-D table: the cost of its split form instead (its parts of one
    # variable as 1-D lookups, the rest exact), which the 2-D lookup must beat.
    split_cost: int | None = None

    @property
    def tabulatable(self) -> bool:
        return not self.reason

    @property
    def axis(self) -> str | None:
        """The table axis as written (``'v'``, ``'v - VT'``; ``'v, Ca'`` for two axes)."""
        return ", ".join(axis.name for axis in self.axes) or None

    @property
    def variables(self) -> tuple[str, ...]:
        """The variables the table is tabulated over (``('v',)`` for ``v - VT``)."""
        return tuple(axis.variable for axis in self.axes)

    @property
    def arguments(self) -> tuple[sympy.Expr, ...]:
        """What the table is looked up with, per axis (``v - VT``)."""
        return tuple(axis.argument for axis in self.axes)

    @property
    def tabulated(self) -> sympy.Expr:
        """The function the table holds: `expression` with every shift set to zero,
        a function of `variables` and constants."""
        expression = self.expression
        for axis in self.axes:
            expression = axis.unshifted(expression)
        return expression


@dataclasses.dataclass(frozen=True)
class Site:
    """Where a tabulatable candidate occurs: this subtree of this equation."""

    equation: str
    subtree: sympy.Expr
    candidate: int  # index into Analysis.candidates


@dataclasses.dataclass(frozen=True)
class Analysis:
    candidates: tuple[Candidate, ...]
    sites: tuple[Site, ...]

    @property
    def tabulatable(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.tabulatable)


def estimate_cost(expr: sympy.Expr) -> int:
    """Rough number of flops one evaluation of `expr` costs.

    >>> x = sympy.Symbol('x', real=True)
    >>> estimate_cost(x + 1), estimate_cost(1/x), estimate_cost(sympy.exp(x))
    (1, 4, 20)
    """
    cost = 0
    for node in sympy.preorder_traversal(expr):
        if isinstance(node, (sympy.Add, sympy.Mul)):
            cost += len(node.args) - 1
        elif isinstance(node, sympy.Pow):
            exponent = node.exp
            if exponent.is_Integer:
                cost += abs(int(exponent)) - 1 if abs(int(exponent)) > 1 else 0
                cost += _DIVISION_COST if exponent.is_negative else 0
            else:
                cost += _TRANSCENDENTAL_COST
        elif isinstance(node, sympy.Function):
            cost += _TRANSCENDENTAL_COST
    return cost


class _Walker:
    """One walk over a model. Holds the memo of the dependencies of subexpressions."""

    def __init__(self, model: Model):
        self.model = model
        self.definitions = {eq.name: eq.expression for eq in model.equations
                            if eq.kind == "subexpression"}
        self._deps_memo: dict[str, frozenset] = {}
        self._inline_memo: dict[str, sympy.Expr] = {}
        self._lookup_memo: dict[str, bool] = {}
        self._axis_memo: dict[sympy.Expr, TableAxis | None] = {}
        self.own_variable = None  # the variable of the differential equation being walked

    # -- what an expression depends on -------------------------------------------------
    def symbol_deps(self, name: str) -> frozenset:
        if name in self.definitions:
            if name in self.model.excluded:
                return frozenset({(Kind.EXCLUDED, name)})
            if name not in self._deps_memo:
                self._deps_memo[name] = self.deps(self.definitions[name])
            return self._deps_memo[name]
        kind = self.model.symbols.get(name, Kind.UNKNOWN)
        if kind == CONSTANT:
            return frozenset()
        return frozenset({(kind, name)})

    def deps(self, expr: sympy.Expr) -> frozenset:
        found = set()
        for symbol in expr.free_symbols:
            found |= self.symbol_deps(symbol.name)
        for call in expr.atoms(sympy.Function):
            name = _function_name(call)
            if name not in self.model.pure_functions:
                found.add((Kind.RANDOM_FUNCTION, name))
        return frozenset(found)

    def is_lookup(self, name: str) -> bool:
        """Whether subexpression `name` becomes a table of its own (so using it costs a lookup)."""
        if name not in self._lookup_memo:
            self._lookup_memo[name] = False  # guards against (invalid) cyclic definitions
            self._lookup_memo[name] = (
                name in self.definitions and name not in self.model.excluded
                and self.table_axes(self.definitions[name]) is not None
                and self.cost(self.definitions[name]) >= self.model.min_cost)
        return self._lookup_memo[name]

    def table_axes(self, expr: sympy.Expr) -> tuple[TableAxis, ...] | None:
        """The axes a table of `expr` would have: one (see `table_axis`), or two for
        a 2-D table (see `pair_of`); None if `expr` is no function of them."""
        axis = self.table_axis(expr)
        return (axis,) if axis is not None else self.pair_of(expr)

    def pair_of(self, expr: sympy.Expr) -> tuple[TableAxis, TableAxis] | None:
        """The two axes of a 2-D table of `expr`, or None.

        `expr` must vary with exactly two axis variables that have ranges
        (`Model.bounded`) and with nothing else, must not be separable (a sum or
        product whose arguments vary with one of them each: its parts get
        tables of one axis), and must not lie inside an expression whose 2-D
        table was refused (`Model.refused_2d`). Whether an axis is the
        equation's own variable is the walk's business (this must not depend
        on the equation: the rewrite splits as the walk did).
        """
        deps = self.deps(expr)
        names = {name for kind, name in deps if kind == AXIS}
        if len(deps) != 2 or len(names) != 2 or not names <= set(self.model.bounded):
            return None
        if self._separable(expr):
            return None
        if self.model.refused_2d:
            inlined = self.inline(expr)
            if any(refused.has(inlined) for refused in self.model.refused_2d):
                return None
        first, second = sorted(names, key=self.model.bounded.index)
        return TableAxis(first), TableAxis(second)

    def _separable(self, expr: sympy.Expr) -> bool:
        """Whether `expr` is a sum or product whose arguments each vary with at most one
        axis or are separable themselves (``c*(f(v) + g(Ca))``): the walk splits it
        into parts of one axis each. ``1/(Ca + f(v))`` is not."""
        return isinstance(expr, (sympy.Add, sympy.Mul)) and all(
            len({name for kind, name in self.deps(arg) if kind == AXIS}) <= 1
            or self._separable(arg) for arg in expr.args)

    def table_axis(self, expr: sympy.Expr) -> TableAxis | None:
        """The axis a table of `expr` would have, or None if `expr` is no function of one.

        `expr` must vary with exactly one axis variable, and with nothing else but
        parameters (per-neuron or shared) that enter only through a shift of that
        variable (see `shift_of`).
        """
        deps = self.deps(expr)
        axes = [name for kind, name in deps if kind == AXIS]
        if len(axes) != 1:
            return None
        parameters = sorted(name for kind, name in deps if kind != AXIS)
        if not parameters:
            return TableAxis(axes[0])
        if any(kind not in _SHIFTING for kind, _ in deps if kind != AXIS):
            return None
        if expr not in self._axis_memo:
            self._axis_memo[expr] = shift_of(self.inline(expr), axes[0], parameters,
                                             lambda ratio: not self.deps(ratio))
        return self._axis_memo[expr]

    def opaque(self, expr: sympy.Expr) -> tuple[sympy.Expr, int]:
        """`expr` with the subexpressions inlined that do not become tables of their own,
        and the number of those that do (each costs one lookup)."""
        lookups = {s for s in expr.free_symbols if self.is_lookup(s.name)}
        others = expr.free_symbols - lookups
        return self.inline(expr, only=others), len(lookups)

    def cost(self, expr: sympy.Expr) -> int:
        """Operations per evaluation of `expr`: subexpressions that are tables cost a
        lookup, and constant parts cost nothing (Brian2 computes them once per run)."""
        inlined, lookups = self.opaque(expr)
        return estimate_cost(self.fold_constants(inlined)) + LOOKUP_COST * lookups

    def fold_constants(self, expr: sympy.Expr) -> sympy.Expr:
        """`expr` with every constant subtree replaced by one symbol."""
        if expr.is_Number:
            return expr  # keeps integer powers integer
        if not self.deps(expr):
            return sympy.Symbol("_constant", real=True)
        if not expr.args:
            return expr
        return expr.func(*(self.fold_constants(arg) for arg in expr.args), evaluate=False)

    def inline(self, expr: sympy.Expr, only=None) -> sympy.Expr:
        """`expr` with every (non-excluded) subexpression replaced by its definition."""
        replacements = {}
        for symbol in expr.free_symbols if only is None else only:
            name = symbol.name
            if name in self.definitions and name not in self.model.excluded:
                if name not in self._inline_memo:
                    self._inline_memo[name] = self.inline(self.definitions[name])
                replacements[symbol] = self._inline_memo[name]
        return expr.xreplace(replacements) if replacements else expr

    def _divides_or_calls(self, expr: sympy.Expr) -> bool:
        """Whether `expr` calls a function or divides by something varying
        (polynomials and divisions by constants are obviously cheap)."""
        return any(isinstance(node, sympy.Function)
                   or (isinstance(node, sympy.Pow) and node.exp.is_negative
                       and self.deps(node.base))
                   for node in sympy.preorder_traversal(expr))

    # -- the walk ---------------------------------------------------------------------
    def split(self, node: sympy.Expr) -> list[sympy.Expr]:
        """The parts of `node` that the walk looks at separately.

        The arguments of a sum or product that are functions of the same single
        axis (`table_axis`) are grouped into one sub-sum or sub-product, and the
        constant arguments join the costliest such group, so that
        ``c*a(v)*(1 - m)`` exposes ``c*a(v)``. Arguments that are 2-D tables
        (`pair_of`) of one pair of axes are grouped too; the groups of either of
        its axes and the constants join them, so that ``k*Ca/(Ca + K*exp(v))*(1 -
        o)`` exposes ``k*Ca/(Ca + K*exp(v))``. Other nodes are split into their
        arguments.
        """
        if not isinstance(node, (sympy.Add, sympy.Mul)):
            return list(node.args)
        groups: dict[tuple[str, ...], list] = {}
        constants, rest = [], []
        for arg in node.args:
            axes = self.table_axes(arg)
            if not self.deps(arg):
                constants.append(arg)
            elif axes is not None:
                groups.setdefault(tuple(axis.name for axis in axes), []).append(arg)
            else:
                rest.append(arg)
        pairs = [key for key in groups if len(key) == 2]
        if len(pairs) == 1:
            pair = pairs[0]
            for name in pair:
                groups[pair] = groups.pop((name,), []) + groups[pair]
            groups[pair] = constants + groups[pair]
            constants = []
        if groups and constants:
            costliest = max(sorted(groups), key=lambda axis: self.cost(node.func(*groups[axis])))
            groups[costliest] = constants + groups[costliest]
            constants = []
        parts = [node.func(*args) if len(args) > 1 else args[0]
                 for _, args in sorted(groups.items())]
        return parts + constants + rest

    def walk(self, node: sympy.Expr, equation: str, found: list) -> bool:
        """Append (subtree, candidate) pairs for `node` to `found`.

        Returns True if a tabulatable candidate was found in `node`.
        """
        deps = self.deps(node)
        if node.is_Symbol:  # a subexpression that is a table of its own is a lookup here
            return self.is_lookup(node.name)
        if not deps or node.is_Number:
            return False
        axes = sorted(name for kind, name in deps if kind == AXIS)
        table_axes = self.table_axes(node)
        if table_axes is not None and self.own_variable in (a.variable for a in table_axes):
            if len(table_axes) == 1:
                return False  # the integrator must see this (see Model.tabulate_own_variable)
            table_axes = None  # ... but the parts of the other axis may be tabulated
        if table_axes is not None:
            inlined = self.inline(node)
            cost = self.cost(node)
            if cost >= self.model.min_cost:
                split_cost = self.split_cost(node) if len(table_axes) == 2 else None
                found.append((node, Candidate(inlined, table_axes, (equation,), cost,
                                              split_cost=split_cost)))
                return True
            opaque, lookups = self.opaque(node)
            if self._divides_or_calls(opaque):
                found.append((node, Candidate(
                    inlined, table_axes, (equation,), cost,
                    f"too cheap to be worth a lookup (about {cost} operations)")))
            return lookups > 0  # made of tables already
        start = len(found)
        parts = self.split(node)
        if len(parts) == 1:  # a single group is the node itself (as in rewrite_expression)
            parts = list(node.args)
        inside = [self.walk(part, equation, found) for part in parts]
        if any(inside):
            return True
        inlined = self.inline(node)
        if _is_expensive(node) and (len(axes) <= 1 or len(found) == start):
            # The largest expensive subtree that has to stay exact: report it
            # instead of the pieces found inside it. (Subexpressions it uses are
            # reported at their own definition.)
            del found[start:]
            found.append((node, Candidate(inlined, (TableAxis(axes[0]),) if len(axes) == 1 else (),
                                          (equation,), estimate_cost(inlined),
                                          _reason(deps, self.model.element)
                                          + self._range_hint(deps))))
        return False

    def split_cost(self, node: sympy.Expr) -> int:
        """Operations per evaluation of the 2-D candidate `node` in its split form:
        its parts of one variable become 1-D lookups (as they would if its 2-D
        table were refused) and the rest stays exact."""
        refused = dataclasses.replace(
            self.model, refused_2d=self.model.refused_2d | {self.inline(node)})
        walker = _Walker(refused)
        walker.own_variable = self.own_variable
        found: list = []
        walker.walk(node, "", found)
        parts = {subtree: sympy.Dummy() for subtree, candidate in found
                 if candidate.tabulatable}
        remainder = rewrite_expression(node, parts, walker.split)
        return walker.cost(remainder) + LOOKUP_COST * len(parts)

    def _range_hint(self, deps: frozenset) -> str:
        """What would let an expression of two axes (and constants) be a 2-D table:
        ranges for the axes that have none."""
        axes = sorted(name for kind, name in deps if kind == AXIS)
        missing = [name for name in axes if name not in self.model.bounded]
        if len(deps) != 2 or len(axes) != 2 or not missing or self.own_variable in axes:
            return ""
        given = ", ".join(f"'{name}': (low, high)" for name in missing)
        return f"; ranges={{{given}}} with units would allow a 2-D table over {', '.join(axes)}"


def _is_expensive(expr: sympy.Expr) -> bool:
    """Whether `expr` calls a function or raises to a non-integer power."""
    return any(isinstance(node, sympy.Function)
               or (isinstance(node, sympy.Pow) and not node.exp.is_Integer)
               for node in sympy.preorder_traversal(expr))


def _function_name(call: sympy.Expr) -> str:
    return getattr(call.func, "__name__", str(call.func))


# Why an expression stays exact, by kind of dependency, the most telling first.
_REASONS = (
    (STOCHASTIC, "contains the stochastic term {}"),
    (Kind.RANDOM_FUNCTION, "calls the random or stateful function {}()"),
    (TIME, "depends on the time {}"),
    (DT, "depends on dt"),
    (Kind.EXCLUDED, "uses the excluded subexpression {}"),
    (PARAMETER, "depends on the per-{element} parameter {}"),
    (SHARED, "depends on the shared variable {}, which may change during the run"),
    (Kind.UNKNOWN, "uses the unknown name {}"),
    (AXIS, "depends on more than one varying variable ({})"),
)


def _reason(deps: frozenset, element: str = "neuron") -> str:
    axes = sorted(name for kind, name in deps if kind == AXIS)
    for kind, template in _REASONS:
        names = sorted(name for dep_kind, name in deps if dep_kind == kind)
        if names:
            reason = template.format(", ".join(names), element=element)
            if len(axes) == 1 and all(dep_kind in _SHIFTING for dep_kind, _ in deps
                                      if dep_kind != AXIS):
                # one variable and parameters: the parameters sit where no shift reaches
                reason += (f", and not only through a shift of {axes[0]} (such as "
                           f"{axes[0]} - {names[0]}) that a table could take")
            return reason
    raise AssertionError("an expression with no dependency is never left exact")


#: Kinds of symbols that may shift a table's axis: read at run time, per neuron or shared.
_SHIFTING = (PARAMETER, SHARED)


def shift_of(expression: sympy.Expr, variable: str, parameters, constant) -> TableAxis | None:
    """The shifted axis ``variable + c1*p1 + ...`` through which alone `expression`
    depends on `variable` and the `parameters`, or None if there is none.

    Then ``f(v, p) = g(v + c*p)`` and the table holds ``g(u) = f(u, 0)``. The
    coefficients ``c`` are read from the sums where ``v`` and ``p`` meet
    (``13*mV - v + VT`` gives -1; `constant` says whether an expression is a
    constant), and the shift is proved by substituting ``v - c*p`` for ``v``:
    every ``p`` must cancel. (No derivatives: sympy's ``cancel`` of them took
    minutes on nested expressions.) A parameter that never meets ``v`` in a sum
    (``exp(v/k)*exp(-VT/k)``) is not recognised, and the expression stays exact.

    >>> v, VT, k = sympy.symbols('v VT k', real=True)
    >>> shift_of(sympy.exp((VT - v)/4), 'v', ['VT'], lambda ratio: not ratio.free_symbols).name
    'v - VT'
    >>> shift_of(sympy.exp(v/k), 'v', ['k'], lambda ratio: not ratio.free_symbols) is None
    True
    """
    x = sympy.Symbol(variable, real=True)
    symbols = [sympy.Symbol(name, real=True) for name in parameters]
    coefficients = [_meeting_coefficients(expression, x, p, constant) for p in symbols]
    for combination in itertools.islice(itertools.product(*coefficients), _MAX_SHIFT_GUESSES):
        shift = sum((c * p for c, p in zip(combination, symbols)), sympy.S.Zero)
        if not expression.xreplace({x: x - shift}).free_symbols & set(symbols):
            return TableAxis(variable, shift, tuple(parameters))
    return None


#: Combinations of coefficients tried by `shift_of` (one per parameter is the rule).
_MAX_SHIFT_GUESSES = 16


def _exact(coefficient: sympy.Expr) -> sympy.Expr:
    """`coefficient` with floats made rational (the -1.0 of ``v - 1.0*VT`` is -1)."""
    return sympy.nsimplify(coefficient, rational=True)


def _meeting_coefficients(expression, x, p, constant) -> list[sympy.Expr]:
    """The constant ratios ``c`` of the coefficients of `p` and `x` in the sums of
    `expression` that hold both (``v - VT`` gives -1), most frequent first."""
    found: dict[sympy.Expr, int] = {}
    for node in sympy.preorder_traversal(expression):
        if isinstance(node, sympy.Add) and node.has(x) and node.has(p):
            slope, weight = node.coeff(x), node.coeff(p)
            if slope != 0 and weight != 0:
                ratio = _exact(weight / slope)
                if constant(ratio) and not ratio.has(x, p):
                    found[ratio] = found.get(ratio, 0) + 1
    return sorted(found, key=lambda ratio: -found[ratio])


def find_candidates(model: Model) -> Analysis:
    """Walk every equation of `model` and collect the candidates.

    Identical expressions found in several equations become one candidate with
    several origins. Candidates in excluded equations are reported with the
    reason "excluded by the user" and get no sites.
    """
    walker = _Walker(model)
    candidates: list[Candidate] = []
    index: dict[tuple, int] = {}
    sites = []
    for equation in model.equations:
        found: list = []
        own = equation.kind == "differential equation" and not model.tabulate_own_variable
        walker.own_variable = equation.name if own else None
        walker.walk(equation.expression, equation.name, found)
        for subtree, candidate in found:
            if equation.name in model.excluded and candidate.tabulatable:
                candidate = dataclasses.replace(candidate, reason="excluded by the user")
            key = (candidate.expression, candidate.reason)
            if key in index:
                old = candidates[index[key]]
                if equation.name not in old.origins:
                    candidates[index[key]] = dataclasses.replace(
                        old, origins=old.origins + (equation.name,))
            else:
                index[key] = len(candidates)
                candidates.append(candidate)
            if candidate.tabulatable:
                sites.append(Site(equation.name, subtree, index[key]))
    return Analysis(tuple(candidates), tuple(sites))


@dataclasses.dataclass(frozen=True)
class Gate:
    """A variable whose equation is linear in itself, ``dx/dt = A(axis)*x + B(axis)``.

    Exponential Euler then updates it exactly as
    ``x_inf + (x - x_inf)*exp(A*dt)`` with ``x_inf = -B/A``: two functions of the
    axis (and of ``dt``) that can be tabulated.
    """

    variable: str
    axis: TableAxis
    steady_state: sympy.Expr  # -B/A, subexpressions inlined
    step_factor: sympy.Expr   # exp(A*dt)


#: The symbol of the integration step, with Brian2's assumptions.
DT_SYMBOL = sympy.Symbol("dt", real=True, positive=True)


def find_gates(model: Model, variables=None) -> tuple[Gate, ...]:
    """The differential equations of `model` that are linear in their own variable
    with coefficients depending only on one *other* axis variable and constants
    (or on one shifted axis, ``v - VT``, see `TableAxis`).

    `variables` restricts the search to these equation names (e.g. to leave out
    ``(unless refractory)`` equations, whose right-hand side Brian2 multiplies by
    the refractory state).
    """
    walker = _Walker(model)
    gates = []
    for equation in model.equations:
        if (equation.kind != "differential equation" or equation.name in model.excluded
                or (variables is not None and equation.name not in variables)):
            continue
        x = sympy.Symbol(equation.name, real=True)
        rhs = walker.inline(equation.expression)
        rate = sympy.diff(rhs, x)
        if x in rate.free_symbols or rate == 0:
            continue
        source = rhs.xreplace({x: sympy.S.Zero})
        # a constant rate ((m_inf(v) - m)/tau) takes its axis from the source
        axis = walker.table_axis(rate if walker.deps(rate) else source)
        if axis is None or axis.variable == equation.name or (
                walker.deps(source) and walker.table_axis(source) != axis):
            continue
        gates.append(Gate(equation.name, axis, -source / rate, sympy.exp(rate * DT_SYMBOL)))
    return tuple(gates)


def gate_candidates(gates: tuple[Gate, ...]) -> list[Candidate]:
    """The two tables of every gate: steady state (``<x>_inf``) and step factor (``<x>_factor``)."""
    candidates = []
    for gate in gates:
        for expression, role, suffix in ((gate.steady_state, STEADY_STATE, "inf"),
                                         (gate.step_factor, STEP_FACTOR, "factor")):
            candidates.append(Candidate(expression, (gate.axis,), (f"{gate.variable} ({role})",),
                                        estimate_cost(expression),
                                        label=f"{gate.variable}_{suffix}", role=role,
                                        gate=gate.variable))
    return candidates


def without_equations(found: Analysis, equations: set[str], why: str) -> Analysis:
    """`found` with no sites in `equations`; candidates found only there get `why` as reason."""
    candidates = tuple(
        dataclasses.replace(c, reason=why.format(", ".join(c.origins)))
        if c.tabulatable and set(c.origins) <= equations else c
        for c in found.candidates)
    return Analysis(candidates, tuple(s for s in found.sites if s.equation not in equations))


def without_cheap_axes(found: Analysis, min_cost: int = DEFAULT_MIN_COST,
                       prefer_2d: bool = False) -> Analysis:
    """`found` without the tables of axes where they would not pay for their index.

    The tables of one axis share the computation of the index (`INDEX_COST`);
    each then costs `LOOKUP_COST`. An axis whose candidates together save less
    than `min_cost` operations beyond that keeps its expressions exact: a lone
    ``exp`` is as fast as its table. The 2-D tables of a pair of axes (``'v,
    Ca'``) share two indices and each lookup costs twice as much (see the cost
    constants). A 2-D table must also pay against its split form (see
    `Candidate.split_cost`), unless `prefer_2d`.
    """
    def alternative(candidate: Candidate) -> int:
        """Operations per evaluation without `candidate`'s table."""
        if candidate.split_cost is None or prefer_2d:
            return candidate.cost
        return min(candidate.cost, candidate.split_cost)

    per_axis: dict[str, list[Candidate]] = {}
    for candidate in found.tabulatable:
        per_axis.setdefault(candidate.axis, []).append(candidate)
    cheap = {axis for axis, candidates in per_axis.items()
             if sum(alternative(c) - LOOKUP_COST * len(c.axes) for c in candidates)
             - INDEX_COST * len(candidates[0].axes) < min_cost}
    candidates = tuple(
        dataclasses.replace(c, reason=_too_cheap(c, len(per_axis[c.axis]), prefer_2d))
        if c.tabulatable and c.axis in cheap else c
        for c in found.candidates)
    return Analysis(candidates, found.sites)


def _too_cheap(candidate: Candidate, tables: int, prefer_2d: bool) -> str:
    lookup = (LOOKUP_COST + INDEX_COST) * len(candidate.axes)
    if (candidate.split_cost is not None and candidate.split_cost < candidate.cost
            and not prefer_2d):
        return (f"a 2-D table does not pay: with its parts of one variable as 1-D tables "
                f"(the rest exact) it costs about {candidate.split_cost} operations (exact: "
                f"{candidate.cost}), a 2-D lookup {LOOKUP_COST * len(candidate.axes)} plus a "
                f"share of the indices over '{candidate.axis}' ({INDEX_COST * 2} for "
                f"{tables} table(s)); prefer_2d=True builds it anyway")
    only = "the only table" if tables == 1 else f"one of {tables} tables"
    return (f"too cheap for a table of its own: about {candidate.cost} operations, and "
            f"{only} over '{candidate.axis}'; a lookup with its index costs about {lookup}")


def referenced_subexpressions(model: Model, roots, rewritten: Mapping[str, sympy.Expr]) -> set[str]:
    """Names of the subexpressions that the expressions `roots` use, directly or
    through other subexpressions (whose definitions are taken from `rewritten`
    where they were rewritten)."""
    definitions = {eq.name: rewritten.get(eq.name, eq.expression)
                   for eq in model.equations if eq.kind == "subexpression"}
    pending = [symbol.name for expr in roots for symbol in expr.free_symbols]
    found = set()
    while pending:
        name = pending.pop()
        if name in definitions and name not in found:
            found.add(name)
            pending += [symbol.name for symbol in definitions[name].free_symbols]
    return found


def rewrite_expression(expr: sympy.Expr, replacements: Mapping[sympy.Expr, sympy.Expr],
                       split) -> sympy.Expr:
    """Replace the subtrees of `expr` that are keys of `replacements`.

    `split` must be the function the walk used to find them, so that sums and
    products are split into the same groups.
    """
    if expr in replacements:
        return replacements[expr]
    if not expr.args:
        return expr
    parts = split(expr)
    if len(parts) == 1:  # a single group is the node itself
        parts = list(expr.args)
    new_parts = [rewrite_expression(part, replacements, split) for part in parts]
    if all(new is old for new, old in zip(new_parts, parts)):
        return expr
    return expr.func(*new_parts)


def rewrite_model(model: Model, analysis: Analysis,
                  calls: Mapping[int, sympy.Expr]) -> dict[str, sympy.Expr]:
    """New expressions for the equations that change.

    Parameters
    ----------
    calls
        For each candidate index that gets a table, the expression that replaces
        it (typically a call ``lut_x(v)``).
    """
    walker = _Walker(model)
    per_equation: dict[str, dict] = {}
    for site in analysis.sites:
        if site.candidate in calls:
            per_equation.setdefault(site.equation, {})[site.subtree] = calls[site.candidate]
    rewritten = {}
    for equation in model.equations:
        if equation.name in per_equation:
            rewritten[equation.name] = rewrite_expression(
                equation.expression, per_equation[equation.name], walker.split)
    return rewritten


def substitute_back(expr: sympy.Expr, tables: Mapping[sympy.Expr, sympy.Expr]) -> sympy.Expr:
    """Replace every table call in `expr` by the expression it tabulates."""
    return expr.xreplace(dict(tables))


def reference_points(model: Model, axis: str, conditions=()) -> tuple[sympy.Expr, ...]:
    """The values of `axis` that the model itself names, as constant expressions.

    Every sum that is affine in the axis with constant coefficients and a
    constant term (``v - ENa``, ``-(v + 40*mV)/(10*mV)`` inside a rate, ``vu + 38``
    with ``vu = v/mV``, the ``EL - v`` of ``EL - v + R*I``) names the point where
    it vanishes: reversal potentials, half-activation voltages, resting
    concentrations. `conditions` adds expressions such as ``v - Vcut``
    from a threshold ``v > Vcut`` or a reset ``v = Vr``. Where the neuron lives on
    this axis lies between the lowest and the highest of these points.

    >>> v, mV, ENa, EK = (sympy.Symbol(n, real=True) for n in ('v', 'mV', 'ENa', 'EK'))
    >>> model = Model((Equation('v', 'differential equation',
    ...                         (ENa - v)*sympy.exp(-(v + 40*mV)/(10*mV)) + EK - v),),
    ...               {'v': AXIS, 'mV': CONSTANT, 'ENa': CONSTANT, 'EK': CONSTANT})
    >>> sorted(map(str, reference_points(model, 'v')))
    ['-40*mV', 'EK', 'ENa']
    """
    walker = _Walker(model)
    x = sympy.Symbol(axis, real=True)
    points = set()
    expressions = [walker.inline(eq.expression) for eq in model.equations]
    for expression in expressions + [walker.inline(c) for c in conditions]:
        for node in sympy.preorder_traversal(expression):
            if isinstance(node, sympy.Add) and x in node.free_symbols:
                point = _affine_zero(walker, node, x, axis)
                if point is not None:
                    points.add(point)
    return tuple(sorted(points, key=sympy.default_sort_key))


def _affine_zero(walker: _Walker, node: sympy.Add, x: sympy.Symbol, axis: str):
    """Where the terms of the sum `node` that are constant or linear in the axis
    add up to zero, if there are both (``EL - v`` in ``EL - v + R*I``), else None."""
    constant, linear = [], []
    for arg in node.args:
        if walker.deps(arg) == frozenset():
            constant.append(arg)
        elif walker.deps(arg) == {(AXIS, axis)}:
            try:
                slope = sympy.diff(arg, x)
            except (AttributeError, TypeError, ValueError):  # int(v > 0) and the like
                continue
            if slope != 0 and x not in slope.free_symbols:
                linear.append(slope)
    if not constant or not linear or sum(linear) == 0:
        return None
    return sympy.simplify(-sympy.Add(*constant) / sympy.Add(*linear))


def denominators(expression: sympy.Expr, axis: str) -> tuple[sympy.Expr, ...]:
    """The divisors of `expression` that vary with `axis` (where they vanish, the
    expression has a removable singular point or a pole)."""
    x = sympy.Symbol(axis, real=True)
    found = {node.base for node in sympy.preorder_traversal(expression)
             if isinstance(node, sympy.Pow) and node.exp.is_negative
             and x in node.base.free_symbols}
    return tuple(sorted(found, key=sympy.default_sort_key))
