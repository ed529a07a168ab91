"""The numpy target: table lookups in a numba-compiled kernel.

Brian2's numpy code calls a Function's numpy implementation with an array of
shape (N,) (or a numpy scalar in scalar code). Registering the implementation
explicitly matters: Brian2's default wrapper re-attaches units on every call
and costs ~77 µs per call even for one neuron.

One kernel serves every table (the table is an argument), so numba compiles it
once per process (and caches it on disk). It also counts the values outside
the table's range, so that the out-of-range policies cost nothing while every
value is inside: only then are the values outside located, and evaluated
exactly (``'exact'``) or reported (``'error'``).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["interpolate", "implementation"]


@numba.njit(cache=True, nogil=True)
def _interpolate_into(x, low, high, inverse_step, packed, stride, offset, out):
    last = packed.size // stride - 1
    outside = 0
    for k in range(x.size):
        # The same operations, in the same order, as the C kernel (c_kernel.py).
        u = (x[k] - low) * inverse_step
        u = u if u > 0.0 else 0.0
        u = u if u < last else float(last)
        i = int(u)
        row = stride * i + offset
        out[k] = packed[row] + (u - i) * packed[row + 1]
        if not (x[k] >= low and x[k] <= high):  # NaN counts as outside
            outside += 1
    return outside


@numba.njit(cache=True, nogil=True)
def _interpolate_segmented_into(x, low, high, inverse_width, segments, packed, stride, offset,
                                out):
    last = segments - 1
    outside = 0
    for k in range(x.size):
        # The same operations, in the same order, as the C kernel (c_kernel.py).
        u = (x[k] - low) * inverse_width
        u = u if u > 0.0 else 0.0
        u = u if u < segments else float(segments)
        s = int(u)
        s = s if s < last else last
        n = packed[2 * s]
        f = (u - s) * n
        j = int(f)
        j = j if j < n - 1.0 else int(n) - 1
        row = int(packed[2 * s + 1]) + stride * j + offset
        out[k] = packed[row] + (f - j) * packed[row + 1]
        if not (x[k] >= low and x[k] <= high):  # NaN counts as outside
            outside += 1
    return outside


def _lookup(x, low, high, inverse_step, packed, stride, offset, segments):
    """Values (flat) and how many of them fell outside the range."""
    flat = np.ascontiguousarray(x, dtype=np.float64).reshape(-1)
    out = np.empty_like(flat)
    if segments:
        outside = _interpolate_segmented_into(flat, float(low), float(high), float(inverse_step),
                                              segments, packed, stride, offset, out)
    else:
        outside = _interpolate_into(flat, float(low), float(high), float(inverse_step), packed,
                                    stride, offset, out)
    return flat, out, outside


def interpolate(x, low: float, inverse_step: float, packed: np.ndarray, stride: int = 2,
                offset: int = 0, segments: int = 0) -> np.ndarray:
    """Linear interpolation in a packed table, clamped at the ends.

    `packed` holds ``stride`` doubles per grid point; the curve's value and
    slope are at ``offset`` and ``offset + 1`` of every row (see
    `autolut.tabulate.layout`). With ``segments > 0`` the grid is piecewise
    uniform: `inverse_step` is then segments per unit of `x`, and `packed`
    starts with the segments' header.

    >>> import numpy as np
    >>> from autolut.tabulate import pack
    >>> interpolate(np.array([0.5, 1.25, 9.0]), 0.0, 1.0, pack(np.array([0.0, 1.0, 4.0])))
    array([0.5 , 1.75, 4.  ])
    """
    shape = np.shape(x)
    rows = (packed.size - 2 * segments) // stride
    high = low + (segments or rows - 1) / inverse_step
    _, out, _ = _lookup(x, low, high, inverse_step, packed, stride, offset, segments)
    return out.reshape(shape) if shape else out[0]


def implementation(lut):
    """Dynamic implementation of `lut` for Brian2's numpy code objects, per its
    out-of-range policy (see `autolut.lutfunction.LUTFunction`)."""

    def code(owner):
        table, bank = lut.table, lut.bank
        grid = (table.low, table.high, table.inverse_step, bank.array, bank.stride, lut.offset,
                len(table.intervals) if table.intervals else 0)
        policy, exact, fallbacks = lut.policy, lut.exact.evaluate, lut.fallbacks

        def lookup(x):
            shape = np.shape(x)
            flat, out, outside = _lookup(x, *grid)
            if outside and policy == "exact":
                where = ~((flat >= table.low) & (flat <= table.high))
                values = flat[where]
                out[where] = exact(values)
                fallbacks[0] += outside
                with np.errstate(invalid="ignore"):
                    fallbacks[1] = np.fmin(fallbacks[1], np.nanmin(values, initial=np.inf))
                    fallbacks[2] = np.fmax(fallbacks[2], np.nanmax(values, initial=-np.inf))
            return out.reshape(shape) if shape else out[0]

        def lookup_or_fail(x, neuron):
            shape = np.shape(x)
            flat, out, outside = _lookup(x, *grid)
            if outside:
                k = int(np.flatnonzero(~((flat >= table.low) & (flat <= table.high)))[0])
                raise lut.out_of_range_error(flat[k], np.broadcast_to(neuron, shape).flat[k])
            return out.reshape(shape) if shape else out[0]

        return lookup_or_fail if policy == "error" else lookup

    return dict(code=code, namespace=None)
