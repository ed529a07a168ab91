"""The numpy target: table lookups in a numba-compiled kernel.

Brian2's numpy code calls a Function's numpy implementation with an array of
shape (N,) (or a numpy scalar in scalar code). Registering the implementation
explicitly matters: Brian2's default wrapper re-attaches units on every call
and costs ~77 µs per call even for one neuron.

One kernel serves every table (the table is an argument), so numba compiles it
once per process (`autolut.targets.numba_kernel`, imported on first use). It
also counts the values outside the table's range, so that the out-of-range
policies cost nothing while every value is inside: only then are the values
outside located, and evaluated exactly (``'exact'``) or reported (``'error'``).

`interpolate` is the same arithmetic in plain numpy: tabulation measures every
table's error with it, without numba.
"""

from __future__ import annotations

import numpy as np

__all__ = ["interpolate", "implementation"]


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


def implementation(lut):
    """Dynamic implementation of `lut` for Brian2's numpy code objects, per its
    out-of-range policy (see `autolut.lutfunction.LUTFunction`)."""

    def code(owner):
        from .numba_kernel import lookup as kernel

        table, bank = lut.table, lut.bank
        grid = (table.low, table.high, table.inverse_step, bank.array, bank.stride, lut.offset,
                len(table.intervals) if table.intervals else 0)
        policy, exact = lut.policy, lut.exact.evaluate

        def lookup(x):
            shape = np.shape(x)
            flat, out, outside = kernel(x, *grid)
            if outside and policy == "exact":
                where = ~((flat >= table.low) & (flat <= table.high))
                out[where] = exact(flat[where])
            return out.reshape(shape) if shape else out[0]

        def lookup_or_fail(x, neuron):
            shape = np.shape(x)
            flat, out, outside = kernel(x, *grid)
            if outside:
                k = int(np.flatnonzero(~((flat >= table.low) & (flat <= table.high)))[0])
                raise lut.out_of_range_error(flat[k], np.broadcast_to(neuron, shape).flat[k])
            return out.reshape(shape) if shape else out[0]

        return lookup_or_fail if policy == "error" else lookup

    return dict(code=code, namespace=None)
