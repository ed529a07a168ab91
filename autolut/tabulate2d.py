"""Two-axis tables: sample a function of two variables on a uniform rectangular grid,
size the grid for a tolerance, measure the error.

Pure numpy, like `autolut.tabulate`, whose tolerance this module keeps: the error
of a table at ``(x, y)`` is measured against the function's local magnitude,
with a floor::

    |table(x, y) - f(x, y)| <= tolerance * max(|f(x, y) - offset|, floor)

where ``floor`` is the largest ``|f - offset|`` over the *operating rectangle*
(by default the whole rectangle; see `autolut.tabulate.ErrorScale`). A lookup
interpolates bilinearly between the four grid points around ``(x, y)``
(`autolut.targets.numpy_target.interpolate_2d`, the arithmetic of every
target's kernel) and is clamped at the edges.

Bilinear interpolation errs by about ``hx**2/8*|f_xx| + hy**2/8*|f_yy|`` (it is
exact for ``x*y``: the mixed derivative does not count). Each axis' step is
first *estimated* from second differences along it, with half the error budget
each (or all of it, but what the other axis costs with two points if the
function is nearly straight along that one). Then the table is built and its
error *measured* inside every cell; the errors on the cell edges along each axis
say which axis needs more points, and the grid is refined until the measured
error meets the tolerance.

Examples
--------
>>> import numpy as np
>>> table = tabulate_2d(lambda x, y: np.exp(x) / (1 + y), (0.0, 0.0), (1.0, 1.0), 1e-5)
>>> table.shape, bool(table.relative_error <= 1e-5)
((160, 225), True)
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np

from .tabulate import (_LARGE_GRID, _MAX_REFINEMENTS, _MEASURE_FRACTIONS, DEFAULT_MAX_POINTS,
                       ErrorScale, Table, TabulationError, _show_si, _smooth_across, grid)
from .targets.numpy_target import interpolate_2d

__all__ = ["Table2D", "Grid2D", "tabulate_2d", "build_table_2d", "on_grid_of_2d",
           "finest_grid_2d", "error_scale_2d", "layout_2d", "lookup_2d", "bounds"]

Function2D = Callable[[np.ndarray, np.ndarray], np.ndarray]
Show = Callable[[float], str]
Pair = tuple[float, float]
Rectangle = tuple[Pair, Pair]  # (low x, low y), (high x, high y)

# Samples along an axis to estimate the curvature along it, and across it: the
# curvature of a smooth function changes slowly across, and this keeps the
# estimate at about half a million evaluations.
_CURVATURE_ALONG = 2049
_CURVATURE_ACROSS = 129
# Samples per axis over the operating rectangle to find the error scale's floor.
_SCALE_SAMPLES = 257
# Points evaluated at once while measuring: a fine grid is measured in blocks of
# rows, so that the temporary arrays stay at a few tens of MiB.
_BLOCK = 2**20
# Refinement: the quadratic error model with a margin, and at least this much
# finer per refined axis (kinks converge linearly and would creep otherwise).
_MARGIN = 1.1
_LEAST_REFINEMENT = 1.25
# The first table may need refining (_LEAST_REFINEMENT, the margin): a tolerance
# this many times coarser than what merely scales the grid into max_points fits.
_FIT_MARGIN = 2


class _TooManyPoints(TabulationError):
    """The grid would exceed the size limit."""

    def __init__(self, shape: tuple[int, int], max_points: int):
        super().__init__(f"the table would need {shape[0]} x {shape[1]} = {shape[0] * shape[1]} "
                         f"points, more than max_points = {max_points} "
                         f"({8 * max_points / 2**20:.3g} MiB)")
        self.shape = shape


@dataclasses.dataclass(frozen=True)
class Grid2D:
    """The grid of a two-axis table: ``shape[k]`` uniform points on ``[low[k], high[k]]``
    for each axis ``k`` (``x`` first)."""

    low: Pair
    high: Pair
    shape: tuple[int, int]

    @property
    def points(self) -> int:
        return self.shape[0] * self.shape[1]


@dataclasses.dataclass(frozen=True, eq=False)
class Table2D:
    """A function of two variables sampled on a uniform rectangular grid, with its
    measured error: ``values[i, j]`` is the function at ``(x[0][i], x[1][j])``.

    ``max_error`` is the largest absolute error measured; ``relative_error`` the
    largest error relative to the `ErrorScale` (what the tolerance bounds), found
    at ``worst``, where the function's exact value is ``worst_value``.
    """

    low: Pair
    high: Pair
    values: np.ndarray
    max_error: float
    relative_error: float
    worst: Pair
    worst_value: float
    scale: ErrorScale

    @property
    def shape(self) -> tuple[int, int]:
        return self.values.shape

    @property
    def points(self) -> int:
        return self.values.size

    @property
    def step(self) -> Pair:
        return tuple((high - low) / (n - 1)
                     for low, high, n in zip(self.low, self.high, self.shape))

    @property
    def inverse_step(self) -> Pair:
        """Intervals per unit of each axis."""
        return tuple((n - 1) / (high - low)
                     for low, high, n in zip(self.low, self.high, self.shape))

    @property
    def x(self) -> tuple[np.ndarray, np.ndarray]:
        """The grid points of each axis."""
        return tuple(grid(low, high, n) for low, high, n in zip(self.low, self.high, self.shape))

    @property
    def nbytes(self) -> int:
        return self.values.nbytes

    @property
    def grid(self) -> Grid2D:
        return Grid2D(self.low, self.high, self.shape)

    @property
    def intervals(self) -> None:
        """Always None: two-axis grids are uniform (code written for `Table` reads it)."""
        return None


def bounds(table: Table | Table2D) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """The lowest and the highest value of each axis of a table of one axis or two.

    >>> bounds(Table(0.0, 1.0, np.zeros(2), 0.0, 0.0, 0.0, 0.0, ErrorScale(1.0)))
    ((0.0,), (1.0,))
    """
    if isinstance(table, Table2D):
        return tuple(table.low), tuple(table.high)
    return (table.low,), (table.high,)


def layout_2d(curves: list[np.ndarray]) -> np.ndarray:
    """The array a lookup kernel reads: the values of several curves on one grid
    interleaved point by point (element ``(i*ny + j)*len(curves) + c`` is curve ``c``
    at ``(x_i, y_j)``), so that the four corners of a cell are the same for all.

    >>> layout_2d([np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0, 6.0], [7.0, 8.0]])])
    array([1., 5., 2., 6., 3., 7., 4., 8.])
    """
    return np.ascontiguousarray(np.stack(curves, axis=-1), dtype=np.float64).reshape(-1)


def _interpolate(x, y, low: Pair, high: Pair, shape: tuple[int, int], packed: np.ndarray
                 ) -> np.ndarray:
    (nx, ny) = shape
    return interpolate_2d(x, y, low[0], (nx - 1) / (high[0] - low[0]), nx,
                          low[1], (ny - 1) / (high[1] - low[1]), ny, packed)


def lookup_2d(x, y, table: Table2D) -> np.ndarray:
    """`table` interpolated at ``(x, y)`` (broadcast together) by the kernel the numpy
    target runs."""
    return _interpolate(x, y, table.low, table.high, table.shape, layout_2d([table.values]))


def _evaluate(function: Function2D, x: np.ndarray, y: np.ndarray, delta: Pair) -> np.ndarray:
    """`function` at ``(x, y)`` (broadcast together), with removable singularities
    replaced by their limit along an axis (see `autolut.tabulate.evaluate`): the
    mean of the values at ``±delta`` along `x`, else along `y`, where the function
    is smooth across the point. Poles stay non-finite, for the caller to report."""
    with np.errstate(all="ignore"):
        # the function gets the axes unbroadcast: what depends on one axis only is
        # computed once per row or column
        x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
        shape = np.broadcast_shapes(x.shape, y.shape)
        values = np.array(np.broadcast_to(np.asarray(function(x, y), dtype=float), shape))
        bad = ~np.isfinite(values)
        if not bad.any():
            return values
        xs, ys = np.broadcast_to(x, shape)[bad], np.broadcast_to(y, shape)[bad]
        along_x, limit_x = _smooth_across(lambda s: function(s, ys), xs, delta[0], 1e-6)
        along_y, limit_y = _smooth_across(lambda s: function(xs, s), ys, delta[1], 1e-6)
        values[bad] = np.where(along_x, limit_x, np.where(along_y, limit_y, np.nan))
    return values


def _check_finite(values: np.ndarray, x: np.ndarray, y: np.ndarray, show) -> None:
    bad = ~np.isfinite(values)
    if bad.any():
        k = int(np.argmax(bad.reshape(-1)))
        at_x = float(np.broadcast_to(x, values.shape).flat[k])
        at_y = float(np.broadcast_to(y, values.shape).flat[k])
        raise TabulationError(
            f"it is not finite at {show[0](at_x)}, {show[1](at_y)}; this is a pole or a "
            f"region where the function is undefined, not a removable singularity")


def _sample(function: Function2D, x: np.ndarray, y: np.ndarray, show) -> np.ndarray:
    """`function` on the grid ``x`` by ``y`` (1-D arrays, at least 2 points each)."""
    values = _evaluate(function, x[:, None], y[None, :], (np.min(np.diff(x)) * 1e-3,
                                                          np.min(np.diff(y)) * 1e-3))
    _check_finite(values, x[:, None], y[None, :], show)
    return values


def _operating_rectangle(operating, low: Pair, high: Pair) -> Rectangle | None:
    """`operating` clipped to the table's rectangle; None if that is empty."""
    lows, highs = [], []
    for axis, bounds in enumerate(operating):
        start, stop = (low[axis], high[axis]) if bounds is None else (
            max(bounds[0], low[axis]), min(bounds[1], high[axis]))
        if start > stop:
            return None
        lows.append(start)
        highs.append(stop)
    return tuple(lows), tuple(highs)


def error_scale_2d(function: Function2D, low: Pair, high: Pair, operating=None,
                   offset: float = 0.0, show: tuple[Show, Show] = (_show_si, _show_si)
                   ) -> ErrorScale:
    """The `ErrorScale` of `function`: its floor is the largest ``|f - offset|`` over
    the `operating` rectangle.

    `operating` is a pair (one per axis) of ``(low, high)`` bounds, each clipped
    to the axis' range, or None for the whole axis; the whole rectangle is used
    if `operating` is None, if the clipped rectangle is empty, or if the
    function vanishes there.
    """
    rectangles = [(low, high)]
    clipped = None if operating is None else _operating_rectangle(operating, low, high)
    if clipped is not None:
        rectangles.insert(0, clipped)
    for starts, stops in rectangles:
        x, y = (np.linspace(start, stop, _SCALE_SAMPLES) if stop > start else np.array([start])
                for start, stop in zip(starts, stops))
        delta = tuple((b - a) * 1e-9 for a, b in zip(low, high))
        magnitude = np.abs(_evaluate(function, x[:, None], y[None, :], delta) - offset)
        _check_finite(magnitude, x[:, None], y[None, :], show)
        if magnitude.max() > 0:
            return ErrorScale(float(magnitude.max()), offset)
    return ErrorScale(float(np.finfo(float).tiny), offset)


def _straight_errors(function: Function2D, low: Pair, high: Pair, tolerance: float,
                     scale: ErrorScale, show) -> tuple[Pair, Pair]:
    """The error of two points per axis, in units of `tolerance`, as the curvature
    along each axis predicts it (``width**2/8 * |f''|``), and where the function
    bends most sharply (the point that asks for the most points)."""
    errors, sharpest, most = [], (low[0], low[1]), -1.0
    for axis in (0, 1):
        shape = [_CURVATURE_ACROSS, _CURVATURE_ACROSS]
        shape[axis] = _CURVATURE_ALONG
        x, y = (grid(a, b, n) for a, b, n in zip(low, high, shape))
        values = _sample(function, x, y, show)
        width = high[axis] - low[axis]
        h = width / (_CURVATURE_ALONG - 1)
        inner = values[1:-1, :] if axis == 0 else values[:, 1:-1]
        ratio = (width**2 / 8 * np.abs(np.diff(values, 2, axis=axis)) / h**2
                 / (tolerance * scale.at(inner)))
        errors.append(float(ratio.max()))
        if errors[-1] > most:
            i, j = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
            sharpest = (float(x[i + 1 - axis]), float(y[j + axis]))
            most = errors[-1]
    return tuple(errors), sharpest


def _budgets(errors: Pair) -> Pair:
    """How to share the tolerance (1) between the axes whose errors are `errors`.

    Half each minimises the points (``nx*ny`` for ``ex/nx**2 + ey/ny**2 = 1``),
    unless an axis needs less than half as it is: it keeps its points and its
    share, and the other axis gets the rest.
    """
    if errors[0] <= 0.5:
        return errors[0], 1.0 - errors[0]
    if errors[1] <= 0.5:
        return 1.0 - errors[1], errors[1]
    return 0.5, 0.5


def _resized(shape: tuple[int, int], errors: Pair, margin: float, least: float
             ) -> tuple[int, int]:
    """The shape whose error fits the tolerance, from the errors (in units of the
    tolerance) of each axis with `shape`: each error shrinks with the square of
    the step. An axis that is refined gets at least `least` times more intervals."""
    resized = []
    for points, error, budget in zip(shape, errors, _budgets(errors)):
        if error > budget:
            finer = max(least, margin * math.sqrt(error / budget))
            points = math.ceil((points - 1) * finer - 1e-9) + 1
        resized.append(points)
    return tuple(resized)


def _worst_on(function: Function2D, x: np.ndarray, y: np.ndarray, low: Pair, high: Pair,
              shape: tuple[int, int], packed: np.ndarray, scale: ErrorScale, show) -> dict:
    """The error fields of the table of `shape` points laid out in `packed`, over the
    grid ``x`` by ``y`` of measured points, measured in blocks of rows."""
    delta = tuple((b - a) / (n - 1) * 1e-3 for a, b, n in zip(low, high, shape))
    rows = max(1, _BLOCK // len(y))
    fields = dict(max_error=0.0, relative_error=-1.0)
    for start in range(0, len(x), rows):
        block = x[start:start + rows, None]
        exact = _evaluate(function, block, y[None, :], delta)
        _check_finite(exact, block, y[None, :], show)
        error = np.abs(_interpolate(block, y[None, :], low, high, shape, packed) - exact)
        relative = error / scale.at(exact)
        k = int(np.argmax(relative))
        i, j = np.unravel_index(k, relative.shape)
        fields["max_error"] = max(fields["max_error"], float(error.max()))
        if relative.flat[k] > fields["relative_error"]:
            fields.update(relative_error=float(relative.flat[k]),
                          worst=(float(block[i, 0]), float(y[j])), worst_value=float(exact[i, j]))
    return fields


def _measure(function: Function2D, low: Pair, high: Pair, values: np.ndarray,
             scale: ErrorScale, show) -> tuple[dict, Pair]:
    """The table's error fields, and the largest relative errors on the cell edges
    along ``x`` (midpoints, ``y`` on the grid) and along ``y``: what each axis'
    step costs.

    Measured, with the kernel the numpy target runs, at the edge midpoints and
    at the quarter points and centre of every cell; grids of more than
    `_LARGE_GRID` cells at the centres only inside the cells (bilinear
    interpolation of a function smooth at the scale of the steps errs most
    there), to keep them at seconds.
    """
    x, y = (grid(a, b, n) for a, b, n in zip(low, high, values.shape))
    dense = (len(x) - 1) * (len(y) - 1) <= _LARGE_GRID
    fractions = np.array(_MEASURE_FRACTIONS if dense else (0.5,))
    x_inside, y_inside = ((axis[:-1, None] + np.diff(axis)[:, None] * fractions).ravel()
                          for axis in (x, y))
    x_middles, y_middles = (axis[:-1] + np.diff(axis) / 2 for axis in (x, y))
    table = (low, high, values.shape, layout_2d([values]))
    along_x = _worst_on(function, x_middles, y, *table, scale, show)
    along_y = _worst_on(function, x, y_middles, *table, scale, show)
    inside = _worst_on(function, x_inside, y_inside, *table, scale, show)
    fields = max(along_x, along_y, inside, key=lambda found: found["relative_error"])
    fields["max_error"] = max(along_x["max_error"], along_y["max_error"], inside["max_error"])
    return fields, (along_x["relative_error"], along_y["relative_error"])


def _build(function: Function2D, low: Pair, high: Pair, shape: tuple[int, int],
           scale: ErrorScale, show) -> tuple[Table2D, Pair]:
    """The table on `shape`, and the errors on the cell edges along each axis."""
    values = _sample(function, *(grid(a, b, n) for a, b, n in zip(low, high, shape)), show)
    fields, edges = _measure(function, low, high, values, scale, show)
    return Table2D(low, high, values, scale=scale, **fields), edges


def build_table_2d(function: Function2D, low: Pair, high: Pair, shape: tuple[int, int],
                   scale: ErrorScale | None = None,
                   show: tuple[Show, Show] = (_show_si, _show_si)) -> Table2D:
    """Tabulate `function` on exactly ``shape[0]`` by ``shape[1]`` grid points and
    measure the error (relative to `scale`; by default to the function's largest
    magnitude over the rectangle)."""
    scale = scale or error_scale_2d(function, low, high, show=show)
    return _build(function, low, high, shape, scale, show)[0]


def on_grid_of_2d(function: Function2D, shape: Grid2D, scale: ErrorScale,
                  show: tuple[Show, Show] = (_show_si, _show_si)) -> Table2D:
    """`function` tabulated on the grid `shape`, its error measured against `scale`."""
    return build_table_2d(function, shape.low, shape.high, shape.shape, scale, show)


def finest_grid_2d(grids: list[Grid2D]) -> Grid2D:
    """A grid at least as fine as each of `grids` (same rectangle) on each axis."""
    shape = tuple(max(shape.shape[axis] for shape in grids) for axis in (0, 1))
    return Grid2D(grids[0].low, grids[0].high, shape)


def tabulate_2d(function: Function2D, low: Pair, high: Pair, tolerance: float,
                max_points: int = DEFAULT_MAX_POINTS, operating=None, offset: float = 0.0,
                show: tuple[Show, Show] = (_show_si, _show_si)) -> Table2D:
    """Tabulate `function` over the rectangle with a measured relative error ≤ `tolerance`.

    Parameters
    ----------
    function
        Maps two arrays that broadcast together (``x``, ``y``) to function values.
    low, high
        The corners of the rectangle, ``(x, y)``, in SI units.
    tolerance
        Maximum interpolation error, relative to ``max(|f(x, y) - offset|, floor)``
        (see `autolut.tabulate.ErrorScale`).
    max_points
        Refuse tables of more points than this, before building them.
    operating
        Where the neuron lives (SI units): one ``(low, high)`` per axis, or None
        for the whole axis; the error scale's floor is the function's largest
        magnitude there. The whole rectangle if None.
    offset
        1 for step factors ``exp(A*dt)``, 0 otherwise (see `ErrorScale`).
    show
        Format a value of each axis (SI) for messages.

    Raises
    ------
    TabulationError
        If the function is not finite somewhere in the rectangle, or the
        tolerance needs more than `max_points` points (the message says what
        would fit).
    """
    scale = error_scale_2d(function, low, high, operating, offset, show)
    errors, sharpest = _straight_errors(function, low, high, tolerance, scale, show)
    try:
        return _refine(function, low, high, tolerance, max_points, scale, show,
                       _resized((2, 2), errors, 1.0, 1.0))
    except _TooManyPoints as error:
        fits = _FIT_MARGIN * tolerance * _coarsening(error.shape, max_points) ** 2
        raise TabulationError(
            f"{error}; a tolerance of {fits:.2g} or coarser would fit, or narrower ranges, "
            f"or a larger max_points. The function bends most sharply near "
            f"{show[0](sharpest[0])}, {show[1](sharpest[1])} (a pole, a jump or a very "
            f"steep region there?)") from None


def _refine(function: Function2D, low: Pair, high: Pair, tolerance: float, max_points: int,
            scale: ErrorScale, show, shape: tuple[int, int]) -> Table2D:
    """Build the table on `shape`, then refine the axes whose edges err most until the
    measured error fits."""
    for _ in range(_MAX_REFINEMENTS):
        if shape[0] * shape[1] > max_points:
            raise _TooManyPoints(shape, max_points)
        table, edges = _build(function, low, high, shape, scale, show)
        ratio = table.relative_error / tolerance
        if ratio <= 1:
            return table
        # The error inside a cell is about the sum of the errors along its edges: share
        # the measured error between the axes as the edges do.
        total = edges[0] + edges[1]
        shares = (edges[0] / total, edges[1] / total) if total > 0 else (0.5, 0.5)
        shape = _resized(shape, (ratio * shares[0], ratio * shares[1]), _MARGIN,
                         _LEAST_REFINEMENT)
    raise TabulationError(
        f"the measured error stays above the tolerance {tolerance:g} even with "
        f"{shape[0]} x {shape[1]} points; the function is probably not smooth in the "
        f"rectangle")


def _coarsening(shape: tuple[int, int], max_points: int) -> float:
    """By how much both steps of `shape` must grow for the grid to fit `max_points`."""
    def points(coarser):
        return math.prod(max(2, math.ceil((n - 1) / coarser - 1e-9) + 1) for n in shape)

    fine, coarse = 1.0, float(max(shape))
    for _ in range(60):  # bisection, on a log scale
        middle = math.sqrt(fine * coarse)
        fine, coarse = (fine, middle) if points(middle) <= max_points else (middle, coarse)
    return coarse
