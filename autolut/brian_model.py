"""Everything that touches Brian2 groups: read a model, evaluate expressions, rewrite in place.

The rest of autolut is pure (sympy and numpy); this module translates between a
`NeuronGroup` and those pure values:

* `read_group` classifies every name of the group's equations (axis, baked
  constant, per-neuron parameter, time, ...) into an `autolut.analysis.Model`;
* `make_function` turns an inlined sympy expression into a numpy function of
  the axis, evaluated with Brian2's own numpy semantics (``exprel`` included);
* `rewrite_group` / `restore_group` swap equations in place, so Synapses and
  monitors created on the group stay valid and cpp_standalone works;
* `TableGuard` re-checks the baked constants before every run and rebuilds the
  tables that depend on a constant that changed.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import sympy
from brian2 import BrianObject, DimensionMismatchError, Function, second
from brian2.core.functions import DEFAULT_FUNCTIONS
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.core.variables import ArrayVariable, Constant, Subexpression
from brian2.devices.device import RuntimeDevice, get_device
from brian2.equations.equations import (
    DIFFERENTIAL_EQUATION,
    PARAMETER,
    SUBEXPRESSION,
    Equations,
    Expression,
    SingleEquation,
    extract_constant_subexpressions,
)
from brian2.equations.refractory import add_refractoriness
from brian2.equations.unitcheck import check_dimensions
from brian2.parsing.expressions import parse_expression_dimensions
from brian2.parsing.rendering import NumpyNodeRenderer
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.stateupdaters.base import StateUpdateMethod, UnsupportedEquationsException
from brian2.stateupdaters.explicit import ExplicitStateUpdater
from brian2.stateupdaters.exponential_euler import ExponentialEulerStateUpdater
from brian2.units.fundamentalunits import DIMENSIONLESS, get_unit
from brian2.utils.logger import get_logger
from brian2.utils.stringtools import get_identifiers

from . import analysis, expeuler
from .lutfunction import OutOfRangeError
from .options import AxisRange, Options, OptionsError, display_unit
from .targets.cpp_target import STANDALONE_ERROR_FILE, SUPPORTED_DEVICES

__all__ = ["GroupModel", "read_group", "make_function", "expression_unit", "UnitLost",
           "units_preserved",
           "rewrite_group", "restore_group", "TableGuard", "AutolutError", "RangeCounter",
           "RangeCount"]

logger = get_logger("autolut")

_TIME_NAMES = {"t", "t_in_timesteps", "lastspike"}


class AutolutError(RuntimeError):
    """A model that autolut cannot handle as asked; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class GroupModel:
    """A group's equations as an `analysis.Model`, plus what is needed to evaluate them."""

    model: analysis.Model
    variables: Mapping[str, object]   # name -> Brian Variable / Constant / Function
    constants: Mapping[str, float]    # value (SI) of every name classified CONSTANT
    guarded: frozenset[str]           # constants that may change before a run
    units: Mapping[str, object]       # unit of every axis
    axes: Mapping[str, AxisRange] = dataclasses.field(default_factory=dict)


def read_group(group, options: Options, run_namespace: Mapping | None) -> GroupModel:
    """Describe `group`'s equations for the analysis.

    Names are resolved as ``run()`` would resolve them: the group's own
    variables, Brian2's units and functions, the group's ``namespace``, then
    `run_namespace`.
    """
    user_equations = group.user_equations
    _check_names(group, options)
    equations, identifiers = [], set()
    for eq in user_equations.ordered:
        if eq.type in (SUBEXPRESSION, DIFFERENTIAL_EQUATION):
            equations.append(analysis.Equation(eq.varname, eq.type, str_to_sympy(eq.expr.code)))
            identifiers |= eq.expr.identifiers
    stochastic = set(user_equations.stochastic_variables)
    symbols, constants, guarded, variables = {}, {}, set(), dict(group.variables)
    pure_functions = set(analysis.STANDARD_FUNCTIONS)
    # Names used only by thresholds and resets are read for the axis ranges (a
    # threshold names a voltage); no table depends on them, so they are not guarded.
    in_events = event_identifiers(group) - identifiers
    for name in sorted((identifiers | in_events) - set(user_equations.subexpr_names) - stochastic):
        kind, value, obj = _classify(group, name, options, run_namespace)
        if isinstance(obj, Function):
            # sympy may know the function under another name (Brian2's int is int_)
            names = {name, getattr(obj.sympy_func, "__name__", name)}
            if kind == "pure":
                pure_functions |= names
            else:
                pure_functions -= names
            variables[name] = obj
            continue
        symbols[name] = kind
        if obj is not None:
            variables[name] = obj
        if kind == analysis.CONSTANT:
            constants[name] = value
            if name in in_events:
                continue
            if name not in group.variables:
                guarded.add(name)
            elif isinstance(group.variables[name], ArrayVariable):
                guarded.add(name)
    symbols.update({name: analysis.STOCHASTIC for name in stochastic})
    units = {name: get_unit(group.variables[name].dim)
             for name, kind in symbols.items() if kind == analysis.AXIS and name not in in_events}
    model = analysis.Model(tuple(equations), symbols, frozenset(pure_functions),
                           frozenset(options.exclude), options.min_cost,
                           tabulate_own_variable=evaluates_right_hand_side(group))
    group_model = GroupModel(model, variables, constants, frozenset(guarded), units)
    axes = {axis: options.bind_axis(axis, unit, named_points(group, group_model, axis))
            for axis, unit in units.items()}
    return dataclasses.replace(group_model, axes=axes)


def named_points(group, group_model: GroupModel, axis: str) -> list[tuple[float, str]]:
    """The values of `axis` that the model names (see `analysis.reference_points`),
    as ``(SI value, expression)`` pairs; thresholds, resets and refractoriness
    conditions included."""
    points = []
    for point in analysis.reference_points(group_model.model, axis,
                                           event_conditions(group, axis)):
        try:
            value = float(np.asarray(make_function(group, group_model, point, axis)(
                np.zeros(1))).reshape(-1)[0])
        except (AutolutError, KeyError, TypeError, ValueError, ZeroDivisionError):
            continue  # not a constant after all
        if np.isfinite(value):
            points.append((value, sympy_to_str(point)))
    return points


def event_conditions(group, axis: str) -> list[sympy.Expr]:
    """``lhs - rhs`` of the comparisons in the group's event conditions (``v > Vcut``)
    and refractoriness condition, and ``axis - value`` of resets ``axis = value``."""
    conditions = [code for code in group.events.values() if isinstance(code, str)]
    if isinstance(group._refractory, str):
        conditions.append(group._refractory)
    found = []
    for code in conditions:
        try:
            expression = str_to_sympy(code)
        except (SyntaxError, TypeError, ValueError):
            continue
        found += [relation.lhs - relation.rhs
                  for relation in expression.atoms(sympy.core.relational.Relational)]
    for code in group.event_codes.values():
        for line in str(code).replace(";", "\n").splitlines():
            target, equals, value = line.partition("=")
            if equals and target.strip() == axis and not value.startswith("="):
                try:
                    found.append(sympy.Symbol(axis, real=True) - str_to_sympy(value.strip()))
                except (SyntaxError, TypeError, ValueError):
                    continue
    return found


def _check_names(group, options: Options) -> None:
    equations = group.user_equations
    for option, names in (("ranges", options.ranges), ("step", options.step)):
        for name in names:
            if name not in equations or equations[name].type == SUBEXPRESSION:
                raise OptionsError(
                    f"autolut: {option}['{name}']: the group '{group.name}' has no state "
                    f"variable or parameter '{name}'; its variables are "
                    f"{', '.join(sorted(equations.diff_eq_names | equations.parameter_names))}")
    for name in options.exclude:
        if name not in equations or equations[name].type == PARAMETER:
            raise OptionsError(
                f"autolut: exclude: the group '{group.name}' has no equation '{name}'; "
                f"its equations are "
                f"{', '.join(sorted(equations.diff_eq_names | equations.subexpr_names))}")


def _classify(group, name: str, options: Options, run_namespace):
    """(kind, SI value or None, Brian object or None) of one name of the equations."""
    equations = group.user_equations
    if name in equations:
        eq = equations[name]
        if eq.type == DIFFERENTIAL_EQUATION or name in options.ranges:
            return analysis.AXIS, None, group.variables[name]
        if "shared" in eq.flags:
            if "constant" in eq.flags:
                value = _read_scalar(group.variables[name])
                if value is not None:
                    return analysis.CONSTANT, value, group.variables[name]
            return analysis.SHARED, None, group.variables[name]
        return analysis.PARAMETER, None, group.variables[name]
    if name in _TIME_NAMES:
        return analysis.TIME, None, None
    if name == "dt":
        return analysis.DT, None, None
    try:
        obj = group.resolve_all([name], run_namespace, user_identifiers=set())[name]
    except KeyError:
        return "unknown", None, None
    if isinstance(obj, Function):
        return ("pure" if obj.stateless else "random"), None, obj
    if isinstance(obj, Constant):
        return analysis.CONSTANT, float(obj.get_value()), obj
    if isinstance(obj, ArrayVariable) and obj.scalar:
        value = _read_scalar(obj) if obj.constant else None
        return (analysis.CONSTANT, value, obj) if value is not None else (analysis.SHARED, None, obj)
    return analysis.PARAMETER, None, obj


def _read_scalar(variable) -> float | None:
    """The value of a shared variable, or None where it cannot be read now (standalone)."""
    try:
        return float(np.asarray(variable.get_value()).reshape(-1)[0])
    except (NotImplementedError, IndexError):
        return None


def current_constants(group, names, run_namespace) -> dict[str, float | None]:
    """The values the guarded constants have now (None where no longer a constant)."""
    values = {}
    for name in names:
        if name == "dt":
            values[name] = float(group.clock.dt_)
            continue
        if name in group.variables:
            values[name] = _read_scalar(group.variables[name])
            continue
        try:
            obj = group.resolve_all([name], run_namespace, user_identifiers=set())[name]
        except KeyError:
            values[name] = None
            continue
        values[name] = float(obj.get_value()) if isinstance(obj, Constant) else None
    return values


def make_function(group, group_model: GroupModel, expression: sympy.Expr, axis: str,
                  constants: Mapping[str, float] | None = None) -> Callable:
    """A numpy function of the axis (SI) that evaluates `expression` as Brian2 would.

    Sympy is only used to print the expression back to Brian2 code: numbers are
    never substituted into it (sympy would then expand ``exprel`` into 0/0).
    """
    constants = group_model.constants if constants is None else constants
    code = NumpyNodeRenderer().render_expr(sympy_to_str(expression))
    namespace = {}
    for name in get_identifiers(code) - {axis}:
        # exp may come from the step-factor tables alone, not from the equations
        obj = group_model.variables.get(name, DEFAULT_FUNCTIONS.get(name))
        if isinstance(obj, Function):
            namespace[name] = _numpy_implementation(obj, group)
        elif name in constants:
            namespace[name] = constants[name]
        elif isinstance(obj, Constant):
            namespace[name] = obj.get_value()
        elif hasattr(np, name):
            namespace[name] = getattr(np, name)
        else:
            raise AutolutError(f"autolut: cannot evaluate '{name}' in {sympy_to_str(expression)}")
    compiled = compile(code, "<autolut table>", "eval")

    def function(x):
        return eval(compiled, namespace, {axis: x})

    return function


def _exprel(x):
    """Brian2's exprel (limit 1 at 0, inf above 717), without its unit-checking wrapper
    (which formats the whole argument array into a message on every call)."""
    x = np.asarray(x, dtype=float)
    with np.errstate(all="ignore"):
        return np.where(np.abs(x) < 1e-16, 1.0, np.where(x > 717, np.inf, np.expm1(x) / x))


def _numpy_implementation(function: Function, group):
    if function is DEFAULT_FUNCTIONS["exprel"]:
        return _exprel
    try:
        implementation = function.implementations[NumpyCodeObject]
    except KeyError:
        # as brian2's create_runner_codeobj does for functions without one
        function.implementations.add_numpy_implementation(function.pyfunc)
        implementation = function.implementations[NumpyCodeObject]
    return implementation.get_code(group)


class UnitLost(ValueError):
    """Sympy's simplification made an expression fail Brian2's unit check (``0*mV`` -> ``0``)."""


def expression_unit(group_model: GroupModel, expression: sympy.Expr):
    """The unit of `expression`, from Brian2's own dimension analysis."""
    try:
        return get_unit(parse_expression_dimensions(
            sympy_to_str(expression), {**DEFAULT_FUNCTIONS, **group_model.variables}))
    except (DimensionMismatchError, SyntaxError, KeyError, ValueError) as error:
        raise UnitLost(f"its unit cannot be checked once sympy simplified it ({error})") \
            from None


def units_preserved(group, group_model: GroupModel, new_expressions: Mapping[str, sympy.Expr],
                    functions: Mapping[str, Function]) -> dict[str, str]:
    """Equations whose rewritten expression fails Brian2's unit check, with the error.

    Sympy drops the units of some literals (``clip(x, 0*mV, inf*mV)`` becomes
    ``clip(x, 0, oo)``); such equations must keep their original form.
    """
    variables = {**DEFAULT_FUNCTIONS, **group_model.variables, **functions}
    failures = {}
    for name, expression in new_expressions.items():
        eq = group.user_equations[name]
        expected = eq.dim / second.dim if eq.type == DIFFERENTIAL_EQUATION else eq.dim
        try:
            check_dimensions(sympy_to_str(expression), expected, variables)
        except (DimensionMismatchError, SyntaxError, KeyError, ValueError) as error:
            failures[name] = str(error)
    return failures


@dataclasses.dataclass
class _Saved:
    """What `rewrite_group` changed, so that `restore_group` can put it back."""

    user_equations: Equations
    equations: Equations
    subexpressions: dict          # name -> (expr, identifiers) of Subexpression variables
    constant_over_dt_code: str | None
    namespace_keys: tuple
    guard: BrianObject
    method_choice: object


def rewrite_group(group, new_expressions: Mapping[str, sympy.Expr],
                  functions: Mapping[str, Function], guard: BrianObject,
                  method=None) -> _Saved:
    """Swap the expressions of some equations of `group`, in place.

    The same group object keeps its name, state, and every object built on it
    (Synapses, monitors). Brian2 regenerates all code from ``group.equations``
    before each run, so the change takes effect on every target. `method`, if
    given, replaces the integration method. Returns what `restore_group` needs
    to undo all this.
    """
    saved = _Saved(group.user_equations, group.equations,
                   {name: (var.expr, var.identifiers) for name, var in group.variables.items()
                    if isinstance(var, Subexpression)},
                   getattr(group.subexpression_updater, "abstract_code", None),
                   tuple(functions), guard, group.state_updater.method_choice)
    codes = {name: sympy_to_str(expr) for name, expr in new_expressions.items()}
    group.namespace.update(functions)
    _install_equations(group, Equations([
        SingleEquation(eq.type, eq.varname, eq.dim, var_type=eq.var_type,
                       expr=Expression(codes[eq.varname]), flags=eq.flags)
        if eq.varname in codes else eq
        for eq in group.user_equations.values()]))
    group.contained_objects.append(guard)
    if method is not None:
        group.state_updater.method_choice = method
    return saved


def restore_group(group, saved: _Saved) -> None:
    """Undo `rewrite_group`."""
    _install_equations(group, saved.user_equations)
    for name, (expr, identifiers) in saved.subexpressions.items():
        group.variables[name].expr = expr
        group.variables[name].identifiers = identifiers
    for key in saved.namespace_keys:
        group.namespace.pop(key, None)
    group.contained_objects.remove(saved.guard)
    for counter in saved.guard.counters:
        counter.remove()
    group.state_updater.method_choice = saved.method_choice


def _install_equations(group, user_equations: Equations) -> None:
    """Set the user equations and everything NeuronGroup.__init__ derives from them."""
    group.user_equations = user_equations
    model = add_refractoriness(user_equations) if group._refractory is not False else user_equations
    group.equations, constant_over_dt = extract_constant_subexpressions(model)
    for eq in user_equations.values():
        if eq.type == SUBEXPRESSION and isinstance(group.variables.get(eq.varname), Subexpression):
            group.variables[eq.varname].expr = eq.expr.code
            group.variables[eq.varname].identifiers = get_identifiers(eq.expr.code)
    if group.subexpression_updater is not None:
        group.subexpression_updater.abstract_code = "\n".join(
            f"{eq.varname} = {eq.expr}" for eq in constant_over_dt.ordered)


def event_identifiers(group) -> set[str]:
    """Names used by the group's threshold, reset and other event code."""
    codes = list(group.events.values()) + list(group.event_codes.values())
    return set().union(*(get_identifiers(code) for code in codes if isinstance(code, str)))


def integration_method(group):
    """The method Brian2 will integrate `group` with: the one given, or for the default
    list (``('exact', 'euler', 'heun')``) the first that can integrate the equations."""
    method = group.state_updater.method_choice
    if isinstance(method, str) or not isinstance(method, Iterable):
        return method
    for candidate in method:
        try:
            StateUpdateMethod.apply_stateupdater(group.equations, group.variables, candidate,
                                                 group_name=group.name)
            return candidate
        except UnsupportedEquationsException:
            continue
    return method


def evaluates_right_hand_side(group) -> bool:
    """Whether the integration method only evaluates the right-hand sides (Euler,
    Runge–Kutta), so that tables over an equation's own variable are harmless."""
    method = integration_method(group)
    return (method in ("euler", "rk2", "rk4", "heun", "milstein")
            or isinstance(method, ExplicitStateUpdater))


def uses_exponential_euler(group) -> bool:
    """Whether `group` is integrated with (plain or autolut's) exponential Euler."""
    method = group.state_updater.method_choice
    return (isinstance(method, ExponentialEulerStateUpdater)
            or isinstance(method, str) and method in ("exponential_euler", expeuler.NAME))


def gate_variables(group) -> set[str]:
    """Differential equations whose update Brian2 does not modify (no ``unless refractory``)."""
    return {eq.varname for eq in group.user_equations.values()
            if eq.type == DIFFERENTIAL_EQUATION and "unless refractory" not in eq.flags}


def check_device() -> None:
    """Raise a clear error on devices without table implementations."""
    device = get_device()
    if type(device) is not RuntimeDevice and type(device).__name__ not in SUPPORTED_DEVICES:
        raise AutolutError(
            f"autolut: the device '{type(device).__name__}' is not supported; tables run "
            f"on the runtime device (numpy and cython targets) and on cpp_standalone. "
            f"Call autolut.restore(group) to run the exact model on this device.")


class TableGuard(BrianObject):
    """Runs first in every run of an optimized group: checks the device, and
    rebuilds the tables whose baked constants have changed since tabulation.

    Parameters
    ----------
    group
        The optimized group.
    refresh
        Called with ``{name: new value}`` when guarded constants changed; it
        rebuilds the affected tables (or raises if it cannot).
    constants
        ``{name: value}`` of the guarded constants as tabulated.
    uses
        ``{constant: [table names]}``, for messages.
    """

    add_to_magic_network = False
    # Added to a group that may have run before: not a reason for the magic network
    # to think that a new simulation starts (MagicError "a mix of objects").
    invalidates_magic_network = False

    def __init__(self, group, refresh: Callable[[dict], None], constants: Mapping[str, float],
                 uses: Mapping[str, list[str]] | None = None):
        BrianObject.__init__(self, clock=group.clock, when="before_start", order=-(2**31),
                             name=f"{group.name}_autolut_guard*")
        self.group = group
        self.refresh = refresh
        self.constants = dict(constants)
        self.uses = dict(uses or {})  # constant -> names of the tables that use it
        self.counters: list[RangeCounter] = []  # out_of_range 'clamp' and 'exact'
        self.neuron_steps = 0  # simulated since the counts were last logged
        self._end = _timestep(group.clock) or 0

    def before_run(self, run_namespace):
        check_device()
        now = current_constants(self.group, self.constants, run_namespace)
        changed = {name: value for name, value in now.items() if value != self.constants[name]}
        if changed:
            missing = sorted(name for name, value in changed.items() if value is None)
            if missing:
                raise AutolutError(
                    f"autolut: the tables of group '{self.group.name}' were built with the "
                    f"constant(s) {', '.join(missing)}, which are no longer defined as "
                    f"constants; define them again or call autolut.restore(group)")
            logger.info(f"autolut: constant(s) {', '.join(sorted(changed))} of group "
                        f"'{self.group.name}' changed since tabulation; rebuilding the "
                        f"tables that use them", "retabulate")
            self.refresh(changed)
            self.constants.update(changed)
        clock = self.group.clock
        start = _timestep(clock)
        self.neuron_steps += len(self.group) * (clock._i_end - (self._end if start is None
                                                                  else start))
        self._end = clock._i_end
        if type(get_device()) is not RuntimeDevice:
            watch_standalone_run(self)
        super().before_run(run_namespace)

    def after_run(self):
        if type(get_device()) is RuntimeDevice:
            self.log_new_counts()
        super().after_run()

    def baked_variables(self) -> list[str]:
        """The group's own variables (shared constants) whose values the tables bake in."""
        return sorted(name for name in self.constants if name in self.group.variables
                      and name != "dt")

    def tables_using(self, name: str) -> list[str]:
        """Names of the group's tables whose expressions use the constant `name`."""
        return self.uses.get(name, [])

    def log_new_counts(self, reset: bool = True) -> None:
        """Warn about lookups outside the ranges since the last warning (see
        `RangeCounter.log_new_counts`). `reset` starts counting the neuron-steps
        afresh (not for standalone, where every run of the program simulates all
        of them again)."""
        for counter in self.counters:
            counter.log_new_counts(self.neuron_steps)
        if reset:
            self.neuron_steps = 0


def _timestep(clock) -> int | None:
    """The clock's current time step, or None where it cannot be read (standalone)."""
    try:
        return int(np.asarray(clock.variables["timestep"].get_value()).reshape(-1)[0])
    except NotImplementedError:
        return None


#: Under out_of_range='exact', a run in which a table evaluated its exact
#: expression in more than this fraction of the neuron-steps ends with a warning:
#: its range misses where the neuron lives, which costs speed.
FREQUENT_FALLBACK = 0.01


@dataclasses.dataclass(frozen=True)
class RangeCount:
    """How often lookups fell outside the table range of an axis.

    ``outside`` counts the neuron-steps in which the axis was outside ``[low,
    high]`` and ``neurons`` how many neurons it happened to; ``lowest`` and
    ``highest`` are the extreme values seen outside (None when the axis never
    went below / above). Under ``out_of_range='clamp'`` (``policy``) every step
    is checked, and in each of those steps every table of the axis used its end
    value. Under ``'exact'`` every ``every``-th step is checked, and `estimate`
    is the number of neuron-steps in which the tables evaluated their exact
    expressions.
    """

    group: str
    axis: str
    low: object
    high: object
    tables: tuple[str, ...]
    outside: int
    neurons: int | None
    lowest: object
    highest: object
    policy: str = "clamp"
    every: int = 1  # the axis was checked every this many steps

    @property
    def estimate(self) -> int:
        """Neuron-steps outside, estimated from the steps checked (`outside` itself
        when every step was checked)."""
        return self.outside * self.every

    def __str__(self) -> str:
        scale, unit = display_unit(self.high / float(self.high) if float(self.high) else
                                   self.low / float(self.low),
                                   max(abs(float(self.low)), abs(float(self.high))))

        def show(value):
            return f"{float(value) / scale:.6g} {unit}".rstrip()

        seen = ", ".join(f"{word} {show(value)}" for word, value in
                         (("lowest", self.lowest), ("highest", self.highest)) if value is not None)
        where = (f"[{float(self.low) / scale:g}, {float(self.high) / scale:g}] {unit}").rstrip()
        if self.policy == "exact":
            tables = (f"table {self.tables[0]} evaluated its exact expression"
                      if len(self.tables) == 1 else
                      f"tables {', '.join(self.tables)} evaluated their exact expressions")
            sampled = f" (checked every {self.every} steps)" if self.every > 1 else ""
            return (f"autolut: in group '{self.group}', {tables} in about {self.estimate} "
                    f"neuron-steps{sampled}, where {self.axis} was outside the range {where} "
                    f"({self.neurons} neurons; {seen}). That is right but slow; widen "
                    f"ranges={{'{self.axis}': (low, high)}} to cover these values.")
        return (f"autolut: in group '{self.group}', {self.axis} was outside the table range "
                f"{where} in {self.outside} neuron-steps ({self.neurons} neurons; {seen}); "
                f"tables {', '.join(self.tables)} used their end values there. Widen "
                f"ranges={{'{self.axis}': (low, high)}} or use out_of_range='exact'.")


#: Under out_of_range='exact' the axis is checked every this many steps: the
#: check is a loop over the neurons of its own, and every step it would cost
#: 10-20 % of an HH model's optimized run on cython (measured on the benchmark
#: models); one step in ten costs about a tenth of that.
FALLBACK_SAMPLING = 10


class RangeCounter:
    """Counts, per neuron, the steps in which an axis is outside its tables' range.

    A ``run_regularly`` operation of the group (before the state update, which
    does the lookups) keeps three per-neuron variables: the count, and the
    lowest and highest value seen outside. Being plain Brian2 code, it works on
    every target; the counts survive a standalone run in the group's arrays.

    Under ``'clamp'`` it runs every step, and every step outside is a lookup at
    an end value. Under ``'exact'`` it runs every `every` steps, and its count
    estimates the lookups that evaluated the exact expression instead
    (`RangeCount.estimate`).
    """

    def __init__(self, group, axis: str, low: float, high: float, unit, tables: tuple[str, ...],
                 policy: str = "clamp", every: int = 1):
        self.group, self.axis, self.tables, self.unit = group, axis, tables, unit
        self.policy, self.every = policy, every
        self.low, self.high = low * unit, high * unit
        self.names = tuple(f"_autolut_{axis}_{what}" for what in ("outside", "lowest", "highest"))
        outside, lowest, highest = self.names
        dimensions = group.variables[axis].dim
        for name, value, dtype in ((outside, 0, np.int32), (lowest, low, np.float64),
                                   (highest, high, np.float64)):
            if name in group.variables:
                group.variables[name].set_value(value)  # counting starts afresh
                continue
            group.variables.add_array(name, size=group._N, dtype=dtype,
                                      dimensions=DIMENSIONLESS if dtype is np.int32
                                      else dimensions,
                                      values=np.full(group._N, value, dtype=dtype))
        v, low_code, high_code = axis, repr(self.low), repr(self.high)
        self.runner = group.run_regularly(
            f"{outside} += int(not ({v} >= {low_code} and {v} <= {high_code}))\n"
            f"{lowest} += int({v} < {lowest})*({v} - {lowest})\n"
            f"{highest} += int({v} > {highest})*({v} - {highest})",
            dt=every * group.clock.dt if every > 1 else None,
            when="before_groups", name=f"{group.name}_autolut_{axis}_range*")
        self.runner.invalidates_magic_network = False  # as the TableGuard
        self.reported = 0

    def count(self) -> RangeCount:
        outside, lowest, highest = (self.group.variables[name].get_value()
                                    for name in self.names)
        low_seen, high_seen = float(np.min(lowest)), float(np.max(highest))
        return RangeCount(
            self.group.name, self.axis, self.low, self.high, self.tables,
            int(np.sum(outside)), int(np.count_nonzero(outside)),
            low_seen * self.unit if low_seen < float(self.low) else None,
            high_seen * self.unit if high_seen > float(self.high) else None, self.policy,
            self.every)

    def log_new_counts(self, neuron_steps: int) -> None:
        """Warn (through Brian2's logger) about lookups outside since the last call:
        always under 'clamp'; under 'exact' when they were (an estimated) more than
        `FREQUENT_FALLBACK` of the `neuron_steps` simulated since."""
        count = self.count()
        new = (count.outside - self.reported) * self.every
        if self.policy == "clamp" and new > 0:
            logger.warn(str(count), "out_of_range")
        elif self.policy == "exact" and new > FREQUENT_FALLBACK * neuron_steps:
            logger.warn(f"{count} In the last run: about {new} of {neuron_steps} "
                        f"neuron-steps ({100 * new / neuron_steps:.2g} %).", "exact_fallback")
        self.reported = count.outside

    def remove(self) -> None:
        self.group.contained_objects.remove(self.runner)


# cpp_standalone runs the simulation in device.build() (or device.run()), after
# every Python hook of the run: run arguments are checked before, counts read and
# a failed lookup's message turned into an exception after the program ran.
def watch_standalone_run(guard: TableGuard) -> None:
    """Have the standalone device check its run arguments against the constants
    baked into `guard`'s tables, and report `guard`'s counts and out-of-range
    errors, whenever it runs the program."""
    device = get_device()
    guards = device.__dict__.setdefault("_autolut_guards", [])
    if guard not in guards:
        guards.append(guard)
    if getattr(device, "_autolut_watched", False):
        return
    run = device.run

    def run_and_report(directory=None, results_directory=None, with_output=True,
                       run_args=None):
        current = [g for g in guards if _built_by(device, g.group)]
        refuse_baked_run_args(current, run_args)
        directory = directory or device.project_dir
        error_file = os.path.join(directory, STANDALONE_ERROR_FILE)
        if os.path.exists(error_file):
            os.remove(error_file)
        try:
            result = run(directory, results_directory, with_output, run_args)
        except RuntimeError as failure:
            if os.path.exists(error_file):
                with open(error_file) as file:
                    raise OutOfRangeError(file.read().strip()) from failure
            raise
        for watched in current:  # every run of the program counts from zero
            for counter in watched.counters:
                counter.reported = 0
            watched.log_new_counts(reset=False)
        return result

    device.run = run_and_report
    device._autolut_watched = True


def _built_by(device, group) -> bool:
    """Whether the device's current project simulates `group` (not one of an earlier
    project, before ``device.reinit()``)."""
    # code objects hold weak proxies of their owners: compare Brian2's unique ids
    return any(getattr(getattr(code_object, "owner", None), "id", None) == group.id
               for code_object in device.code_objects.values())


def refuse_baked_run_args(guards, run_args) -> None:
    """Raise before the program runs if `run_args` set a value baked into tables."""
    if not run_args:
        return
    names = []
    for key in (run_args if isinstance(run_args, Mapping) else
                [arg.split("=")[0] for arg in run_args]):
        if isinstance(key, str):
            names.append(key)
        elif hasattr(key, "group_name") and hasattr(key, "name"):
            names.append(f"{key.group_name}.{key.name}")
    for guard in guards:
        for name in guard.baked_variables():
            if f"{guard.group.name}.{name}" in names:
                value = guard.constants[name]
                scale, unit = display_unit(get_unit(guard.group.variables[name].dim),
                                           abs(value))
                raise AutolutError(
                    f"autolut: run_args set '{guard.group.name}.{name}', but its value "
                    f"({value / scale:g} {unit}".rstrip() + f") is baked into the tables "
                    f"{', '.join(guard.tables_using(name))} of group '{guard.group.name}': "
                    f"the program would run with stale tables. To sweep it, either set "
                    f"{guard.group.name}.{name} = value before run() and build once per "
                    f"value (the tables are rebuilt for it), or call "
                    f"autolut.restore(group) before building and sweep it with run_args "
                    f"(without tables).")
