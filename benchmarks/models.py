"""The published models of the benchmark, as data plus one builder.

Each `Model` names its rate curves: the named subexpressions that depend on the
membrane potential only. They are what a user of hand-made tables (lut4brian)
would tabulate, and what the ``floor`` variant replaces by constants
(`benchmarks.variants`). The equations of the variants differ only in the
expressions of these curves, so every variant is built by the same `build`. A
model without such curves (rates written inline, or functions of a per-neuron
parameter or of two variables) has only the ``exact`` and ``autolut`` variants
(`Model.variants`).

* ``coba_hh``: the Traub–Miles network of the COBA-HH benchmark (Brette et al.
  2007), equations and constants as in Brian2's example ``COBAHH.py``: 80 %
  excitatory and 20 % inhibitory neurons, conductance synapses, self-sustained
  activity started by random initial conditions. Unlike ``COBAHH.py``
  (connection probability 2 % among 4000 neurons, i.e. 80 inputs per neuron),
  every neuron receives a **fixed number of inputs**, 64 excitatory and 16
  inhibitory, at every N: the reference's in-degree, so that the dynamics (rates)
  do not change with N, and the synapse count grows only linearly (8 million at
  N = 100 000).
* ``wang_buzsaki``: the Wang & Buzsaki (1996) interneuron of `autolut.models`
  (raw ``exp(x) - 1`` denominators, Euler), a population of unconnected neurons
  whose drive rises with the index from silent to fast firing.
* ``rothman_manis``: the Rothman & Manis (2003) type II VCN neuron of
  `autolut.models` (five currents, seven gates, exponential Euler), the same
  kind of population.
* ``hh_axon``: a multicompartment model, the 10 cm squid axon of Brian2's
  example ``hh_with_spikes.py`` (`autolut.models.hh_axon`) cut into N
  compartments, driven by a constant 1 uA into its first compartment: trains of
  spikes travel along it. N counts compartments; Brian2's cable solver takes a
  share of every step that no table can shorten (measured in a profiled run,
  ``cable_share``).
* ``traub_miles``: the Traub–Miles neuron of COBA-HH as a population
  (`autolut.models.traub_miles`: exprel rates written inline, no named curves),
  drive rising with the index; ``traub_miles_vt``: the same with a per-neuron
  threshold shift ``VT : volt (constant)`` spread evenly over 5 mV around -63 mV
  (its rates are no longer functions of ``v`` alone).
* ``pospischil``: the regular-spiking neuron of Pospischil et al. (2008)
  (`autolut.models.pospischil_rs`: Traub-form INa and IKd shifted by VT, the slow
  IM, raw ``exp(x) - 1`` denominators); ``pospischil_vt``: with a per-neuron VT
  spread over 5 mV around -56.2 mV.
* ``bk``: a Traub–Miles neuron with a Ca current, a Ca pool and a
  Moczydlowski–Latorre BK current (`autolut.models.bk_neuron`), whose rates are
  functions of ``v`` and ``Ca`` together; autolut gets the Ca range
  (`autolut.models.BK_NEURON_RANGES`) through the model's `options`. By default
  the rates keep their split form (1-D tables of their exp(v) factors).
  ``bk_split`` and ``bk_2d`` compare the two forms at tolerance 1e-3 over v in
  [-100, 50] mV, where 2-D tables fit (150 x 3119 points each): ``bk_split``
  with the default choice (split), ``bk_2d`` with ``prefer_2d=True``.
* ``brunel_wang``: the Brunel–Wang (2001) network (`autolut.models.brunel_wang`)
  with the NMDA magnesium block of v_post in its glutamatergic Synapses, summed
  into the neurons; N neurons, each pair connected with probability 0.2 (about
  0.16*N**2 synapses: 160 000 at N = 1000), Poisson input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from brian2 import (Equations, NeuronGroup, Synapses, cm, ms, msiemens, mV, nA, nS, pA,
                    siemens, ufarad, uA, umetre)

from autolut.models import (BK_NEURON, BK_NEURON_NAMESPACE, BK_NEURON_RANGES,
                            BRUNEL_WANG_NAMESPACE, BRUNEL_WANG_NMDA, HH_AXON,
                            HH_AXON_NAMESPACE, POSPISCHIL_RS, POSPISCHIL_RS_NAMESPACE,
                            ROTHMAN_MANIS, ROTHMAN_MANIS_NAMESPACE, TRAUB_MILES,
                            TRAUB_MILES_NAMESPACE, VT_PARAMETER, WANG_BUZSAKI,
                            WANG_BUZSAKI_NAMESPACE, brunel_wang, hh_axon, spread_values)

__all__ = ["Model", "MODELS", "CURVE_VARIANTS", "build", "make_group"]

#: The variants that replace a model's curves (`benchmarks.variants`): they apply only
#: to a model with curves.
CURVE_VARIANTS = ("lut4brian", "floor")


@dataclasses.dataclass(frozen=True)
class Model:
    """A neuron model of the benchmark.

    Attributes
    ----------
    name, title
        Short identifier and the citation shown in the results.
    equations
        The published equations (the ``exact`` variant).
    namespace
        Constants of the equations.
    method
        Brian2 integration method (the builder's, with a `builder`).
    refractory
        Refractory period or condition (the builder's, with a `builder`).
    initial
        Initial values, ``{variable: value}``; ``None`` for ``coba_hh``, whose
        initial state is random (drawn with numpy so that it is the same on
        every target), and for a model whose `builder` sets them.
    drive
        Brian2 expression of the input current of the single-cell populations
        (rising with the index), or ``None``.
    curves
        Names of the rate curves (subexpressions of ``v`` only), in table order;
        empty if the model has none (then only the variants that do not replace
        curves apply, see `variants`).
    network
        Whether the neurons are connected (the chaotic network, compared
        statistically rather than neuron by neuron).
    rest_mV
        A resting potential in mV: where the ``floor`` variant evaluates the curves.
    lut4brian_grid
        The voltage grid (first, last, step in mV) of the hand-made tables: the
        example of lut4brian's README, or one that covers the model's range.
    builder
        For a model that `autolut.models` builds (the axon, a `SpatialNeuron`):
        the builder, called as ``builder(N, equations=..., namespace=...,
        name=...)``; it sets the threshold, refractoriness, morphology and
        initial values. Otherwise the group is a `NeuronGroup` with threshold
        ``v > -20*mV``.
    parameters
        For a population with per-neuron parameters (``(constant)`` variables
        of the equations): a function of N that returns their values,
        ``{name: values}``, the same on every call (so that every variant and
        target simulates the same neurons); or ``None``.
    options
        Options of ``autolut.optimize`` for this model (e.g. ``ranges`` of a
        non-voltage axis), added to those of the autolut variants.
    network_builder
        For a network that `autolut.models` builds: called as
        ``network_builder(N)``, it returns the objects to simulate, the neuron
        group first (its spikes are compared); the autolut variants optimize
        its groups and synapses.
    """

    name: str
    title: str
    equations: Equations
    namespace: dict
    method: str
    refractory: object
    initial: dict | None
    drive: str | None
    curves: tuple[str, ...]
    network: bool = False
    rest_mV: float = -65.0
    lut4brian_grid: tuple[float, float, float] = (-100.0, 60.0, 1.0)
    builder: Callable | None = None
    parameters: Callable[[int], dict] | None = None
    options: dict = dataclasses.field(default_factory=dict)
    network_builder: Callable[[int], tuple] | None = None

    def variants(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The variants of `names` (in their order) that apply to this model: all, or
        without curves all but the `CURVE_VARIANTS` (and their ``@threads`` forms)."""
        return tuple(name for name in names
                     if self.curves or name.partition("@")[0] not in CURVE_VARIANTS)


_AREA = 20000 * umetre**2
COBA_HH_NAMESPACE = dict(
    Cm=1 * ufarad * cm**-2 * _AREA, gl=5e-5 * siemens * cm**-2 * _AREA, El=-60 * mV,
    EK=-90 * mV, ENa=50 * mV, g_na=100 * msiemens * cm**-2 * _AREA,
    g_kd=30 * msiemens * cm**-2 * _AREA, VT=-63 * mV, taue=5 * ms, taui=10 * ms,
    Ee=0 * mV, Ei=-80 * mV, we=6 * nS, wi=67 * nS)
COBA_HH = Equations("""
dv/dt = (gl*(El-v) + ge*(Ee-v) + gi*(Ei-v) -
         g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK))/Cm : volt
dm/dt = alpha_m*(1-m) - beta_m*m : 1
dn/dt = alpha_n*(1-n) - beta_n*n : 1
dh/dt = alpha_h*(1-h) - beta_h*h : 1
dge/dt = -ge*(1./taue) : siemens
dgi/dt = -gi*(1./taui) : siemens
alpha_m = 0.32*(mV**-1)*4*mV/exprel((13*mV-v+VT)/(4*mV))/ms : Hz
beta_m = 0.28*(mV**-1)*5*mV/exprel((v-VT-40*mV)/(5*mV))/ms : Hz
alpha_h = 0.128*exp((17*mV-v+VT)/(18*mV))/ms : Hz
beta_h = 4./(1+exp((40*mV-v+VT)/(5*mV)))/ms : Hz
alpha_n = 0.032*(mV**-1)*5*mV/exprel((15*mV-v+VT)/(5*mV))/ms : Hz
beta_n = .5*exp((10*mV-v+VT)/(40*mV))/ms : Hz
""")
#: Inputs per neuron of the COBA-HH network: 2 % of the reference's 3200
#: excitatory and 800 inhibitory neurons, kept fixed for every N.
IN_EXCITATORY, IN_INHIBITORY = 64, 16


def _without_VT(namespace: dict) -> dict:
    """`namespace` without ``VT`` (a per-neuron parameter of the ``_vt`` populations)."""
    return {name: value for name, value in namespace.items() if name != "VT"}


def _spread_VT(centre, width=5 * mV) -> Callable[[int], dict]:
    """The per-neuron ``VT`` of the ``_vt`` populations: spread evenly over `width` around
    `centre`, shuffled with a fixed seed (`autolut.models.spread_values`, as the
    builders' ``VT_spread``)."""
    def parameters(N: int) -> dict:
        return {"VT": spread_values(N, centre, width)}
    return parameters


MODELS = {model.name: model for model in [
    Model("coba_hh", "Traub–Miles COBA-HH network (Brette et al. 2007)", COBA_HH,
          COBA_HH_NAMESPACE, "exponential_euler", 3 * ms, None, None,
          ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n"), network=True),
    Model("wang_buzsaki", "Wang–Buzsaki interneuron (1996)", WANG_BUZSAKI,
          dict(WANG_BUZSAKI_NAMESPACE, I_max=3 * uA / cm**2), "euler", 2 * ms,
          dict(v=-65 * mV, h=0.6, n=0.3), "I_max * i / (N - 1)",
          ("m_inf", "alpha_h", "beta_h", "alpha_n", "beta_n")),
    Model("rothman_manis", "Rothman–Manis VCN type II neuron (2003)", ROTHMAN_MANIS,
          dict(ROTHMAN_MANIS_NAMESPACE, I_max=400 * pA), "exponential_euler", 2 * ms,
          dict(v=-65 * mV, m=0.02, h=0.7, n=0.05, p=0.05, w=0.5, z=0.6, r=0.15),
          "I_max * i / (N - 1)",
          ("minf", "hinf", "mtau", "htau", "ninf", "pinf", "ntau", "ptau", "winf", "zinf",
           "wtau", "ztau", "rinf", "rtau")),
    Model("hh_axon", "Hodgkin–Huxley squid axon, 10 cm in N compartments (Brian2's "
          "hh_with_spikes.py)", HH_AXON, dict(HH_AXON_NAMESPACE, I_max=1 * uA),
          "exponential_euler", "m > 0.4", None, "I_max * int(i == 0)",
          ("alpham", "betam", "alphah", "betah", "alphan", "betan"), rest_mV=0.0,
          lut4brian_grid=(-40.0, 140.0, 1.0), builder=hh_axon),
    Model("traub_miles", "Traub–Miles population (COBA-HH's neuron, Brette et al. 2007)",
          TRAUB_MILES, dict(TRAUB_MILES_NAMESPACE, I_max=1.5 * nA), "exponential_euler",
          3 * ms, dict(v=-65 * mV), "I_max * i / (N - 1)", ()),
    Model("traub_miles_vt", "Traub–Miles population, per-neuron VT spread over 5 mV",
          TRAUB_MILES + VT_PARAMETER, _without_VT(dict(TRAUB_MILES_NAMESPACE, I_max=1.5 * nA)),
          "exponential_euler", 3 * ms, dict(v=-65 * mV), "I_max * i / (N - 1)", (),
          parameters=_spread_VT(TRAUB_MILES_NAMESPACE["VT"])),
    Model("pospischil", "Pospischil et al. (2008) regular-spiking cortical neuron",
          POSPISCHIL_RS, dict(POSPISCHIL_RS_NAMESPACE, I_max=0.75 * nA), "exponential_euler",
          3 * ms, dict(v=-70 * mV, h=1), "I_max * i / (N - 1)",
          ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n", "p_inf", "tau_p"),
          rest_mV=-70.0),
    Model("pospischil_vt", "Pospischil et al. (2008) RS neuron, per-neuron VT spread over "
          "5 mV", POSPISCHIL_RS + VT_PARAMETER,
          _without_VT(dict(POSPISCHIL_RS_NAMESPACE, I_max=0.75 * nA)), "exponential_euler",
          3 * ms, dict(v=-70 * mV, h=1), "I_max * i / (N - 1)", (),
          parameters=_spread_VT(POSPISCHIL_RS_NAMESPACE["VT"])),
    Model("bk", "Traub–Miles neuron with Ca and a Moczydlowski–Latorre BK current", BK_NEURON,
          dict(BK_NEURON_NAMESPACE, I_max=1.5 * nA), "exponential_euler", 3 * ms,
          dict(v=-65 * mV, Ca=BK_NEURON_NAMESPACE["Ca_rest"]), "I_max * i / (N - 1)", (),
          options=dict(ranges=BK_NEURON_RANGES)),
    *(Model(f"bk_{form}", f"Traub–Miles neuron with Ca and BK, tolerance 1e-3, BK rates "
                          f"{title}", BK_NEURON,
            dict(BK_NEURON_NAMESPACE, I_max=1.5 * nA), "exponential_euler", 3 * ms,
            dict(v=-65 * mV, Ca=BK_NEURON_NAMESPACE["Ca_rest"]), "I_max * i / (N - 1)", (),
            options=dict(ranges=dict(BK_NEURON_RANGES, v=(-100 * mV, 50 * mV)),
                         tolerance=1e-3, prefer_2d=form == "2d"))
      for form, title in (("split", "split (default)"), ("2d", "as 2-D tables (prefer_2d)"))),
    Model("brunel_wang", "Brunel–Wang (2001) network, NMDA Mg block in the Synapses "
          "(connection probability 0.2)", BRUNEL_WANG_NMDA, BRUNEL_WANG_NAMESPACE, "euler",
          None, None, None, (), network=True, network_builder=brunel_wang),
]}


def build(model: Model, N: int, equations: Equations | None = None,
          namespace: dict | None = None, seed: int = 2007) -> tuple[NeuronGroup, list]:
    """Build `N` neurons of `model`; returns the group and all objects to simulate.

    Parameters
    ----------
    model
        The model.
    N
        Number of neurons.
    equations
        The equations to use instead of the published ones (a variant's).
    namespace
        Extra names for the equations (a variant's functions).
    seed
        Seed of the numpy generator that draws the network's connections and
        initial state, so that every variant and target simulates the same
        network.

    Returns
    -------
    group, objects
        The `NeuronGroup` (or `SpatialNeuron`), and the list of it and its synapses.
    """
    if model.network_builder is not None:
        objects = list(model.network_builder(N))
        return objects[0], objects
    group = make_group(model, N, model.equations if equations is None else equations,
                       dict(model.namespace, **(namespace or {})), model.name)
    if not model.network:
        group.set_states(model.initial or {}, units=True)
        if model.parameters is not None:
            group.set_states(model.parameters(N), units=True)
        group.I = model.drive
        return group, [group]
    rng = np.random.default_rng(seed)
    # COBAHH.py's initial state, drawn with numpy (not Brian2's randn()) so that
    # it is the same on every target
    group.v = COBA_HH_NAMESPACE["El"] + (rng.standard_normal(N) * 5 - 5) * mV
    group.ge = (rng.standard_normal(N) * 1.5 + 4) * 10 * nS
    group.gi = (rng.standard_normal(N) * 12 + 20) * 10 * nS
    excitatory = int(0.8 * N)
    objects = [group]
    for kind, sources, inputs, weight in [("e", np.arange(excitatory), IN_EXCITATORY, "we"),
                                          ("i", np.arange(excitatory, N), IN_INHIBITORY, "wi")]:
        pre = np.concatenate([rng.choice(sources, inputs, replace=False) for _ in range(N)])
        synapses = Synapses(group, group, on_pre=f"g{kind} += {weight}",
                            namespace=model.namespace, name=f"synapses_{kind}")
        synapses.connect(i=pre, j=np.repeat(np.arange(N), inputs))
        objects.append(synapses)
    return group, objects


def make_group(model: Model, N: int, equations: Equations, namespace: dict, name: str):
    """The group of `N` neurons (or compartments) of `model` with `equations` (initial
    values only if its builder sets them)."""
    if model.builder is not None:
        return model.builder(N, equations=equations, namespace=namespace, name=name)
    return NeuronGroup(N, equations, threshold="v > -20*mV", refractory=model.refractory,
                       method=model.method, namespace=namespace, name=name)
