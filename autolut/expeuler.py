"""Exponential Euler with tabulated integration factors (``method='lut_exponential_euler'``).

For a gate ``dx/dt = A(v)*x + B(v)``, Brian2's exponential Euler computes
``exp(A*dt)`` and ``B/A`` for every neuron and step (with ``exprel`` expanded,
several exponentials per gate). With ``x_inf = -B/A`` and ``factor = exp(A*dt)``
tabulated over ``v`` the update is exact exponential Euler again, at the cost of
two lookups and one fused multiply-add:

    _inf_x = lut_x_inf(v)
    _x = _inf_x + (x - _inf_x)*lut_x_factor(v)

Variables without such tables (``v`` itself, gates with state-dependent
coefficients) keep Brian2's own exponential-Euler code. The factor tables
depend on ``dt``; the group's `TableGuard` rebuilds them when ``dt`` changes.
"""

from __future__ import annotations

from brian2.equations.equations import Equations
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.stateupdaters.exponential_euler import (ExponentialEulerStateUpdater,
                                                    exponential_euler)

__all__ = ["LUTExponentialEuler", "NAME"]

NAME = "lut_exponential_euler"


class LUTExponentialEuler(ExponentialEulerStateUpdater):
    """Exponential Euler where the listed gates use tabulated ``x_inf`` and ``exp(A*dt)``.

    Parameters
    ----------
    gates
        ``((variable, steady_state_call, factor_call), ...)``, the calls as Brian2
        code (``'lut_m_inf(v)'``).
        Without gates (as registered under the name ``'lut_exponential_euler'``),
        the group is optimized by `autolut.optimize` before its first run, which
        installs a configured instance.
    """

    def __init__(self, gates: tuple = ()):
        self.gates = tuple(gates)

    def __call__(self, equations, variables=None, method_options=None):
        if not self.gates:
            return self._optimize_then_generate
        gated = {variable for variable, *_ in self.gates}
        others = Equations([eq for eq in equations.values() if eq.varname not in gated])
        brian_code = ExponentialEulerStateUpdater.__call__(self, others, variables,
                                                           method_options)
        # The gate updates read the old values of every variable, so they come
        # first; Brian2's code only assigns its own variables at its very end.
        lines = []
        for variable, steady_state, factor in self.gates:
            lines += [f"_inf_{variable} = {steady_state}",
                      f"_{variable} = _inf_{variable} + ({variable} - _inf_{variable})"
                      f"*{factor}"]
        lines += brian_code.splitlines()
        lines += [f"{variable} = _{variable}" for variable, *_ in self.gates]
        return "\n".join(lines)

    @staticmethod
    def _optimize_then_generate(state_updater):
        from .api import optimize
        group = state_updater.group
        optimize(group, namespace=dict(group.namespace))
        method = state_updater.method_choice
        if isinstance(method, LUTExponentialEuler) and not method.gates:
            # nothing tabulatable in this group: plain exponential Euler
            return exponential_euler(group.equations, group.variables)
        update = method(group.equations, group.variables)  # the method optimize installed
        return update if isinstance(update, str) else update(state_updater)

    def __repr__(self):
        return f"LUTExponentialEuler(gates={self.gates!r})"


StateUpdateMethod.register(NAME, LUTExponentialEuler())
