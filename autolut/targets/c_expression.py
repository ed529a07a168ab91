"""The exact expression of a table as C code, for ``out_of_range='exact'``.

Outside its range a table falls back to the expression it replaces. On the
cython and cpp_standalone targets that expression must exist as C code inside
the table's own function: it is printed here from sympy, with the axis as
``x`` (the axes of a 2-D table as ``x`` and ``y``) and every constant as a
literal (a constant that changes rebuilds the tables and therefore this code
too). Brian2's functions get Brian2's C semantics (``exprel`` with its limit
at 0, ``int`` truncating, ``clip``).

Examples
--------
>>> import sympy
>>> from brian2.parsing.sympytools import str_to_sympy
>>> print(c_expression(str_to_sympy('exp(-(v + 65*mV)/(18*mV))/ms'), 'v',
...                    {'mV': 0.001, 'ms': 0.001}))
exp((1.0/18.0)*(-65*(0.001) - x)/(0.001))/(0.001)
>>> print(c_expression(str_to_sympy('Ca/(Ca + K*exp(-v/mV))'), ('v', 'Ca'),
...                    {'K': 0.18, 'mV': 0.001}))
y/(y + (0.18)*exp(-x/(0.001)))
"""

from __future__ import annotations

from collections.abc import Mapping

import sympy
from sympy.printing.c import C99CodePrinter

__all__ = ["c_expression", "NoCForm", "SUPPORT_CODE"]

#: C helpers that the printed expressions may call (Brian2's semantics).
SUPPORT_CODE = """
static inline double autolut_exprel(const double x)
{
    if (fabs(x) < 1e-16) return 1.0;
    if (x > 717) return INFINITY;
    return expm1(x) / x;
}
static inline double autolut_clip(const double x, const double low, const double high)
{
    return x < low ? low : (x > high ? high : x);
}
"""


class NoCForm(ValueError):
    """The expression calls a function that has no C form here."""


class _Printer(C99CodePrinter):
    """C99 with Brian2's function names and constants as literals."""

    def __init__(self, axes: tuple[str, ...], constants: Mapping[str, float]):
        super().__init__({"strict": True})
        self._arguments = dict(zip(axes, ("x", "y")))
        self._constants = constants

    def _print_Symbol(self, symbol):
        if symbol.name in self._arguments:
            return self._arguments[symbol.name]
        if symbol.name in self._constants:
            return f"({float(self._constants[symbol.name])!r})"
        raise NoCForm(f"'{symbol.name}' has no constant value")

    def _print_Function(self, call):
        name = type(call).__name__
        args = ", ".join(self._print(arg) for arg in call.args)
        if name == "exprel":
            return f"autolut_exprel({args})"
        if name == "clip":
            return f"autolut_clip({args})"
        if name in ("int_", "int"):
            return f"((double)(int)({args}))"
        return super()._print_Function(call)

    def _print_sign(self, call):
        arg = self._print(call.args[0])
        return f"((double)((0.0 < {arg}) - ({arg} < 0.0)))"

    def _print_not_supported(self, expr):
        raise NoCForm(f"'{type(expr).__name__}' has no C form")


def c_expression(expression: sympy.Expr, axes: str | tuple[str, ...],
                 constants: Mapping[str, float]) -> str:
    """`expression` as a C expression of ``x`` (the axis, SI units), or of ``x`` and
    ``y`` (the two `axes` of a 2-D table, in this order).

    Raises
    ------
    NoCForm
        If a function or symbol of `expression` cannot be printed.
    """
    axes = (axes,) if isinstance(axes, str) else tuple(axes)
    try:
        return _Printer(axes, constants).doprint(expression)
    except NoCForm:
        raise
    except (ValueError, TypeError, NotImplementedError) as error:
        raise NoCForm(str(error)) from None
