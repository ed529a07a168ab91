"""The SpatialNeuron front end: the NeuronGroup front end, with the cable equation left to Brian2.

A `SpatialNeuron` is a `NeuronGroup` of compartments whose membrane potential
``v`` is a parameter of the equations, updated by Brian2's cable solver (a
``SpatialStateUpdater``, after the gating variables). What changes against a
NeuronGroup (facts read from ``brian2/spatialneuron/spatialneuron.py``, 2.9):

* ``v`` is an axis although it has no differential equation.
* The cable solver reads ``gtot__private = -dIm/dv`` and ``I0__private = Im -
  v*dIm/dv``, which Brian2 derived symbolically from the membrane current
  ``Im`` (its subexpressions substituted) when the neuron was created. These
  and the other derived equations (``time_constant``, ``space_constant``) are
  Brian2's, not the user's: left out of the analysis.
* ``Im`` and the subexpressions it uses keep their exact form. A table there
  would change what monitors record of ``Im`` but not what the solver uses
  (the derivative was taken from the exact form, once); tabulating a costly
  part of ``Im`` (a Goldman–Hodgkin–Katz factor) would need its derivative as
  a second table, whose error the solver's stability depends on. The gating
  variables' rates, which are where an HH compartment spends its time, are
  tabulated as in a NeuronGroup (and with exponential Euler, their steady
  states and step factors).
* Morphology variables (``distance``, ``diameter``, ``x``, ...) are
  per-compartment parameters: expressions using them stay exact.

Installing, restoring and the run-time guards are the NeuronGroup front end's:
the neuron's equations are swapped in place, so its sections and subgroups
(``neuron.axon``, ``neuron[10:20]``) see the tables.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from brian2 import SpatialNeuron

from .. import analysis
from ..options import Options
from .neurongroup import GroupModel, NeuronGroupFrontEnd, read_group

__all__ = ["SPATIAL_NEURON", "read_spatial_neuron", "MEMBRANE_CURRENT", "DERIVED_EQUATIONS"]

MEMBRANE_CURRENT = "Im"

#: Equations that SpatialNeuron adds to the user's: the cable solver's terms
#: (derived from Im when the neuron was created) and what is computed from them.
DERIVED_EQUATIONS = frozenset({"gtot__private", "I0__private", "time_constant",
                               "space_constant"})

_KEPT_EXACT = ("keeps its exact form: {} is (or is used by) the membrane current Im, which "
               "Brian2's cable solver differentiates with respect to v (gtot, I0); a table "
               "there would need a derivative table")


def read_spatial_neuron(neuron, options: Options, run_namespace: Mapping | None) -> GroupModel:
    """Describe a SpatialNeuron's equations: its gating equations as a NeuronGroup's,
    with ``v`` as an axis, and ``Im`` (with what it uses) kept exact."""
    model = read_group(neuron, options, run_namespace, axes=frozenset({"v"}),
                       internal=DERIVED_EQUATIONS, element="compartment")
    membrane = [eq.expression for eq in model.model.equations if eq.name == MEMBRANE_CURRENT]
    kept = {MEMBRANE_CURRENT} | analysis.referenced_subexpressions(model.model, membrane, {})
    return dataclasses.replace(model, exact_equations={name: _KEPT_EXACT for name in kept})


class SpatialNeuronFrontEnd(NeuronGroupFrontEnd):
    """The front end of `SpatialNeuron`: reads it its own way, installs as a NeuronGroup."""

    kind = "SpatialNeuron"
    read = staticmethod(read_spatial_neuron)

    @staticmethod
    def accepts(obj) -> bool:
        return isinstance(obj, SpatialNeuron)


SPATIAL_NEURON = SpatialNeuronFrontEnd()
