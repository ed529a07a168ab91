"""`LUTFunction`: a Brian2 `Function` that interpolates one table, on every target.

Like `brian2.TimedArray`, it is a `Function` that is also `Nameable` (its unique
name becomes the C function name and the key of its array). The implementations
are *dynamic*: Brian2 asks for the code and the namespace before every run, so
a table that was rebuilt (because a baked constant changed) is picked up:
new values reach cython and cpp_standalone through the namespace array, a new
grid through new literals (and therefore a new compile).
"""

from __future__ import annotations

import numpy as np
from brian2 import Function, Quantity
from brian2.core.names import Nameable

from .tabulate import Table
from .targets import cpp_target, cython_target, numpy_target

__all__ = ["LUTFunction", "TARGETS"]

#: Code-generation targets and the module that implements tables for each.
TARGETS = {"numpy": numpy_target, "cython": cython_target, "cpp": cpp_target}


class LUTFunction(Function, Nameable):
    """A table of a function of one axis variable, callable from Brian2 code.

    Parameters
    ----------
    table
        The sampled function (SI units), see `autolut.tabulate.Table`.
    arg_unit, return_unit
        Units of the axis and of the function values.
    name
        Unique name (a trailing ``*`` picks the next free one).
    """

    def __init__(self, table: Table, arg_unit, return_unit, name: str = "autolut*"):
        Nameable.__init__(self, name=name)
        self._return_unit = return_unit
        self._versions: dict[str, np.ndarray] = {}
        self.table = None
        self.replace_table(table)
        Function.__init__(self, pyfunc=self._call_with_units, arg_units=[arg_unit],
                          return_unit=return_unit, arg_types=["float"],
                          return_type="float", stateless=True)
        for target, module in TARGETS.items():
            self.implementations.add_dynamic_implementation(target, **module.implementation(self))

    def replace_table(self, table: Table) -> None:
        """Use `table` from the next run on (a new version with its own array key)."""
        self.table = table
        self.packed = table.packed
        self.array_key = f"{self.name}_v{len(self._versions)}_values"
        self._versions[self.array_key] = self.packed

    def all_arrays(self) -> dict[str, np.ndarray]:
        """Every version's packed array, by key (for standalone projects spanning several runs)."""
        return dict(self._versions)

    def _call_with_units(self, x):
        values = numpy_target.interpolate(np.asarray(x), self.table.low,
                                          self.table.inverse_step, self.packed)
        return Quantity(values, dim=getattr(self._return_unit, "dim", None))
