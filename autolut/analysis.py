"""Find the tabulatable parts of a model: pure sympy in, frozen dataclasses out.

Nothing here imports Brian2. The caller describes the model as a `Model`: its
equations as sympy expressions and, for every symbol and function name, what
kind of thing it is. `find_candidates` then walks every equation and returns
the *largest* costly subexpressions whose only varying symbol is one axis
variable, plus the costly subexpressions it had to leave exact and why.

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
from collections.abc import Mapping

import sympy

from .kinds import Kind, Role

__all__ = [
    "STANDARD_FUNCTIONS", "INDEX_COST", "without_cheap_axes", "TABLE", "STEADY_STATE",
    "STEP_FACTOR", "AXIS", "CONSTANT", "PARAMETER", "SHARED", "TIME", "DT", "STOCHASTIC",
    "Equation", "Model", "Candidate", "Site", "Analysis",
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
    """

    equations: tuple[Equation, ...]
    symbols: Mapping[str, Kind]
    pure_functions: frozenset[str] = STANDARD_FUNCTIONS
    excluded: frozenset[str] = frozenset()
    min_cost: int = DEFAULT_MIN_COST
    tabulate_own_variable: bool = False
    element: str = "neuron"


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A subexpression that could be replaced by a table over one axis.

    ``expression`` has every subexpression inlined, so it can be evaluated on
    its own. ``reason`` is empty when the expression can be tabulated, and
    otherwise says why it is left exact.
    """

    expression: sympy.Expr
    axis: str | None
    origins: tuple[str, ...]
    cost: int
    reason: str = ""
    label: str = ""  # base of the table's name; the first origin when empty
    role: Role = Role.TABLE
    gate: str = ""  # the gate variable, for the integration tables of a gate

    @property
    def tabulatable(self) -> bool:
        return not self.reason


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
            deps = self.symbol_deps(name)
            self._lookup_memo[name] = (
                name in self.definitions and name not in self.model.excluded
                and len(deps) == 1 and next(iter(deps))[0] == AXIS
                and self.cost(self.definitions[name]) >= self.model.min_cost)
        return self._lookup_memo[name]

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

        The arguments of a sum or product that depend on the same single axis
        are grouped into one sub-sum or sub-product, and the constant arguments
        join the costliest such group, so that ``c*a(v)*(1 - m)`` exposes
        ``c*a(v)``. Other nodes are split into their arguments.
        """
        if not isinstance(node, (sympy.Add, sympy.Mul)):
            return list(node.args)
        groups: dict[str, list] = {}
        constants, rest = [], []
        for arg in node.args:
            arg_deps = self.deps(arg)
            if not arg_deps:
                constants.append(arg)
            elif len(arg_deps) == 1 and next(iter(arg_deps))[0] == AXIS:
                groups.setdefault(next(iter(arg_deps))[1], []).append(arg)
            else:
                rest.append(arg)
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
        if len(deps) == 1 and axes == [self.own_variable]:
            return False  # the integrator must see this part (see Model.tabulate_own_variable)
        if len(deps) == 1 and len(axes) == 1:
            inlined = self.inline(node)
            cost = self.cost(node)
            if cost >= self.model.min_cost:
                found.append((node, Candidate(inlined, axes[0], (equation,), cost)))
                return True
            opaque, lookups = self.opaque(node)
            if self._divides_or_calls(opaque):
                found.append((node, Candidate(
                    inlined, axes[0], (equation,), cost,
                    f"too cheap to be worth a lookup (about {cost} operations)")))
            return lookups > 0  # made of tables already
        start = len(found)
        inside = [self.walk(part, equation, found) for part in self.split(node)]
        if any(inside):
            return True
        inlined = self.inline(node)
        if _is_expensive(node) and (len(axes) <= 1 or len(found) == start):
            # The largest expensive subtree that has to stay exact: report it
            # instead of the pieces found inside it. (Subexpressions it uses are
            # reported at their own definition.)
            del found[start:]
            found.append((node, Candidate(inlined, axes[0] if len(axes) == 1 else None,
                                          (equation,), estimate_cost(inlined),
                                          _reason(deps, self.model.element))))
        return False


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
    for kind, template in _REASONS:
        names = sorted(name for dep_kind, name in deps if dep_kind == kind)
        if names:
            return template.format(", ".join(names), element=element)
    raise AssertionError("an expression with no dependency is never left exact")


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
    axis: str
    steady_state: sympy.Expr  # -B/A, subexpressions inlined
    step_factor: sympy.Expr   # exp(A*dt)


#: The symbol of the integration step, with Brian2's assumptions.
DT_SYMBOL = sympy.Symbol("dt", real=True, positive=True)


def find_gates(model: Model, variables=None) -> tuple[Gate, ...]:
    """The differential equations of `model` that are linear in their own variable
    with coefficients depending only on one *other* axis variable and constants.

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
        deps = walker.deps(rate) | walker.deps(source)
        if len(deps) != 1:
            continue
        kind, axis = next(iter(deps))
        if kind != AXIS or axis == equation.name:
            continue
        gates.append(Gate(equation.name, axis, -source / rate, sympy.exp(rate * DT_SYMBOL)))
    return tuple(gates)


def gate_candidates(gates: tuple[Gate, ...]) -> list[Candidate]:
    """The two tables of every gate: steady state (``<x>_inf``) and step factor (``<x>_factor``)."""
    candidates = []
    for gate in gates:
        for expression, role, suffix in ((gate.steady_state, STEADY_STATE, "inf"),
                                         (gate.step_factor, STEP_FACTOR, "factor")):
            candidates.append(Candidate(expression, gate.axis, (f"{gate.variable} ({role})",),
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


def without_cheap_axes(found: Analysis, min_cost: int = DEFAULT_MIN_COST) -> Analysis:
    """`found` without the tables of axes where they would not pay for their index.

    The tables of one axis share the computation of the index (`INDEX_COST`);
    each then costs `LOOKUP_COST`. An axis whose candidates together save less
    than `min_cost` operations beyond that keeps its expressions exact: a lone
    ``exp`` is as fast as its table.
    """
    per_axis: dict[str, list[Candidate]] = {}
    for candidate in found.tabulatable:
        per_axis.setdefault(candidate.axis, []).append(candidate)
    cheap = {axis for axis, candidates in per_axis.items()
             if sum(c.cost - LOOKUP_COST for c in candidates) - INDEX_COST < min_cost}
    candidates = tuple(
        dataclasses.replace(c, reason=(
            f"too cheap for a table of its own: about {c.cost} operations, and the only "
            f"table over '{c.axis}'; a lookup with its index costs about "
            f"{LOOKUP_COST + INDEX_COST}"))
        if c.tabulatable and c.axis in cheap else c
        for c in found.candidates)
    return Analysis(candidates, found.sites)


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
