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

import sympy
from brian2.parsing.sympytools import sympy_to_str

from . import analysis
from .kinds import Role
from .lutfunction import Exact
from .messages import AutolutError
from .options import Options
from .report import Report, Row
from .tabulate import (SINGULAR_BAND, Grid, Table, TabulationError, error_scale, finest_grid,
                       on_grid_of, shared_grids, tabulate, with_limits, zeros)
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
        The table (None if not tabulated), with its measured error.
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
    table: Table | None = None
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
    Brian2's update), kept for the report.
    """

    model: object  # autolut.frontends.ObjectModel, with the constants the tables bake in
    options: Options
    found: analysis.Analysis
    entries: tuple[PlanEntry, ...]

    @property
    def tables(self) -> tuple[PlanEntry, ...]:
        """The entries with a table, in candidate order."""
        return tuple(entry for entry in self.entries if entry.tabulated)

    def banks(self) -> dict[tuple[str, Grid], list[int]]:
        """Positions of the tables that share one grid of one axis (one bank each)."""
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
    that its rate functions get tables of their own; only those new candidates
    are tabulated (the others keep their tables), and the report says why.
    """
    gates = (analysis.find_gates(model.model, model.gate_variables)
             if model.gate_variables else ())
    plan = _plan(model, gates, options, {})
    failed = [entry for entry in plan.entries if entry.candidate.gate and not entry.tabulated]
    if not failed:
        return plan
    dropped = {entry.candidate.gate for entry in failed}
    again = _plan(model, tuple(gate for gate in gates if gate.variable not in dropped), options,
                  {_key(entry.candidate): entry for entry in plan.entries})
    notes = tuple(dataclasses.replace(entry, reason=f"{entry.reason}; so {entry.candidate.gate} "
                                                    f"keeps Brian2's exponential-Euler update")
                  for entry in failed)
    return dataclasses.replace(again, entries=again.entries + notes)


def _key(candidate: analysis.Candidate) -> tuple:
    return candidate.expression, candidate.axis, candidate.role, candidate.reason


def _plan(model, gates, options: Options, known: Mapping[tuple, PlanEntry]) -> Plan:
    """The plan given the gates that get integration tables; candidates in `known`
    keep their entries (tables included)."""
    found = analysis.find_candidates(model.model)
    for why in sorted(set(model.exact_equations.values())):
        found = analysis.without_equations(
            found, {name for name, reason in model.exact_equations.items() if reason == why}, why)
    gated = {gate.variable for gate in gates}
    found = analysis.without_equations(
        found, gated, "only used in the equation of {}, which is integrated with its own tables")
    found = analysis.Analysis(found.candidates + tuple(analysis.gate_candidates(gates)),
                              found.sites)
    found = analysis.without_cheap_axes(found, options.min_cost)
    found = analysis.without_equations(
        found, _unused_subexpressions(model, found, gated),
        "not needed in the simulation: {} only feeds larger tables (it stays exact)")
    if gates:  # the step factors bake in dt
        model = model.with_constants({"dt": model.dt}, guarded=True)
    entries = tuple(dataclasses.replace(known[_key(candidate)], candidate=candidate)
                    if _key(candidate) in known else _plan_entry(model, candidate, options)
                    for candidate in found.candidates)
    return Plan(model, options, found, _share_grids(entries, options))


def _plan_entry(model, candidate: analysis.Candidate, options: Options) -> PlanEntry:
    """`candidate` with its table, or with the reason why it has none."""
    if not candidate.tabulatable:
        return PlanEntry(candidate, reason=candidate.reason)
    axis = model.axes[candidate.axis]
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
        return dataclasses.replace(entry, table=_tabulate(entry, axis, options))
    except TabulationError as error:
        return PlanEntry(candidate, reason=f"cannot be tabulated over '{axis.name}' in "
                                           f"[{axis.show(axis.low)}, {axis.show(axis.high)}]: "
                                           f"{error}")


def _share_grids(entries: tuple[PlanEntry, ...], options: Options) -> tuple[PlanEntry, ...]:
    """The tables of one axis on one grid (the finest any of them needs), so that the
    compiled lookups compute the index once; tables that would push it over
    ``max_points`` get grids of their own."""
    entries, per_axis = list(entries), {}
    for index, entry in enumerate(entries):
        if entry.tabulated:
            per_axis.setdefault(entry.axis, []).append(index)
    for indices in per_axis.values():
        tables = [entries[index].table for index in indices]
        for shape, members in shared_grids(tables, options.max_points):
            for member in members:
                entry = entries[indices[member]]
                if entry.table.grid != shape:
                    entries[indices[member]] = dataclasses.replace(
                        entry, table=on_grid_of(entry.exact.evaluate, shape, entry.table.scale))
    return tuple(entries)


def _unused_subexpressions(model, found: analysis.Analysis, gated: set[str]) -> set[str]:
    """Subexpressions that the simulation used, but no longer uses once tables
    replace the expressions around them (they stay exact, for monitors).
    Subexpressions that nothing used (kept for recording) keep their tables."""
    placeholders = {index: sympy.Function(f"_table{index}")(sympy.Symbol(c.axis, real=True))
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
    that gives the limit at (and around) removable singular points, and its C
    form for lookups outside the range (computed once, here).

    Raises
    ------
    TabulationError
        If a denominator vanishes where the numerator does not (a pole).
    """
    try:
        c_code, no_c_form = c_expression(candidate.expression, candidate.axis, constants), ""
    except NoCForm as error:
        c_code, no_c_form = None, str(error)
    axis = model.axes[candidate.axis]
    singular = [point for denominator in analysis.denominators(candidate.expression, axis.name)
                for point in zeros(model.function(denominator, axis.name, constants),
                                   axis.low, axis.high)]
    evaluate = with_limits(model.function(candidate.expression, axis.name, constants), singular,
                           SINGULAR_BAND * (axis.high - axis.low), axis.show)
    return Exact(evaluate, c_code, no_c_form)


def _offset(candidate: analysis.Candidate) -> float:
    """The offset of the candidate's error scale: step factors are measured by
    their decay per step, ``1 - exp(A*dt)`` (see `autolut.tabulate.ErrorScale`)."""
    return 1.0 if candidate.role == Role.STEP_FACTOR else 0.0


def _tabulate(entry: PlanEntry, axis, options: Options) -> Table:
    """The table of `entry`'s exact function over `axis`, sized for the tolerance."""
    return tabulate(entry.exact.evaluate, axis.low, axis.high, options.tolerance, axis.step,
                    options.max_points, axis.operating, _offset(entry.candidate), axis.show)


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
        axis = model.axes[axis_name]
        for index in stale:
            entries[index] = dataclasses.replace(entries[index], exact=exact_expression(
                model, entries[index].candidate, model.constants))
        tables = {index: entries[index].table for index in indices}
        tables.update({index: on_grid_of(entries[index].exact.evaluate, shape, error_scale(
            entries[index].exact.evaluate, axis.low, axis.high, axis.operating,
            _offset(entries[index].candidate), axis.show)) for index in stale})
        if any(tables[index].relative_error > options.tolerance for index in stale):
            finer = finest_grid([shape] + [_tabulate(entries[index], axis, options).grid
                                           for index in stale])
            if finer.points > options.max_points:
                raise AutolutError(
                    f"autolut: after the change of {', '.join(sorted(changed))}, the tables "
                    f"of group '{model.name}' over '{axis.name}' need {finer.points} points "
                    f"in one grid, more than max_points = {options.max_points}; call "
                    f"autolut.restore(group) and optimize it again")
            tables = {index: on_grid_of(entries[index].exact.evaluate, finer,
                                        tables[index].scale) for index in indices}
        for index in indices:
            entries[index] = dataclasses.replace(entries[index], table=tables[index])
    return dataclasses.replace(plan, model=model, entries=tuple(entries))


# -- the report ----------------------------------------------------------------------------

def make_report(plan: Plan) -> Report:
    """One row per entry, and the lines of the axes the candidates use."""
    model, rows = plan.model, []
    for entry in plan.entries:
        candidate, table = entry.candidate, entry.table
        axis_unit = model.units.get(candidate.axis)
        rows.append(Row(
            name=", ".join(candidate.origins),
            expression=sympy_to_str(candidate.expression),
            variable=candidate.axis,
            low=table.low * axis_unit if table else None,
            high=table.high * axis_unit if table else None,
            step=table.step * axis_unit if table else None,
            points=table.points if table else 0,
            nbytes=table.nbytes if table else 0,
            max_error=table.max_error * entry.unit if table else None,
            relative_error=table.relative_error if table else None,
            tolerance=plan.options.tolerance, cost=candidate.cost,
            tabulated=table is not None, reason=entry.reason,
            segments=len(table.intervals) if table and table.intervals else 1,
            worst=table.worst * axis_unit if table else None,
            worst_value=table.worst_value * entry.unit if table else None))
    axes = tuple(model.axes[name].describe()
                 for name in sorted({entry.axis for entry in plan.entries
                                     if entry.axis in model.axes}))
    return Report(model.name, plan.options.tolerance, tuple(rows), axes)
