"""Plan the tables of an object: which candidates get a table, on which grid, or why not.

One immutable `Plan` flows from here to the install step, the report and the
views::

    plan_object(model, options)   find the candidates (and gates), tabulate them,
                                  share one grid per axis
    name_tables(plan, taken)      give every table its function name
    refreshed(plan, changed)      the same plan after constants changed (a new plan)
    make_report(plan)             what the user sees

Nothing here touches a Brian2 object: the model (`autolut.frontends.ObjectModel`)
evaluates expressions and gives their units.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import sympy
from brian2.parsing.sympytools import sympy_to_str

from . import analysis
from .kinds import Role
from .lutfunction import Exact
from .messages import AutolutError
from .options import Options
from .report import Report, Row
from .tabulate import (SINGULAR_BAND, ErrorScale, Grid, Table, TabulationError, error_scale,
                       finest_grid, on_grid_of, shared_grids, tabulate, with_limits, zeros)
from .tabulate2d import (Grid2D, Table2D, error_scale_2d, finest_grid_2d, on_grid_of_2d,
                         tabulate_2d)
from .targets.c_expression import NoCForm, c_expression

__all__ = ["PlanEntry", "Plan", "plan_object", "name_tables", "refreshed", "make_report",
           "exact_expression"]


@dataclasses.dataclass(frozen=True)
class PlanEntry:
    """A candidate and what becomes of it: its table, or why it has none.

    Attributes
    ----------
    candidate
        The candidate subexpression (`analysis.Candidate`); its ``role`` says
        whether it is a plain table or one of a gate's two integration tables.
    table
        The table (None if not tabulated), with its measured error: a `Table`, or
        a `Table2D` for a candidate over two axes.
    reason
        Why there is no table (empty if there is one).
    unit
        The unit of the expression's values.
    exact
        The exact function (numpy, and its C form) the table replaces.
    name
        The table function's name in the equations (``lut_m_inf``), once named.
    """

    candidate: analysis.Candidate
    table: Table | Table2D | None = None
    reason: str = ""
    unit: object = None
    exact: Exact | None = None
    name: str = ""

    @property
    def tabulated(self) -> bool:
        return self.table is not None

    @property
    def axis(self) -> str | None:
        return self.candidate.axis

    @property
    def role(self) -> Role:
        return self.candidate.role

    def uses(self, names) -> bool:
        """Whether the expression uses any of `names` (constants, say)."""
        return bool({symbol.name for symbol in self.candidate.expression.free_symbols}
                    & set(names))


@dataclasses.dataclass(frozen=True)
class Plan:
    """Everything decided about an object's tables, before anything is installed.

    ``entries[i]`` belongs to ``found.candidates[i]``; entries past the end of
    the candidates are gate tables that could not be built (their gate keeps
    Brian2's update) and refused 2-D tables (their parts got tables of one
    axis), kept for the report.
    """

    model: object  # autolut.frontends.ObjectModel, with the constants the tables bake in
    options: Options
    found: analysis.Analysis
    entries: tuple[PlanEntry, ...]

    @property
    def tables(self) -> tuple[PlanEntry, ...]:
        """The entries with a table, in candidate order."""
        return tuple(entry for entry in self.entries if entry.tabulated)

    def banks(self) -> dict[tuple[str, Grid | Grid2D], list[int]]:
        """Positions of the tables that share one grid of one axis, or of one pair of
        axes (one bank each)."""
        banks: dict[tuple[str, Grid], list[int]] = {}
        for index, entry in enumerate(self.entries):
            if entry.tabulated:
                banks.setdefault((entry.axis, entry.table.grid), []).append(index)
        return banks

    def gates(self) -> dict[str, tuple[PlanEntry, PlanEntry]]:
        """``{variable: (steady-state entry, step-factor entry)}`` of the gates with both
        integration tables."""
        parts: dict[str, dict[Role, PlanEntry]] = {}
        for entry in self.tables:
            if entry.candidate.gate:
                parts.setdefault(entry.candidate.gate, {})[entry.role] = entry
        return {gate: (roles[Role.STEADY_STATE], roles[Role.STEP_FACTOR])
                for gate, roles in parts.items() if len(roles) == 2}


# -- planning ------------------------------------------------------------------------------

def plan_object(model, options: Options) -> Plan:
    """Find the candidates of `model` (and its gates), tabulate them, share grids.

    A gate whose two tables cannot both be built (a step factor with a jump,
    say) keeps Brian2's update: the candidates are found again without it, so
    that its rate functions get tables of their own. Likewise a 2-D table that
    is refused (more points than ``max_points``, or too cheap to pay for its
    two indices) is split: the candidates are found again with its expression
    in `analysis.Model.refused_2d`, so that its parts of one variable get
    tables. Only the new candidates are tabulated (the others keep their
    tables), and the report says why.
    """
    gates = (analysis.find_gates(model.model, model.gate_variables)
             if model.gate_variables else ())
    known: dict[tuple, PlanEntry] = {}
    notes: tuple[PlanEntry, ...] = ()
    while True:
        plan, refused = _plan(model, gates, options, known)
        failed = [entry for entry in plan.entries if entry.candidate.gate and not entry.tabulated]
        if not failed and not refused:
            return dataclasses.replace(plan, entries=plan.entries + notes)
        dropped = {entry.candidate.gate for entry in failed}
        gates = tuple(gate for gate in gates if gate.variable not in dropped)
        model = dataclasses.replace(model, model=dataclasses.replace(
            model.model, refused_2d=model.model.refused_2d
            | {entry.candidate.expression for entry in refused}))
        known.update({_key(entry.candidate): entry for entry in plan.entries})
        notes += tuple(dataclasses.replace(
            entry, reason=f"{entry.reason}; so {entry.candidate.gate} keeps Brian2's "
                          f"exponential-Euler update") for entry in failed)
        notes += tuple(dataclasses.replace(
            entry, reason=f"{entry.reason}; so its parts that vary with one variable are "
                          f"tabulated instead, where that pays") for entry in refused)


def _key(candidate: analysis.Candidate) -> tuple:
    return candidate.expression, candidate.axis, candidate.role, candidate.reason


def _plan(model, gates, options: Options, known: Mapping[tuple, PlanEntry]
          ) -> tuple[Plan, tuple[PlanEntry, ...]]:
    """The plan given the gates that get integration tables; candidates in `known`
    keep their entries (tables included). Also the entries of the 2-D tables that
    were refused: too cheap for their indices, or failed to tabulate."""
    found = analysis.find_candidates(model.model)
    for why in sorted(set(model.exact_equations.values())):
        found = analysis.without_equations(
            found, {name for name, reason in model.exact_equations.items() if reason == why}, why)
    gated = {gate.variable for gate in gates}
    found = analysis.without_equations(
        found, gated, "only used in the equation of {}, which is integrated with its own tables")
    found = analysis.Analysis(found.candidates + tuple(analysis.gate_candidates(gates)),
                              found.sites)
    before = found
    found = analysis.without_cheap_axes(found, options.min_cost, options.prefer_2d)
    cheap = {index for index, (old, new) in enumerate(zip(before.candidates, found.candidates))
             if old.tabulatable and not new.tabulatable}
    found = analysis.without_equations(
        found, _unused_subexpressions(model, found, gated),
        "not needed in the simulation: {} only feeds larger tables (it stays exact)")
    if gates:  # the step factors bake in dt
        model = model.with_constants({"dt": model.dt}, guarded=True)
    model = _with_shifted_axes(model, found, options)
    entries = tuple(dataclasses.replace(known[_key(candidate)], candidate=candidate)
                    if _key(candidate) in known else _plan_entry(model, candidate, options)
                    for candidate in found.candidates)
    refused = tuple(entry for index, entry in enumerate(entries)
                    if len(entry.candidate.axes) == 2 and not entry.tabulated
                    and (index in cheap or entry.candidate.tabulatable))
    return Plan(model, options, found, _share_grids(model, entries, options)), refused


def _with_shifted_axes(model, found: analysis.Analysis, options: Options):
    """`model` with the range of every shifted axis (``v - VT``) its candidates use:
    their variable's range shifted by the values the shift takes now."""
    shifted = {axis.name: axis for candidate in found.tabulatable for axis in candidate.axes
               if axis.parameters and axis.name not in model.axes}
    if not shifted:
        return model
    return model.with_axes({
        name: options.bind_shifted_axis(name, axis.argument, model.axes[axis.variable],
                                        model.span(axis.shift))
        for name, axis in shifted.items()})


def _plan_entry(model, candidate: analysis.Candidate, options: Options) -> PlanEntry:
    """`candidate` with its table, or with the reason why it has none."""
    if not candidate.tabulatable:
        return PlanEntry(candidate, reason=candidate.reason)
    axes = _axis_ranges(model, candidate)
    for axis in axes:
        if axis.low is None:
            return PlanEntry(candidate, reason=(
                f"no range known for '{axis.name}'; give one, e.g. "
                f"ranges={{'{axis.name}': (low, high)}} with units"))
    try:
        unit = model.unit_of(candidate.expression)
    except ValueError as error:  # the front end's UnitLost
        return PlanEntry(candidate, reason=f"{error}; it stays exact")
    try:
        exact = exact_expression(model, candidate, model.constants)
        if options.out_of_range == "exact" and exact.c_code is None:
            return PlanEntry(candidate, reason=(
                f"out_of_range='exact' needs the exact expression as C code, but "
                f"{exact.no_c_form}; out_of_range='clamp' or 'error' would tabulate it"))
        entry = PlanEntry(candidate, unit=unit, exact=exact)
        return dataclasses.replace(entry, table=_tabulate(entry, axes, options))
    except TabulationError as error:
        where = " x ".join(f"[{axis.show(axis.low)}, {axis.show(axis.high)}]" for axis in axes)
        return PlanEntry(candidate, reason=f"cannot be tabulated over '{candidate.axis}' in "
                                           f"{where}: {error}")


def _axis_ranges(model, candidate: analysis.Candidate) -> tuple:
    """The range (`autolut.options.AxisRange`) of each axis of `candidate`'s table."""
    return tuple(model.axes[axis.name] for axis in candidate.axes)


def _share_grids(model, entries: tuple[PlanEntry, ...], options: Options
                 ) -> tuple[PlanEntry, ...]:
    """The tables of one axis (or pair of axes) on one grid (the finest any of them
    needs), so that the compiled lookups compute the index once; tables that
    would push it over ``max_points`` get grids of their own."""
    entries, per_axis = list(entries), {}
    for index, entry in enumerate(entries):
        if entry.tabulated:
            per_axis.setdefault(entry.axis, []).append(index)
    for indices in per_axis.values():
        tables = [entries[index].table for index in indices]
        axes = _axis_ranges(model, entries[indices[0]].candidate)
        for shape, members in _shared(tables, options.max_points):
            for member in members:
                entry = entries[indices[member]]
                if entry.table.grid != shape:
                    entries[indices[member]] = dataclasses.replace(
                        entry, table=_rebuilt_on(entry, shape, entry.table.scale, axes))
    return tuple(entries)


def _unused_subexpressions(model, found: analysis.Analysis, gated: set[str]) -> set[str]:
    """Subexpressions that the simulation used, but no longer uses once tables
    replace the expressions around them (they stay exact, for monitors).
    Subexpressions that nothing used (kept for recording) keep their tables."""
    placeholders = {index: sympy.Function(f"_table{index}")(*c.arguments)
                    for index, c in enumerate(found.candidates) if c.tabulatable}
    rewritten = analysis.rewrite_model(model.model, found, placeholders)
    events = [sympy.Symbol(name) for name in model.events]
    odes = [eq for eq in model.model.equations if eq.kind == "differential equation"]
    before = [eq.expression for eq in odes]
    after = [rewritten.get(eq.name, eq.expression) for eq in odes if eq.name not in gated]
    return (analysis.referenced_subexpressions(model.model, before + events, {})
            - analysis.referenced_subexpressions(model.model, after + events, rewritten))


def exact_expression(model, candidate: analysis.Candidate,
                     constants: Mapping[str, float]) -> Exact:
    """The exact form of `candidate` with `constants`: a numpy function of the axis
    (of ``u`` for a shifted axis ``u = v - VT``: the candidate's `tabulated` form;
    of both axes for a 2-D table) that gives the limit at (and around) removable
    singular points, and its C form for lookups outside the range (computed
    once, here).

    A 2-D table's function is evaluated as it is: `autolut.tabulate2d` takes the
    limits of 0/0 points on its grid lines itself.

    Raises
    ------
    TabulationError
        If a denominator vanishes where the numerator does not (a pole).
    """
    variables, tabulated = candidate.variables, candidate.tabulated
    try:
        c_code, no_c_form = c_expression(tabulated, variables, constants), ""
    except NoCForm as error:
        c_code, no_c_form = None, str(error)
    function = model.function(tabulated, variables, constants)
    if len(variables) == 2:
        return Exact(function, c_code, no_c_form)
    (variable,), (axis,) = variables, _axis_ranges(model, candidate)
    singular = [point for denominator in analysis.denominators(tabulated, variable)
                for point in zeros(model.function(denominator, variables, constants),
                                   axis.low, axis.high)]
    evaluate = with_limits(function, singular, SINGULAR_BAND * (axis.high - axis.low), axis.show)
    return Exact(evaluate, c_code, no_c_form)


def _offset(candidate: analysis.Candidate) -> float:
    """The offset of the candidate's error scale: step factors are measured by
    their decay per step, ``1 - exp(A*dt)`` (see `autolut.tabulate.ErrorScale`)."""
    return 1.0 if candidate.role == Role.STEP_FACTOR else 0.0


# One or two axes: the only functions that tell `autolut.tabulate` from
# `autolut.tabulate2d`. `axes` are the `AxisRange` of each axis of the table.

def _tabulate(entry: PlanEntry, axes, options: Options) -> Table | Table2D:
    """The table of `entry`'s exact function over `axes`, sized for the tolerance.
    (A step forced with ``step=`` applies to tables of one axis only.)"""
    if len(axes) == 2:
        return tabulate_2d(entry.exact.evaluate, *_corners(axes), options.tolerance,
                           options.max_points, tuple(axis.operating for axis in axes),
                           _offset(entry.candidate), tuple(axis.show for axis in axes))
    (axis,) = axes
    return tabulate(entry.exact.evaluate, axis.low, axis.high, options.tolerance, axis.step,
                    options.max_points, axis.operating, _offset(entry.candidate), axis.show)


def _error_scale(entry: PlanEntry, axes) -> ErrorScale:
    """What the error of `entry`'s table is measured against (see `ErrorScale`)."""
    if len(axes) == 2:
        return error_scale_2d(entry.exact.evaluate, *_corners(axes),
                              tuple(axis.operating for axis in axes), _offset(entry.candidate),
                              tuple(axis.show for axis in axes))
    (axis,) = axes
    return error_scale(entry.exact.evaluate, axis.low, axis.high, axis.operating,
                       _offset(entry.candidate), axis.show)


def _rebuilt_on(entry: PlanEntry, shape: Grid | Grid2D, scale: ErrorScale, axes
                ) -> Table | Table2D:
    """`entry`'s exact function tabulated on the grid `shape`, measured against `scale`."""
    if isinstance(shape, Grid2D):
        return on_grid_of_2d(entry.exact.evaluate, shape, scale,
                             tuple(axis.show for axis in axes))
    return on_grid_of(entry.exact.evaluate, shape, scale)


def _shared(tables: list, max_points: int) -> list[tuple[Grid | Grid2D, list[int]]]:
    """`tables` of one axis (or pair) grouped on as few grids as fit `max_points`:
    ``(grid, positions in tables)`` pairs. 2-D tables share the finest grid if it
    fits, else keep their own."""
    if not isinstance(tables[0], Table2D):
        return shared_grids(tables, max_points)
    finest = finest_grid_2d([table.grid for table in tables])
    if finest.points <= max_points:
        return [(finest, list(range(len(tables))))]
    return [(table.grid, [k]) for k, table in enumerate(tables)]


def _finest(grids: list) -> Grid | Grid2D:
    """A grid at least as fine as each of `grids` (of one axis, or pair of axes)."""
    return finest_grid_2d(grids) if isinstance(grids[0], Grid2D) else finest_grid(grids)


def _corners(axes) -> tuple[tuple[float, float], tuple[float, float]]:
    """The low and the high corner of the rectangle of two axes."""
    return tuple(axis.low for axis in axes), tuple(axis.high for axis in axes)


# -- naming and refreshing -----------------------------------------------------------------

def name_tables(plan: Plan, taken: set[str]) -> Plan:
    """Every table named ``lut_<label>`` (``lut_m_inf``), avoiding the names in `taken`
    and each other (``lut_m_2``)."""
    entries, taken = list(plan.entries), set(taken)
    for indices in plan.banks().values():
        for index in indices:
            candidate = entries[index].candidate
            base = f"lut_{candidate.label or candidate.origins[0]}"
            name, k = base, 1
            while name in taken:
                k += 1
                name = f"{base}_{k}"
            taken.add(name)
            entries[index] = dataclasses.replace(entries[index], name=name)
    return dataclasses.replace(plan, entries=tuple(entries))


def refreshed(plan: Plan, changed: Mapping[str, float]) -> Plan:
    """The plan with `changed` constants: the tables that use them rebuilt.

    A stale table is rebuilt on its bank's grid; if one of them then misses the
    tolerance, the whole bank moves to a grid fine enough for it (all tables
    of a bank share one grid).

    Raises
    ------
    AutolutError
        If that grid would exceed ``max_points``.
    """
    model, options = plan.model.with_constants(changed), plan.options
    entries = list(plan.entries)
    for (axis_name, shape), indices in plan.banks().items():
        stale = [index for index in indices if entries[index].uses(changed)]
        if not stale:
            continue
        axes = _axis_ranges(model, entries[indices[0]].candidate)
        for index in stale:
            entries[index] = dataclasses.replace(entries[index], exact=exact_expression(
                model, entries[index].candidate, model.constants))
        tables = {index: entries[index].table for index in indices}
        tables.update({index: _rebuilt_on(entries[index], shape,
                                          _error_scale(entries[index], axes), axes)
                       for index in stale})
        if any(tables[index].relative_error > options.tolerance for index in stale):
            finer = _finest([shape] + [_tabulate(entries[index], axes, options).grid
                                       for index in stale])
            if finer.points > options.max_points:
                raise AutolutError(
                    f"autolut: after the change of {', '.join(sorted(changed))}, the tables "
                    f"of group '{model.name}' over '{axis_name}' need {finer.points} points "
                    f"in one grid, more than max_points = {options.max_points}; call "
                    f"autolut.restore(group) and optimize it again")
            tables = {index: _rebuilt_on(entries[index], finer, tables[index].scale, axes)
                      for index in indices}
        for index in indices:
            entries[index] = dataclasses.replace(entries[index], table=tables[index])
    return dataclasses.replace(plan, model=model, entries=tuple(entries))


# -- the report ----------------------------------------------------------------------------

def make_report(plan: Plan) -> Report:
    """One row per entry, and the lines of the axes the candidates use.

    A row of a 2-D table gives its range, step and worst point as pairs (one
    quantity per axis) and ``shape`` ``(nx, ny)``.
    """
    model, rows = plan.model, []
    for entry in plan.entries:
        candidate, table = entry.candidate, entry.table
        units = tuple(model.units.get(axis.name) for axis in candidate.axes)

        def on_axes(value):
            """`value` (SI; a pair for a 2-D table) with the units of the axes."""
            if isinstance(value, tuple):
                return tuple(part * unit for part, unit in zip(value, units))
            return value * units[0]

        rows.append(Row(
            name=", ".join(candidate.origins),
            expression=sympy_to_str(candidate.expression),
            variable=candidate.axis,
            low=on_axes(table.low) if table else None,
            high=on_axes(table.high) if table else None,
            step=on_axes(table.step) if table else None,
            points=table.points if table else 0,
            nbytes=table.nbytes if table else 0,
            max_error=table.max_error * entry.unit if table else None,
            relative_error=table.relative_error if table else None,
            tolerance=plan.options.tolerance, cost=candidate.cost,
            tabulated=table is not None, reason=entry.reason,
            segments=len(table.intervals) if table and table.intervals else 1,
            worst=on_axes(table.worst) if table else None,
            worst_value=table.worst_value * entry.unit if table else None,
            shape=tuple(np.shape(table.values)) if table else ()))
    axes = tuple(model.axes[name].describe()
                 for name in sorted({axis.name for entry in plan.entries
                                     for axis in entry.candidate.axes
                                     if axis.name in model.axes}))
    return Report(model.name, plan.options.tolerance, tuple(rows), axes)
