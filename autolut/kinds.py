"""The shared vocabulary of the pipeline: kinds of symbols and roles of tables.

A front end (reading a Brian2 object) says what *kind* every name of the
equations is; the analysis decides from the kinds what can be tabulated; the
plan gives every table a *role*. Both are string enums, so that they print as
their values in messages and reports.
"""

from __future__ import annotations

import enum

__all__ = ["Kind", "Role"]


class _Text(str, enum.Enum):
    def __str__(self) -> str:
        return self.value


class Kind(_Text):
    """What a name in the equations stands for."""

    AXIS = "axis"                # state variable that may serve as a table axis (v, Ca)
    CONSTANT = "constant"        # value known now and baked into tables (units, constants)
    PARAMETER = "parameter"      # per-neuron parameter: differs between neurons
    SHARED = "shared"            # shared variable that may change during the run
    TIME = "time"                # t and friends
    DT = "dt"                    # the integration step
    STOCHASTIC = "stochastic"    # xi
    PURE_FUNCTION = "pure"       # a function of its arguments only (exp, a user Function)
    RANDOM_FUNCTION = "random"   # a function that is not (rand, a stateful Function)
    EXCLUDED = "excluded"        # a subexpression the user excluded
    UNKNOWN = "unknown"          # a name nobody described


class Role(_Text):
    """What a table stands for in its equation."""

    TABLE = "table"                  # a subexpression replaced by its table
    STEADY_STATE = "steady state"    # x_inf of a gate's exponential-Euler update
    STEP_FACTOR = "step factor"      # exp(A*dt) of a gate's exponential-Euler update
