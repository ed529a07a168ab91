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

from collections.abc import Callable

from brian2.equations.equations import Equations
from brian2.stateupdaters.base import StateUpdateMethod
from brian2.stateupdaters.exponential_euler import (ExponentialEulerStateUpdater,
                                                    exponential_euler)

__all__ = ["LUTExponentialEuler", "NAME", "register"]

NAME = "lut_exponential_euler"


class LUTExponentialEuler(ExponentialEulerStateUpdater):
    """Exponential Euler where the listed gates use tabulated ``x_inf`` and ``exp(A*dt)``.

    Parameters
    ----------
    gates
        ``((variable, steady_state_call, factor_call), ...)``, the calls as Brian2
        code (``'lut_m_inf(v)'``).
    optimize
        Without gates (as registered under the name ``'lut_exponential_euler'``,
        see `register`): the function that optimizes a group in place
        (`autolut.optimize`), called before the group's first run; it installs
        a configured instance.
    """

    def __init__(self, gates: tuple = (), optimize: Callable | None = None):
        self.gates, self.optimize = tuple(gates), optimize

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

    def _optimize_then_generate(self, state_updater):
        group = state_updater.group
        self.optimize(group, namespace=dict(group.namespace))
        method = state_updater.method_choice
        if isinstance(method, LUTExponentialEuler) and not method.gates:
            # nothing tabulatable in this group: plain exponential Euler
            return exponential_euler(group.equations, group.variables)
        update = method(group.equations, group.variables)  # the method optimize installed
        return update if isinstance(update, str) else update(state_updater)

    def __repr__(self):
        return f"LUTExponentialEuler(gates={self.gates!r})"


def register(optimize: Callable) -> None:
    """Register ``method='lut_exponential_euler'`` with Brian2, optimizing with `optimize`.

    The optimize step is handed in (by ``autolut/__init__.py``) rather than
    imported, so that this module, which the pipeline uses, imports nothing of it.
    """
    if NAME not in StateUpdateMethod.stateupdaters:
        StateUpdateMethod.register(NAME, LUTExponentialEuler(optimize=optimize))
