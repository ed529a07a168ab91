"""The public functions: `report`, `optimize`, `restore` and the `optimized` decorator.

The pipeline, one plain function per step:

    read_group -> find_candidates (+ find_gates for exponential Euler) -> plan_tables
    -> build_table_functions -> rewrite_model -> rewrite_group

`plan_tables` samples every function, sizes its grid from the tolerance and
measures the error (`autolut.tabulate`); a `TableGuard` added to the group
rebuilds tables before a run when a baked constant or ``dt`` changed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys
from collections.abc import Mapping

import sympy
from brian2 import BrianObject, Network, NeuronGroup, SpatialNeuron
from brian2.core.namespace import get_local_namespace
from brian2.parsing.sympytools import sympy_to_str

from . import analysis, brian_model
from .brian_model import GroupModel, RangeCounter, TableGuard, logger
from .expeuler import LUTExponentialEuler
from .lutfunction import Exact, LUTFunction, TableBank
from .options import Options, OptionsError
from .report import Report, Row
from .tabulate import (SINGULAR_BAND, Table, TabulationError, error_scale, finest_grid,
                       on_grid_of, shared_grids, tabulate, with_limits, zeros)
from .targets.c_expression import NoCForm, c_expression

__all__ = ["report", "optimize", "restore", "optimized"]


@dataclasses.dataclass(frozen=True)
class PlannedTable:
    """A candidate with the outcome of tabulating it (a table, or why not)."""

    candidate: analysis.Candidate
    table: Table | None
    reason: str
    unit: object = None
    exact: Exact | None = None  # the exact function (and its C form), for tables


@dataclasses.dataclass
class Optimization:
    """What `optimize` did to a group; kept on the group for `restore` and `report`."""

    saved: object
    report: Report
    functions: dict
    options: Options


def plan_tables(group, group_model: GroupModel, found: analysis.Analysis,
                options: Options) -> list[PlannedTable]:
    """Tabulate every tabulatable candidate; the tables of one axis share a grid.

    A shared grid (the finest any table of the axis needs) lets the compiler
    compute the index once for all lookups of the same axis value; tables that
    would push it over ``max_points`` get grids of their own.
    """
    planned, per_axis = [], {}
    for candidate in found.candidates:
        item = _plan_table(group, group_model, candidate, options)
        if item.table is not None:
            per_axis.setdefault(candidate.axis, []).append(len(planned))
        planned.append(item)
    for indices in per_axis.values():
        tables = [planned[index].table for index in indices]
        for shape, members in shared_grids(tables, options.max_points):
            for member in members:
                item = planned[indices[member]]
                if item.table.grid != shape:
                    planned[indices[member]] = dataclasses.replace(
                        item, table=on_grid_of(item.exact.evaluate, shape, item.table.scale))
    return planned


def _plan_table(group, group_model: GroupModel, candidate: analysis.Candidate,
                options: Options) -> PlannedTable:
    """`candidate` with its table, or with the reason why it has none."""
    if not candidate.tabulatable:
        return PlannedTable(candidate, None, candidate.reason)
    axis = group_model.axes[candidate.axis]
    if axis.low is None:
        return PlannedTable(candidate, None, (
            f"no range known for '{axis.name}'; give one, e.g. "
            f"ranges={{'{axis.name}': (low, high)}} with units"))
    try:
        value_unit = brian_model.expression_unit(group_model, candidate.expression)
    except brian_model.UnitLost as error:
        return PlannedTable(candidate, None, f"{error}; it stays exact")
    if options.out_of_range == "exact":
        try:
            c_expression(candidate.expression, candidate.axis, group_model.constants)
        except NoCForm as error:
            return PlannedTable(candidate, None, (
                f"out_of_range='exact' needs the exact expression as C code, but {error}; "
                f"out_of_range='clamp' or 'error' would tabulate it"))
    try:
        item = PlannedTable(candidate, None, "", value_unit, exact_expression(
            group, group_model, candidate, group_model.constants))
        return dataclasses.replace(item, table=_tabulate(item, axis, options))
    except TabulationError as error:
        return PlannedTable(candidate, None, f"cannot be tabulated over '{axis.name}' in "
                                             f"[{axis.show(axis.low)}, {axis.show(axis.high)}]: "
                                             f"{error}")


def make_report(group, planned: list[PlannedTable], options: Options, group_model) -> Report:
    rows = []
    for item in planned:
        candidate, table = item.candidate, item.table
        axis_unit = group_model.units.get(candidate.axis)
        rows.append(Row(
            name=", ".join(candidate.origins),
            expression=sympy_to_str(candidate.expression),
            variable=candidate.axis,
            low=table.low * axis_unit if table else None,
            high=table.high * axis_unit if table else None,
            step=table.step * axis_unit if table else None,
            points=table.points if table else 0,
            nbytes=table.nbytes if table else 0,
            max_error=table.max_error * item.unit if table else None,
            relative_error=table.relative_error if table else None,
            tolerance=options.tolerance, cost=candidate.cost,
            tabulated=table is not None, reason=item.reason,
            segments=len(table.intervals) if table and table.intervals else 1,
            worst=table.worst * axis_unit if table else None,
            worst_value=table.worst_value * item.unit if table else None))
    axes = tuple(group_model.axes[name].describe()
                 for name in sorted({item.candidate.axis for item in planned
                                     if item.candidate.axis in group_model.axes}))
    return Report(group.name, options.tolerance, tuple(rows), axes)


def exact_expression(group, group_model: GroupModel, candidate: analysis.Candidate,
                     constants: Mapping[str, float]) -> Exact:
    """The exact form of `candidate` with `constants`: a numpy function of the axis
    that gives the limit at (and around) removable singular points, and a C form
    for lookups outside the range.

    Raises
    ------
    TabulationError
        If a denominator vanishes where the numerator does not (a pole).
    """
    try:
        c_code = c_expression(candidate.expression, candidate.axis, constants)
    except NoCForm:
        c_code = None  # only out_of_range='exact' needs it, and it checks (plan_tables)
    evaluate = brian_model.make_function(group, group_model, candidate.expression,
                                         candidate.axis, constants)
    axis = group_model.axes[candidate.axis]
    singular = [point for denominator in analysis.denominators(candidate.expression, axis.name)
                for point in zeros(brian_model.make_function(group, group_model, denominator,
                                                             axis.name, constants),
                                   axis.low, axis.high)]
    evaluate = with_limits(evaluate, singular, SINGULAR_BAND * (axis.high - axis.low), axis.show)
    return Exact(evaluate, c_code)


def build_table_functions(group, planned: list[PlannedTable], group_model: GroupModel,
                          options: Options) -> dict[int, tuple[str, LUTFunction]]:
    """One `TableBank` per axis and one `LUTFunction` per table, by candidate index,
    with the function's name in the namespace."""
    by_grid: dict[tuple, list[int]] = {}
    for index, item in enumerate(planned):
        if item.table is not None:
            by_grid.setdefault((item.candidate.axis, item.table.grid), []).append(index)
    functions, taken = {}, set(group.variables) | set(group.namespace)
    for (axis, _), indices in by_grid.items():
        bank = TableBank([planned[index].table for index in indices],
                         name=f"{group.name}_{axis}_tables*")
        for position, index in enumerate(indices):
            item = planned[index]
            base = f"lut_{item.candidate.label or item.candidate.origins[0]}"
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            taken.add(name)
            candidate = item.candidate
            functions[index] = (name, LUTFunction(
                bank, position, axis, group_model.units[axis], item.unit, options.out_of_range,
                item.exact,
                description=f"{name} (from {', '.join(candidate.origins)} of group "
                            f"'{group.name}')",
                name=f"{group.name}_{name}*"))
    return functions


def _refresher(group, group_model: GroupModel, planned, functions, options: Options):
    """The callback with which the guard rebuilds tables after a constant (or dt) changed.

    The tables of a bank that use a changed constant are rebuilt on the bank's
    grid; if one of them then misses the tolerance, the whole bank moves to a
    grid fine enough for it.
    """

    def refresh(changed: Mapping[str, float]):
        constants = {**group_model.constants, **changed}
        banks: dict[TableBank, list[int]] = {}
        for index, (_, lut) in functions.items():
            banks.setdefault(lut.bank, []).append(index)
        for bank, indices in banks.items():
            stale = [index for index in indices if {s.name for s in planned[index].candidate
                     .expression.free_symbols} & set(changed)]
            if not stale:
                continue
            axis = group_model.axes[planned[indices[0]].candidate.axis]
            for index in stale:
                planned[index] = dataclasses.replace(planned[index], exact=exact_expression(
                    group, group_model, planned[index].candidate, constants))
                functions[index][1].exact = planned[index].exact
            shape = bank.tables[0].grid
            tables = {index: planned[index].table for index in indices}
            tables.update({index: on_grid_of(planned[index].exact.evaluate, shape, error_scale(
                planned[index].exact.evaluate, axis.low, axis.high, axis.operating,
                _offset(planned[index].candidate), axis.show)) for index in stale})
            if any(tables[index].relative_error > options.tolerance for index in stale):
                # the whole bank moves to a grid fine enough for the new curves
                finer = finest_grid([shape] + [
                    _tabulate(planned[index], axis, options).grid for index in stale])
                if finer.points > options.max_points:
                    raise brian_model.AutolutError(
                        f"autolut: after the change of {', '.join(sorted(changed))}, the tables "
                        f"of group '{group.name}' over '{axis.name}' need {finer.points} points "
                        f"in one grid, more than max_points = {options.max_points}; call "
                        f"autolut.restore(group) and optimize it again")
                tables = {index: on_grid_of(planned[index].exact.evaluate, finer,
                                            tables[index].scale) for index in indices}
            bank.set_tables([tables[index] for index in indices])
            for index in indices:
                planned[index] = dataclasses.replace(planned[index], table=tables[index])
        group_model.constants.update(changed)
        group._autolut.report = make_report(group, planned, options, group_model)

    return refresh


def _offset(candidate: analysis.Candidate) -> float:
    """The offset of the candidate's error scale: step factors are measured by
    their decay per step, ``1 - exp(A*dt)`` (see `autolut.tabulate.ErrorScale`)."""
    return 1.0 if candidate.role == analysis.STEP_FACTOR else 0.0


def _tabulate(item: PlannedTable, axis, options: Options) -> Table:
    """The table of `item`'s exact function over `axis`, sized for the tolerance."""
    return tabulate(item.exact.evaluate, axis.low, axis.high, options.tolerance, axis.step,
                    options.max_points, axis.operating, _offset(item.candidate), axis.show)


def _analyse(group, options: Options, namespace):
    """read_group -> find_candidates (-> find_gates) -> plan_tables.

    A gate whose two tables cannot both be built (a step factor with a jump, say)
    keeps Brian2's update: the analysis is then repeated without it, so that its
    rate functions get tables of their own, and the report says why.
    """
    if isinstance(group, SpatialNeuron):
        raise TypeError(f"autolut works on NeuronGroup objects, not {type(group).__name__} "
                        f"('{group.name}'); multi-compartment SpatialNeuron models are not "
                        f"supported yet")
    if not isinstance(group, NeuronGroup):
        raise TypeError(f"autolut works on NeuronGroup objects; got {type(group).__name__} "
                        f"{group!r:.60}")
    group_model = brian_model.read_group(group, options, namespace)
    gates = ()
    if options.integration_tables and brian_model.uses_exponential_euler(group):
        gates = analysis.find_gates(group_model.model, brian_model.gate_variables(group))
    group_model, found, planned = _plan(group, group_model, gates, options)
    failed = [item for item in planned if item.candidate.label and item.table is None]
    if failed:
        dropped = {item.candidate.label.rsplit("_", 1)[0] for item in failed}
        gates = tuple(gate for gate in gates if gate.variable not in dropped)
        group_model, found, planned = _plan(group, group_model, gates, options)
        planned += [dataclasses.replace(item, reason=f"{item.reason}; so "
                                        f"{item.candidate.label.rsplit('_', 1)[0]} keeps "
                                        f"Brian2's exponential-Euler update") for item in failed]
    return group_model, found, planned, gates


def _plan(group, group_model: GroupModel, gates, options: Options):
    """Candidates and their tables, given the gates that get integration tables."""
    found = analysis.find_candidates(group_model.model)
    gated = {gate.variable for gate in gates}
    found = analysis.without_equations(
        found, gated, "only used in the equation of {}, which is integrated with its own tables")
    found = analysis.Analysis(found.candidates + tuple(analysis.gate_candidates(gates)),
                              found.sites)
    found = analysis.without_cheap_axes(found, options.min_cost)
    found = analysis.without_equations(
        found, _unused_subexpressions(group, group_model.model, found, gated),
        "not needed in the simulation: {} only feeds larger tables (it stays exact)")
    if gates:
        group_model = dataclasses.replace(
            group_model, constants={**group_model.constants, "dt": float(group.clock.dt_)},
            guarded=group_model.guarded | {"dt"})
    return group_model, found, plan_tables(group, group_model, found, options)


def _unused_subexpressions(group, model: analysis.Model, found: analysis.Analysis,
                           gated: set[str]) -> set[str]:
    """Subexpressions that the simulation used, but no longer uses once tables
    replace the expressions around them (they stay exact, for monitors).
    Subexpressions that nothing used (kept for recording) keep their tables."""
    placeholders = {index: sympy.Function(f"_table{index}")(sympy.Symbol(c.axis, real=True))
                    for index, c in enumerate(found.candidates) if c.tabulatable}
    rewritten = analysis.rewrite_model(model, found, placeholders)
    events = [sympy.Symbol(name) for name in brian_model.event_identifiers(group)]
    odes = [eq for eq in model.equations if eq.kind == "differential equation"]
    before = [eq.expression for eq in odes]
    after = [rewritten.get(eq.name, eq.expression) for eq in odes if eq.name not in gated]
    return (analysis.referenced_subexpressions(model, before + events, {})
            - analysis.referenced_subexpressions(model, after + events, rewritten))


def _namespace(namespace, level: int):
    """`namespace`, or the caller's variables `level` frames up, as ``run()`` would use."""
    return dict(namespace) if namespace is not None else get_local_namespace(level + 1)


def report(group, **options) -> Report:
    """What `optimize` would do to `group`, without changing it (a dry run).

    Parameters
    ----------
    group : NeuronGroup
        The group to analyse. For a group that `optimize` already rewrote, the
        report of that optimization is returned.
    **options
        See `autolut.Options`: ``ranges``, ``tolerance``, ``step``,
        ``exclude``, ``namespace``, ``max_points``, ``min_cost``.

    Returns
    -------
    Report
        ``print(report)`` shows one row per candidate expression.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms
    >>> import autolut
    >>> group = NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> row = autolut.report(group).candidates[0]
    >>> row.expression, row.variable, row.tabulated, row.relative_error <= 1e-6
    ('1/(ms*exprel((-40*mV - v)/(10*mV)))', 'v', True, True)
    """
    existing = getattr(group, "_autolut", None)
    given, options = options, Options.from_keywords(**options)
    if existing is not None:  # the options given must be those it was optimized with
        asked = {name: getattr(options, name) for name in given if name != "namespace"
                 and getattr(options, name) != getattr(existing.options, name)}
        if asked:
            used = ", ".join(f"{name}={getattr(existing.options, name)!r}" for name in asked)
            raise OptionsError(
                f"autolut: group '{group.name}' is optimized (with {used}); report(group) "
                f"gives the report of that optimization. To see what "
                f"{', '.join(f'{name}={value!r}' for name, value in asked.items())} would do, "
                f"call autolut.restore(group) first, or report on a new copy of the model")
        return existing.report
    group_model, _, planned, _ = _analyse(group, options, _namespace(options.namespace, 1))
    return make_report(group, planned, options, group_model)


_NETWORK_SOURCE = os.path.normcase(sys.modules[Network.__module__].__file__)


def _inside_a_network_run() -> bool:
    """Whether this call comes from the time-step loop of ``Network.run`` (from a
    network_operation, say), rather than from its setup (``before_run``: where
    ``method='lut_exponential_euler'`` optimizes) or from outside any run.

    ``Network._globally_running`` is not used: Brian2 leaves it set when a run ends with an
    exception (an ``OutOfRangeError``, a ``KeyboardInterrupt``), so it would refuse every later
    optimize in the session.
    """
    frame = sys._getframe(1)
    while frame is not None:
        if os.path.normcase(frame.f_code.co_filename) == _NETWORK_SOURCE:
            if frame.f_code.co_name == "before_run":
                return False
            if frame.f_code.co_name == "run":
                return True
        frame = frame.f_back
    return False


def optimize(group, **options):
    """Replace the costly single-variable expressions of `group` by lookup tables, in place.

    Parameters
    ----------
    group : NeuronGroup
        The group to rewrite. It stays the same object, so Synapses, monitors
        and Networks built on it remain valid.
    **options
        See `autolut.Options`: ``ranges={'v': (-100*mV, 60*mV)}``,
        ``tolerance=1e-6``, ``step={'v': 0.01*mV}``, ``exclude=['alpha_m']``,
        ``namespace=...``.

    Returns
    -------
    NeuronGroup
        `group` itself. Calling `optimize` again does nothing.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms, run
    >>> import autolut
    >>> group = NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> group = autolut.optimize(group)
    >>> str(group.user_equations['m'].expr)
    'm*lut_m_2(v) + (1 - m)*lut_m(v)'
    """
    if getattr(group, "_autolut", None) is not None:
        logger.info(f"autolut: group '{group.name}' is already optimized; nothing to do",
                    "already_optimized")
        return group
    if _inside_a_network_run():
        raise brian_model.AutolutError(
            f"autolut: group '{group.name}' is being simulated right now (optimize was called "
            f"during a run, e.g. from a network_operation); optimize it before or between "
            f"runs")
    brian_model.check_device()
    options = Options.from_keywords(**options)
    group_model, found, planned, gates = _analyse(group, options, _namespace(options.namespace, 1))
    functions = build_table_functions(group, planned, group_model, options)
    calls = {index: sympy.Function(name)(*(sympy.Symbol(argument, real=True)
                                           for argument in lut.arguments))
             for index, (name, lut) in functions.items()}
    new_expressions = analysis.rewrite_model(group_model.model, found, calls)
    broken = brian_model.units_preserved(group, group_model, new_expressions,
                                         {name: lut for name, lut in functions.values()})
    for name, error in broken.items():
        logger.warn(f"autolut: equation '{name}' of group '{group.name}' keeps its exact "
                    f"form: rewritten, it fails Brian2's unit check ({error})", "units_lost")
        del new_expressions[name]
    uses = {name: [table for index, (table, _) in functions.items()
                   if name in {s.name for s in planned[index].candidate.expression.free_symbols}]
            for name in group_model.guarded}
    guard = TableGuard(group, _refresher(group, group_model, planned, functions, options),
                       {name: group_model.constants[name] for name in group_model.guarded},
                       uses)
    if options.out_of_range in ("clamp", "exact"):
        guard.counters = count_out_of_range(group, group_model, functions, options.out_of_range)
    saved = brian_model.rewrite_group(group, new_expressions,
                                      {name: lut for name, lut in functions.values()}, guard,
                                      _integration_method(gates, planned, functions))
    result = make_report(group, planned, options, group_model)
    group._autolut = Optimization(saved, result, functions, options)
    # The analysis fills sympy's cache with 1e5 objects that Python's garbage
    # collector would then traverse during the run (measured: 12% of a cython run).
    sympy.core.cache.clear_cache()
    logger.debug(f"autolut: group '{group.name}': {len(result.tabulated)} tables "
                f"({result.nbytes / 1024:.0f} KiB)", "optimized")
    return group


def count_out_of_range(group, group_model: GroupModel, functions,
                       policy: str) -> list[RangeCounter]:
    """One `RangeCounter` per axis with tables (``out_of_range='clamp'`` or ``'exact'``)."""
    by_axis: dict[str, list] = {}
    for name, lut in functions.values():
        by_axis.setdefault(lut.axis, []).append((name, lut))
    return [RangeCounter(group, axis, luts[0][1].table.low, luts[0][1].table.high,
                         group_model.units[axis], tuple(name for name, _ in luts), policy,
                         brian_model.FALLBACK_SAMPLING if policy == "exact" else 1)
            for axis, luts in by_axis.items()]


def _integration_method(gates, planned, functions):
    """The exponential-Euler method using the gate tables that could be built, or None."""
    names = {planned[index].candidate.label: f"{name}({', '.join(lut.arguments)})"
             for index, (name, lut) in functions.items()}
    configured = tuple((gate.variable, names[f"{gate.variable}_inf"],
                        names[f"{gate.variable}_factor"]) for gate in gates
                       if f"{gate.variable}_inf" in names and f"{gate.variable}_factor" in names)
    return LUTExponentialEuler(configured) if configured else None


def restore(group):
    r"""Put the exact equations back into an optimized group (like NEURON's ``usetable = 0``).

    Returns the group. Does nothing for a group that was not optimized.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV
    >>> import autolut
    >>> group = NeuronGroup(1, '''v : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> exact = str(group.user_equations)
    >>> optimized = str(autolut.optimize(group, ranges={'v': (-100*mV, 50*mV)}).user_equations)
    >>> optimized != exact, str(autolut.restore(group).user_equations) == exact
    (True, True)
    """
    optimization = getattr(group, "_autolut", None)
    if optimization is not None:
        brian_model.restore_group(group, optimization.saved)
        group._autolut = None
    return group


def optimized(**options):
    """Decorator: every NeuronGroup the decorated model builder returns comes back optimized.

    The builder may return a group, or a tuple, list or dict containing groups,
    or a `Network`; other objects pass through unchanged.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms
    >>> import autolut
    >>> @autolut.optimized(tolerance=1e-5)
    ... def build():
    ...     return NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> group = build()
    >>> 'lut_m' in group.namespace
    True
    """
    def decorate(builder):
        @functools.wraps(builder)
        def build(*args, **kwargs):
            built = builder(*args, **kwargs)
            namespace = _namespace(options.get("namespace"), 1)
            return _optimize_all(built, dict(options, namespace=namespace))

        return build

    return decorate


def brian_objects(built) -> list:
    """The Brian2 objects in what a model builder returned: an object, a `Network`,
    or tuples, lists and dicts of them (in order; anything else is skipped)."""
    if isinstance(built, Network):
        return list(built.objects)
    if isinstance(built, BrianObject):
        return [built]
    items = built.values() if isinstance(built, dict) else built
    if isinstance(items, (tuple, list)) or isinstance(built, dict):
        return [obj for item in items for obj in brian_objects(item)]
    return []


def _optimize_all(built, options):
    """Optimize (in place) every NeuronGroup in `built`, and return `built`."""
    for obj in brian_objects(built):
        if isinstance(obj, NeuronGroup):
            optimize(obj, **options)
    return built
