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
           "measure_error", "build_table", "DEFAULT_MAX_POINTS"]

Function = Callable[[np.ndarray], np.ndarray]

#: Largest table accepted by default: 2**22 points, i.e. 64 MiB with the slopes.
DEFAULT_MAX_POINTS = 2**22
# Points sampled to estimate the curvature before the first table is built.
_CURVATURE_SAMPLES = 4097
# Points measured inside every grid interval (besides its two grid points).
_MEASURE_FRACTIONS = (0.25, 0.5, 0.75)
_MAX_REFINEMENTS = 8


class TabulationError(ValueError):
    """The function cannot be tabulated as asked (singular, too many points...)."""


class _TooManyPoints(TabulationError):
    """The grid would exceed the size limit."""


@dataclasses.dataclass(frozen=True, eq=False)
class Table:
    """A function sampled on a uniform grid, with its measured error.

    ``packed`` holds value and slope of every interval side by side,
    ``[t0, t1 - t0, t1, t2 - t1, ..., t_last, 0]``, so that a lookup is
    ``packed[2*i] + f*packed[2*i + 1]``: two neighbouring loads and one FMA.
    """

    low: float
    high: float
    values: np.ndarray
    max_error: float  # measured maximum absolute interpolation error
    spread: float     # max - min of the function over the range

    @property
    def points(self) -> int:
        return len(self.values)

    @property
    def step(self) -> float:
        return (self.high - self.low) / (self.points - 1)

    @property
    def inverse_step(self) -> float:
        return (self.points - 1) / (self.high - self.low)

    @property
    def relative_error(self) -> float:
        return self.max_error / self.spread if self.spread > 0 else 0.0

    @property
    def packed(self) -> np.ndarray:
        return pack(self.values)

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


def grid(low: float, high: float, points: int) -> np.ndarray:
    """The uniform grid the lookup kernels assume: ``low + j*step``."""
    return low + np.arange(points) * ((high - low) / (points - 1))


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


def measure_error(function: Function, low: float, high: float, values: np.ndarray) -> float:
    """Maximum absolute difference between the table and the function.

    Measured at three points inside every interval with the same lookup
    kernel that the numpy target runs.
    """
    x = grid(low, high, len(values))
    step = (high - low) / (len(values) - 1)
    inside = (x[:-1, None] + step * np.array(_MEASURE_FRACTIONS)[None, :]).ravel()
    exact = evaluate(function, inside, step * 1e-3)
    _check_finite(exact, inside)
    looked_up = interpolate(inside, low, (len(values) - 1) / (high - low), pack(values))
    return float(np.max(np.abs(looked_up - exact)))


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
        return _refine(function, low, high, tolerance, max_points)
    except _TooManyPoints as error:
        x = grid(low, high, _CURVATURE_SAMPLES)
        bend = np.abs(np.diff(evaluate(function, x, (x[1] - x[0]) * 1e-3), 2))
        raise TabulationError(f"{error}; the function bends most sharply near "
                              f"{float(x[1 + int(np.argmax(bend))]):.6g} (SI units): a pole, a jump or a "
                              f"very steep region there?") from None


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


def _points_for(step: float, low: float, high: float, max_points: int) -> int:
    points = max(2, math.ceil((high - low) / step - 1e-9) + 1)
    if points > max_points:
        raise _TooManyPoints(
            f"the table would need {points} points (more than the limit of {max_points}, "
            f"{2 * 8 * max_points / 2**20:.0f} MiB); use a coarser tolerance or a "
            f"narrower range")
    return points


def build_table(function: Function, low: float, high: float, points: int) -> Table:
    """Tabulate `function` on exactly `points` grid points and measure the error."""
    x = grid(low, high, points)
    values = evaluate(function, x, (high - low) / (points - 1) * 1e-3)
    _check_finite(values, x)
    return Table(low, high, values, measure_error(function, low, high, values),
                 float(values.max() - values.min()))


def _check_finite(values: np.ndarray, x: np.ndarray) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        raise TabulationError(
            f"it is not finite at {x[bad][0]!r} (SI units); this is a pole or a "
            f"range where the function is undefined, not a removable singularity")
