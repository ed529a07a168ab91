"""The C code shared by the cython and cpp_standalone targets.

Both targets run the *same* C functions, so they agree to the last bit with
each other (and with the numba kernel under strict floating-point flags).

* `function_source` writes one table's function, with its out-of-range
  policy: ``'clamp'`` is the bare lookup; ``'exact'`` evaluates the exact
  expression (printed by `c_expression`) for a value outside the range;
  ``'error'`` calls the target's failure code with a message naming the table,
  the variable, the value and the neuron.

The lookup has no division and no branch: the grid constants, the row stride
and the curve's offset are literals in each table's code (so the compiler folds
them, and lookups of several tables on the same axis share ``u``, ``i`` and
``f`` after inlining), one clamp written as two selects, one float-to-int
conversion, and a value and slope stored side by side (two loads from one
cache line, one fused multiply-add). The policies add one well-predicted
branch on the axis value.

Two-axis tables (`autolut.tabulate2d`) are read by the `HELPER_2D_NAME`
kernel: bilinear interpolation between the four grid points around the point,
with the same clamps on each axis. Their functions take ``x`` and ``y`` (the
table's axes, in its order); they are inside their range where both are, and
the exact expression is C code of both.
"""

from __future__ import annotations

from collections.abc import Callable

from .c_expression import SUPPORT_CODE

__all__ = ["HELPER_NAME", "HELPER_2D_NAME", "KERNEL", "ARGUMENTS", "call", "function_source",
           "cython_extern"]

HELPER_NAME = "autolut_interpolate"
HELPER_2D_NAME = "autolut_interpolate_2d"
SEGMENTED_NAME = "autolut_interpolate_segmented"
FAIL_NAME = "autolut_out_of_range"
#: The names of a table function's axis arguments in C (a 2-D table has both).
ARGUMENTS = ("x", "y")

# Every table function carries the kernel, guarded, so that a generated file
# holds it once and before its first use (Cython emits the verbatim C of
# function dependencies after the functions that need them).
KERNEL = f"""
#ifndef AUTOLUT_KERNEL
#define AUTOLUT_KERNEL
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
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
/* A piecewise-uniform grid: equal segments, each with its own number of
   intervals; packed starts with (intervals, first row) of every segment. */
static inline double {SEGMENTED_NAME}(const double x, const double low,
                                   const double inverse_width, const int segments,
                                   const double* packed, const int stride, const int offset)
{{
    double u = (x - low) * inverse_width;
    u = u > 0.0 ? u : 0.0;
    u = u < segments ? u : (double)segments;
    int s = (int)u;
    s = s < segments - 1 ? s : segments - 1;
    const double n = packed[2*s];
    const double f = (u - s) * n;
    int j = (int)f;
    j = j < n - 1.0 ? j : (int)n - 1;
    const double* row = packed + (int)packed[2*s + 1] + stride*j + offset;
    return row[0] + (f - j) * row[1];
}}
/* A two-axis table of nx by ny points, bilinear: packed holds stride doubles per
   point, x the slow axis; the top edge lies in the last cell (at fraction 1). */
static inline double {HELPER_2D_NAME}(const double x, const double y, const double low_x,
                                   const double inverse_x, const int nx,
                                   const double low_y, const double inverse_y, const int ny,
                                   const double* packed, const int stride, const int offset)
{{
    double u = (x - low_x) * inverse_x;
    u = u > 0.0 ? u : 0.0;          /* below the range, and NaN, go to the first point */
    u = u < nx - 1 ? u : (double)(nx - 1);
    int i = (int)u;
    i = i < nx - 2 ? i : nx - 2;
    const double fx = u - i;
    double w = (y - low_y) * inverse_y;
    w = w > 0.0 ? w : 0.0;
    w = w < ny - 1 ? w : (double)(ny - 1);
    int j = (int)w;
    j = j < ny - 2 ? j : ny - 2;
    const double fy = w - j;
    const double* r0 = packed + (i*ny + j)*stride + offset;
    const double* r1 = r0 + ny*stride;
    const double a = r0[0] + fy * (r0[stride] - r0[0]);
    const double b = r1[0] + fy * (r1[stride] - r1[0]);
    return a + fx * (b - a);
}}
{SUPPORT_CODE}
#endif
"""

# The failure path takes the format's values (each axis value, then the neuron).
FAIL_HELPER = f"""
#ifndef AUTOLUT_FAIL
#define AUTOLUT_FAIL
#include <stdarg.h>
static void {FAIL_NAME}(const char* format, ...) __attribute__((noinline, cold));
static void {FAIL_NAME}(const char* format, ...)
{{
    char message[1024];
    va_list values;
    va_start(values, format);
    vsnprintf(message, sizeof message, format, values);
    va_end(values);
    /* Under OpenMP, the first thread to fail reports; the others wait here. */
    #pragma omp critical(autolut_fail)
    {{
        FAIL_STATEMENTS
    }}
}}
#endif
"""


def cython_extern(c_code: str, declarations: str) -> str:
    """Cython code making the C functions of `c_code` callable as `declarations`."""
    indented = c_code.replace("\n", "\n    ")
    return f'cdef extern from *:\n    """\n    {indented}\n    """\n    {declarations}\n'


def call(lut, packed: str | None = None) -> str:
    """C expression looking up ``x`` (and ``y``, for a 2-D table) in table function
    `lut` (grid constants as literals); the table array is `packed`, by default
    the bank's namespace array."""
    table, bank = lut.table, lut.bank
    packed = packed or f"_namespace{bank.key}"
    if bank.dimensions == 2:
        (low_x, low_y), (inverse_x, inverse_y), (nx, ny) = (table.low, table.inverse_step,
                                                            table.shape)
        return (f"{HELPER_2D_NAME}(x, y, {float(low_x)!r}, {float(inverse_x)!r}, {nx}, "
                f"{float(low_y)!r}, {float(inverse_y)!r}, {ny}, {packed}, {bank.stride}, "
                f"{lut.offset})")
    if table.intervals is not None:
        return (f"{SEGMENTED_NAME}(x, {float(table.low)!r}, {float(table.inverse_step)!r}, "
                f"{len(table.intervals)}, {packed}, {bank.stride}, {lut.offset})")
    return (f"{HELPER_NAME}(x, {float(table.low)!r}, {float(table.inverse_step)!r}, "
            f"{float(table.points - 1)!r}, {packed}, {bank.stride}, {lut.offset})")


def function_source(lut, fail: Callable[[str], str], name: str | None = None,
                    packed: str | None = None) -> str:
    """C source of table function `lut` under its out-of-range policy.

    `fail` turns a C expression of the error message (a ``char*``) into the
    statements that end the run on the target (or set an error for the
    caller, which gets -1). `name` and `packed` (a
    parameter ``const double* packed`` instead of the bank's namespace array)
    serve targets that cannot name the array in C.
    """
    arguments = ARGUMENTS[:len(lut.axes)]
    parameters = [f"const double {argument}" for argument in arguments] \
        + (["const double* packed"] if packed else []) \
        + (["const int neuron"] if lut.policy == "error" else [])
    head = f"static inline double {name or lut.name}({', '.join(parameters)})\n{{\n"
    inside = "(" + " && ".join(  # false for NaN
        f"{argument} >= {float(low)!r} && {argument} <= {float(high)!r}"
        for argument, low, high in zip(arguments, *lut.bounds)) + ")"
    lookup = f"    return {call(lut, packed and 'packed')};\n}}\n"
    if lut.policy == "clamp":
        return KERNEL + head + lookup
    if lut.policy == "exact":
        return KERNEL + (head + f"    if (__builtin_expect(!{inside}, 0))\n"
                       f"        return {lut.exact.c_code};\n" + lookup)
    template = lut.out_of_range_error_text(tuple(f"%.6g {unit}".rstrip()
                                                 for _, unit in lut.display_units), "%d")
    values = ", ".join(f"{argument} / {scale!r}"
                       for argument, (scale, _) in zip(arguments, lut.display_units))
    # The failure path is a cold function of its own, so that the inlined lookup
    # stays as small as under the other policies.
    helper = FAIL_HELPER.replace("FAIL_STATEMENTS", fail("message"))
    return (KERNEL + helper + head
            + f"    if (__builtin_expect(!{inside}, 0)) {{\n"
              f"        {FAIL_NAME}({_c_literal(template)}, {values}, neuron);\n"
              f"        return -1.0;\n    }}\n" + lookup)


def _c_text(text: str) -> str:
    """`text` as plain ASCII (unit names such as µM)."""
    return text.replace("µ", "u").replace("μ", "u").encode("ascii", "replace").decode()


def _c_literal(template: str) -> str:
    """A C string literal of a printf template (only %.6g and %d are placeholders)."""
    fixed = _c_text(template).replace("%", "%%").replace("%%.6g", "%.6g").replace("%%d", "%d")
    return '"' + fixed.replace("\\", "\\\\").replace('"', '\\"') + '"'
