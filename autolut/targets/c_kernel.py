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
"""

from __future__ import annotations

from collections.abc import Callable

from .c_expression import SUPPORT_CODE

__all__ = ["HELPER_NAME", "KERNEL", "call", "function_source", "cython_extern"]

HELPER_NAME = "autolut_interpolate"
SEGMENTED_NAME = "autolut_interpolate_segmented"
FAIL_NAME = "autolut_out_of_range"

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
{SUPPORT_CODE}
#endif
"""

FAIL_HELPER = f"""
#ifndef AUTOLUT_FAIL
#define AUTOLUT_FAIL
static void {FAIL_NAME}(const char* format, const double value, const int neuron)
    __attribute__((noinline, cold));
static void {FAIL_NAME}(const char* format, const double value, const int neuron)
{{
    char message[1024];
    snprintf(message, sizeof message, format, value, neuron);
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


def call(x: str, lut, packed: str | None = None) -> str:
    """C expression looking up `x` in table function `lut` (grid constants as literals);
    the table array is `packed`, by default the bank's namespace array."""
    table, bank = lut.table, lut.bank
    packed = packed or f"_namespace{bank.key}"
    if table.intervals is not None:
        return (f"{SEGMENTED_NAME}({x}, {float(table.low)!r}, {float(table.inverse_step)!r}, "
                f"{len(table.intervals)}, {packed}, {bank.stride}, {lut.offset})")
    return (f"{HELPER_NAME}({x}, {float(table.low)!r}, {float(table.inverse_step)!r}, "
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
    table = lut.table
    parameters = ["const double x"] + (["const double* packed"] if packed else []) \
        + (["const int neuron"] if lut.policy == "error" else [])
    head = f"static inline double {name or lut.name}({', '.join(parameters)})\n{{\n"
    inside = f"(x >= {float(table.low)!r} && x <= {float(table.high)!r})"  # false for NaN
    lookup = f"    return {call('x', lut, packed and 'packed')};\n}}\n"
    if lut.policy == "clamp":
        return KERNEL + head + lookup
    if lut.policy == "exact":
        return KERNEL + (head + f"    if (__builtin_expect(!{inside}, 0))\n"
                       f"        return {lut.exact.c_code};\n" + lookup)
    scale, unit = lut.display_unit
    template = lut.out_of_range_error_text("%.6g " + unit, "%d")
    # The failure path is a cold function of its own, so that the inlined lookup
    # stays as small as under the other policies.
    helper = FAIL_HELPER.replace("FAIL_STATEMENTS", fail("message"))
    return (KERNEL + helper + head
            + f"    if (__builtin_expect(!{inside}, 0)) {{\n"
              f"        {FAIL_NAME}({_c_literal(template)}, x / {scale!r}, neuron);\n"
              f"        return -1.0;\n    }}\n" + lookup)


def _c_text(text: str) -> str:
    """`text` as plain ASCII (unit names such as µM)."""
    return text.replace("µ", "u").replace("μ", "u").encode("ascii", "replace").decode()


def _c_literal(template: str) -> str:
    """A C string literal of a printf template (only %.6g and %d are placeholders)."""
    fixed = _c_text(template).replace("%", "%%").replace("%%.6g", "%.6g").replace("%%d", "%d")
    return '"' + fixed.replace("\\", "\\\\").replace('"', '\\"') + '"'
