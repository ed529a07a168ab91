"""Brian2 `Function` objects for tables: one `TableBank` per axis, one `LUTFunction` per curve.

All tables of one axis share one grid (see `autolut.plan`), and a
`TableBank` stores them *interleaved*: row ``i`` of its array holds value and
slope of every curve at grid point ``i``, so the lookups of one neuron's
``v`` touch one row (one or two cache lines) and the compiler computes the
index once for all of them. benchmarks/table_layout.py measured this layout
10–15% faster than one array per table on the gate update of an HH model.
The 2-D tables of one pair of axes (`autolut.tabulate2d`) share a bank the
same way: the values of every curve at one grid point side by side
(`autolut.tabulate2d.layout_2d`; no slopes), and a `LUTFunction` of such a
table takes both axes as arguments.

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
from .tabulate2d import Table2D, bounds, layout_2d
from .targets import cpp_target, cython_target, numpy_target

__all__ = ["TableBank", "LUTFunction", "Exact", "OutOfRangeError", "TARGETS"]

#: Code-generation targets and the module that implements tables for each.
TARGETS = {"numpy": numpy_target, "cython": cython_target, "cpp": cpp_target}


def _only_in_generated_code(*args):
    raise NotImplementedError("a table bank is only used inside generated code")


class TableBank(Function, Nameable):
    """The tables of one axis (or of one pair of axes), on one grid, interleaved in
    one array.

    Parameters
    ----------
    tables
        Tables on the same grid (same ``grid``): all `Table`, or all `Table2D`.
    name
        Unique name (a trailing ``*`` picks the next free one).
    """

    def __init__(self, tables: list[Table | Table2D], name: str = "autolut_bank*"):
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

    def set_tables(self, tables: list[Table | Table2D]) -> None:
        """Use `tables` from the next run on (a new array version with its own key)."""
        first = tables[0]
        if any(type(t) is not type(first) or t.grid != first.grid for t in tables):
            raise ValueError("the tables of a bank must share one grid")
        self.tables = list(tables)
        self.array = (layout_2d([table.values for table in tables]) if self.dimensions == 2
                      else layout([table.values for table in tables], first.intervals))
        self.key = f"{self.name}_v{len(self._versions)}_values"
        self._versions[self.key] = self.array

    @property
    def dimensions(self) -> int:
        """The number of axes of the tables: 1, or 2."""
        return 2 if isinstance(self.tables[0], Table2D) else 1

    @property
    def stride(self) -> int:
        """Doubles per grid point: value and slope of every curve (the value only, for
        2-D tables)."""
        return (3 - self.dimensions) * len(self.tables)


@dataclasses.dataclass(frozen=True)
class Exact:
    """The exact expression a table replaces, for lookups outside its range:
    `evaluate` maps axis values (SI; one array per axis) to values (numpy
    target), `c_code` is a C expression of ``x`` (and ``y``, the second axis of
    a 2-D table) (cython and cpp_standalone; None without C form, and then
    `no_c_form` says why)."""

    evaluate: Callable[..., np.ndarray]
    c_code: str | None
    no_c_form: str = ""


class OutOfRangeError(RuntimeError):
    """A table was looked up outside its range under ``out_of_range='error'``."""


class LUTFunction(Function, Nameable):
    """Curve `index` of a `TableBank`, callable from Brian2 code as ``name(x)``, or
    ``name(x, y)`` for a 2-D table.

    Parameters
    ----------
    bank, index
        The bank holding the table, and the curve's position in it.
    axes, arg_units, return_unit
        The axes' names and units (one each, or two for a 2-D table), and the
        unit of the function values.
    policy
        What a lookup outside the range does: ``'clamp'`` (end value),
        ``'exact'`` (evaluates `exact`) or ``'error'`` (ends the run; the
        function then takes the neuron index as a last argument,
        ``name(x, i)``).
    exact
        The exact expression, for ``'exact'``; replaced when tables are rebuilt.
    description
        The table's name in the group's code and where it comes from (equation
        and group), for messages.
    name
        Unique name (a trailing ``*`` picks the next free one).
    element, index_name
        What the index counts, for messages (``'neuron'``, ``'compartment'``,
        ``'postsynaptic neuron'``), and its name in the object's code (``i``;
        ``j`` in Synapses, for the postsynaptic neuron).
    """

    def __init__(self, bank: TableBank, index: int, axes: tuple[str, ...], arg_units: tuple,
                 return_unit, policy: str, exact: Exact, description: str,
                 name: str = "autolut*", element: str = "neuron", index_name: str = "i"):
        Nameable.__init__(self, name=name)
        self.bank, self.index, self.axes = bank, index, tuple(axes)
        self.policy, self.exact, self.description = policy, exact, description
        self.element, self.index_name = element, index_name
        self._arg_units, self._return_unit = tuple(arg_units), return_unit
        with_neuron = policy == "error"
        Function.__init__(self, pyfunc=self._call_with_units,
                          arg_units=list(self._arg_units) + [1] * with_neuron,
                          return_unit=return_unit,
                          arg_types=["float"] * len(self.axes) + ["integer"] * with_neuron,
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
    def table(self) -> Table | Table2D:
        return self.bank.tables[self.index]

    @property
    def offset(self) -> int:
        """Position of this curve's value within a row of the bank (value and slope of
        every curve; values only in a bank of 2-D tables)."""
        return 2 * self.index if self.bank.dimensions == 1 else self.index

    @property
    def bounds(self) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """The lowest and the highest value of each axis (SI)."""
        return bounds(self.table)

    @property
    def display_units(self) -> tuple[tuple[float, str], ...]:
        """Scale and name of the unit in which messages show the values of each axis
        (mV for volts)."""
        return tuple(display_unit(unit, max(abs(low), abs(high)))
                     for unit, low, high in zip(self._arg_units, *self.bounds))

    def out_of_range_error_text(self, values: tuple[str, ...], neuron: str) -> str:
        """The message of a lookup outside the range (values, one per axis, and neuron
        as given)."""
        at = ", ".join(f"{axis} = {value}" for axis, value in zip(self.axes, values))
        ranges = " x ".join(f"[{low / scale:g}, {high / scale:g}] {unit}".rstrip()
                            for (scale, unit), low, high in zip(self.display_units,
                                                                *self.bounds))
        widen = ", ".join(f"'{axis}': (low, high)" for axis in self.axes)
        return (f"autolut: table {self.description} was looked up at {at} for "
                f"{self.element} {neuron}, outside its range {ranges} "
                f"(out_of_range='error'). Widen the range with ranges={{{widen}}}, or use "
                f"out_of_range='exact'.")

    def out_of_range_error(self, values: tuple[float, ...], neuron: int) -> OutOfRangeError:
        """The error of a lookup at `values` (SI, one per axis) for `neuron`."""
        return OutOfRangeError(self.out_of_range_error_text(
            tuple(f"{value / scale:.6g} {unit}".rstrip()
                  for value, (scale, unit) in zip(values, self.display_units)),
            str(int(neuron))))

    def _call_with_units(self, *args):
        """The lookup at the axis values `args` (and, under ``'error'``, the neuron
        index, 0 if not given)."""
        axes, neuron = args[:len(self.axes)], args[len(self.axes):]
        if self.policy == "error" and not neuron:
            neuron = (0,)
        values = numpy_target.implementation(self)["code"](None)(
            *(np.asarray(arg) for arg in axes), *neuron)
        return Quantity(values, dim=getattr(self._return_unit, "dim", None))
