"""The numba-compiled lookup loops of the numpy target.

Imported only when a numpy code object first needs a table (see
`autolut.targets.numpy_target`): importing numba and compiling a kernel adds
about 75 000 Python objects, which Brian2's ``gc.collect()`` at the start of
every ``run()`` would walk (about 25 ms per run) even on the compiled targets,
which never use them.

The kernels are cached on disk in autolut's per-user cache directory
(`autolut.cache`).
"""

from __future__ import annotations

import numba
import numpy as np

from ..cache import cache_numba_kernel

__all__ = ["lookup", "lookup_2d"]


# The same operations, in the same order, as the C kernel (c_kernel.py).
@numba.njit(nogil=True, inline="always")
def _position(x, low, inverse_step, top):
    """Position of `x` on the grid, clamped to [0, top] (NaN to 0)."""
    u = (x - low) * inverse_step
    u = u if u > 0.0 else 0.0
    return u if u < top else top


@numba.njit(nogil=True, inline="always")
def _uniform(x, low, inverse_step, last, packed, stride, offset):
    u = _position(x, low, inverse_step, float(last))
    i = int(u)
    row = stride * i + offset
    return packed[row] + (u - i) * packed[row + 1]


@numba.njit(nogil=True, inline="always")
def _segmented(x, low, inverse_width, segments, packed, stride, offset):
    u = _position(x, low, inverse_width, float(segments))
    s = int(u)
    s = s if s < segments - 1 else segments - 1
    n = packed[2 * s]
    f = (u - s) * n
    j = int(f)
    j = j if j < n - 1.0 else int(n) - 1
    row = int(packed[2 * s + 1]) + stride * j + offset
    return packed[row] + (f - j) * packed[row + 1]


@numba.njit(nogil=True, inline="always")
def _cell(x, low, inverse_step, points):
    """The cell of `x` on an axis of `points` points (the top edge in the last one),
    and how far across it `x` lies."""
    u = _position(x, low, inverse_step, float(points - 1))
    i = int(u)
    i = i if i < points - 2 else points - 2
    return i, u - i


@cache_numba_kernel
@numba.njit(nogil=True)
def _interpolate_into(x, low, high, inverse_step, packed, stride, offset, segments, out):
    """Lookups of every `x` into `out` (piecewise uniform with ``segments > 0``, where
    `inverse_step` is segments per unit); returns how many fell outside."""
    last = packed.size // stride - 1
    outside = 0
    for k in range(x.size):  # the branch on segments is loop-invariant: hoisted
        if segments:
            out[k] = _segmented(x[k], low, inverse_step, segments, packed, stride, offset)
        else:
            out[k] = _uniform(x[k], low, inverse_step, last, packed, stride, offset)
        if not (x[k] >= low and x[k] <= high):  # NaN counts as outside
            outside += 1
    return outside


def lookup(x, low, high, inverse_step, packed, stride, offset, segments):
    """Values (flat) and how many of them fell outside the range."""
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    outside = _interpolate_into(flat, float(low), float(high), float(inverse_step), packed,
                                stride, offset, int(segments), out)
    return flat, out, outside


@cache_numba_kernel
@numba.njit(nogil=True)
def _interpolate_2d_into(x, y, low_x, high_x, inverse_x, nx, low_y, high_y, inverse_y, ny,
                         packed, stride, offset, out):
    """Bilinear lookups of every ``(x, y)`` into `out`; returns how many fell outside
    the rectangle."""
    outside = 0
    for k in range(x.size):
        i, fx = _cell(x[k], low_x, inverse_x, nx)
        j, fy = _cell(y[k], low_y, inverse_y, ny)
        r0 = (i * ny + j) * stride + offset
        r1 = r0 + ny * stride
        a = packed[r0] + fy * (packed[r0 + stride] - packed[r0])
        b = packed[r1] + fy * (packed[r1 + stride] - packed[r1])
        out[k] = a + fx * (b - a)
        # NaN counts as outside
        if not (x[k] >= low_x and x[k] <= high_x and y[k] >= low_y and y[k] <= high_y):
            outside += 1
    return outside


def lookup_2d(x, y, low, high, inverse_step, shape, packed, stride, offset):
    """`x` and `y` broadcast together and flat, the values there (flat), and how many
    of the points fell outside the rectangle. `low`, `high`, `inverse_step` and
    `shape` are pairs (x axis, y axis)."""
    x, y = np.broadcast_arrays(np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64))
    flat_x = np.ascontiguousarray(x).reshape(-1)
    flat_y = np.ascontiguousarray(y).reshape(-1)
    out = np.empty_like(flat_x)
    outside = _interpolate_2d_into(
        flat_x, flat_y, float(low[0]), float(high[0]), float(inverse_step[0]), int(shape[0]),
        float(low[1]), float(high[1]), float(inverse_step[1]), int(shape[1]), packed,
        int(stride), int(offset), out)
    return flat_x, flat_y, out, outside
