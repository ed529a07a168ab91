"""Read-only views of an optimized group: its tables, and the lookups that fell outside them.

Examples
--------
>>> from brian2 import NeuronGroup, mV, ms
>>> import autolut
>>> group = autolut.optimize(NeuronGroup(1, '''dv/dt = (-65*mV - v)/(10*ms) : volt
...     dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1'''))
>>> table = autolut.tables(group)[0]
>>> table.name, table.variable, table.grid[0], table.relative_error <= 1e-6
('lut_m', 'v', -85. * mvolt, True)
>>> x = [-70, -40, -30]*mV
>>> bool(max(abs(table.lookup(x) - table.exact(x))) <= table.max_error)
True
"""

from __future__ import annotations

import dataclasses

import numpy as np
from brian2 import Quantity
from brian2.parsing.sympytools import sympy_to_str
from brian2.units.fundamentalunits import get_dimensions

from .guards import RangeCount

__all__ = ["TableView", "tables", "range_counts"]


@dataclasses.dataclass(frozen=True)
class TableView:
    """One table of an optimized group, with the exact function it replaces.

    Attributes
    ----------
    name
        The table function's name in the group's equations (``lut_m_inf``).
    origins
        The equations the tabulated expression comes from.
    expression
        The tabulated expression, as Brian2 code.
    variable
        The axis variable (both, ``'v, Ca'``, for a 2-D table).
    grid, values
        Grid points and table values, with units. A 2-D table has a pair of grids
        (one per axis) and values of shape ``(nx, ny)``; its `lookup`, `exact` and
        `error_scale` take the values of both axes.
    max_error, relative_error
        The measured maximum interpolation error (with units), and the largest
        error relative to `error_scale` (what the tolerance bounds).
    tolerance
        The tolerance it was built for.
    """

    name: str
    origins: tuple[str, ...]
    expression: str
    variable: str
    grid: Quantity | tuple[Quantity, Quantity]
    values: Quantity
    max_error: Quantity
    relative_error: float
    tolerance: float
    _function: object = dataclasses.field(repr=False, compare=False)

    @property
    def dimensions(self) -> int:
        """The number of axes: 1, or 2."""
        return len(self._function.axes)

    def lookup(self, *x) -> Quantity:
        """The interpolated values at `x` (one array per axis), as the simulation sees
        them (out-of-range policy included)."""
        return self._function._call_with_units(*(np.asarray(a, dtype=float) for a in x))

    def exact(self, *x) -> Quantity:
        """The exact expression at `x` (one array per axis)."""
        values = self._function.exact.evaluate(*(np.asarray(a, dtype=float) for a in x))
        return Quantity(values, dim=get_dimensions(self.values))

    def error_scale(self, *x) -> Quantity:
        """What the table's error at `x` is measured against: the function's magnitude
        there, and at least its largest magnitude where the neuron lives (see
        `autolut.tabulate.ErrorScale`); ``relative_error`` is the largest
        ``|lookup(x) - exact(x)| / error_scale(x)``."""
        scale = self._function.table.scale
        return Quantity(scale.at(np.asarray(self.exact(*x))), dim=get_dimensions(self.values))


def _optimization(group):
    optimization = getattr(group, "_autolut", None)
    if optimization is None:
        raise ValueError(f"autolut: group '{getattr(group, 'name', group)}' is not optimized; "
                         f"call autolut.optimize(group) first")
    return optimization


def tables(group) -> tuple[TableView, ...]:
    """The tables of an optimized group, in the order of its report.

    Raises
    ------
    ValueError
        If `group` was not optimized.
    """
    optimization = _optimization(group)
    plan = optimization.plan
    views = []
    for entry in plan.tables:
        table, dimensions = entry.table, get_dimensions(entry.unit)
        units = [plan.model.units[axis.name] for axis in entry.candidate.axes]
        grid = (table.x * units[0] if len(units) == 1
                else tuple(x * unit for x, unit in zip(table.x, units)))
        views.append(TableView(
            entry.name, entry.candidate.origins, sympy_to_str(entry.candidate.expression),
            entry.axis, grid,
            Quantity(table.values, dim=dimensions), Quantity(table.max_error, dim=dimensions),
            table.relative_error, plan.options.tolerance, optimization.functions[entry.name]))
    return tuple(views)


def range_counts(group) -> tuple[RangeCount, ...]:
    """Lookups outside the table ranges so far, one `RangeCount` per axis.

    Under ``out_of_range='clamp'`` every step is counted (neuron-steps outside,
    and how many neurons); under ``'exact'`` every `autolut.guards.FALLBACK_SAMPLING`-th step
    (``RangeCount.estimate``: how often the tables evaluated their exact
    expressions); empty under ``'error'``. On cpp_standalone, available after
    ``device.build()``.
    """
    return tuple(counter.count() for counter in _optimization(group).guard.counters)
