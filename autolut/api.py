"""The public functions: `report`, `optimize`, `restore` and the `optimized` decorator.

The pipeline, one plain function per stage, each taking one value and returning a new one::

    read (the object's front end)  ->  plan_object  ->  name_tables
        ->  build_table_functions  ->  install (the front end, with the run-time guards)

`autolut.frontends` reads a Brian2 object and installs tables into it in place;
`autolut.analysis` finds the candidates (pure sympy); `autolut.plan` tabulates
them (`autolut.tabulate`) into one immutable `Plan`; `autolut.lutfunction`
makes the table functions; `autolut.guards` keeps the tables right at run time
(a refresh there makes a new plan, `autolut.plan.refreshed`).
"""

from __future__ import annotations

import dataclasses
import functools
import os
import sys

import sympy
from brian2 import BrianObject, Network, NeuronGroup, Synapses
from brian2.core.namespace import get_local_namespace
from brian2.parsing.sympytools import sympy_to_str

from . import analysis
from .frontends import FrontEnd, front_end_for
from .guards import FALLBACK_SAMPLING, RangeCounter, TableGuard, check_device
from .lutfunction import LUTFunction, TableBank
from .messages import AutolutError, logger
from .options import Options, OptionsError
from .plan import Plan, make_report, name_tables, plan_object, refreshed
from .report import Report
from .tabulate2d import bounds

__all__ = ["report", "optimize", "restore", "optimized"]


@dataclasses.dataclass
class Optimization:
    """What `optimize` did to an object, kept on it (``obj._autolut``): the install
    record. `plan` and `report` are replaced (not changed) when a refresh rebuilds
    tables; `functions` are the installed table functions, by name."""

    front_end: FrontEnd
    saved: object
    guard: TableGuard
    plan: Plan
    report: Report
    functions: dict[str, LUTFunction]
    options: Options


def _plan_for(obj, options: Options, namespace) -> Plan:
    """read -> plan_object: the plan of `obj` (nothing installed)."""
    front_end = front_end_for(obj)
    return plan_object(front_end.read(obj, options, namespace), options)


def build_table_functions(plan: Plan, obj, front_end: FrontEnd) -> dict[str, LUTFunction]:
    """One `TableBank` per axis (or pair of axes) and grid, one `LUTFunction` per
    table, by table name (in the order of the plan's tables, as the report lists
    them)."""
    functions, owner = {}, obj.name
    for (axis, _), indices in plan.banks().items():
        bank = TableBank([plan.entries[index].table for index in indices],
                         name=f"{owner}_{analysis.axis_identifier(axis)}_tables*")
        for position, index in enumerate(indices):
            entry = plan.entries[index]
            names = tuple(table_axis.name for table_axis in entry.candidate.axes)
            site = front_end.counting_site(obj, entry.candidate.arguments[0],
                                           plan.model.model.element)
            functions[entry.name] = LUTFunction(
                bank, position, names, tuple(plan.model.units[name] for name in names),
                entry.unit, plan.options.out_of_range, entry.exact,
                description=f"{entry.name} (from {', '.join(entry.candidate.origins)} of "
                            f"group '{owner}')",
                name=f"{owner}_{entry.name}*", element=site.index_element,
                index_name=site.index)
    return {entry.name: functions[entry.name] for entry in plan.tables}


def install(obj, front_end: FrontEnd, plan: Plan, functions: dict[str, LUTFunction]
            ) -> Optimization:
    """Rewrite `obj` in place to call the table functions, with its run-time guards."""
    calls = {index: _call(entry, functions[entry.name])
             for index, entry in enumerate(plan.entries) if entry.tabulated}
    new_expressions = analysis.rewrite_model(plan.model.model, plan.found, calls)
    broken = front_end.check_units(obj, plan.model, new_expressions, functions)
    for name, error in broken.items():
        logger.warn(f"autolut: equation '{name}' of group '{obj.name}' keeps its exact "
                    f"form: rewritten, it fails Brian2's unit check ({error})", "units_lost")
        del new_expressions[name]
    guarded = plan.model.guarded
    guard = TableGuard(obj, functools.partial(front_end.current_constants, obj),
                       functools.partial(_refresh, obj),
                       {name: plan.model.constants[name] for name in guarded},
                       {name: [entry.name for entry in plan.tables if entry.uses({name})]
                        for name in guarded})
    if plan.options.out_of_range in ("clamp", "exact"):
        guard.counters = count_out_of_range(obj, front_end, plan)
    gates = tuple((variable, sympy_to_str(_call(inf, functions[inf.name])),
                   sympy_to_str(_call(factor, functions[factor.name])))
                  for variable, (inf, factor) in plan.gates().items())
    saved = front_end.install(obj, new_expressions, functions, guard, gates)
    return Optimization(front_end, saved, guard, plan, make_report(plan), functions,
                        plan.options)


def _call(entry, function: LUTFunction) -> sympy.Expr:
    """The call of `entry`'s table function (``lut_m_inf(v - VT)``; with the index
    (``i``) under ``out_of_range='error'``)."""
    index = (sympy.Symbol(function.index_name, integer=True),) if function.policy == "error" \
        else ()
    return sympy.Function(entry.name)(*entry.candidate.arguments, *index)


def count_out_of_range(obj, front_end: FrontEnd, plan: Plan) -> list[RangeCounter]:
    """One `RangeCounter` per axis with tables (``out_of_range='clamp'``, every step;
    ``'exact'``, every `FALLBACK_SAMPLING` steps), where the front end counts it
    (`FrontEnd.counting_site`). A 2-D table counts on both of its axes: each
    axis' counter lists it."""
    policy, by_axis = plan.options.out_of_range, {}
    for entry in plan.tables:
        lows, highs = bounds(entry.table)
        for table_axis, low, high in zip(entry.candidate.axes, lows, highs):
            by_axis.setdefault(table_axis.name, (low, high, table_axis.argument, []))[3].append(
                entry.name)
    counters = []
    for axis, (low, high, argument, names) in by_axis.items():
        site = front_end.counting_site(obj, argument, plan.model.model.element)
        counters.append(RangeCounter(
            site.group, axis, low, high, plan.model.units[axis], tuple(names), policy,
            FALLBACK_SAMPLING if policy == "exact" else 1, site.element, site.argument,
            owner=None if site.group is obj else obj.name))
    return counters


def _refresh(obj, changed) -> None:
    """Rebuild the tables that use `changed` constants (called by the guard before a run):
    a new plan, whose tables go into the installed banks that hold a stale table."""
    optimization = obj._autolut
    plan = refreshed(optimization.plan, changed)
    banks, stale = {}, set()
    for entry in plan.tables:
        function = optimization.functions[entry.name]
        function.exact = entry.exact
        banks.setdefault(function.bank, {})[function.index] = entry.table
        if entry.uses(changed):
            stale.add(function.bank)
    for bank in stale:
        bank.set_tables([banks[bank][position] for position in sorted(banks[bank])])
    optimization.plan, optimization.report = plan, make_report(plan)


def _namespace(namespace, level: int):
    """`namespace`, or the caller's variables `level` frames up, as ``run()`` would use."""
    return dict(namespace) if namespace is not None else get_local_namespace(level + 1)


def report(group, **options) -> Report:
    """What `optimize` would do to `group`, without changing it (a dry run).

    Parameters
    ----------
    group : NeuronGroup, SpatialNeuron or Synapses
        The object to analyse. For one that `optimize` already rewrote, the
        report of that optimization is returned.
    **options
        See `autolut.Options`: ``ranges``, ``tolerance``, ``step``,
        ``exclude``, ``namespace``, ``max_points``, ``min_cost``, ``prefer_2d``.

    Returns
    -------
    Report
        ``print(report)`` shows one row per candidate expression.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms
    >>> import autolut
    >>> group = NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
    ...             - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
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
    return make_report(_plan_for(group, options, _namespace(options.namespace, 1)))


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
    group : NeuronGroup, SpatialNeuron or Synapses
        The object to rewrite. It stays the same object, so Synapses, monitors,
        subgroups and Networks built on it remain valid. In a SpatialNeuron the
        gating variables get tables; the membrane current ``Im`` stays exact.
        In Synapses, terms of ``v_post`` (or ``v_pre``) get tables over the
        range of the neuron group's own tables.
    **options
        See `autolut.Options`: ``ranges={'v': (-100*mV, 60*mV)}``,
        ``tolerance=1e-6``, ``step={'v': 0.01*mV}``, ``exclude=['alpha_m']``,
        ``namespace=...``.

    Returns
    -------
    NeuronGroup, SpatialNeuron or Synapses
        `group` itself. Calling `optimize` again does nothing.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms, run
    >>> import autolut
    >>> group = NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
    ...             - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> group = autolut.optimize(group)
    >>> str(group.user_equations['m'].expr)
    'm*lut_m_2(v) + (1 - m)*lut_m(v)'
    """
    if getattr(group, "_autolut", None) is not None:
        logger.info(f"autolut: group '{group.name}' is already optimized; nothing to do",
                    "already_optimized")
        return group
    if _inside_a_network_run():
        raise AutolutError(
            f"autolut: group '{group.name}' is being simulated right now (optimize was called "
            f"during a run, e.g. from a network_operation); optimize it before or between "
            f"runs")
    options = Options.from_keywords(**options)
    optimize_object(group, options, _namespace(options.namespace, 1))
    return group


def optimize_object(obj, options: Options, namespace, only_if_tables: bool = False) -> bool:
    """read -> plan -> tables -> install: optimize `obj` in place (the pipeline of
    `optimize`, without its checks of the caller). With `only_if_tables`, an object
    that would get no table is left exactly as it was. Returns whether `obj` was
    rewritten."""
    check_device()
    front_end = front_end_for(obj)
    plan = name_tables(_plan_for(obj, options, namespace), front_end.taken_names(obj))
    if only_if_tables and not plan.tables:
        return False
    obj._autolut = install(obj, front_end, plan, build_table_functions(plan, obj, front_end))
    # The analysis fills sympy's cache with 1e5 objects that Python's garbage
    # collector would then traverse during the run (measured: 12% of a cython run).
    sympy.core.cache.clear_cache()
    report = obj._autolut.report
    logger.debug(f"autolut: {type(obj).__name__} '{obj.name}': {len(report.tabulated)} tables "
                 f"({report.nbytes / 1024:.0f} KiB)", "optimized")
    return True


def restore(group):
    r"""Put the exact equations back into an optimized group (like NEURON's ``usetable = 0``).

    Returns the group. Does nothing for a group that was not optimized.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV
    >>> import autolut
    >>> group = NeuronGroup(1, '''v : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
    ...             - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
    >>> exact = str(group.user_equations)
    >>> optimized = str(autolut.optimize(group, ranges={'v': (-100*mV, 50*mV)}).user_equations)
    >>> optimized != exact, str(autolut.restore(group).user_equations) == exact
    (True, True)
    """
    optimization = getattr(group, "_autolut", None)
    if optimization is not None:
        optimization.front_end.restore(group, optimization.saved)
        group._autolut = None
    return group


def optimized(**options):
    """Decorator: every NeuronGroup (or SpatialNeuron) and Synapses object the decorated
    model builder returns comes back optimized.

    The builder may return a group, or a tuple, list or dict containing groups,
    or a `Network`; other objects pass through unchanged.

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms
    >>> import autolut
    >>> @autolut.optimized(tolerance=1e-5)
    ... def build():
    ...     return NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
    ...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
    ...             - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''')
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
    """Optimize (in place) every NeuronGroup (SpatialNeuron included) and every
    Synapses object in `built`, and return `built`. The neuron groups come first,
    so that the ranges of ``v_post`` in the synapses are those of their tables."""
    objects = brian_objects(built)
    for obj in sorted(objects, key=lambda obj: not isinstance(obj, NeuronGroup)):
        if isinstance(obj, (NeuronGroup, Synapses)):
            optimize(obj, **options)
    return built
