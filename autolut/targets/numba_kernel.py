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

__all__ = ["lookup"]


@cache_numba_kernel
@numba.njit(nogil=True)
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


@cache_numba_kernel
@numba.njit(nogil=True)
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


def lookup(x, low, high, inverse_step, packed, stride, offset, segments):
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
