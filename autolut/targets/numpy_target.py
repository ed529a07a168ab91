"""The numpy target: table lookups in a numba-compiled kernel.

Brian2's numpy code calls a Function's numpy implementation with an array of
shape (N,) (or a numpy scalar in scalar code). Registering the implementation
explicitly matters: Brian2's default wrapper re-attaches units on every call
and costs ~77 µs per call even for one neuron.

One kernel serves every table (the table is an argument), so numba compiles it
once per process (and caches it on disk).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["interpolate", "implementation"]


@numba.njit(cache=True, nogil=True)
def _interpolate_into(x, low, inverse_step, packed, stride, offset, out):
    last = packed.size // stride - 1
    for k in range(x.size):
        # The same operations, in the same order, as the C kernel (c_kernel.py).
        u = (x[k] - low) * inverse_step
        u = u if u > 0.0 else 0.0
        u = u if u < last else float(last)
        i = int(u)
        row = stride * i + offset
        out[k] = packed[row] + (u - i) * packed[row + 1]


def interpolate(x, low: float, inverse_step: float, packed: np.ndarray, stride: int = 2,
                offset: int = 0) -> np.ndarray:
    """Linear interpolation in a packed table, clamped at the ends.

    `packed` holds ``stride`` doubles per grid point; the curve's value and
    slope are at ``offset`` and ``offset + 1`` of every row (see
    `autolut.tabulate.pack` and `autolut.lutfunction.TableBank`).

    >>> import numpy as np
    >>> from autolut.tabulate import pack
    >>> interpolate(np.array([0.5, 1.25, 9.0]), 0.0, 1.0, pack(np.array([0.0, 1.0, 4.0])))
    array([0.5 , 1.75, 4.  ])
    """
    x = np.asarray(x, dtype=np.float64)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    _interpolate_into(flat, float(low), float(inverse_step), packed, stride, offset, out)
    return out.reshape(x.shape) if x.shape else out[0]


def implementation(lut):
    """Dynamic implementation of `lut` for Brian2's numpy code objects."""

    def code(owner):
        table, bank = lut.table, lut.bank
        low, inverse_step, array = table.low, table.inverse_step, bank.array
        stride, offset = bank.stride, lut.offset

        def lookup(x):
            return interpolate(x, low, inverse_step, array, stride, offset)

        return lookup

    return dict(code=code, namespace=None)
