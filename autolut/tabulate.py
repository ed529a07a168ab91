"""Sample functions on uniform grids, size the grids for a tolerance, measure the error.

Pure numpy: a function to tabulate is any callable mapping an array of axis
values (SI units) to an array of function values. Nothing here knows Brian2.

The step is first *estimated* from the curvature (linear interpolation errs by
at most ``h**2/8 * max|f''|``), then every table is built and its error
*measured* against the function at three points inside every interval; the step
shrinks until the measured error meets the tolerance.

Examples
--------
>>> import numpy as np
>>> table = tabulate(np.exp, 0.0, 1.0, tolerance=1e-6)
>>> table.points, bool(table.relative_error <= 1e-6)
(446, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from .targets.numpy_target import interpolate

__all__ = ["Table", "TabulationError", "tabulate", "required_step", "evaluate",
           "measure_error", "build_table", "on_grid_of", "shared_grid", "grid", "layout",
           "lookup", "DEFAULT_MAX_POINTS", "SEGMENTS"]

Function = Callable[[np.ndarray], np.ndarray]

#: Largest table accepted by default: 2**22 points, i.e. 64 MiB with the slopes.
DEFAULT_MAX_POINTS = 2**22
# Points sampled to estimate the curvature before the first table is built.
_CURVATURE_SAMPLES = 4097
# Points measured inside every grid interval (besides its two grid points).
_MEASURE_FRACTIONS = (0.25, 0.5, 0.75)
_MAX_REFINEMENTS = 8
#: Segments of a piecewise-uniform grid: each has its own step, and a lookup
#: finds its segment and its interval in it with two multiplications (O(1)).
SEGMENTS = 64
# A piecewise-uniform grid is tried for functions whose uniform grid needs more
# points than this, and chosen if it needs at least _SEGMENTED_GAIN times fewer
# points (it costs a few more operations per lookup).
_SEGMENTED_FROM_POINTS = 4096
_SEGMENTED_GAIN = 4


class TabulationError(ValueError):
    """The function cannot be tabulated as asked (singular, too many points...)."""


class _TooManyPoints(TabulationError):
    """The grid would exceed the size limit."""


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """A function sampled on a uniform (or piecewise-uniform) grid, with its
    measured error. The kernels read it through `layout`: value and slope of
    every interval side by side (`pack`), so that a lookup is two neighbouring
    loads and one FMA.
    """

    low: float
    high: float
    values: np.ndarray
    max_error: float  # measured maximum absolute interpolation error
    spread: float     # max - min of the function over the range
    #: None for a uniform grid; else the number of intervals of each of the
    #: `SEGMENTS` equal segments of the range (a piecewise-uniform grid).
    intervals: tuple[int, ...] | None = None

    @property
    def points(self) -> int:
        return len(self.values)

    @property
    def step(self) -> float:
        """The grid step (the smallest one, on a piecewise-uniform grid)."""
        if self.intervals is not None:
            return (self.high - self.low) / len(self.intervals) / max(self.intervals)
        return (self.high - self.low) / (self.points - 1)

    @property
    def inverse_step(self) -> float:
        """Intervals per unit of the axis: of the grid, or of the segments when segmented."""
        if self.intervals is not None:
            return len(self.intervals) / (self.high - self.low)
        return (self.points - 1) / (self.high - self.low)

    @property
    def x(self) -> np.ndarray:
        """The grid points."""
        return grid(self.low, self.high, self.points, self.intervals)

    @property
    def relative_error(self) -> float:
        return self.max_error / self.spread if self.spread > 0 else 0.0

    @property
    def nbytes(self) -> int:
        return 2 * self.values.nbytes


def pack(values: np.ndarray) -> np.ndarray:
    """Interleave values and slopes, ``[t0, t1-t0, t1, t2-t1, ..., t_last, 0]``."""
    packed = np.empty(2 * len(values))
    packed[0::2] = values
    packed[1:-1:2] = np.diff(values)
    packed[-1] = 0.0
    return packed


def grid(low: float, high: float, points: int,
         intervals: tuple[int, ...] | None = None) -> np.ndarray:
    """The grid the lookup kernels assume: ``low + j*step``, or with `intervals`, that
    many equal intervals in each of ``len(intervals)`` equal segments (neighbouring
    segments share their boundary point)."""
    if intervals is None:
        return low + np.arange(points) * ((high - low) / (points - 1))
    width = (high - low) / len(intervals)
    inside = [low + width * (s + np.arange(n) / n) for s, n in enumerate(intervals)]
    return np.concatenate(inside + [np.array([high])])


def layout(curves: list[np.ndarray], intervals: tuple[int, ...] | None = None) -> np.ndarray:
    """The array a lookup kernel reads: the curves' values and slopes interleaved
    row by row (row ``k``: value and slope of every curve at grid point ``k``).

    A piecewise-uniform grid puts a header first: for every segment, its number
    of intervals and the position of its first row, as doubles.
    """
    rows = np.stack([pack(values).reshape(-1, 2) for values in curves], axis=1).reshape(-1)
    if intervals is None:
        return np.ascontiguousarray(rows)
    stride = 2 * len(curves)
    first = 2 * len(intervals) + stride * np.concatenate([[0], np.cumsum(intervals)[:-1]])
    header = np.column_stack([np.asarray(intervals, dtype=float), first]).reshape(-1)
    return np.ascontiguousarray(np.concatenate([header, rows]))


def lookup(x: np.ndarray, table: Table) -> np.ndarray:
    """`table` interpolated at `x` by the kernel the numpy target runs."""
    return interpolate(x, table.low, table.inverse_step, layout([table.values], table.intervals),
                       segments=len(table.intervals) if table.intervals else 0)


def evaluate(function: Function, x: np.ndarray, delta: float) -> np.ndarray:
    """`function` at `x`, with removable singularities replaced by their limit.

    A point where the function gives NaN or inf (``x/(exp(x) - 1)`` at 0) is
    replaced by the mean of the values at ``x - delta`` and ``x + delta``,
    provided the values at ``±delta`` and ``±2*delta`` show a smooth function
    (same mean and slope on both scales). Poles and log singularities fail that
    test and stay non-finite, for the caller to report.
    """
    with np.errstate(all="ignore"):
        y = np.array(function(np.asarray(x, dtype=float)), dtype=float, copy=True)
        y = np.broadcast_to(y, np.shape(x)).copy()
        bad = ~np.isfinite(y)
        if not bad.any():
            return y
        x0 = np.asarray(x, dtype=float)[bad]
        l1, r1, l2, r2 = (np.broadcast_to(np.asarray(function(x0 + d), dtype=float),
                                          x0.shape)
                          for d in (-delta, delta, -2 * delta, 2 * delta))
        mean1, mean2 = (l1 + r1) / 2, (l2 + r2) / 2
        slope1, slope2 = (r1 - l1) / (2 * delta), (r2 - l2) / (4 * delta)
        smooth = (np.isfinite(l1 + r1 + l2 + r2)
                  & (np.abs(mean2 - mean1) <= 1e-6 * (np.abs(mean1) + np.abs(slope1) * delta) + 1e-300)
                  & (np.abs(slope2 - slope1) <= 1e-2 * np.abs(slope1) + 1e-6 * np.abs(mean1) / delta))
        y[np.flatnonzero(bad)[smooth]] = mean1[smooth]
    return y


def required_step(function: Function, low: float, high: float, tolerance: float) -> float:
    """A first estimate of the step that meets a relative `tolerance`.

    From ``h**2/8 * max|f''| <= tolerance * spread``, with ``f''`` from second
    differences on a fine sample.
    """
    x = grid(low, high, _CURVATURE_SAMPLES)
    h = x[1] - x[0]
    y = evaluate(function, x, h * 1e-3)
    _check_finite(y, x)
    spread = float(y.max() - y.min())
    curvature = float(np.max(np.abs(np.diff(y, 2)))) / h**2
    if spread == 0 or curvature == 0:
        return high - low
    return math.sqrt(8 * tolerance * spread / curvature)


def measure_error(function: Function, low: float, high: float, values: np.ndarray,
                  intervals: tuple[int, ...] | None = None) -> float:
    """Maximum absolute difference between the table and the function.

    Measured at three points inside every interval with the same lookup
    kernel that the numpy target runs.
    """
    return float(np.max(_interval_errors(function, Table(low, high, values, 0.0, 0.0,
                                                         intervals))))


def _interval_errors(function: Function, table: Table) -> np.ndarray:
    """The largest error measured inside each interval of `table`."""
    x = table.x
    inside = (x[:-1, None] + np.diff(x)[:, None] * np.array(_MEASURE_FRACTIONS)[None, :]).ravel()
    exact = evaluate(function, inside, table.step * 1e-3)
    _check_finite(exact, inside)
    return np.abs(lookup(inside, table) - exact).reshape(-1, len(_MEASURE_FRACTIONS)).max(axis=1)


def tabulate(function: Function, low: float, high: float, tolerance: float,
             step: float | None = None, max_points: int = DEFAULT_MAX_POINTS) -> Table:
    """Tabulate `function` over ``[low, high]`` with a measured relative error ≤ `tolerance`.

    Parameters
    ----------
    function
        Maps an array of axis values to function values (vectorised).
    low, high
        The range of the axis, in SI units.
    tolerance
        Maximum interpolation error, relative to the spread (max - min) of the
        function over the range.
    step
        Force this grid step instead of sizing the grid from the tolerance.
        The error is still measured (and may then exceed the tolerance).
    max_points
        Refuse tables larger than this.

    Raises
    ------
    TabulationError
        If the function is not finite somewhere in the range, or the tolerance
        needs more than `max_points` points.
    """
    if step is not None:
        return build_table(function, low, high, _points_for(step, low, high, max_points))
    try:
        uniform, too_many = _refine(function, low, high, tolerance, max_points), None
    except _TooManyPoints as error:
        uniform, too_many = None, error
    if uniform is None or uniform.points > _SEGMENTED_FROM_POINTS:
        try:
            segmented = _refine_segments(function, low, high, tolerance, max_points)
        except TabulationError:
            segmented = None  # the uniform grid's outcome stands
        if segmented is not None and (uniform is None or segmented.points * _SEGMENTED_GAIN
                                      <= uniform.points):
            return segmented
    if uniform is None:
        x = grid(low, high, _CURVATURE_SAMPLES)
        bend = np.abs(np.diff(evaluate(function, x, (x[1] - x[0]) * 1e-3), 2))
        raise TabulationError(f"{too_many}; the function bends most sharply near "
                              f"{float(x[1 + int(np.argmax(bend))]):.6g} (SI units): a pole, a "
                              f"jump or a very steep region there?")
    return uniform


def _refine(function: Function, low: float, high: float, tolerance: float,
            max_points: int) -> Table:
    """Estimate the step from the curvature, then shrink it until the measured error fits."""
    points = _points_for(required_step(function, low, high, tolerance), low, high, max_points)
    for _ in range(_MAX_REFINEMENTS):
        table = build_table(function, low, high, points)
        if table.max_error <= tolerance * table.spread:
            return table
        # Quadratic error model, with a margin; kinks (abs, clip) converge linearly
        # and take a few more rounds.
        shrink = max(2.0, 1.1 * math.sqrt(table.max_error / (tolerance * table.spread)))
        points = _points_for((high - low) / (points - 1) / shrink, low, high, max_points)
    raise TabulationError(
        f"the measured error stays above the tolerance {tolerance:g} even with "
        f"{points} points; the function is probably not smooth in the range")


def _refine_segments(function: Function, low: float, high: float, tolerance: float,
                     max_points: int) -> Table:
    """A piecewise-uniform grid: each of `SEGMENTS` equal segments gets the step its
    own curvature needs, then segments whose measured error is too large are refined."""
    samples = 64
    x = grid(low, high, SEGMENTS * samples + 1)
    h = x[1] - x[0]
    y = evaluate(function, x, h * 1e-3)
    _check_finite(y, x)
    spread = float(y.max() - y.min())
    if spread == 0:
        return build_table(function, low, high, 2)
    bend = np.abs(np.diff(y, 2)) / h**2
    # the curvature seen by each segment, including its boundary points
    curvature = np.array([bend[max(s * samples - 1, 0):(s + 1) * samples].max()
                          for s in range(SEGMENTS)])
    width = (high - low) / SEGMENTS
    intervals = np.maximum(1, np.ceil(width / np.sqrt(8 * tolerance * spread /
                                                      np.maximum(curvature, 1e-300))))
    for _ in range(_MAX_REFINEMENTS):
        if intervals.sum() + 1 > max_points:
            raise _TooManyPoints(f"the table would need {int(intervals.sum()) + 1} points")
        table = build_table(function, low, high, int(intervals.sum()) + 1,
                            tuple(int(n) for n in intervals))
        errors = np.maximum.reduceat(_interval_errors(function, table),
                                     np.concatenate([[0], np.cumsum(intervals)[:-1]]).astype(int))
        if table.max_error <= tolerance * table.spread:
            return table
        ratio = errors / (tolerance * table.spread)
        intervals = np.where(ratio > 1, np.ceil(intervals * np.maximum(
            2.0, 1.1 * np.sqrt(ratio))), intervals)
    raise TabulationError(
        f"the measured error stays above the tolerance {tolerance:g}; the function is "
        f"probably not smooth in the range")


def _points_for(step: float, low: float, high: float, max_points: int) -> int:
    points = max(2, math.ceil((high - low) / step - 1e-9) + 1)
    if points > max_points:
        raise _TooManyPoints(
            f"the table would need {points} points (more than the limit of {max_points}, "
            f"{2 * 8 * max_points / 2**20:.0f} MiB); use a coarser tolerance or a "
            f"narrower range")
    return points


def build_table(function: Function, low: float, high: float, points: int,
                intervals: tuple[int, ...] | None = None) -> Table:
    """Tabulate `function` on exactly `points` grid points (on the piecewise-uniform
    grid of `intervals`, if given) and measure the error."""
    x = grid(low, high, points, intervals)
    values = evaluate(function, x, float(np.min(np.diff(x))) * 1e-3)
    _check_finite(values, x)
    return Table(low, high, values, measure_error(function, low, high, values, intervals),
                 float(values.max() - values.min()), intervals)


def on_grid_of(function: Function, table: Table) -> Table:
    """`function` tabulated on the grid of `table`."""
    return build_table(function, table.low, table.high, table.points, table.intervals)


def shared_grid(tables: list[Table]) -> Table:
    """The grid of the tables of one axis: at least as fine as each of `tables`
    everywhere (same range). Uniform unless a piecewise-uniform grid needs
    `_SEGMENTED_GAIN` times fewer points. Returned as a table with that grid (its
    values are not meaningful)."""
    first = tables[0]
    uniform = max(table.points if table.intervals is None
                  else len(table.intervals) * max(table.intervals) + 1 for table in tables)
    if all(table.intervals is None for table in tables):
        return max(tables, key=lambda table: table.points)
    intervals = tuple(int(n) for n in np.max([_as_segments(t) for t in tables], axis=0))
    if (sum(intervals) + 1) * _SEGMENTED_GAIN > uniform:
        return Table(first.low, first.high, np.zeros(uniform), 0.0, 0.0)
    return Table(first.low, first.high, np.zeros(sum(intervals) + 1), 0.0, 0.0, intervals)


def _as_segments(table: Table) -> np.ndarray:
    """Intervals per segment at least as fine as `table`'s grid."""
    if table.intervals is not None:
        return np.asarray(table.intervals)
    return np.full(SEGMENTS, math.ceil((table.points - 1) / SEGMENTS))


def _check_finite(values: np.ndarray, x: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise TabulationError(
            f"it is not finite at {x[bad][0]!r} (SI units); this is a pole or a "
            f"range where the function is undefined, not a removable singularity")
