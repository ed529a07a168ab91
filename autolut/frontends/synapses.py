"""The Synapses front end: per-synapse terms of the pre- or postsynaptic voltage.

A `Synapses` object evaluates its equations once per synapse and step. Terms
of a neuron's voltage written there, such as an NMDA magnesium block
``1/(1 + Mg/(3.57*mM)*exp(-0.062*v_post/mV))`` summed into the neuron, cost
one ``exp`` per synapse: networks have 10 to 1000 times more synapses than
neurons. This front end reads a Synapses object for the same pipeline as a
NeuronGroup. What differs (facts read from ``brian2/synapses/synapses.py``,
2.9):

* The model as written is spread over three places: ``synapses.equations``
  (clock-driven equations, subexpressions, parameters), ``synapses.event_driven``
  (integrated at events: left as they are) and one `SummedVariableUpdater` per
  ``(summed)`` variable, which holds its expression and its abstract code
  (and a subexpression variable ``_summed_<name>``).
* ``v_post``, ``v_pre`` (and ``v``, the postsynaptic one) are the neurons'
  own variables: axes when they are state variables of their group. Their
  range is the range the neuron group's own tables would have (its
  ``ranges``, or the potentials its equations name), unless given here:
  ``ranges={'v_post': ...}``, or ``ranges={'v': ...}`` for both ends.
* Per-synapse parameters (weights), ``i``, ``j`` and event-driven variables
  vary per synapse: what uses them stays exact. ``on_pre``/``on_post``
  statements run only at spikes and are left as they are.

Installing swaps the expressions in those three places in place, so the
object keeps its connections, state and monitors on every target.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import sympy
from brian2 import SpatialNeuron, Synapses
from brian2.core.variables import Subexpression
from brian2.equations.equations import (DIFFERENTIAL_EQUATION, SUBEXPRESSION, Equations,
                                        Expression, SingleEquation)
from brian2.parsing.sympytools import str_to_sympy, sympy_to_str
from brian2.units.fundamentalunits import get_unit
from brian2.utils.stringtools import get_identifiers

from .. import analysis
from ..kinds import Kind
from ..options import AxisRange, Options, OptionsError
from .neurongroup import (CountingSite, GroupModel, classify, current_constants,
                          evaluates_right_hand_side, read_group, taken_names, units_preserved,
                          with_expressions)
from .spatialneuron import read_spatial_neuron

__all__ = ["SYNAPSES", "read_synapses", "synaptic_equations", "neuron_variable"]

_ENDS = {"_pre": "source", "_post": "target"}


def synaptic_equations(synapses) -> Equations:
    """The equations of `synapses` that run every step, as written: clock-driven
    equations, subexpressions and parameters, and the ``(summed)`` variables."""
    summed = [SingleEquation(SUBEXPRESSION, name, synapses.variables[f"_summed_{name}"].dim,
                             expr=updater.expression, flags=["summed"])
              for name, updater in synapses.summed_updaters.items()]
    return Equations(list(synapses.equations.values()) + summed)


def neuron_variable(synapses, name: str) -> tuple[object, str] | None:
    """``(group, variable)`` if `name` is a variable of the pre- or postsynaptic group
    (``v_post``, ``v_pre``, or ``v`` for the postsynaptic one), else None."""
    for suffix, end in _ENDS.items():
        if name.endswith(suffix):
            group, original = getattr(synapses, end), name[:-len(suffix)]
            break
    else:
        group, original = synapses.target, name
    variable = synapses.variables.get(name)
    if variable is not None and getattr(group, "variables", {}).get(original) is variable:
        return group, original
    return None


def _is_state_variable(group, name: str) -> bool:
    """Whether `name` changes in time in `group`: a differential equation, or the
    ``v`` of a SpatialNeuron (updated by its cable solver)."""
    equations = getattr(group, "user_equations", {})
    if name in equations and equations[name].type == DIFFERENTIAL_EQUATION:
        return True
    return name == "v" and isinstance(group, SpatialNeuron)


def _for_variable(values: Mapping, name: str, original: str) -> dict:
    """``{original: value}`` of the option `values` (``ranges``, ``step``) given for the
    neuron variable `name` (``v_post``), or for the variable (``v``) in its group."""
    for key in (name, original):
        if key in values:
            return {original: values[key]}
    return {}


def _neuron_axis(synapses, name: str, options: Options, run_namespace) -> AxisRange | None:
    """The range of the neuron variable `name` (``v_post``) if it is an axis: the range
    the tables of its own group have (or would have) over it, unless given for the
    synapses; None if it is not a state variable of its group and has no range given."""
    group, original = neuron_variable(synapses, name)
    ranges = _for_variable(options.ranges, name, original)
    step = _for_variable(options.step, name, original)
    if not (_is_state_variable(group, original) or ranges):
        return None
    existing = getattr(group, "_autolut", None)
    if existing is not None and not (ranges or step) and original in existing.plan.model.axes:
        axis = existing.plan.model.axes[original]
    else:
        read = read_spatial_neuron if isinstance(group, SpatialNeuron) else read_group
        axis = read(group, Options(ranges=ranges, step=step), run_namespace).axes[original]
    return dataclasses.replace(axis, name=name)


def _check_names(synapses, equations: Equations, options: Options) -> None:
    for option, names in (("ranges", options.ranges), ("step", options.step)):
        for name in names:
            own = name in equations and equations[name].type != SUBEXPRESSION
            neuron = any(neuron_variable(synapses, name + suffix) for suffix in ("", *_ENDS))
            if not (own or neuron):
                raise OptionsError(
                    f"autolut: {option}['{name}']: the synapses '{synapses.name}' have no "
                    f"variable '{name}', and neither group they connect has one; give a "
                    f"synaptic variable, or a neuron variable as 'v' (both ends), 'v_post' "
                    f"or 'v_pre'")
    for name in options.exclude:
        if name not in equations or equations[name].type not in (SUBEXPRESSION,
                                                                   DIFFERENTIAL_EQUATION):
            raise OptionsError(
                f"autolut: exclude: the synapses '{synapses.name}' have no equation "
                f"'{name}'; their equations are "
                f"{', '.join(sorted(equations.diff_eq_names | equations.subexpr_names))}")


def pathway_identifiers(synapses) -> set[str]:
    """Names used by the ``on_pre``/``on_post`` statements and the event-driven equations."""
    names = set().union(*(get_identifiers(pathway.code) for pathway in synapses._pathways))
    if synapses.event_driven is not None:
        names |= synapses.event_driven.identifiers | set(synapses.event_driven.names)
    return names


def read_synapses(synapses, options: Options, run_namespace: Mapping | None) -> GroupModel:
    """Describe the equations of `synapses` that run every step for the analysis.

    Names are resolved as ``run()`` would. The pre- and postsynaptic groups'
    state variables (``v_post``) are axes with their group's range; the
    synapses' own clock-driven variables are axes without a range unless one
    is given; event-driven variables are per-synapse parameters (they change
    at events only).
    """
    equations = synaptic_equations(synapses)
    _check_names(synapses, equations, options)
    stochastic = set(equations.stochastic_variables)
    analysed, identifiers = [], set()
    for eq in equations.ordered:
        if eq.type in (SUBEXPRESSION, DIFFERENTIAL_EQUATION):
            analysed.append(analysis.Equation(eq.varname, eq.type, str_to_sympy(eq.expr.code)))
            identifiers |= eq.expr.identifiers
    symbols, constants, guarded, variables = {}, {}, set(), dict(synapses.variables)
    pure_functions, axes = set(analysis.STANDARD_FUNCTIONS), {}
    for name in sorted(identifiers - set(equations.subexpr_names) - stochastic):
        axis = (_neuron_axis(synapses, name, options, run_namespace)
                if neuron_variable(synapses, name) is not None else None)
        if axis is not None:
            symbols[name], axes[name] = Kind.AXIS, axis
            continue
        kind, value, obj = classify(synapses, name, options, run_namespace,
                                    equations=equations)
        if kind in (Kind.PURE_FUNCTION, Kind.RANDOM_FUNCTION):
            names = {name, getattr(obj.sympy_func, "__name__", name)}
            pure_functions = (pure_functions | names if kind == Kind.PURE_FUNCTION
                              else pure_functions - names)
            variables[name] = obj
            continue
        symbols[name] = kind
        if obj is not None:
            variables[name] = obj
        if kind == Kind.CONSTANT:
            constants[name] = value
            guarded.add(name)
        if kind == Kind.AXIS:  # a clock-driven variable of the synapses
            axes[name] = options.bind_axis(name, get_unit(synapses.variables[name].dim))
    symbols.update({name: Kind.STOCHASTIC for name in stochastic})
    units = {name: axis.unit for name, axis in axes.items()}
    bounded = tuple(sorted(name for name, axis in axes.items() if axis.low is not None))
    clock_driven = getattr(synapses, "state_updater", None) is not None
    model = analysis.Model(tuple(analysed), symbols, frozenset(pure_functions),
                           frozenset(options.exclude), options.min_cost,
                           tabulate_own_variable=clock_driven
                           and evaluates_right_hand_side(synapses),
                           element="synapse", bounded=bounded)
    # The summed variables and what the pathways use are read outside the equations:
    # they are roots of the simulation, as a neuron's events are.
    return GroupModel(model, variables, constants, frozenset(guarded), units, axes=axes,
                      events=frozenset(pathway_identifiers(synapses)
                                       | set(synapses.summed_updaters)),
                      dt=float(synapses.clock.dt_), owner=synapses)


@dataclasses.dataclass
class _Saved:
    """What `rewrite_synapses` changed, so that `restore_synapses` can put it back."""

    equations: Equations
    event_driven: Equations | None
    subexpressions: dict   # variable name -> (expr, identifiers)
    summed: dict           # summed variable -> (expression, abstract code)
    namespace_keys: tuple
    guard: object


def _subexpression_variable(synapses, name: str) -> str:
    return f"_summed_{name}" if name in synapses.summed_updaters else name


def rewrite_synapses(synapses, new_expressions: Mapping[str, sympy.Expr], functions, guard,
                     gates=()) -> _Saved:
    """Swap the expressions of some equations of `synapses` in place: in its
    equations, its event-driven equations' subexpressions, its subexpression
    variables and its summed-variable updaters."""
    names = [_subexpression_variable(synapses, name) for name in synapses.equations.names
             | set(synapses.summed_updaters)]
    saved = _Saved(synapses.equations, synapses.event_driven,
                   {name: (var.expr, var.identifiers) for name in names
                    if isinstance(var := synapses.variables.get(name), Subexpression)},
                   {name: (updater.expression, updater.abstract_code)
                    for name, updater in synapses.summed_updaters.items()},
                   tuple(functions), guard)
    codes = {name: sympy_to_str(expr) for name, expr in new_expressions.items()}
    synapses.namespace.update(functions)
    _install(synapses, codes)
    synapses.contained_objects.append(guard)
    return saved


def _install(synapses, codes: Mapping[str, str]) -> None:
    synapses.equations = with_expressions(synapses.equations, codes)
    if synapses.event_driven is not None:
        synapses.event_driven = with_expressions(synapses.event_driven, codes)
    for name, code in codes.items():
        variable = synapses.variables.get(_subexpression_variable(synapses, name))
        if isinstance(variable, Subexpression):
            variable.expr, variable.identifiers = code, get_identifiers(code)
        if name in synapses.summed_updaters:
            updater = synapses.summed_updaters[name]
            updater.expression = Expression(code)
            updater.abstract_code = f"_synaptic_var = {code}\n"


def restore_synapses(synapses, saved: _Saved) -> None:
    """Undo `rewrite_synapses`."""
    synapses.equations, synapses.event_driven = saved.equations, saved.event_driven
    for name, (expr, identifiers) in saved.subexpressions.items():
        synapses.variables[name].expr = expr
        synapses.variables[name].identifiers = identifiers
    for name, (expression, code) in saved.summed.items():
        synapses.summed_updaters[name].expression = expression
        synapses.summed_updaters[name].abstract_code = code
    for key in saved.namespace_keys:
        synapses.namespace.pop(key, None)
    synapses.contained_objects.remove(saved.guard)
    for counter in saved.guard.counters:
        counter.remove()


def counting_site(synapses, argument: sympy.Expr, element: str) -> CountingSite:
    """Lookups over a neuron variable (``v_post``) are counted per neuron of its
    group (every synapse onto a neuron looks up the same value), over the
    synapses' own variables per synapse."""
    symbols = sorted(argument.free_symbols, key=str)
    sites = [neuron_variable(synapses, symbol.name) for symbol in symbols]
    if None in sites or len({id(group) for group, _ in sites}) != 1:
        # Brian2 code cannot read a synapse's index: 'error' names its presynaptic neuron
        return CountingSite(synapses, sympy_to_str(argument), element, "i",
                            "synapse of presynaptic neuron")
    end = "pre" if all(symbol.name.endswith("_pre") for symbol in symbols) \
        else "post"  # unsuffixed names are the postsynaptic neuron's
    renamed = argument.xreplace({symbol: sympy.Symbol(original, real=True)
                                 for symbol, (_, original) in zip(symbols, sites)})
    return CountingSite(sites[0][0], sympy_to_str(renamed), f"{end}synaptic neuron",
                        "j" if end == "post" else "i")


def _units_preserved(synapses, model, new_expressions, functions) -> dict[str, str]:
    return units_preserved(synapses, model, new_expressions, functions,
                           synaptic_equations(synapses))


class SynapsesFrontEnd:
    """The front end of `Synapses`."""

    kind = "Synapses"
    read = staticmethod(read_synapses)
    check_units = staticmethod(_units_preserved)
    install = staticmethod(rewrite_synapses)
    restore = staticmethod(restore_synapses)
    current_constants = staticmethod(current_constants)
    taken_names = staticmethod(taken_names)
    counting_site = staticmethod(counting_site)

    @staticmethod
    def accepts(obj) -> bool:
        return isinstance(obj, Synapses)


SYNAPSES = SynapsesFrontEnd()
