"""The options shared by `report`, `optimize` and `optimized`, checked once."""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Iterable, Mapping

import numpy as np
import sympy
from brian2 import BrianPreference, Quantity, mV, prefs, volt
from brian2.parsing.sympytools import str_to_sympy
from brian2.units.fundamentalunits import get_dimensions, have_same_dimensions

from .analysis import DEFAULT_MIN_COST
from .tabulate import DEFAULT_MAX_POINTS

__all__ = ["Options", "OptionsError", "AxisRange", "DEFAULT_TOLERANCE", "DEFAULT_VOLTAGE_RANGE",
           "VOLTAGE_MARGIN", "OUT_OF_RANGE_POLICIES"]

#: Maximum interpolation error of every table, relative to the function's
#: magnitude where the neuron lives (see `autolut.tabulate.ErrorScale`). Chosen
#: so that the Hodgkin–Huxley type models of the test suite fire identical
#: per-neuron spike counts with and without tables (see tests/test_numpy_runs.py).
DEFAULT_TOLERANCE = 1e-6

#: A voltage axis's range, unless given, reaches this far beyond the lowest and
#: the highest potential the model names (reversal potentials, thresholds,
#: resets, half-activation voltages): spikes peak below the sodium reversal
#: potential, and hyperpolarisation stays above the potassium one.
VOLTAGE_MARGIN = 20 * mV

#: Range of a voltage axis, unless given, when the model names no potential.
DEFAULT_VOLTAGE_RANGE = (-120 * mV, 80 * mV)

#: Derived voltage ranges never reach beyond this (a name such as ``v/volt + 1``
#: is not a potential).
_PLAUSIBLE_VOLTAGES = (-250 * mV, 250 * mV)

#: What a lookup outside its table's range does, safest first: ``'exact'``
#: evaluates the exact expression there (never wrong, only slower outside the
#: range), ``'clamp'`` uses the end value and counts such lookups (reported
#: after the run), ``'error'`` ends the run naming table, variable, value and
#: neuron.
OUT_OF_RANGE_POLICIES = ("exact", "clamp", "error")


def _is_real(value) -> bool:
    """A real number (numpy scalars and quantities included), not a bool."""
    return isinstance(value, (numbers.Real, Quantity)) and not isinstance(value, (bool, np.bool_)) \
        and np.ndim(value) == 0


def _is_integer(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


prefs.register_preferences(
    "autolut",
    "Defaults of autolut's options (an option passed to a function takes precedence)",
    tolerance=BrianPreference(
        default=DEFAULT_TOLERANCE,
        validator=lambda x: _is_real(x) and 0 < float(x) < 1,
        docs="Maximum interpolation error of every table, relative to the spread of the "
             "tabulated function over its range."),
    integration_tables=BrianPreference(
        default=True,
        docs="Whether exponential-Euler groups get tabulated steady states and step factors."),
    out_of_range=BrianPreference(
        default="exact",
        validator=lambda x: x in OUT_OF_RANGE_POLICIES,
        docs="What a lookup outside its table's range does: 'exact' (evaluate the exact "
             "expression), 'clamp' (end value, counted and reported after the run) or "
             "'error' (end the run)."),
    enabled=BrianPreference(
        default=False,
        docs="Whether every NeuronGroup, SpatialNeuron and Synapses object is optimized "
             "just before its first run (autolut.enable() sets it, with options)."),
    max_points=BrianPreference(
        default=DEFAULT_MAX_POINTS,
        validator=lambda x: _is_integer(x) and x >= 2,
        docs="Largest table accepted, in grid points."),
)


class OptionsError(ValueError):
    """An option of report/optimize/optimized is wrong; the message says how."""


@dataclasses.dataclass(frozen=True)
class Options:
    """Options of a tabulation.

    ``tolerance``, ``integration_tables`` and ``max_points`` default to Brian2
    preferences (``prefs.autolut.tolerance`` ...), so a project can set them once.

    Parameters
    ----------
    ranges
        ``{variable: (low, high)}`` with units, the range of every table axis.
        Voltage axes default to `DEFAULT_VOLTAGE_RANGE`; other axes have no
        default, and their candidates are reported as not tabulated. An
        expression of two axes with ranges (``v`` and ``Ca``) that does not
        factor into functions of one becomes one 2-D table over both.
    tolerance
        Maximum interpolation error of every table, relative to the spread of
        the tabulated function over its range. The error is measured, not
        assumed.
    step
        ``{variable: step}`` with units, to force the grid step of an axis
        (tables of one axis only: 2-D tables size both steps for the tolerance).
    exclude
        Names of equations (subexpressions or differential equations) to leave
        untouched.
    namespace
        Where to look up external constants, as in ``run(namespace=...)``; by
        default the group's namespace and the caller's variables, as ``run()``
        does.
    max_points
        Largest table allowed (per table, in grid points: ``nx*ny`` for a 2-D
        table); larger ones are refused (the parts of a refused 2-D table that
        vary with one axis get tables of their own).
    min_cost
        Expressions cheaper than this (rough operation count) stay exact.
    prefer_2d
        A 2-D table is built where it saves ``min_cost`` operations over the
        cheaper of the exact expression and its *split form* (its parts of one
        variable as 1-D tables, the rest exact). With ``prefer_2d=True`` it is
        compared with the exact expression only. Off by default: the split
        form of the BK rates ran faster than their 2-D tables on numpy, cython
        and cpp_standalone (benchmarks/results/bk).
    out_of_range
        What a lookup outside the table's range does: ``'exact'`` (default:
        the exact expression is evaluated there, so a table is never wrong,
        only slower outside its range), ``'clamp'`` (the end value is used;
        the run counts such lookups per axis and reports the count and the
        lowest and highest value seen through Brian2's logger) or ``'error'``
        (the run stops with an error naming the table, the variable, the
        value and the neuron index).
    integration_tables
        For groups integrated with exponential Euler: tabulate the steady state
        ``x_inf`` and the step factor ``exp(A*dt)`` of every gate
        ``dx/dt = A(v)*x + B(v)`` and update it as ``x_inf + (x - x_inf)*factor``
        (see `autolut.expeuler`).
    """

    ranges: Mapping[str, tuple] = dataclasses.field(default_factory=dict)
    tolerance: float = DEFAULT_TOLERANCE
    step: Mapping[str, Quantity] = dataclasses.field(default_factory=dict)
    exclude: frozenset[str] = frozenset()
    namespace: Mapping | None = None
    max_points: int = DEFAULT_MAX_POINTS
    min_cost: int = DEFAULT_MIN_COST
    prefer_2d: bool = False
    integration_tables: bool = True
    out_of_range: str = "exact"

    @classmethod
    def from_keywords(cls, **keywords) -> Options:
        """Build from the keyword arguments of the public functions, checking their form.

        Raises `OptionsError`, naming the option and what to write instead.
        """
        unknown = set(keywords) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise OptionsError(
                f"autolut: unknown option(s) {', '.join(sorted(unknown))}; the options are "
                f"{', '.join(f.name for f in dataclasses.fields(cls))}")
        defaults = {name: prefs[f"autolut.{name}"]
                    for name in ("tolerance", "integration_tables", "max_points", "out_of_range")}
        values = {**defaults, **keywords}
        for name, example in (("ranges", "{'v': (-100*mV, 60*mV)}"), ("step", "{'v': 0.01*mV}")):
            if not isinstance(values.get(name, {}), Mapping):
                raise OptionsError(f"autolut: {name} must be a dict {{variable: ...}}, e.g. "
                                   f"{name}={example}, not {values[name]!r}")
        if values.get("namespace") is not None and not isinstance(values["namespace"], Mapping):
            raise OptionsError(f"autolut: namespace must be a dict {{name: value}}, not "
                               f"{values['namespace']!r}")
        exclude = values.get("exclude", frozenset())
        exclude = [exclude] if isinstance(exclude, str) else exclude
        if not isinstance(exclude, Iterable) or not all(isinstance(n, str) for n in exclude):
            raise OptionsError(f"autolut: exclude must be a list of equation names, e.g. "
                               f"exclude=['alpha_m'], not {values['exclude']!r}")
        tolerance = values["tolerance"]
        if not _is_real(tolerance) or not 0 < float(tolerance) < 1:
            raise OptionsError(f"autolut: tolerance must be a number between 0 and 1 "
                               f"(relative error), e.g. 1e-6, not {tolerance!r}")
        for name, least in (("max_points", 2), ("min_cost", 0)):
            value = values.get(name, least)
            if not _is_integer(value) or value < least:
                raise OptionsError(f"autolut: {name} must be an integer of at least {least}, "
                                   f"e.g. {name}={2**20 if name == 'max_points' else 10}, "
                                   f"not {value!r}")
        for name in ("integration_tables", "prefer_2d"):
            if not isinstance(values.get(name, False), (bool, np.bool_)):
                raise OptionsError(f"autolut: {name} must be True or False, not "
                                   f"{values[name]!r}")
        if values["out_of_range"] not in OUT_OF_RANGE_POLICIES:
            raise OptionsError(f"autolut: out_of_range must be one of "
                               f"{', '.join(map(repr, OUT_OF_RANGE_POLICIES))}, "
                               f"not {values['out_of_range']!r}")
        options = cls(**{**values, "tolerance": float(tolerance),
                         "exclude": frozenset(exclude),
                         "ranges": dict(values.get("ranges", {})),
                         "step": dict(values.get("step", {})),
                         "integration_tables": bool(values["integration_tables"]),
                         "prefer_2d": bool(values.get("prefer_2d", False))})
        options = dataclasses.replace(options, max_points=int(options.max_points),
                                      min_cost=int(options.min_cost))
        for name, value in options.ranges.items():
            if not (isinstance(value, (tuple, list)) and len(value) == 2):
                raise OptionsError(f"autolut: ranges['{name}'] must be a pair (low, high) "
                                   f"with units, e.g. (-100*mV, 60*mV), not {value!r}")
        for name, value in options.step.items():
            if not _is_real(value) or not float(value) > 0 or not math.isfinite(float(value)):
                raise OptionsError(f"autolut: step['{name}'] must be a positive quantity "
                                   f"with the unit of {name}, not {value!r}")
        return options

    def bind_axis(self, name: str, unit, points=()) -> AxisRange:
        """The range, operating range and step of axis `name`.

        Parameters
        ----------
        name, unit
            The axis variable and its unit.
        points
            ``(value, expression)`` pairs: the values of the axis that the model
            names (SI), see `autolut.analysis.reference_points`.

        Raises
        ------
        OptionsError
            For a range or step of the wrong unit, a range that is empty,
            reversed or not finite.
        """
        step = self._given_step(name, unit)
        named = sorted(points)
        if have_same_dimensions(unit, volt):
            low, high = (float(bound) for bound in _PLAUSIBLE_VOLTAGES)
            named = [(value, text) for value, text in named if low <= value <= high]
        operating = (named[0][0], named[-1][0]) if named else None
        names = f"{named[0][1]} .. {named[-1][1]}" if named else ""
        given = self._given_range(name, unit)
        if given is not None:
            return AxisRange(name, unit, *given, operating, "given", names, step)
        if have_same_dimensions(unit, volt):
            if named:
                margin = float(VOLTAGE_MARGIN)
                return AxisRange(name, unit, operating[0] - margin, operating[1] + margin,
                                 operating, "model", names, step)
            low, high = (float(bound) for bound in DEFAULT_VOLTAGE_RANGE)
            return AxisRange(name, unit, low, high, None, "default", "", step)
        return AxisRange(name, unit, None, None, operating, "none", names, step)

    def bind_shifted_axis(self, name: str, argument, base: AxisRange,
                          span: tuple[float, float] | None) -> AxisRange:
        """The range of the shifted axis `name` (``'v - VT'``): `base` (the range of its
        variable) shifted by `span`, the lowest and highest value the shift
        (``-VT``) takes over the group; or the range given for it in ``ranges``
        (under any spelling of `argument`, the sympy expression ``v - VT``).

        Where the shift's values cannot be read (`span` None: cpp_standalone
        before the run), the range is `base` itself; lookups beyond it follow
        the ``out_of_range`` policy.
        """
        given = self._given_range(self._spelling_of(argument, name), base.unit)
        if given is not None:
            return AxisRange(name, base.unit, *given, None, "given", "", base.step)
        if base.low is None:
            return dataclasses.replace(base, name=name, source="none")
        if span is None:
            return dataclasses.replace(base, name=name, source="unread shift")
        operating = (None if base.operating is None else
                     (base.operating[0] + span[0], base.operating[1] + span[1]))
        shift = sympy.sstr(argument - sympy.Symbol(base.name, real=True))
        return AxisRange(name, base.unit, base.low + span[0], base.high + span[1], operating,
                         "shifted", f"{base.name} in [{base.show(base.low)}, "
                                    f"{base.show(base.high)}] plus {shift} in "
                                    f"[{base.show(span[0])}, {base.show(span[1])}]", base.step)

    def _spelling_of(self, argument, name: str) -> str:
        """The key of `ranges` that spells the shifted axis `argument` (``'v-VT'`` for
        ``v - VT``), or `name` when none does."""
        for key in self.ranges:
            if not key.isidentifier():
                try:
                    if sympy.simplify(str_to_sympy(key) - argument) == 0:
                        return key
                except (SyntaxError, TypeError, ValueError):
                    continue
        return name

    def _given_range(self, name: str, unit) -> tuple[float, float] | None:
        """The range given for axis `name` in SI floats, or None when none was given.

        Raises `OptionsError` for a range of the wrong unit, empty, reversed or
        not finite.
        """
        if name in self.ranges:
            low, high = self.ranges[name]
            for bound in (low, high):
                if not have_same_dimensions(bound, unit):
                    raise OptionsError(
                        f"autolut: ranges['{name}'] = ({low!r}, {high!r}) has the wrong "
                        f"unit: '{name}' is in {unit!r} (dimension "
                        f"{get_dimensions(unit)}); write e.g. (0*{unit!r}, 1*{unit!r})")
            low, high = float(low), float(high)
            if not (math.isfinite(low) and math.isfinite(high)) or not low < high:
                raise OptionsError(
                    f"autolut: ranges['{name}'] must be finite with low < high, "
                    f"got ({self.ranges[name][0]!r}, {self.ranges[name][1]!r})")
            return low, high
        return None

    def _given_step(self, name: str, unit) -> float | None:
        if name not in self.step:
            return None
        value = self.step[name]
        if not have_same_dimensions(value, unit):
            raise OptionsError(f"autolut: step['{name}'] = {value!r} has the wrong unit; "
                               f"'{name}' is in {unit!r}")
        return float(value)



@dataclasses.dataclass(frozen=True)
class AxisRange:
    """The range of one table axis of a group, in SI floats.

    ``low`` and ``high`` bound the tables (None: no range, nothing tabulated
    over this axis); ``operating`` is where the neuron lives, between the
    lowest and the highest value the model names (`names` says which), or None;
    ``source`` says where the range comes from: ``'given'`` (``ranges=``),
    ``'model'`` (the named values plus `VOLTAGE_MARGIN`), ``'default'``
    (`DEFAULT_VOLTAGE_RANGE`) or ``'none'``.
    """

    name: str
    unit: object
    low: float | None
    high: float | None
    operating: tuple[float, float] | None
    source: str
    names: str = ""
    step: float | None = None

    def show(self, value: float) -> str:
        """`value` (SI) in the axis' display unit, e.g. ``'-41.2 mV'``."""
        scale, name = display_unit(self.unit, max(abs(self.low or 0), abs(self.high or 0)))
        return f"{value / scale:.6g} {name}".rstrip()

    def describe(self) -> str:
        """Where the range comes from, for the report."""
        if self.low is None:
            return (f"{self.name}: no range (give ranges={{'{self.name}': (low, high)}} "
                    f"with units)")
        scale, unit = display_unit(self.unit, max(abs(self.low), abs(self.high)))
        text = f"{self.name} in [{self.low / scale:.6g}, {self.high / scale:.6g}] {unit}"
        text += {"given": " (given)",
                 "model": f" (the model's values {self.names} with a margin of "
                          f"{float(VOLTAGE_MARGIN) / scale:g} {unit})",
                 "default": " (default: the model names no potential)",
                 "shifted": f" (a shifted axis: {self.names})",
                 "unread shift": f" (a shifted axis; the shift's values cannot be read before "
                                 f"the run, so its variable's range: give ranges={{'{self.name}'"
                                 f": (low, high)}} for the values it takes)"}[self.source]
        if self.operating is not None:
            low, high = (max(self.operating[0], self.low), min(self.operating[1], self.high))
            if low <= high:
                text += (f"; the neuron lives in [{low / scale:.6g}, {high / scale:.6g}] {unit}"
                         + (f" ({self.names})" if self.source not in ("model", "shifted")
                            else ""))
        return text


def display_unit(unit, magnitude: float) -> tuple[float, str]:
    """Scale and name of the unit in which values of `unit` around `magnitude`
    (SI) are shown: mV for volts, µM for micromolar concentrations..."""
    if not isinstance(unit, Quantity) or unit.is_dimensionless:
        return 1.0, ""
    best = (magnitude * unit if magnitude else unit).get_best_unit()
    return float(best), str(best)
