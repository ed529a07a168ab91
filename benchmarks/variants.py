"""The variants of a model that the benchmark compares.

* ``exact``: Brian2 as is.
* ``autolut``: ``autolut.optimize(group)`` with default settings.
* ``lut4brian``: the prior art, hand-made tables as a user of lut4brian
  (github.com/rat-h/lut4brian) writes them: every rate curve is precomputed by
  the user on one voltage grid (-100 to 60 mV in 1 mV steps, the README's
  example; -40 to 140 mV for the axon, whose spikes peak above 100 mV), all
  curves in one 2-D array, and the equations call
  ``lutinterpol(v/mV, k)`` for curve ``k``, interpolating linearly between the
  two neighbouring grid points and clamping at the ends, as lut4brian does. It
  is written with plain Brian2 means (a `Function` with numpy, Cython and C++
  implementations and the table in its namespace, like `TimedArray`), not with
  autolut.
* ``floor``: every rate curve replaced by a constant, its value at rest
  (-65 mV; 0 mV for the axon).
  Brian2 then computes no rate at all (constant gate coefficients are hoisted
  out of the loop), so this is the fastest that any tabulation of the rates
  could be.
* ``autolut_clamp``, ``autolut_exact``, ``autolut_error``: autolut with the
  ``out_of_range`` policy ``'clamp'``, ``'exact'`` or ``'error'`` (the policy
  comparison, `POLICY_VARIANTS`).
* ``exact@1``, ``exact@2``, ``autolut@1``, ``autolut@2``: on cpp_standalone
  with 1 or 2 OpenMP threads (the threads comparison, `THREAD_VARIANTS`).
"""

from __future__ import annotations

import numpy as np
from brian2 import Equations, Function, mV
from brian2.equations.equations import Expression, SingleEquation

from .models import Model, make_group

__all__ = ["VARIANTS", "POLICY_VARIANTS", "THREAD_VARIANTS", "autolut_options",
           "curve_values", "variant_equations", "lutinterpol"]

#: The variants of the main comparison, the reference first.
VARIANTS = ("exact", "autolut", "lut4brian", "floor")
#: The out-of-range policies compared, the reference ('clamp') first.
POLICY_VARIANTS = ("autolut_clamp", "autolut_exact", "autolut_error")
#: The OpenMP comparison (cpp_standalone), the reference (exact on one thread) first.
THREAD_VARIANTS = ("exact@1", "exact@2", "autolut@1", "autolut@2")


def autolut_options(variant: str) -> dict | None:
    """The options of ``autolut.optimize`` for `variant`, or None if it does not use autolut."""
    if variant == "autolut":
        return {}
    if variant.startswith("autolut_"):
        return {"out_of_range": variant.removeprefix("autolut_")}
    return None


def variant_equations(model: Model, variant: str) -> tuple[Equations | None, dict]:
    """The equations of `variant` and the extra names they use.

    Parameters
    ----------
    model
        The model.
    variant
        One of `VARIANTS` or `POLICY_VARIANTS`.

    Returns
    -------
    equations, namespace
        ``None`` for the published equations (exact and autolut variants), and
        the names to add to the group's namespace.

    Notes
    -----
    Evaluates the curves with a throw-away group on Brian2's runtime device:
    call it before choosing the standalone device.
    """
    if variant == "floor":
        values = curve_values(model, np.array([model.rest_mV * float(mV)]))
        constants = {name: repr(float(values[name][0])) for name in model.curves}
        return _with_curves(model, constants), {}
    if variant == "lut4brian":
        first, last, step = model.lut4brian_grid
        grid = np.linspace(first, last, round((last - first) / step) + 1)
        values = curve_values(model, grid * float(mV))
        table = np.array([values[name] for name in model.curves])
        return (_with_curves(model, {name: f"lutinterpol(v/mV, {k})"
                                     for k, name in enumerate(model.curves)}),
                {"lutinterpol": lutinterpol(table, first, step)})
    return None, {}


def _with_curves(model: Model, expressions: dict[str, str]) -> Equations:
    """The model's equations with the curves computed by `expressions` (times their unit).

    The expressions are in the curves' SI units, so multiplying by the SI unit
    of the dimension gives the curve back.
    """
    equations = []
    for equation in model.equations.values():
        if equation.varname in expressions:
            unit = "1" if equation.dim.is_dimensionless else \
                equation.dim._str_representation(python_code=True)
            equation = SingleEquation(
                equation.type, equation.varname, equation.dim, var_type=equation.var_type,
                flags=equation.flags, expr=Expression(f"{expressions[equation.varname]}*{unit}"))
        equations.append(equation)
    return Equations(equations)


def curve_values(model: Model, v: np.ndarray) -> dict[str, np.ndarray]:
    """Every rate curve of `model` at the membrane potentials `v` (volt), in SI units.

    Computed by Brian2 itself, from a throw-away group whose neurons have these
    potentials, as a user can. Where a curve has a removable singular point on
    the grid (Wang–Buzsaki's ``x/(exp(x) - 1)`` at -35 mV), 0/0 gives NaN; the
    value there is the mean of the values 1 nV on either side, as a careful
    user of hand-made tables would do.
    """
    values = _evaluate(model, v)
    for name, curve in values.items():
        bad = ~np.isfinite(curve)
        if bad.any():
            nudge = 1e-9
            below, above = _evaluate(model, v[bad] - nudge), _evaluate(model, v[bad] + nudge)
            curve[bad] = (below[name] + above[name]) / 2
    return values


def _evaluate(model: Model, v: np.ndarray) -> dict[str, np.ndarray]:
    group = make_group(model, len(v), model.equations, model.namespace, "curve_values*")
    group.v_ = v
    with np.errstate(all="ignore"):
        return {name: np.array(getattr(group, name + "_")[:], dtype=float)
                for name in model.curves}


def lutinterpol(table: np.ndarray, first: float, step: float) -> Function:
    """lut4brian's ``lutinterpol(x, k)``: curve `k` of `table`, linearly interpolated at `x`.

    Parameters
    ----------
    table
        Curves × grid points; point ``j`` is at ``x = first + j*step``.
    first, step
        The grid (in the unit of ``x``, mV for lut4brian).

    Returns
    -------
    Function
        Usable in equations as ``lutinterpol(v/mV, k)`` on the numpy, cython
        and cpp_standalone targets. Outside the grid it returns the end values.

    Notes
    -----
    As lut4brian, every call computes its own index, and the curves are rows
    of one array (one curve's values side by side). Unlike lut4brian the table
    is not included as a generated C file but passed through the function's
    namespace, as `TimedArray` does (so that Brian2's code caches see it), and
    the numpy version is vectorised (lut4brian's loops over neurons in Python).
    The grid constants are literals in the code.
    """
    table = np.ascontiguousarray(table, dtype=np.float64)
    points = table.shape[1]
    last, inverse = points - 1, 1.0 / step

    def numpy_lutinterpol(x, k):
        u = np.clip((np.asarray(x) - first) * inverse, 0.0, last)
        i = np.minimum(u.astype(np.int64), last - 1)  # u = last interpolates to the end value
        row = table[k]
        return row[i] + (row[i + 1] - row[i]) * (u - i)

    function = Function(numpy_lutinterpol, arg_units=[1, 1], return_unit=1,
                        arg_types=["float", "integer"], return_type="float")
    # the numpy version is called directly, not through Brian2's unit-checking wrapper
    function.implementations.add_implementation("numpy", numpy_lutinterpol)
    constants = dict(FIRST=repr(first), INVERSE=repr(inverse), LAST=str(last), POINTS=str(points))
    for target, template in (("cpp", _CPP), ("cython", _CYTHON)):
        code = template
        for key, value in constants.items():
            code = code.replace(key, value)
        function.implementations.add_implementation(
            target, code, name="lutinterpol", namespace={"lut4brian_table": table.ravel()})
    return function


_CPP = """
static inline double lutinterpol(const double x, const int k)
{
    const double* row = _namespacelut4brian_table + k*POINTS;
    const double u = (x - FIRST)*INVERSE;
    if (u <= 0) return row[0];
    if (u >= LAST) return row[LAST];
    const int i = (int)u;
    return row[i] + (row[i + 1] - row[i])*(u - i);
}
"""
_CYTHON = """
cdef double lutinterpol(const double x, const int k):
    global _namespacelut4brian_table
    cdef double* row = _namespacelut4brian_table + k*POINTS
    cdef double u = (x - FIRST)*INVERSE
    cdef int i
    if u <= 0:
        return row[0]
    if u >= LAST:
        return row[LAST]
    i = <int>u
    return row[i] + (row[i + 1] - row[i])*(u - i)
"""
