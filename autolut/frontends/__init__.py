"""Front ends: one per kind of Brian2 object that autolut optimizes.

A front end is the only code that reads or changes a Brian2 object. It offers
the pipeline (`autolut.api`) one small interface, `FrontEnd`; the model it
reads offers `ObjectModel`. Everything between reading and installing
(analysis, planning, tabulating, building the table functions) works on these
alone, so that a new kind of object is a new front end (`spatialneuron`
builds on `neurongroup`; `synapses` reuses its pieces), not a special case in
the pipeline.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import sympy
from brian2 import Subgroup

from .neurongroup import NEURON_GROUP
from .spatialneuron import SPATIAL_NEURON
from .synapses import SYNAPSES

__all__ = ["FrontEnd", "ObjectModel", "front_end_for", "FRONT_ENDS"]


class ObjectModel(Protocol):
    """What a front end reads from an object (see `neurongroup.GroupModel`)."""

    model: object                 # autolut.analysis.Model
    constants: Mapping[str, float]
    guarded: frozenset[str]
    units: Mapping[str, object]
    axes: Mapping[str, object]    # autolut.options.AxisRange per axis
    gate_variables: frozenset[str]
    events: frozenset[str]
    dt: float
    exact_equations: Mapping[str, str]  # equation -> why it keeps its exact form
    name: str

    def function(self, expression: sympy.Expr, axes: str | tuple[str, ...],
                 constants: Mapping[str, float] | None = None) -> Callable: ...

    def unit_of(self, expression: sympy.Expr): ...

    def span(self, expression: sympy.Expr) -> tuple[float, float] | None: ...

    def with_axes(self, axes: Mapping[str, object]) -> ObjectModel: ...

    def with_constants(self, changed: Mapping[str, float]) -> ObjectModel: ...


class FrontEnd(Protocol):
    """Reading one kind of Brian2 object, and installing tables into it in place."""

    kind: str

    def accepts(self, obj) -> bool: ...

    def read(self, obj, options, run_namespace) -> ObjectModel: ...

    def check_units(self, obj, model: ObjectModel, new_expressions, functions
                    ) -> dict[str, str]: ...

    def install(self, obj, new_expressions, functions, guard, gates=()): ...

    def restore(self, obj, saved) -> None: ...

    def current_constants(self, obj, names, run_namespace) -> dict: ...

    def taken_names(self, obj) -> set[str]: ...

    def counting_site(self, obj, argument: sympy.Expr, element: str): ...


FRONT_ENDS: tuple[FrontEnd, ...] = (SPATIAL_NEURON, NEURON_GROUP, SYNAPSES)


def front_end_for(obj) -> FrontEnd:
    """The front end of `obj`.

    Raises
    ------
    TypeError
        For objects no front end accepts, saying which ones are supported.
    """
    for front_end in FRONT_ENDS:
        if front_end.accepts(obj):
            return front_end
    kinds = sorted(front_end.kind for front_end in FRONT_ENDS)
    supported = ", ".join(kinds[:-1]) + " and " + kinds[-1]
    if isinstance(obj, Subgroup):
        raise TypeError(f"autolut works on whole {supported} objects, not on the subgroup "
                        f"'{obj.name}': optimize the group it belongs to ('{obj.source.name}'); "
                        f"every subgroup and section of it then uses the tables")
    raise TypeError(f"autolut works on {supported} objects; got {type(obj).__name__} "
                    f"{obj!r:.60}")
