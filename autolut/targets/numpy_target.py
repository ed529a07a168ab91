"""The numpy target: table lookups in a numba-compiled kernel.

Brian2's numpy code calls a Function's numpy implementation with an array of
shape (N,) (or a numpy scalar in scalar code). Registering the implementation
explicitly matters: Brian2's default wrapper re-attaches units on every call
and costs ~77 µs per call even for one neuron.

One kernel serves every table of one axis, and another every 2-D table (the
table is an argument), so numba compiles them once per process
(`autolut.targets.numba_kernel`, imported on first use). It also counts the
values outside the table's range, so that the out-of-range policies cost
nothing while every value is inside: only then are the values outside
located, and evaluated exactly (``'exact'``) or reported (``'error'``).

`interpolate` is the same arithmetic in plain numpy: tabulation measures every
table's error with it, without numba. `interpolate_2d` is that of the two-axis
tables (`autolut.tabulate2d`).
"""

from __future__ import annotations

import numpy as np

__all__ = ["interpolate", "interpolate_2d", "implementation"]


def interpolate(x, low: float, inverse_step: float, packed: np.ndarray, stride: int = 2,
                offset: int = 0, segments: int = 0) -> np.ndarray:
    """Linear interpolation in a packed table, clamped at the ends.

    `packed` holds ``stride`` doubles per grid point; the curve's value and
    slope are at ``offset`` and ``offset + 1`` of every row (see
    `autolut.tabulate.layout`). With ``segments > 0`` the grid is piecewise
    uniform: `inverse_step` is then segments per unit of `x`, and `packed`
    starts with the segments' header. The operations, and their order, are
    those of every target's kernel (numba and C), so the result is theirs to
    the last bit.

    >>> import numpy as np
    >>> from autolut.tabulate import pack
    >>> interpolate(np.array([0.5, 1.25, 9.0]), 0.0, 1.0, pack(np.array([0.0, 1.0, 4.0])))
    array([0.5 , 1.75, 4.  ])
    """
    x = np.asarray(x, dtype=np.float64)
    # np.where, not np.maximum/np.minimum: as in the kernels, NaN clamps to the low end
    u = (x - low) * inverse_step
    u = np.where(u > 0.0, u, 0.0)
    if segments:
        u = np.where(u < segments, u, float(segments))
        s = u.astype(np.int64)
        s = np.where(s < segments - 1, s, segments - 1)
        n = packed[2 * s]
        f = (u - s) * n
        j = f.astype(np.int64)
        j = np.where(j < n - 1.0, j, n.astype(np.int64) - 1)
        row = packed[2 * s + 1].astype(np.int64) + stride * j + offset
        values = packed[row] + (f - j) * packed[row + 1]
    else:
        last = packed.size // stride - 1
        u = np.where(u < last, u, float(last))
        i = u.astype(np.int64)
        row = stride * i + offset
        values = packed[row] + (u - i) * packed[row + 1]
    return values if values.shape else values[()]


def interpolate_2d(x, y, low_x: float, inverse_x: float, nx: int, low_y: float,
                   inverse_y: float, ny: int, packed: np.ndarray, stride: int = 1,
                   offset: int = 0) -> np.ndarray:
    """Bilinear interpolation in a packed table of ``nx`` by ``ny`` points, clamped at
    the edges (outside the rectangle, the value at the nearest edge).

    `packed` holds ``stride`` doubles per grid point, ``x`` the slow axis: the
    curve's value at ``(x_i, y_j)`` is at ``(i*ny + j)*stride + offset`` (see
    `autolut.tabulate2d.layout_2d`). `x` and `y` broadcast together; NaN goes
    to the low edge. The operations, and their order, are those of the numba
    and C kernels, so the result is theirs to the last bit.

    >>> import numpy as np
    >>> corners = np.array([0.0, 1.0, 10.0, 11.0])  # f = 10*x + y on [0, 1] x [0, 1]
    >>> interpolate_2d(np.array([0.5, 0.25, 7.0]), np.array([0.5, 1.0, -7.0]),
    ...                0.0, 1.0, 2, 0.0, 1.0, 2, corners)
    array([ 5.5,  3.5, 10. ])
    """
    i, fx = _cell(np.asarray(x, dtype=np.float64), low_x, inverse_x, nx)
    j, fy = _cell(np.asarray(y, dtype=np.float64), low_y, inverse_y, ny)
    r0 = (i * ny + j) * stride + offset
    r1 = r0 + ny * stride
    a = packed[r0] + fy * (packed[r0 + stride] - packed[r0])
    b = packed[r1] + fy * (packed[r1 + stride] - packed[r1])
    values = a + fx * (b - a)
    return values if values.shape else values[()]


def _cell(x: np.ndarray, low: float, inverse_step: float, points: int):
    """The cell of `x` on an axis of `points` points, and how far across it `x` lies.

    The top edge lies in the last cell (at fraction 1), so that the four
    corners of a cell are always grid points.
    """
    # np.where, not np.maximum/np.minimum: as in the kernels, NaN clamps to the low end
    u = (x - low) * inverse_step
    u = np.where(u > 0.0, u, 0.0)
    u = np.where(u < points - 1, u, float(points - 1))
    i = u.astype(np.int64)
    i = np.where(i < points - 2, i, points - 2)
    return i, u - i


def implementation(lut):
    """Dynamic implementation of `lut` for Brian2's numpy code objects, per its
    out-of-range policy (see `autolut.lutfunction.LUTFunction`): a function of the
    axis values (one array per axis) and, under ``'error'``, the neuron index."""

    def code(owner):
        from . import numba_kernel

        table, bank = lut.table, lut.bank
        if bank.dimensions == 2:
            grid = (table.low, table.high, table.inverse_step, table.shape, bank.array,
                    bank.stride, lut.offset)

            def kernel(x, y):
                return numba_kernel.lookup_2d(x, y, *grid)
        else:
            grid = (table.low, table.high, table.inverse_step, bank.array, bank.stride,
                    lut.offset, len(table.intervals) if table.intervals else 0)

            def kernel(x):
                return numba_kernel.lookup(x, *grid)

        policy, exact = lut.policy, lut.exact.evaluate
        lows, highs = lut.bounds

        def outside(flats):
            """Where any axis value lies outside its range (NaN included)."""
            inside = True
            for flat, low, high in zip(flats, lows, highs):
                inside = inside & (flat >= low) & (flat <= high)
            return ~inside

        def lookup(*values):
            shape = np.broadcast_shapes(*(np.shape(value) for value in values))
            *flats, out, count = kernel(*values)
            if count and policy == "exact":
                where = outside(flats)
                out[where] = exact(*(flat[where] for flat in flats))
            return out.reshape(shape) if shape else out[0]

        def lookup_or_fail(*values):
            *values, neuron = values
            shape = np.broadcast_shapes(*(np.shape(value) for value in values))
            *flats, out, count = kernel(*values)
            if count:
                k = int(np.flatnonzero(outside(flats))[0])
                raise lut.out_of_range_error(tuple(float(flat[k]) for flat in flats),
                                             np.broadcast_to(neuron, shape).flat[k])
            return out.reshape(shape) if shape else out[0]

        return lookup_or_fail if policy == "error" else lookup

    return dict(code=code, namespace=None)
