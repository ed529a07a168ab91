"""Brian2 `Function` objects for tables: one `TableBank` per axis, one `LUTFunction` per curve.

All tables of one axis share one grid (see `autolut.api.plan_tables`), and a
`TableBank` stores them *interleaved*: row ``i`` of its array holds value and
slope of every curve at grid point ``i``, so the lookups of one neuron's
``v`` touch one row (one or two cache lines) and the compiler computes the
index once for all of them. benchmarks/table_layout.py measured this layout
10–15% faster than one array per table on the gate update of an HH model.

Like `brian2.TimedArray`, both classes are `Function` objects that are also
`Nameable` (their unique names become C names and array keys). Their
implementations are *dynamic*: Brian2 asks for code and namespace before every
run, so rebuilt tables are picked up: new values reach cython and
cpp_standalone through the namespace array, a new grid through new literals
(and therefore a new compile). The bank is a dependency of its curves, so
Brian2 loads its array once per generated file however many curves use it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from brian2 import Function, Quantity
from brian2.core.names import Nameable

from .options import display_unit
from .tabulate import Table, layout
from .targets import cpp_target, cython_target, numpy_target

__all__ = ["TableBank", "LUTFunction", "Exact", "OutOfRangeError", "TARGETS"]

#: Code-generation targets and the module that implements tables for each.
TARGETS = {"numpy": numpy_target, "cython": cython_target, "cpp": cpp_target}


def _only_in_generated_code(*args):
    raise NotImplementedError("a table bank is only used inside generated code")


class TableBank(Function, Nameable):
    """The tables of one axis, on one grid, interleaved in one array.

    Parameters
    ----------
    tables
        Tables on the same grid (same ``low``, ``high``, ``points`` and ``intervals``).
    name
        Unique name (a trailing ``*`` picks the next free one).
    """

    def __init__(self, tables: list[Table], name: str = "autolut_bank*"):
        Nameable.__init__(self, name=name)
        self._versions: dict[str, np.ndarray] = {}
        self.set_tables(tables)
        Function.__init__(self, pyfunc=_only_in_generated_code, arg_units=[], return_unit=1)
        self.implementations.add_dynamic_implementation(
            "cython", code=lambda owner: "", name=self.name,
            namespace=lambda owner: {self.key: self.array})
        # A standalone project keeps the code of earlier runs, which names the
        # array version it was generated with: hand over every version.
        self.implementations.add_dynamic_implementation(
            "cpp", code=lambda owner: "", name=self.name,
            namespace=lambda owner: dict(self._versions))

    def set_tables(self, tables: list[Table]) -> None:
        """Use `tables` from the next run on (a new array version with its own key)."""
        first = tables[0]
        if any((t.low, t.high, t.points, t.intervals)
               != (first.low, first.high, first.points, first.intervals) for t in tables):
            raise ValueError("the tables of a bank must share one grid")
        self.tables = list(tables)
        self.array = layout([table.values for table in tables], first.intervals)
        self.key = f"{self.name}_v{len(self._versions)}_values"
        self._versions[self.key] = self.array

    @property
    def stride(self) -> int:
        """Doubles per grid point: value and slope of every curve."""
        return 2 * len(self.tables)


@dataclasses.dataclass(frozen=True)
class Exact:
    """The exact expression a table replaces, for lookups outside its range:
    `evaluate` maps axis values (SI) to values (numpy target), `c_code` is a C
    expression of ``x`` (cython and cpp_standalone; None without C form, and then
    `no_c_form` says why)."""

    evaluate: Callable[[np.ndarray], np.ndarray]
    c_code: str | None
    no_c_form: str = ""


class OutOfRangeError(RuntimeError):
    """A table was looked up outside its range under ``out_of_range='error'``."""


class LUTFunction(Function, Nameable):
    """Curve `index` of a `TableBank`, callable from Brian2 code as ``name(x)``.

    Parameters
    ----------
    bank, index
        The bank holding the table, and the curve's position in it.
    axis, arg_unit, return_unit
        The axis variable's name and unit, and the unit of the function values.
    policy
        What a lookup outside the range does: ``'clamp'`` (end value),
        ``'exact'`` (evaluates `exact`) or ``'error'`` (ends the run; the
        function then takes the neuron index as a second argument,
        ``name(x, i)``).
    exact
        The exact expression, for ``'exact'``; replaced when tables are rebuilt.
    description
        The table's name in the group's code and where it comes from (equation
        and group), for messages.
    name
        Unique name (a trailing ``*`` picks the next free one).
    element
        What the index ``i`` counts, for messages (``'neuron'``, ``'compartment'``).
    """

    def __init__(self, bank: TableBank, index: int, axis: str, arg_unit, return_unit,
                 policy: str, exact: Exact, description: str, name: str = "autolut*",
                 element: str = "neuron"):
        Nameable.__init__(self, name=name)
        self.bank, self.index, self.axis = bank, index, axis
        self.policy, self.exact, self.description = policy, exact, description
        self.element = element
        self._arg_unit, self._return_unit = arg_unit, return_unit
        with_neuron = policy == "error"
        Function.__init__(self, pyfunc=self._call_with_units,
                          arg_units=[arg_unit] + [1] * with_neuron, return_unit=return_unit,
                          arg_types=["float"] + ["integer"] * with_neuron,
                          return_type="float", stateless=True)
        for target, module in TARGETS.items():
            implementation = module.implementation(self)
            implementation["code"] = self._generated_once(implementation["code"])
            self.implementations.add_dynamic_implementation(target, **implementation)

    def _generated_once(self, code: Callable) -> Callable:
        """`code` (a target's ``code(owner)``), called again only when the table or
        the exact expression changed: Brian2 asks for it in every run, and making
        it (a C source with its messages) cost 1-4 ms of every ``run()``."""
        made: dict = {}

        def code_of_current_table(owner):
            version = (self.bank.key, self.exact)  # a new array version has a new key
            if version not in made:
                made.clear()
                made[version] = code(owner)
            return made[version]

        return code_of_current_table

    @property
    def table(self) -> Table:
        return self.bank.tables[self.index]

    @property
    def offset(self) -> int:
        """Position of this curve's value within a row of the bank."""
        return 2 * self.index

    @property
    def arguments(self) -> tuple[str, ...]:
        """The names the function is called with in Brian2 code."""
        return (self.axis, "i") if self.policy == "error" else (self.axis,)

    @property
    def display_unit(self) -> tuple[float, str]:
        """Scale and name of the unit in which messages show axis values (mV for volts)."""
        return display_unit(self._arg_unit, max(abs(self.table.low), abs(self.table.high)))

    def out_of_range_error_text(self, value: str, neuron: str) -> str:
        """The message of a lookup outside the range (value and neuron as given)."""
        scale, unit = self.display_unit
        return (f"autolut: table {self.description} was looked up at "
                f"{self.axis} = {value} for {self.element} {neuron}, outside its range "
                f"[{self.table.low / scale:g}, {self.table.high / scale:g}] {unit} "
                f"(out_of_range='error'). Widen the range with ranges={{'{self.axis}': "
                f"(low, high)}}, or use out_of_range='exact'.")

    def out_of_range_error(self, value: float, neuron: int) -> OutOfRangeError:
        scale, unit = self.display_unit
        return OutOfRangeError(self.out_of_range_error_text(f"{value / scale:.6g} {unit}",
                                                            str(int(neuron))))

    def _call_with_units(self, x, neuron=0):
        values = numpy_target.implementation(self)["code"](None)(
            *((np.asarray(x),) + ((neuron,) if self.policy == "error" else ())))
        return Quantity(values, dim=getattr(self._return_unit, "dim", None))
