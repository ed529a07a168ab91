"""The NeuronGroup front end: read a group's model, evaluate its expressions, rewrite it in place.

The rest of autolut is pure (sympy and numpy) or works through this front end's
interface (`autolut.frontends.FrontEnd`); this module translates between a
`NeuronGroup` and those pure values:

* `read_group` classifies every name of the group's equations (axis, baked
  constant, per-neuron parameter, time, ...) into an `autolut.analysis.Model`,
  and binds the options to the group's axes (`GroupModel`);
* `GroupModel.function` turns an inlined sympy expression into a numpy function
  of the axis, evaluated with Brian2's own numpy semantics (``exprel``
  included), and `GroupModel.unit_of` gives its unit;
* `rewrite_group` / `restore_group` swap equations in place, so Synapses and
  monitors created on the group stay valid and cpp_standalone works.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping

import numpy as np
import sympy
from brian2 import (BrianObject, DimensionMismatchError, Function, NeuronGroup,
                    SpatialNeuron, second)
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.core.functions import DEFAULT_FUNCTIONS
from brian2.core.variables import ArrayVariable, Constant, Subexpression
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
from brian2.units.fundamentalunits import get_unit
from brian2.utils.stringtools import get_identifiers

from .. import analysis, expeuler
from ..kinds import Kind
from ..messages import AutolutError
from ..options import AxisRange, Options, OptionsError

__all__ = ["NEURON_GROUP", "GroupModel", "read_group", "UnitLost", "units_preserved",
           "rewrite_group", "restore_group", "current_constants", "classify", "CountingSite",
           "counting_site", "with_expressions"]

_TIME_NAMES = {"t", "t_in_timesteps", "lastspike"}


@dataclasses.dataclass(frozen=True)
class GroupModel:
    """What the pipeline knows of a group (the model every front end offers).

    Attributes
    ----------
    model
        The equations as an `analysis.Model` (every name classified).
    variables
        ``name -> Brian2 Variable, Constant or Function`` of the names used.
    constants
        Value (SI) of every name classified `Kind.CONSTANT`: baked into tables.
    guarded
        The constants that may change before a run (checked by the guard).
    units
        Unit of every axis.
    axes
        The options bound to every axis: range, operating range, step.
    gate_variables
        Variables whose exponential-Euler update may use integration tables
        (empty unless the group uses exponential Euler and the option is on).
    events
        Names used by the group's thresholds, resets and other event code.
    dt
        The group's time step (s), baked into step-factor tables.
    exact_equations
        Equations that must keep their exact form, with the reason (empty for a
        NeuronGroup; a SpatialNeuron's membrane current).
    """

    model: analysis.Model
    variables: Mapping[str, object]
    constants: Mapping[str, float]
    guarded: frozenset[str]
    units: Mapping[str, object]
    axes: Mapping[str, AxisRange] = dataclasses.field(default_factory=dict)
    gate_variables: frozenset[str] = frozenset()
    events: frozenset[str] = frozenset()
    dt: float = 0.0
    exact_equations: Mapping[str, str] = dataclasses.field(default_factory=dict)
    owner: object = dataclasses.field(default=None, repr=False, compare=False)

    @property
    def name(self) -> str:
        """The group's name, for messages."""
        return self.owner.name

    def function(self, expression: sympy.Expr, axes: str | tuple[str, ...],
                 constants: Mapping[str, float] | None = None) -> Callable:
        """A numpy function of `axes` (one name, or a tuple of them; SI) evaluating
        `expression` as Brian2 would (with `constants` instead of the model's own,
        if given): ``function(x)``, or ``function(x, y)`` for two axes."""
        return make_function(self.owner, self, expression, axes, constants)

    def unit_of(self, expression: sympy.Expr):
        """The unit of `expression` (raises `UnitLost` if it cannot be checked)."""
        return expression_unit(self, expression)

    def span(self, expression: sympy.Expr) -> tuple[float, float] | None:
        """Lowest and highest value (SI) of `expression`, made of constants and the
        group's parameters, over its elements now; None where the parameters cannot be
        read (cpp_standalone before the run)."""
        names = {symbol.name for symbol in expression.free_symbols} - set(self.constants)
        try:
            values = {name: np.asarray(self.variables[name].get_value(), dtype=float)
                      for name in names}
        except (NotImplementedError, KeyError, AttributeError, TypeError):
            return None  # standalone before the run, or not a variable with values
        function = make_function(self.owner, self, expression, "_unused",
                                 {**self.constants, **values})
        result = np.asarray(function(0.0), dtype=float)
        return float(result.min()), float(result.max())

    def with_axes(self, axes: Mapping[str, AxisRange]) -> GroupModel:
        """The same model with more table axes (shifted ones, named as written)."""
        return dataclasses.replace(
            self, axes={**self.axes, **axes},
            units={**self.units, **{name: axis.unit for name, axis in axes.items()}})

    def with_constants(self, changed: Mapping[str, float], guarded: bool = False) -> GroupModel:
        """The same model with some constants changed (or added; `guarded`: and checked
        before every run)."""
        return dataclasses.replace(self, constants={**self.constants, **changed},
                                   guarded=self.guarded | set(changed) if guarded
                                   else self.guarded)


def read_group(group, options: Options, run_namespace: Mapping | None, *,
               axes: frozenset[str] = frozenset(), internal: frozenset[str] = frozenset(),
               element: str = "neuron") -> GroupModel:
    """Describe `group`'s equations for the analysis.

    Names are resolved as ``run()`` would resolve them: the group's own
    variables, Brian2's units and functions, the group's ``namespace``, then
    `run_namespace`.

    `axes` are parameters that are state variables all the same (a
    SpatialNeuron's ``v``, which its cable solver updates); the equations
    named in `internal` (Brian2's own, derived from the user's) are left out
    of the analysis and never rewritten. `element` is what one index of the
    group is, for messages (``'compartment'``).
    """
    user_equations = group.user_equations
    _check_names(group, options)
    equations, identifiers = [], set()
    for eq in user_equations.ordered:
        if eq.type in (SUBEXPRESSION, DIFFERENTIAL_EQUATION) and eq.varname not in internal:
            equations.append(analysis.Equation(eq.varname, eq.type, str_to_sympy(eq.expr.code)))
            identifiers |= eq.expr.identifiers
    stochastic = set(user_equations.stochastic_variables)
    symbols, constants, guarded, variables = {}, {}, set(), dict(group.variables)
    pure_functions = set(analysis.STANDARD_FUNCTIONS)
    # Names used only by thresholds and resets are read for the axis ranges (a
    # threshold names a voltage); no table depends on them, so they are not guarded.
    in_events = event_identifiers(group) - identifiers
    for name in sorted((identifiers | in_events) - set(user_equations.subexpr_names) - stochastic):
        kind, value, obj = classify(group, name, options, run_namespace, axes)
        if isinstance(obj, Function):
            # sympy may know the function under another name (Brian2's int is int_)
            names = {name, getattr(obj.sympy_func, "__name__", name)}
            if kind == Kind.PURE_FUNCTION:
                pure_functions |= names
            else:
                pure_functions -= names
            variables[name] = obj
            continue
        symbols[name] = kind
        if obj is not None:
            variables[name] = obj
        if kind == Kind.CONSTANT:
            constants[name] = value
            if name in in_events:
                continue
            if name not in group.variables:
                guarded.add(name)
            elif isinstance(group.variables[name], ArrayVariable):
                guarded.add(name)
    symbols.update({name: Kind.STOCHASTIC for name in stochastic})
    units = {name: get_unit(group.variables[name].dim)
             for name, kind in symbols.items() if kind == Kind.AXIS and name not in in_events}
    model = analysis.Model(tuple(equations), symbols, frozenset(pure_functions),
                           frozenset(options.exclude), options.min_cost,
                           tabulate_own_variable=evaluates_right_hand_side(group),
                           element=element)
    gated = (frozenset(gate_variables(group))
             if options.integration_tables and uses_exponential_euler(group) else frozenset())
    group_model = GroupModel(model, variables, constants, frozenset(guarded), units,
                             gate_variables=gated, events=frozenset(event_identifiers(group)),
                             dt=float(group.clock.dt_), owner=group)
    axes = {axis: options.bind_axis(axis, unit, named_points(group, group_model, axis))
            for axis, unit in units.items()}
    # the axes with a range, in the order the equations declare them (a 2-D table's axes
    # come in this order: 'v, Ca')
    declared = [name for name in user_equations.keys() if name in axes]
    bounded = tuple(name for name in declared + sorted(set(axes) - set(declared))
                    if axes[name].low is not None)
    return dataclasses.replace(group_model, axes=axes,
                               model=dataclasses.replace(model, bounded=bounded))


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
            if option == "ranges" and not name.isidentifier():
                _check_shifted_axis_name(group, name)
                continue
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


def _check_shifted_axis_name(group, name: str) -> None:
    """A key of ``ranges`` that is not a name must be a shifted axis as the report writes
    it (``'v - VT'``): an expression of the group's variables."""
    try:
        used = get_identifiers(name) if str_to_sympy(name).free_symbols else {name}
    except (SyntaxError, TypeError, ValueError):
        used = {name}
    unknown = sorted(used - set(group.variables))
    if unknown:
        raise OptionsError(
            f"autolut: ranges['{name}']: a key of ranges is a variable ('v') or a shifted "
            f"axis as the report writes it ('v - VT'), made of the group '{group.name}''s "
            f"variables; {', '.join(unknown)} is not one of them")


def classify(group, name: str, options: Options, run_namespace, axes=frozenset(),
             equations: Equations | None = None):
    """(kind, SI value or None, Brian object or None) of one name of the equations
    (`equations`: the group's own, by default its ``user_equations``)."""
    equations = group.user_equations if equations is None else equations
    if name in equations:
        eq = equations[name]
        if eq.type == DIFFERENTIAL_EQUATION or name in options.ranges or name in axes:
            return Kind.AXIS, None, group.variables[name]
        if "shared" in eq.flags:
            if "constant" in eq.flags:
                value = _read_scalar(group.variables[name])
                if value is not None:
                    return Kind.CONSTANT, value, group.variables[name]
            return Kind.SHARED, None, group.variables[name]
        return Kind.PARAMETER, None, group.variables[name]
    if name in _TIME_NAMES:
        return Kind.TIME, None, None
    if name == "dt":
        return Kind.DT, None, None
    try:
        obj = group.resolve_all([name], run_namespace, user_identifiers=set())[name]
    except KeyError:
        return Kind.UNKNOWN, None, None
    if isinstance(obj, Function):
        return (Kind.PURE_FUNCTION if obj.stateless else Kind.RANDOM_FUNCTION), None, obj
    if isinstance(obj, Constant):
        return Kind.CONSTANT, float(obj.get_value()), obj
    if isinstance(obj, ArrayVariable) and obj.scalar:
        value = _read_scalar(obj) if obj.constant else None
        if value is not None:
            return Kind.CONSTANT, value, obj
        return Kind.SHARED, None, obj
    return Kind.PARAMETER, None, obj


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


def make_function(group, group_model: GroupModel, expression: sympy.Expr,
                  axes: str | tuple[str, ...], constants: Mapping[str, float] | None = None
                  ) -> Callable:
    """A numpy function of the axis (SI) that evaluates `expression` as Brian2 would;
    of the two axes, in the order of `axes`, if it names two.

    Sympy is only used to print the expression back to Brian2 code: numbers are
    never substituted into it (sympy would then expand ``exprel`` into 0/0).
    """
    axes = (axes,) if isinstance(axes, str) else tuple(axes)
    constants = group_model.constants if constants is None else constants
    code = NumpyNodeRenderer().render_expr(sympy_to_str(expression))
    namespace = {}
    for name in get_identifiers(code) - set(axes):
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

    def function(*values):
        return eval(compiled, namespace, dict(zip(axes, values)))

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
                    functions: Mapping[str, Function], equations: Equations | None = None
                    ) -> dict[str, str]:
    """Equations whose rewritten expression fails Brian2's unit check, with the error
    (`equations`: the group's own, by default its ``user_equations``).

    Sympy drops the units of some literals (``clip(x, 0*mV, inf*mV)`` becomes
    ``clip(x, 0, oo)``); such equations must keep their original form.
    """
    equations = group.user_equations if equations is None else equations
    variables = {**DEFAULT_FUNCTIONS, **group_model.variables, **functions}
    failures = {}
    for name, expression in new_expressions.items():
        eq = equations[name]
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
                  gates: tuple[tuple[str, str, str], ...] = ()) -> _Saved:
    """Swap the expressions of some equations of `group`, in place.

    The same group object keeps its name, state, and every object built on it
    (Synapses, monitors). Brian2 regenerates all code from ``group.equations``
    before each run, so the change takes effect on every target. `gates`
    (``(variable, steady-state call, factor call)``, e.g. ``('m',
    'lut_m_inf(v)', 'lut_m_factor(v)')``) get the exponential-Euler update of
    `autolut.expeuler`. Returns what `restore_group` needs to undo all this.
    """
    saved = _Saved(group.user_equations, group.equations,
                   {name: (var.expr, var.identifiers) for name, var in group.variables.items()
                    if isinstance(var, Subexpression)},
                   getattr(group.subexpression_updater, "abstract_code", None),
                   tuple(functions), guard, group.state_updater.method_choice)
    codes = {name: sympy_to_str(expr) for name, expr in new_expressions.items()}
    group.namespace.update(functions)
    _install_equations(group, with_expressions(group.user_equations, codes))
    group.contained_objects.append(guard)
    if gates:
        group.state_updater.method_choice = expeuler.LUTExponentialEuler(gates)
    return saved


def with_expressions(equations: Equations, codes: Mapping[str, str]) -> Equations:
    """`equations` with the expressions of the equations named in `codes` replaced."""
    return Equations([
        SingleEquation(eq.type, eq.varname, eq.dim, var_type=eq.var_type,
                       expr=Expression(codes[eq.varname]), flags=eq.flags)
        if eq.varname in codes else eq
        for eq in equations.values()])


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


@dataclasses.dataclass(frozen=True)
class CountingSite:
    """Where lookups outside a table axis' range are counted: in `group`, which
    evaluates `argument` (code) for each of its elements, `element` saying what
    one is (``'neuron'``, ``'postsynaptic neuron'``); and, for
    ``out_of_range='error'``, the name that numbers elements in the optimized
    object's code (`index`: ``i``; ``j`` for the postsynaptic neurons of a
    Synapses object) and what it numbers (`indexed`, by default `element`)."""

    group: object
    argument: str
    element: str
    index: str = "i"
    indexed: str = ""

    @property
    def index_element(self) -> str:
        return self.indexed or self.element


def counting_site(group, argument: sympy.Expr, element: str) -> CountingSite:
    """A group counts its own axes."""
    return CountingSite(group, sympy_to_str(argument), element)


def taken_names(group) -> set[str]:
    """Names a new table function must not take."""
    return set(group.variables) | set(group.namespace)


class NeuronGroupFrontEnd:
    """The front end of `NeuronGroup` (and not of its subclass `SpatialNeuron`)."""

    kind = "NeuronGroup"
    read = staticmethod(read_group)
    check_units = staticmethod(units_preserved)
    install = staticmethod(rewrite_group)
    restore = staticmethod(restore_group)
    current_constants = staticmethod(current_constants)
    taken_names = staticmethod(taken_names)
    counting_site = staticmethod(counting_site)

    @staticmethod
    def accepts(obj) -> bool:
        return isinstance(obj, NeuronGroup) and not isinstance(obj, SpatialNeuron)


NEURON_GROUP = NeuronGroupFrontEnd()
