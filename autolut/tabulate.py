"""Sample functions on uniform grids, size the grids for a tolerance, measure the error.

Pure numpy: a function to tabulate is any callable mapping an array of axis
values (SI units) to an array of function values. Nothing here knows Brian2.

**What the tolerance means.** The error of a table at ``x`` is measured
against the function's local magnitude, with a floor::

    |table(x) - f(x)| <= tolerance * max(|f(x) - offset|, floor)

``floor`` is the largest magnitude ``|f - offset|`` over the *operating range*
(where the neuron lives; by default the whole range), and ``offset`` is 1 for
step factors ``exp(A*dt)`` (whose meaningful part is the decay ``1 - f`` per
step) and 0 otherwise. Inside the operating range a table is therefore as
accurate as ``tolerance`` times the function's largest value there, and where
the function grows beyond that (the exponential tail of an integrate-and-fire
spike term, a Goldman–Hodgkin–Katz factor) its error stays that small
*relative to its own value*. See `ErrorScale`.

The step is first *estimated* from the curvature (linear interpolation errs by
at most ``h**2/8 * |f''|``), then every table is built and its error
*measured* against the function at three points inside every interval; the step
shrinks until the measured error meets the tolerance.

Examples
--------
>>> import numpy as np
>>> table = tabulate(np.exp, 0.0, 1.0, tolerance=1e-6)
>>> table.points, bool(table.relative_error <= 1e-6)
(355, True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from .targets.numpy_target import interpolate

__all__ = ["Table", "Grid", "ErrorScale", "TabulationError", "tabulate", "required_step",
           "evaluate", "error_scale", "build_table", "on_grid_of", "shared_grids", "finest_grid",
           "grid", "layout",
           "lookup", "zeros", "with_limits", "DEFAULT_MAX_POINTS", "SEGMENTS"]

Function = Callable[[np.ndarray], np.ndarray]

#: Largest table accepted by default: 2**22 points, i.e. 64 MiB with the slopes.
DEFAULT_MAX_POINTS = 2**22
# Points sampled to estimate the curvature before the first table is built.
_CURVATURE_SAMPLES = 4097
# Points sampled over the operating range to find the error scale's floor.
_SCALE_SAMPLES = 1025
# Points measured inside every grid interval (besides its two grid points). Grids
# of more than _LARGE_GRID points (asked for by tolerances far below the default)
# are measured at the midpoints only, where linear interpolation of a function
# that is smooth at the scale of the step errs most: three times fewer
# evaluations keep such reports at seconds.
_MEASURE_FRACTIONS = (0.25, 0.5, 0.75)
_LARGE_GRID = 2**18
_MAX_REFINEMENTS = 8
#: Segments of a piecewise-uniform grid: each has its own step, and a lookup
#: finds its segment and its interval in it with two multiplications (O(1)).
SEGMENTS = 64
# A piecewise-uniform grid is tried for functions whose uniform grid needs more
# points than this, and chosen if it needs at least _SEGMENTED_GAIN times fewer
# points (it costs a few more operations per lookup).
_SEGMENTED_FROM_POINTS = 4096
_SEGMENTED_GAIN = 4
#: Half-width of the band around a removable singular point (relative to the
#: range) inside which values come from the limit: floating-point cancellation
#: spoils ``x/(exp(x) - 1)`` within rounding distance of its 0/0 point.
SINGULAR_BAND = 1e-6


def _show_si(value: float) -> str:
    return f"{value:.6g} (SI units)"


class TabulationError(ValueError):
    """The function cannot be tabulated as asked (singular, too many points...)."""


class _TooManyPoints(TabulationError):
    """The grid would exceed the size limit."""

    def __init__(self, points: int, max_points: int):
        super().__init__(f"the table would need {points} points, more than max_points = "
                         f"{max_points} ({2 * 8 * max_points / 2**20:.0f} MiB)")
        self.points, self.max_points = points, max_points


@dataclasses.dataclass(frozen=True)
class ErrorScale:
    """What an error is measured against: ``max(|f(x) - offset|, floor)`` at ``x``.

    ``floor`` is the largest ``|f - offset|`` over the operating range (see the
    module docstring); ``offset`` is 1 for step factors ``exp(A*dt)`` and 0
    otherwise.
    """

    floor: float
    offset: float = 0.0

    def at(self, values: np.ndarray) -> np.ndarray:
        return np.maximum(np.abs(values - self.offset), self.floor)


@dataclasses.dataclass(frozen=True)
class Grid:
    """The grid of a table: ``points`` on ``[low, high]``, uniform, or piecewise
    uniform with `intervals` per segment (see `grid`)."""

    low: float
    high: float
    points: int
    intervals: tuple[int, ...] | None = None


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """A function sampled on a uniform (or piecewise-uniform) grid, with its
    measured error. The kernels read it through `layout`: value and slope of
    every interval side by side (`pack`), so that a lookup is two neighbouring
    loads and one FMA.

    ``max_error`` is the largest absolute error measured; ``relative_error``
    the largest error relative to the `ErrorScale` (what the tolerance bounds),
    found at ``worst``, where the function's exact value is ``worst_value``.
    """

    low: float
    high: float
    values: np.ndarray
    max_error: float
    relative_error: float
    worst: float
    worst_value: float
    scale: ErrorScale
    #: None for a uniform grid; else the number of intervals of each of the
    #: `SEGMENTS` equal segments of the range (a piecewise-uniform grid).
    intervals: tuple[int, ...] | None = None

    @property
    def points(self) -> int:
        return len(self.values)

    @property
    def spread(self) -> float:
        """max - min of the tabulated values."""
        return float(self.values.max() - self.values.min())

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
    def nbytes(self) -> int:
        return 2 * self.values.nbytes

    @property
    def grid(self) -> Grid:
        return Grid(self.low, self.high, self.points, self.intervals)


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


def _interpolate(x: np.ndarray, low: float, high: float, values: np.ndarray,
                 intervals: tuple[int, ...] | None) -> np.ndarray:
    inverse = (len(intervals) if intervals else len(values) - 1) / (high - low)
    return interpolate(x, low, inverse, layout([values], intervals),
                       segments=len(intervals) if intervals else 0)


def lookup(x: np.ndarray, table: Table) -> np.ndarray:
    """`table` interpolated at `x` by the kernel the numpy target runs."""
    return _interpolate(x, table.low, table.high, table.values, table.intervals)


def evaluate(function: Function, x: np.ndarray, delta: float) -> np.ndarray:
    """`function` at `x`, with removable singularities replaced by their limit.

    A point where the function gives NaN or inf (``x/(exp(x) - 1)`` at 0) is
    replaced by the mean of the values at ``x - delta`` and ``x + delta``,
    provided the values at ``±delta`` and ``±2*delta`` show a smooth function
    (same mean and slope on both scales). Poles and log singularities fail that
    test and stay non-finite, for the caller to report. (`with_limits` also
    handles the points *near* a singular point, where rounding spoils the value.)
    """
    with np.errstate(all="ignore"):
        y = np.array(function(np.asarray(x, dtype=float)), dtype=float, copy=True)
        y = np.broadcast_to(y, np.shape(x)).copy()
        bad = ~np.isfinite(y)
        if not bad.any():
            return y
        x0 = np.asarray(x, dtype=float)[bad]
        smooth, mean = _smooth_across(function, x0, delta, 1e-6)
        y[np.flatnonzero(bad)[smooth]] = mean[smooth]
    return y


def _smooth_across(function: Function, x0: np.ndarray, delta: float, consistency: float):
    """Whether `function` looks smooth across each point of `x0` (same mean and
    slope from the values at ``±delta`` and ``±2*delta``), and its mean there."""
    with np.errstate(all="ignore"):
        l1, r1, l2, r2 = (np.broadcast_to(np.asarray(function(x0 + d), dtype=float), x0.shape)
                          for d in (-delta, delta, -2 * delta, 2 * delta))
        mean1, mean2 = (l1 + r1) / 2, (l2 + r2) / 2
        slope1, slope2 = (r1 - l1) / (2 * delta), (r2 - l2) / (4 * delta)
        smooth = (np.isfinite(l1 + r1 + l2 + r2)
                  & (np.abs(mean2 - mean1)
                     <= consistency * (np.abs(mean1) + np.abs(slope1) * delta) + 1e-300)
                  & (np.abs(slope2 - slope1)
                     <= 1e-2 * np.abs(slope1) + 1e-6 * np.abs(mean1) / delta))
    return smooth, mean1


def zeros(function: Function, low: float, high: float,
          samples: int = _CURVATURE_SAMPLES) -> tuple[float, ...]:
    """The points of ``[low, high]`` where `function` (a denominator) changes sign
    or is exactly zero, located to the last bit by bisection.

    >>> [round(point, 12) for point in zeros(lambda x: np.exp(x - 0.3) - 1, -1.0, 1.0)]
    [0.3]
    """
    x = grid(low, high, samples)
    with np.errstate(all="ignore"):
        y = np.broadcast_to(np.asarray(function(x), dtype=float), x.shape)
    found = set(x[y == 0].tolist())
    change = np.flatnonzero((np.sign(y[:-1]) * np.sign(y[1:]) < 0)
                            & np.isfinite(y[:-1]) & np.isfinite(y[1:]))
    a, b, fa = x[change], x[change + 1], y[change]
    for _ in range(200):
        middle = (a + b) / 2
        if not np.any((middle > a) & (middle < b)):
            break
        with np.errstate(all="ignore"):
            fm = np.broadcast_to(np.asarray(function(middle), dtype=float), middle.shape)
        hit = fm == 0  # converged: both ends move there
        left = (np.sign(fm) == np.sign(fa)) | hit
        a, fa = np.where(left, middle, a), np.where(left, fm, fa)
        b = np.where(left & ~hit, b, middle)
    found.update(((a + b) / 2).tolist())
    return tuple(sorted(found))


def with_limits(function: Function, points, width: float,
                show: Callable[[float], str] = _show_si) -> Function:
    """`function`, with its value within `width` of each removable singular point
    in `points` taken from the straight line between the values at ``p ± width``.

    Within rounding distance of a 0/0 point (``x/(exp(x) - 1)`` at 0) the
    computed quotient is noise (1458 instead of 1400 Hz at 1e-17 V from the
    point); the line through values just outside is exact to ``width**2 *
    |f''|/8``. Which grid points fall near the singular point then no longer
    matters.

    Raises
    ------
    TabulationError
        If a point of `points` is a pole (the function is not smooth across it).
    """
    points = np.asarray(sorted(points), dtype=float)
    if points.size == 0:
        return function
    smooth, _ = _smooth_across(function, points, width, 1e-4)
    if not smooth.all():
        raise TabulationError(f"it has a pole at {show(float(points[~smooth][0]))}, where "
                              f"its denominator vanishes but its numerator does not")
    with np.errstate(all="ignore"):
        left = np.broadcast_to(np.asarray(function(points - width), dtype=float), points.shape)
        right = np.broadcast_to(np.asarray(function(points + width), dtype=float), points.shape)

    def limited(x):
        x = np.asarray(x, dtype=float)
        y = np.array(np.broadcast_to(np.asarray(function(x), dtype=float), x.shape))
        nearest = np.clip(np.searchsorted(points, x), 1, len(points)) - 1
        upper = np.minimum(nearest + 1, len(points) - 1)
        nearest = np.where(np.abs(x - points[upper]) < np.abs(x - points[nearest]), upper,
                           nearest)
        near = np.abs(x - points[nearest]) < width
        if near.any():
            k, xs = nearest[near], x[near]
            fraction = (xs - (points[k] - width)) / (2 * width)
            y[near] = left[k] + fraction * (right[k] - left[k])
        return y

    return limited


def error_scale(function: Function, low: float, high: float,
                operating: tuple[float, float] | None = None, offset: float = 0.0,
                show: Callable[[float], str] = _show_si) -> ErrorScale:
    """The `ErrorScale` of `function`: its floor is the largest ``|f - offset|`` over
    the `operating` range (clipped to ``[low, high]``; the whole range if None,
    empty, or if the function vanishes there)."""
    ranges = [(low, high)]
    if operating is not None and max(operating[0], low) <= min(operating[1], high):
        ranges.insert(0, (max(operating[0], low), min(operating[1], high)))
    for start, stop in ranges:
        x = np.linspace(start, stop, _SCALE_SAMPLES) if stop > start else np.array([start])
        magnitude = np.abs(evaluate(function, x, (high - low) * 1e-9) - offset)
        _check_finite(magnitude, x, show)
        if magnitude.max() > 0:
            return ErrorScale(float(magnitude.max()), offset)
    return ErrorScale(float(np.finfo(float).tiny), offset)


def required_step(function: Function, low: float, high: float, tolerance: float,
                  scale: ErrorScale | None = None,
                  show: Callable[[float], str] = _show_si) -> float:
    """A first estimate of the step that meets `tolerance` (relative to `scale`).

    From ``h**2/8 * |f''(x)| <= tolerance * scale(x)`` at every ``x``, with ``f''``
    from second differences on a fine sample.
    """
    scale = scale or error_scale(function, low, high, show=show)
    ratio = _curvature_ratio(function, grid(low, high, _CURVATURE_SAMPLES), tolerance, scale,
                             show)
    worst = float(ratio.max())
    return math.sqrt(8 / worst) if worst > 0 else high - low


def _curvature_ratio(function: Function, x: np.ndarray, tolerance: float, scale: ErrorScale,
                     show) -> np.ndarray:
    """``|f''|/(tolerance*scale)`` at the inner points of the uniform sample `x`."""
    h = x[1] - x[0]
    y = evaluate(function, x, h * 1e-3)
    _check_finite(y, x, show)
    return np.abs(np.diff(y, 2)) / h**2 / (tolerance * scale.at(y[1:-1]))


def _measure(function: Function, low: float, high: float, values: np.ndarray,
             intervals, scale: ErrorScale, show) -> tuple[np.ndarray, dict]:
    """The largest error relative to `scale` inside each interval of the grid, and
    the table's error fields (measured at three points inside every interval, with
    the kernel that the numpy target runs)."""
    x = grid(low, high, len(values), intervals)
    fractions = np.array(_MEASURE_FRACTIONS if len(x) <= _LARGE_GRID else (0.5,))
    inside = (x[:-1, None] + np.diff(x)[:, None] * fractions[None, :]).ravel()
    exact = evaluate(function, inside, float(np.min(np.diff(x))) * 1e-3)
    _check_finite(exact, inside, show)
    error = np.abs(_interpolate(inside, low, high, values, intervals) - exact)
    relative = error / scale.at(exact)
    worst = int(np.argmax(relative))
    fields = dict(max_error=float(error.max()), relative_error=float(relative[worst]),
                  worst=float(inside[worst]), worst_value=float(exact[worst]))
    return relative.reshape(-1, len(fractions)).max(axis=1), fields


def tabulate(function: Function, low: float, high: float, tolerance: float,
             step: float | None = None, max_points: int = DEFAULT_MAX_POINTS,
             operating: tuple[float, float] | None = None, offset: float = 0.0,
             show: Callable[[float], str] = _show_si) -> Table:
    """Tabulate `function` over ``[low, high]`` with a measured relative error ≤ `tolerance`.

    Parameters
    ----------
    function
        Maps an array of axis values to function values (vectorised).
    low, high
        The range of the axis, in SI units.
    tolerance
        Maximum interpolation error, relative to ``max(|f(x) - offset|, floor)``
        (see `ErrorScale`).
    step
        Force this grid step instead of sizing the grid from the tolerance.
        The error is still measured (and may then exceed the tolerance).
    max_points
        Refuse tables larger than this, before building them.
    operating
        Where the neuron lives on this axis (SI units): the error scale's
        floor is the function's largest magnitude there. The whole range if None.
    offset
        1 for step factors ``exp(A*dt)``, 0 otherwise (see `ErrorScale`).
    show
        Formats an axis value (SI) for messages.

    Raises
    ------
    TabulationError
        If the function is not finite somewhere in the range, or the tolerance
        needs more than `max_points` points (the message says what would fit).
    """
    scale = error_scale(function, low, high, operating, offset, show)
    if step is not None:
        try:
            points = _points_for(step, low, high, max_points)
        except _TooManyPoints as error:
            raise TabulationError(f"{error}; a step of {show((high - low) / (max_points - 1))}"
                                  f" or coarser would fit") from None
        return build_table(function, low, high, points, None, scale, show)
    try:
        uniform, too_many = _refine(function, low, high, tolerance, max_points, scale, show), None
    except _TooManyPoints as error:
        uniform, too_many = None, error
    segmented, too_many_segmented = None, None
    if uniform is None or uniform.points > _SEGMENTED_FROM_POINTS:
        try:
            segmented = _refine_segments(function, low, high, tolerance, max_points, scale, show,
                                         uniform.points // _SEGMENTED_GAIN if uniform else None)
        except _TooManyPoints as error:
            too_many_segmented = error
        except TabulationError:
            pass  # the uniform grid's outcome stands
        if segmented is not None and (uniform is None or segmented.points * _SEGMENTED_GAIN
                                      <= uniform.points):
            return segmented
    if uniform is None:
        x = grid(low, high, _CURVATURE_SAMPLES)
        bend = _curvature_ratio(function, x, tolerance, scale, show)
        # The error shrinks with the square of the step; the refinement may need up to
        # twice the points of the estimate, hence the factor 4.
        needed = min(error.points for error in (too_many, too_many_segmented) if error)
        fits = 4 * tolerance * (needed / max_points) ** 2
        raise TabulationError(
            f"{too_many}; a tolerance of {fits:.2g} or coarser would fit, or a narrower "
            f"range, or a larger max_points. The function bends most sharply near "
            f"{show(float(x[1 + int(np.argmax(bend))]))} (a pole, a jump or a very steep "
            f"region there?)")
    return uniform


def _refine(function: Function, low: float, high: float, tolerance: float, max_points: int,
            scale: ErrorScale, show) -> Table:
    """Estimate the step from the curvature, then shrink it until the measured error fits."""
    points = _points_for(required_step(function, low, high, tolerance, scale, show), low, high,
                         max_points)
    for _ in range(_MAX_REFINEMENTS):
        table = build_table(function, low, high, points, None, scale, show)
        if table.relative_error <= tolerance:
            return table
        # Quadratic error model, with a margin; kinks (abs, clip) converge linearly
        # and take a few more rounds.
        shrink = max(2.0, 1.1 * math.sqrt(table.relative_error / tolerance))
        points = _points_for((high - low) / (points - 1) / shrink, low, high, max_points)
    raise TabulationError(
        f"the measured error stays above the tolerance {tolerance:g} even with "
        f"{points} points; the function is probably not smooth in the range")


def _refine_segments(function: Function, low: float, high: float, tolerance: float,
                     max_points: int, scale: ErrorScale, show, worth: int | None = None
                     ) -> Table | None:
    """A piecewise-uniform grid: each of `SEGMENTS` equal segments gets the step its
    own curvature needs, then segments whose measured error is too large are refined.
    None if the curvature already says it needs more than `worth` points."""
    samples = 64
    ratio = _curvature_ratio(function, grid(low, high, SEGMENTS * samples + 1), tolerance,
                             scale, show)
    # the curvature seen by each segment, including its boundary points
    needs = np.array([ratio[max(s * samples - 1, 0):(s + 1) * samples].max()
                      for s in range(SEGMENTS)])
    width = (high - low) / SEGMENTS
    intervals = np.maximum(1, np.ceil(width * np.sqrt(needs / 8)))
    if worth is not None and intervals.sum() + 1 > worth:
        return None
    for _ in range(_MAX_REFINEMENTS):
        if intervals.sum() + 1 > max_points:
            raise _TooManyPoints(int(intervals.sum()) + 1, max_points)
        shape = tuple(int(n) for n in intervals)
        values = _sample(function, low, high, int(intervals.sum()) + 1, shape, show)
        per_interval, fields = _measure(function, low, high, values, shape, scale, show)
        if fields["relative_error"] <= tolerance:
            return Table(low, high, values, scale=scale, intervals=shape, **fields)
        segment_ratio = np.maximum.reduceat(
            per_interval, np.concatenate([[0], np.cumsum(intervals)[:-1]]).astype(int)) / tolerance
        intervals = np.where(segment_ratio > 1, np.ceil(intervals * np.maximum(
            2.0, 1.1 * np.sqrt(segment_ratio))), intervals)
    raise TabulationError(
        f"the measured error stays above the tolerance {tolerance:g}; the function is "
        f"probably not smooth in the range")


def _points_for(step: float, low: float, high: float, max_points: int) -> int:
    points = max(2, math.ceil((high - low) / step - 1e-9) + 1)
    if points > max_points:
        raise _TooManyPoints(points, max_points)
    return points


def _sample(function: Function, low: float, high: float, points: int, intervals, show):
    x = grid(low, high, points, intervals)
    values = evaluate(function, x, float(np.min(np.diff(x))) * 1e-3)
    _check_finite(values, x, show)
    return values


def build_table(function: Function, low: float, high: float, points: int,
                intervals: tuple[int, ...] | None = None, scale: ErrorScale | None = None,
                show: Callable[[float], str] = _show_si) -> Table:
    """Tabulate `function` on exactly `points` grid points (on the piecewise-uniform
    grid of `intervals`, if given) and measure the error (relative to `scale`; by
    default to the function's largest magnitude over the range)."""
    scale = scale or error_scale(function, low, high, show=show)
    values = _sample(function, low, high, points, intervals, show)
    _, fields = _measure(function, low, high, values, intervals, scale, show)
    return Table(low, high, values, scale=scale, intervals=intervals, **fields)


def on_grid_of(function: Function, shape: Grid, scale: ErrorScale) -> Table:
    """`function` tabulated on the grid `shape`, its error measured against `scale`."""
    return build_table(function, shape.low, shape.high, shape.points, shape.intervals, scale)


def shared_grids(tables: list[Table], max_points: int = DEFAULT_MAX_POINTS
                 ) -> list[tuple[Grid, list[int]]]:
    """Group `tables` (one axis, same range) on as few grids as fit `max_points`.

    Every grid is at least as fine as each of its tables everywhere; it is uniform
    unless a piecewise-uniform grid needs `_SEGMENTED_GAIN` times fewer points.
    Returns ``(grid, indices)`` pairs: the positions in `tables` of the tables that
    share each grid. The finest tables are placed first; a table that would push
    a grid over `max_points` gets a grid of its own. Nothing is allocated.
    """
    groups: list[tuple[Grid, list[int]]] = []
    for index in sorted(range(len(tables)), key=lambda k: -tables[k].points):
        shape = tables[index].grid
        for position, (merged, members) in enumerate(groups):
            candidate = _merge(merged, shape)
            if candidate.points <= max_points:
                groups[position] = (candidate, members + [index])
                break
        else:
            groups.append((shape, [index]))
    return [(merged, sorted(members)) for merged, members in groups]


def finest_grid(grids: list[Grid]) -> Grid:
    """A grid at least as fine as each of `grids` (same range) everywhere."""
    merged = grids[0]
    for shape in grids[1:]:
        merged = _merge(merged, shape)
    return merged


def _merge(first: Grid, second: Grid) -> Grid:
    """A grid at least as fine as both grids everywhere."""
    if first.intervals is None and second.intervals is None:
        return max(first, second, key=lambda shape: shape.points)
    uniform = max(shape.points if shape.intervals is None
                  else len(shape.intervals) * max(shape.intervals) + 1
                  for shape in (first, second))
    intervals = tuple(int(n) for n in np.maximum(_as_segments(first), _as_segments(second)))
    if (sum(intervals) + 1) * _SEGMENTED_GAIN > uniform:
        return Grid(first.low, first.high, uniform)
    return Grid(first.low, first.high, sum(intervals) + 1, intervals)


def _as_segments(shape: Grid) -> np.ndarray:
    """Intervals per segment at least as fine as the grid `shape`."""
    if shape.intervals is not None:
        return np.asarray(shape.intervals)
    return np.full(SEGMENTS, math.ceil((shape.points - 1) / SEGMENTS))


def _check_finite(values: np.ndarray, x: np.ndarray, show=_show_si) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise TabulationError(
            f"it is not finite at {show(float(x[bad][0]))}; this is a pole or a "
            f"range where the function is undefined, not a removable singularity")
