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

__all__ = ["interpolate", "make_lookup", "implementation"]


@numba.njit(cache=True, nogil=True)
def _interpolate_into(x, low, inverse_step, packed, out):
    last = packed.size // 2 - 1
    for k in range(x.size):
        # The same operations, in the same order, as the C kernel (c_kernel.py).
        u = (x[k] - low) * inverse_step
        u = u if u > 0.0 else 0.0
        u = u if u < last else float(last)
        i = int(u)
        out[k] = packed[2 * i] + (u - i) * packed[2 * i + 1]


def interpolate(x, low: float, inverse_step: float, packed: np.ndarray) -> np.ndarray:
    """Linear interpolation in a packed table (see `autolut.tabulate.pack`), clamped at the ends.

    >>> import numpy as np
    >>> from autolut.tabulate import pack
    >>> interpolate(np.array([0.5, 1.25, 9.0]), 0.0, 1.0, pack(np.array([0.0, 1.0, 4.0])))
    array([0.5 , 1.75, 4.  ])
    """
    x = np.asarray(x, dtype=np.float64)
    flat = np.ascontiguousarray(x).reshape(-1)
    out = np.empty_like(flat)
    _interpolate_into(flat, float(low), float(inverse_step), packed, out)
    return out.reshape(x.shape) if x.shape else out[0]


def make_lookup(low: float, inverse_step: float, packed: np.ndarray):
    """A one-argument callable for Brian2's numpy code objects."""
    low, inverse_step = float(low), float(inverse_step)

    def lookup(x):
        return interpolate(x, low, inverse_step, packed)

    return lookup


def implementation(lut):
    """Dynamic implementation (code callable, namespace callable) for `lut`."""
    return dict(code=lambda owner: make_lookup(lut.table.low, lut.table.inverse_step,
                                               lut.packed),
                namespace=None)
