"""The C lookup kernel shared by the cython and cpp_standalone targets.

Both targets run the *same* C function, so they agree to the last bit with
each other (and with the numba kernel under strict floating-point flags).
The helper is a Brian2 `Function` of its own that every table function lists
as a dependency: Brian2 then emits it once per generated file, however many
tables the file uses.

The lookup has no division and no branch: the grid constants, the row stride
and the curve's offset are literals in each table's code (so the compiler folds
them, and lookups of several tables on the same axis share ``u``, ``i`` and
``f`` after inlining), one clamp written as two selects, one float-to-int
conversion, and a value and slope stored side by side (two loads from one
cache line, one fused multiply-add).
"""

from __future__ import annotations

from brian2 import Function

__all__ = ["HELPER_NAME", "HELPER", "C_SOURCE", "call"]

HELPER_NAME = "autolut_interpolate"

C_SOURCE = f"""
static inline double {HELPER_NAME}(const double x, const double low, const double inverse_step,
                                   const double last, const double* packed,
                                   const int stride, const int offset)
{{
    double u = (x - low) * inverse_step;
    u = u > 0.0 ? u : 0.0;          /* below the range, and NaN, go to the first point */
    u = u < last ? u : last;
    const int i = (int)u;
    const double* row = packed + stride*i + offset;
    return row[0] + (u - i) * row[1];
}}
"""

CYTHON_SOURCE = f'''
cdef extern from *:
    """
    {C_SOURCE.replace(chr(10), chr(10) + "    ")}
    """
    double {HELPER_NAME}(double x, double low, double inverse_step, double last,
                         const double* packed, int stride, int offset) noexcept nogil
'''


def _not_callable(*args):
    raise NotImplementedError(f"{HELPER_NAME} only exists in generated code")


HELPER = Function(_not_callable, arg_units=[None] * 7, return_unit=1, stateless=True)
HELPER.implementations.add_implementation("cpp", code=C_SOURCE, name=HELPER_NAME)
HELPER.implementations.add_implementation("cython", code=CYTHON_SOURCE, name=HELPER_NAME)


def call(x: str, lut) -> str:
    """C expression looking up `x` in table function `lut` (grid constants as literals)."""
    table, bank = lut.table, lut.bank
    return (f"{HELPER_NAME}({x}, {float(table.low)!r}, {float(table.inverse_step)!r}, "
            f"{float(table.points - 1)!r}, _namespace{bank.key}, {bank.stride}, {lut.offset})")
