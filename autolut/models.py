"""Published neuron models, as plain builders: the demo, the tests and the benchmark use them.

Every point-neuron builder takes the population size and returns a fresh
``NeuronGroup`` whose drive ``I`` rises with the neuron index (from silent to
fast firing), so one population covers every regime. The multicompartment
builders (`hh_axon`, `destexhe_1998`) return a ``SpatialNeuron`` as Brian2's
examples build it, and come with the examples' stimulation protocols.
Constants live in each group's explicit ``namespace`` so that groups can be
built and run from anywhere; with a ``VT_spread``, `traub_miles` and
`pospischil_rs` make their threshold shift ``VT`` a per-neuron parameter
(``VT : volt (constant)``, values from `spread_values`). The equations
are written as their sources write them (raw ``exp(x) - 1`` denominators,
``exprel``, unitless ``vu = v/mV``...): autolut must handle every spelling.

Examples
--------
>>> from autolut.models import traub_miles
>>> group = traub_miles(10)
>>> sorted(group.user_equations.diff_eq_names)
['h', 'm', 'n', 'v']
"""

import numpy as np
from brian2 import (Cylinder, Equations, Hz, Mohm, NeuronGroup, PoissonInput, SpatialNeuron,
                    Synapses, amp, cm, coulomb, kelvin, mmolar, mole, ms, msiemens, mV, nA,
                    nF, nM, nS, ohm, pA, pF, psiemens, second, siemens, ufarad, uA, um, umetre)
from brian2.units.constants import faraday_constant, gas_constant, zero_celsius
from brian2.units.fundamentalunits import get_unit

__all__ = ["traub_miles", "wang_buzsaki", "hh_temperature", "rothman_manis", "adex", "hh_1952",
           "mainen_sejnowski", "TRAUB_MILES", "TRAUB_MILES_NAMESPACE", "WANG_BUZSAKI",
           "WANG_BUZSAKI_NAMESPACE", "HH_TEMPERATURE", "HH_TEMPERATURE_NAMESPACE",
           "ROTHMAN_MANIS", "ROTHMAN_MANIS_NAMESPACE", "ADEX", "ADEX_NAMESPACE", "EIF",
           "HH_1952", "HH_1952_NAMESPACE", "MAINEN_SEJNOWSKI", "MAINEN_SEJNOWSKI_NAMESPACE",
           "MAINEN_SEJNOWSKI_RANGES", "hh_axon", "stimulate_axon", "HH_AXON",
           "HH_AXON_NAMESPACE", "destexhe_1998", "stimulate_destexhe", "DESTEXHE_1998",
           "DESTEXHE_1998_NAMESPACE", "VT_PARAMETER", "spread_values", "pospischil_rs",
           "POSPISCHIL_RS", "POSPISCHIL_RS_NAMESPACE", "bk_neuron", "BK_NEURON",
           "BK_NEURON_NAMESPACE", "BK_NEURON_RANGES", "brunel_wang", "BRUNEL_WANG_NEURON",
           "BRUNEL_WANG_NMDA", "BRUNEL_WANG_NAMESPACE"]


# -- Traub & Miles (1991), as in the COBA-HH benchmark of Brette et al. (2007): exprel rates.
_AREA = 20000 * umetre**2
TRAUB_MILES_NAMESPACE = dict(
    Cm=1 * ufarad * cm**-2 * _AREA, gl=5e-5 * siemens * cm**-2 * _AREA, El=-65 * mV,
    EK=-90 * mV, ENa=50 * mV, g_na=100 * msiemens * cm**-2 * _AREA,
    g_kd=30 * msiemens * cm**-2 * _AREA, VT=-63 * mV)
TRAUB_MILES = Equations("""
dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm : volt
dm/dt = 0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)
        -0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m : 1
dn/dt = 0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)
        -.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n : 1
dh/dt = 0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h : 1
I : amp
""")


#: The line that makes the threshold shift ``VT`` a per-neuron parameter (``VT_spread``)
VT_PARAMETER = Equations("VT : volt (constant)")


def spread_values(N: int, centre, width, seed: int = 2008):
    """`N` values spread evenly over `width` around `centre`: the midpoints of `N`
    equal parts of ``[centre - width/2, centre + width/2]`` (`centre` itself for
    ``N = 1``), in an order shuffled by ``numpy.random.default_rng(seed)``. The
    same values on every target and in every run, and uncorrelated with the neuron
    index (that is, with the drive of the populations here).

    >>> spread_values(4, -63 * mV, 4 * mV)
    array([-62.5, -64.5, -63.5, -61.5]) * mvolt
    """
    fractions = (np.arange(N) + 0.5) / N - 0.5
    return centre + width * np.random.default_rng(seed).permutation(fractions)


def _with_VT(equations, namespace: dict, VT_spread):
    """The equations and namespace of a population whose ``VT`` is a per-neuron
    parameter if `VT_spread` is given (else as they are)."""
    if VT_spread is None:
        return equations, namespace
    return equations + VT_PARAMETER, {k: v for k, v in namespace.items() if k != "VT"}


def traub_miles(N: int, method: str = "exponential_euler", I_max=1.5 * nA, name=None,
                equations=TRAUB_MILES, VT_spread=None, seed: int = 2008):
    """A Traub–Miles population whose drive rises from 0 to `I_max` with the index
    (neuron 0 is silent, the others fire, up to ~170 Hz).

    Equations and constants of the COBA-HH benchmark (Brette et al. 2007, J Comput
    Neurosci 23:349; Traub & Miles 1991), without synapses. With a `VT_spread`,
    ``VT`` is a per-neuron parameter (``VT : volt (constant)``, `VT_PARAMETER`)
    whose values are spread evenly over `VT_spread` around -63 mV
    (`spread_values` with `seed`): the same rates, no longer functions of ``v``
    alone.
    """
    equations, namespace = _with_VT(equations, dict(TRAUB_MILES_NAMESPACE, I_max=I_max),
                                    VT_spread)
    group = NeuronGroup(N, equations, threshold="v > -20*mV", refractory=3 * ms,
                        method=method, namespace=namespace, name=name or "traub_miles*")
    group.v = -65 * mV
    if VT_spread is not None:
        group.VT = spread_values(N, TRAUB_MILES_NAMESPACE["VT"], VT_spread, seed)
    group.I = "I_max * i / (N - 1)"
    return group


# -- Wang & Buzsaki (1996) interneuron: rates written with raw exp(...) - 1 denominators,
#    named subexpressions, and m at steady state. The singular points of alpha_m and
#    alpha_n (v = -35 mV and -34 mV) fall on grid points of many grids. Brian2's
#    exponential Euler cannot separate its exact v equation (m_inf(v)**3), so it
#    is integrated with Euler.
WANG_BUZSAKI_NAMESPACE = dict(Cm=1 * ufarad / cm**2, gL=0.1 * msiemens / cm**2, EL=-65 * mV,
                              ENa=55 * mV, EK=-90 * mV, gNa=35 * msiemens / cm**2,
                              gK=9 * msiemens / cm**2, phi=5)
WANG_BUZSAKI = Equations("""
dv/dt = (-gNa*m_inf**3*h*(v-ENa) - gK*n**4*(v-EK) - gL*(v-EL) + I)/Cm : volt
m_inf = alpha_m/(alpha_m + beta_m) : 1
alpha_m = -0.1/mV*(v + 35*mV)/(exp(-0.1/mV*(v + 35*mV)) - 1)/ms : Hz
beta_m = 4*exp(-(v + 60*mV)/(18*mV))/ms : Hz
dh/dt = phi*(alpha_h*(1 - h) - beta_h*h) : 1
alpha_h = 0.07*exp(-(v + 58*mV)/(20*mV))/ms : Hz
beta_h = 1./(exp(-0.1/mV*(v + 28*mV)) + 1)/ms : Hz
dn/dt = phi*(alpha_n*(1 - n) - beta_n*n) : 1
alpha_n = -0.01/mV*(v + 34*mV)/(exp(-0.1/mV*(v + 34*mV)) - 1)/ms : Hz
beta_n = 0.125*exp(-(v + 44*mV)/(80*mV))/ms : Hz
I : amp/metre**2
""")


def wang_buzsaki(N, method="euler", I_max=3 * uA / cm**2, name=None):
    group = NeuronGroup(N, WANG_BUZSAKI, threshold="v > -20*mV", refractory=2 * ms,
                        method=method, namespace=dict(WANG_BUZSAKI_NAMESPACE, I_max=I_max),
                        name=name or "wang_buzsaki*")
    group.v = -65 * mV
    group.h = 0.6
    group.n = 0.3
    group.I = "I_max * i / (N - 1)"
    return group


# -- Hodgkin & Huxley (1952) with a temperature factor from a namespace constant
HH_TEMPERATURE_NAMESPACE = dict(celsius=6.3, Cm=1 * ufarad / cm**2, gNa=120 * msiemens / cm**2,
                                gK=36 * msiemens / cm**2, gL=0.3 * msiemens / cm**2,
                                ENa=50 * mV, EK=-77 * mV, EL=-54.4 * mV)
HH_TEMPERATURE = Equations("""
dv/dt = (-gNa*m**3*h*(v-ENa) - gK*n**4*(v-EK) - gL*(v-EL) + I)/Cm : volt
q10 = 3**((celsius - 6.3)/10) : 1
dm/dt = q10*(alpha_m*(1 - m) - beta_m*m) : 1
alpha_m = 0.1/mV*10*mV/exprel(-(v + 40*mV)/(10*mV))/ms : Hz
beta_m = 4*exp(-(v + 65*mV)/(18*mV))/ms : Hz
dh/dt = q10*(alpha_h*(1 - h) - beta_h*h) : 1
alpha_h = 0.07*exp(-(v + 65*mV)/(20*mV))/ms : Hz
beta_h = 1/(exp(-(v + 35*mV)/(10*mV)) + 1)/ms : Hz
dn/dt = q10*(alpha_n*(1 - n) - beta_n*n) : 1
alpha_n = 0.01/mV*10*mV/exprel(-(v + 55*mV)/(10*mV))/ms : Hz
beta_n = 0.125*exp(-(v + 65*mV)/(80*mV))/ms : Hz
I : amp/metre**2
""")


def hh_temperature(N, method="exponential_euler", I_max=20 * uA / cm**2, celsius=6.3,
                   name=None):
    group = NeuronGroup(N, HH_TEMPERATURE, threshold="v > -20*mV", refractory=3 * ms,
                        method=method,
                        namespace=dict(HH_TEMPERATURE_NAMESPACE, celsius=celsius, I_max=I_max),
                        name=name or "hh_temperature*")
    group.v = -65 * mV
    group.m, group.h, group.n = 0.05, 0.6, 0.32
    group.I = "I_max * i / (N - 1)"
    return group


# -- Rothman & Manis (2003) type II ventral cochlear nucleus neuron, written as in Brian2's
#    examples: a unitless `vu = v/mV`, steady states and time constants as subexpressions,
#    non-integer powers, a temperature factor, five gated currents (seven gates).
ROTHMAN_MANIS = Equations("""
dv/dt = (ileak + ina + ikht + iklt + ih + I)/C : volt
vu = v/mV : 1
ileak = gl*(EL - v) : amp
ina = gnabar*m**3*h*(ENa - v) : amp
dm/dt = q10*(minf - m)/mtau : 1
dh/dt = q10*(hinf - h)/htau : 1
minf = 1./(1 + exp(-(vu + 38.)/7.)) : 1
hinf = 1./(1 + exp((vu + 65.)/6.)) : 1
mtau = ((10./(5*exp((vu + 60.)/18.) + 36.*exp(-(vu + 60.)/25.))) + 0.04)*ms : second
htau = ((100./(7*exp((vu + 60.)/11.) + 10.*exp(-(vu + 60.)/25.))) + 0.6)*ms : second
ikht = gkhtbar*(nf*n**2 + (1 - nf)*p)*(EK - v) : amp
dn/dt = q10*(ninf - n)/ntau : 1
dp/dt = q10*(pinf - p)/ptau : 1
ninf = (1 + exp(-(vu + 15)/5.))**-0.5 : 1
pinf = 1./(1 + exp(-(vu + 23)/6.)) : 1
ntau = ((100./(11*exp((vu + 60)/24.) + 21*exp(-(vu + 60)/23.))) + 0.7)*ms : second
ptau = ((100./(4*exp((vu + 60)/32.) + 5*exp(-(vu + 60)/22.))) + 5)*ms : second
iklt = gkltbar*w**4*z*(EK - v) : amp
dw/dt = q10*(winf - w)/wtau : 1
dz/dt = q10*(zinf - z)/ztau : 1
winf = (1./(1 + exp(-(vu + 48.)/6.)))**0.25 : 1
zinf = zss + ((1. - zss)/(1 + exp((vu + 71.)/10.))) : 1
wtau = ((100./(6.*exp((vu + 60.)/6.) + 16.*exp(-(vu + 60.)/45.))) + 1.5)*ms : second
ztau = ((1000./(exp((vu + 60.)/20.) + exp(-(vu + 60.)/8.))) + 50)*ms : second
ih = ghbar*r*(EH - v) : amp
dr/dt = q10*(rinf - r)/rtau : 1
rinf = 1./(1 + exp((vu + 76.)/7.)) : 1
rtau = ((100000./(237.*exp((vu + 60.)/12.) + 17.*exp(-(vu + 60.)/14.))) + 25.)*ms : second
I : amp
""")
ROTHMAN_MANIS_NAMESPACE = dict(C=12 * pF, EH=-43 * mV, EK=-70 * mV, ENa=50 * mV, EL=-65 * mV,
                               q10=1.0, nf=0.85, zss=0.5, gnabar=1000 * nS, gkhtbar=150 * nS,
                               gkltbar=200 * nS, ghbar=20 * nS, gl=2 * nS)


def rothman_manis(N, method="exponential_euler", I_max=400 * pA, name=None):
    group = NeuronGroup(N, ROTHMAN_MANIS, threshold="v > -20*mV", refractory=2 * ms,
                        method=method, namespace=dict(ROTHMAN_MANIS_NAMESPACE, I_max=I_max),
                        name=name or "rothman_manis*")
    group.v = -65 * mV
    group.m, group.h, group.n, group.p = 0.02, 0.7, 0.05, 0.05
    group.w, group.z, group.r = 0.5, 0.6, 0.15
    group.I = "I_max * i / (N - 1)"
    return group


# -- Brette & Gerstner (2005) adaptive exponential integrate-and-fire neuron (AdEx), the
#    parameters of their Fig. 2, and the exponential integrate-and-fire neuron (EIF) without
#    adaptation. The only costly term is one exp((v - VT)/DeltaT), huge above threshold.
ADEX = Equations("""
dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) + I - w)/C : volt
dw/dt = (a*(v - EL) - w)/tauw : amp
I : amp
""")
ADEX_NAMESPACE = dict(C=281 * pF, gL=30 * nS, EL=-70.6 * mV, VT=-50.4 * mV, DeltaT=2 * mV,
                      tauw=144 * ms, a=4 * nS, b=0.0805 * nA, Vr=-70.6 * mV,
                      Vcut=-50.4 * mV + 5 * 2 * mV)
EIF = Equations("""
dv/dt = (gL*(EL - v) + gL*DeltaT*exp((v - VT)/DeltaT) + I)/C : volt
I : amp
""")


def adex(N, adaptation=True, I_max=1.5 * nA, name=None):
    group = NeuronGroup(N, ADEX if adaptation else EIF, threshold="v > Vcut",
                        reset="v = Vr; w += b" if adaptation else "v = Vr", method="euler",
                        namespace=dict(ADEX_NAMESPACE, I_max=I_max),
                        name=name or ("adex*" if adaptation else "eif*"))
    group.v = ADEX_NAMESPACE["EL"]
    group.I = "I_max/3 + 2*I_max/3 * i / (N - 1)"
    return group


# -- Hodgkin & Huxley (1952) in their own convention: rest at 0 mV, depolarisation positive,
#    ENa = 115 mV; spikes peak above 100 mV (as in Brian2's examples/compartmental/
#    hodgkin_huxley_1952.py).
HH_1952 = Equations("""
dv/dt = (gL*(EL - v) - gNa*m**3*h*(v - ENa) - gK*n**4*(v - EK) + I)/Cm : volt
dm/dt = alpham*(1 - m) - betam*m : 1
dn/dt = alphan*(1 - n) - betan*n : 1
dh/dt = alphah*(1 - h) - betah*h : 1
alpham = (0.1/mV)*10*mV/exprel((-v + 25*mV)/(10*mV))/ms : Hz
betam = 4*exp(-v/(18*mV))/ms : Hz
alphah = 0.07*exp(-v/(20*mV))/ms : Hz
betah = 1/(exp((-v + 30*mV)/(10*mV)) + 1)/ms : Hz
alphan = (0.01/mV)*10*mV/exprel((-v + 10*mV)/(10*mV))/ms : Hz
betan = 0.125*exp(-v/(80*mV))/ms : Hz
I : amp/metre**2
""")
HH_1952_NAMESPACE = dict(Cm=1 * ufarad / cm**2, gL=0.3 * msiemens / cm**2, EL=10.6 * mV,
                         gNa=120 * msiemens / cm**2, ENa=115 * mV, gK=36 * msiemens / cm**2,
                         EK=-12 * mV)


def hh_1952(N, method="exponential_euler", I_max=20 * uA / cm**2, name=None):
    group = NeuronGroup(N, HH_1952, threshold="v > 50*mV", refractory="v > 50*mV",
                        method=method, namespace=dict(HH_1952_NAMESPACE, I_max=I_max),
                        name=name or "hh_1952*")
    group.v = 0 * mV
    group.m, group.h, group.n = 0.05, 0.6, 0.32
    group.I = "I_max * i / (N - 1)"
    return group


# -- Mainen & Sejnowski (1996): their two-compartment reduction of a neocortical pyramidal
#    cell (axo-somatic compartment with Na and Kv; dendrite with Na, high-threshold Ca, Km,
#    Ca-dependent K and a Ca pool), kinetics of their NEURON mechanisms (na, kv, km, kca, ca,
#    cad) at 37 °C. The rates are written as in the mod files, with raw (exp(x) - 1)
#    denominators: the Ca activation's is 0/0 at -27 mV. With rho = 165 the cell bursts; with
#    rho = 75 it fires regular trains (Fig. 1 of the paper).
MAINEN_SEJNOWSKI = Equations("""
dvs/dt = (-INa_s - IKv_s + (vd - vs)/kappa + I)/(Cm*area_s) : volt
dvd/dt = (-INa_d - ICa - IKm - IKCa - gL*area_d*(vd - EL) + (vs - vd)/kappa)/(Cm*area_d) : volt
INa_s = tadj*gNa_s*area_s*ms_**3*hs*(vs - ENa) : amp
IKv_s = tadj*gKv_s*area_s*ns_*(vs - EK) : amp
INa_d = tadj*gNa_d*area_d*md**3*hd*(vd - ENa) : amp
ICa = tadj*gCa*area_d*mc**2*hc*(vd - ECa) : amp
IKm = tadj*gKm*area_d*nm*(vd - EK) : amp
IKCa = tadj*gKCa*area_d*nk*(vd - EK) : amp
dms_/dt = (a_ms/(a_ms + b_ms) - ms_)*tadj*(a_ms + b_ms) : 1
a_ms = 0.182/mV*(vs + vshift + 35*mV)/(1 - exp(-(vs + vshift + 35*mV)/(9*mV)))/ms : Hz
b_ms = -0.124/mV*(vs + vshift + 35*mV)/(1 - exp((vs + vshift + 35*mV)/(9*mV)))/ms : Hz
dhs/dt = (1/(1 + exp((vs + vshift + 65*mV)/(6.2*mV))) - hs)*tadj*(a_hs + b_hs) : 1
a_hs = 0.024/mV*(vs + vshift + 50*mV)/(1 - exp(-(vs + vshift + 50*mV)/(5*mV)))/ms : Hz
b_hs = -0.0091/mV*(vs + vshift + 75*mV)/(1 - exp((vs + vshift + 75*mV)/(5*mV)))/ms : Hz
dns_/dt = (a_ns/(a_ns + b_ns) - ns_)*tadj*(a_ns + b_ns) : 1
a_ns = 0.02/mV*(vs - 25*mV)/(1 - exp(-(vs - 25*mV)/(9*mV)))/ms : Hz
b_ns = -0.002/mV*(vs - 25*mV)/(1 - exp((vs - 25*mV)/(9*mV)))/ms : Hz
dmd/dt = (a_md/(a_md + b_md) - md)*tadj*(a_md + b_md) : 1
a_md = 0.182/mV*(vd + vshift + 35*mV)/(1 - exp(-(vd + vshift + 35*mV)/(9*mV)))/ms : Hz
b_md = -0.124/mV*(vd + vshift + 35*mV)/(1 - exp((vd + vshift + 35*mV)/(9*mV)))/ms : Hz
dhd/dt = (1/(1 + exp((vd + vshift + 65*mV)/(6.2*mV))) - hd)*tadj*(a_hd + b_hd) : 1
a_hd = 0.024/mV*(vd + vshift + 50*mV)/(1 - exp(-(vd + vshift + 50*mV)/(5*mV)))/ms : Hz
b_hd = -0.0091/mV*(vd + vshift + 75*mV)/(1 - exp((vd + vshift + 75*mV)/(5*mV)))/ms : Hz
dmc/dt = (a_mc/(a_mc + b_mc) - mc)*tadj*(a_mc + b_mc) : 1
a_mc = 0.055/mV*(-27*mV - vd)/(exp((-27*mV - vd)/(3.8*mV)) - 1)/ms : Hz
b_mc = 0.94*exp((-75*mV - vd)/(17*mV))/ms : Hz
dhc/dt = (a_hc/(a_hc + b_hc) - hc)*tadj*(a_hc + b_hc) : 1
a_hc = 0.000457*exp((-13*mV - vd)/(50*mV))/ms : Hz
b_hc = 0.0065/(exp((-vd - 15*mV)/(28*mV)) + 1)/ms : Hz
dnm/dt = (a_nm/(a_nm + b_nm) - nm)*tadj*(a_nm + b_nm) : 1
a_nm = 0.001/mV*(vd + 30*mV)/(1 - exp(-(vd + 30*mV)/(9*mV)))/ms : Hz
b_nm = -0.001/mV*(vd + 30*mV)/(1 - exp((vd + 30*mV)/(9*mV)))/ms : Hz
dnk/dt = (a_nk/(a_nk + b_nk) - nk)*tadj*(a_nk + b_nk) : 1
a_nk = 0.01/mmolar*Ca/ms : Hz
b_nk = 0.02/ms : Hz
dCa/dt = clip(-ICa/area_d/(2*F*depth), 0*mmolar/ms, inf*mmolar/ms) + (cainf - Ca)/taur : mmolar
I : amp
""")
MAINEN_SEJNOWSKI_NAMESPACE = dict(
    area_s=100 * umetre**2, Cm=0.75 * ufarad / cm**2, kappa=10 * Mohm,
    gNa_s=30000 * psiemens / umetre**2, gKv_s=1500 * psiemens / umetre**2,
    gNa_d=15 * psiemens / umetre**2, gCa=0.3 * psiemens / umetre**2,
    gKm=0.1 * psiemens / umetre**2, gKCa=3 * psiemens / umetre**2,
    gL=1 / (30000 * ohm * cm**2), EL=-70 * mV, ENa=60 * mV, EK=-90 * mV, ECa=140 * mV,
    tadj=2.3**((37 - 23) / 10), vshift=-10 * mV, depth=0.1 * umetre, taur=200 * ms,
    cainf=100e-6 * mmolar, F=96485 * coulomb / mole)
#: A range of the Ca axis for the Ca-dependent K current's tables
MAINEN_SEJNOWSKI_RANGES = {"Ca": (0 * mmolar, 0.01 * mmolar)}


def mainen_sejnowski(N, rho=75, I_min=0.05 * nA, I_max=0.3 * nA, name=None):
    namespace = dict(MAINEN_SEJNOWSKI_NAMESPACE, I_min=I_min, I_max=I_max)
    namespace["area_d"] = rho * namespace["area_s"]
    group = NeuronGroup(N, MAINEN_SEJNOWSKI, threshold="vs > -20*mV",
                        refractory="vs > -20*mV", method="exponential_euler",
                        namespace=namespace, name=name or "mainen_sejnowski*")
    group.vs, group.vd, group.Ca = -70 * mV, -70 * mV, 100e-6 * mmolar
    group.hs, group.hd, group.hc = 1, 1, 1
    group.I = "I_min + (I_max - I_min) * i / (N - 1)"
    return group


# -- Pospischil, Toledo-Rodriguez, Monier, Piwkowska, Bal, Frégnac, Markram & Destexhe (2008):
#    their regular-spiking (RS) cortical neuron, one compartment with leak, INa and IKd in
#    Traub's form shifted by VT, and the slow non-inactivating K current IM (spike-frequency
#    adaptation), with the paper's RS parameters (ModelDB 123623's demo uses older ones).
#    The rates as the paper writes them, named, with raw exp(x) - 1 denominators: alpha_m,
#    beta_m and alpha_n are 0/0 at v = VT + 13 mV, VT + 40 mV and VT + 15 mV.
POSPISCHIL_RS = Equations("""
dv/dt = (gL*(EL - v) - INa - IKd - IM + I/area)/Cm : volt
INa = gNa*m**3*h*(v - ENa) : amp/metre**2
IKd = gKd*n**4*(v - EK) : amp/metre**2
IM = gM*p*(v - EK) : amp/metre**2
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
dh/dt = alpha_h*(1 - h) - beta_h*h : 1
dn/dt = alpha_n*(1 - n) - beta_n*n : 1
dp/dt = (p_inf - p)/tau_p : 1
alpha_m = -0.32/mV*(v - VT - 13*mV)/(exp(-(v - VT - 13*mV)/(4*mV)) - 1)/ms : Hz
beta_m = 0.28/mV*(v - VT - 40*mV)/(exp((v - VT - 40*mV)/(5*mV)) - 1)/ms : Hz
alpha_h = 0.128*exp(-(v - VT - 17*mV)/(18*mV))/ms : Hz
beta_h = 4/(1 + exp(-(v - VT - 40*mV)/(5*mV)))/ms : Hz
alpha_n = -0.032/mV*(v - VT - 15*mV)/(exp(-(v - VT - 15*mV)/(5*mV)) - 1)/ms : Hz
beta_n = 0.5*exp(-(v - VT - 10*mV)/(40*mV))/ms : Hz
p_inf = 1/(1 + exp(-(v + 35*mV)/(10*mV))) : 1
tau_p = tau_max/(3.3*exp((v + 35*mV)/(20*mV)) + exp(-(v + 35*mV)/(20*mV))) : second
I : amp
""")
POSPISCHIL_RS_NAMESPACE = dict(
    area=np.pi * (61.4 * umetre)**2, Cm=1 * ufarad / cm**2, gL=2.05e-5 * siemens / cm**2,
    EL=-70.3 * mV, gNa=56 * msiemens / cm**2, ENa=50 * mV, gKd=6 * msiemens / cm**2,
    EK=-90 * mV, gM=0.075 * msiemens / cm**2, tau_max=608 * ms, VT=-56.2 * mV)


def pospischil_rs(N: int, method: str = "exponential_euler", I_max=0.75 * nA, VT_spread=None,
                  seed: int = 2008, name=None):
    """Pospischil et al. (2008)'s regular-spiking neuron ("Minimal Hodgkin–Huxley type
    models for different classes of cortical and thalamic neurons", Biol Cybern
    99:427), a population whose drive rises from 0 to `I_max` with the index (by
    default 0.75 nA, the ModelDB demo's current: about the first tenth of the
    neurons is silent, the last one adapts to ~130 Hz).

    Soma of L = d = 61.4 um; starts at rest (-70 mV, IM closed). Without a
    `VT_spread`, ``VT`` (-56.2 mV) is a namespace constant; with one (even
    ``0*mV``), a per-neuron parameter (``VT : volt (constant)``, `VT_PARAMETER`)
    whose values are spread evenly over `VT_spread` around -56.2 mV
    (`spread_values` with `seed`).
    """
    equations, namespace = _with_VT(POSPISCHIL_RS, dict(POSPISCHIL_RS_NAMESPACE, I_max=I_max),
                                    VT_spread)
    group = NeuronGroup(N, equations, threshold="v > -20*mV", refractory=3 * ms,
                        method=method, namespace=namespace, name=name or "pospischil_rs*")
    group.v = -70 * mV
    group.h = 1
    if VT_spread is not None:
        group.VT = spread_values(N, POSPISCHIL_RS_NAMESPACE["VT"], VT_spread, seed)
    group.I = "I_max * i / (N - 1)"
    return group


# -- A Traub–Miles neuron (the spike currents and rates of `TRAUB_MILES`) with a
#    high-voltage-activated Ca current (the r**2 gate of Traub et al. 2003's cal.mod,
#    ECa fixed, a raw exp(x) - 1 denominator, 0/0 at -8.9 mV), a fast submembrane Ca pool
#    and a big-conductance Ca- and voltage-gated K current (BK) of Moczydlowski & Latorre
#    (1983, J Gen Physiol 82:511) with the constants of NEURON's cagk.mod (ModelDB): its
#    rates are functions of v and Ca that do not factor into functions of one variable.
BK_NEURON = Equations("""
dv/dt = (gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) - ICa - IBK + I)/Cm : volt
ICa = g_ca*r**2*(v - ECa) : amp
dr/dt = alpha_r*(1 - r) - beta_r*r : 1
alpha_r = 1.6/(1 + exp(-0.072/mV*(v - 5*mV)))/ms : Hz
beta_r = 0.02/mV*(v + 8.9*mV)/(exp((v + 8.9*mV)/(5*mV)) - 1)/ms : Hz
dCa/dt = -k_Ca*ICa - (Ca - Ca_rest)/tau_Ca : mmolar
IBK = g_bk*o*(v - EK) : amp
do/dt = alpha_o*(1 - o) - beta_o*o : 1
alpha_o = abar*Ca/(Ca + k1*exp(-2*d1*F*v/(R*T))) : Hz
beta_o = bbar/(1 + Ca/(k4*exp(-2*d4*F*v/(R*T)))) : Hz
I : amp
""") + Equations([TRAUB_MILES[gate] for gate in ("m", "n", "h")])
_SHELL = 0.1 * umetre  # depth of the submembrane shell of the Ca pool
BK_NEURON_NAMESPACE = dict(
    TRAUB_MILES_NAMESPACE, g_ca=2 * msiemens * cm**-2 * _AREA, ECa=125 * mV,
    k_Ca=1 / (2 * faraday_constant * _AREA * _SHELL), Ca_rest=50 * nM, tau_Ca=2 * ms,
    g_bk=30 * msiemens * cm**-2 * _AREA, abar=0.48 / ms, bbar=0.28 / ms, k1=0.18 * mmolar,
    k4=0.011 * mmolar, d1=0.84, d4=1.0, F=faraday_constant, R=gas_constant,
    T=zero_celsius + 36 * kelvin)
#: The Ca range of `bk_neuron` (at rest 50 nM; up to 25 uM at the spikes of its fastest
#: neuron) with a margin: autolut's range of the Ca axis
BK_NEURON_RANGES = {"Ca": (0 * mmolar, 0.04 * mmolar)}


def bk_neuron(N: int, method: str = "exponential_euler", I_max=1.5 * nA, name=None):
    """A spiking neuron with a Moczydlowski–Latorre BK current (`BK_NEURON`), a
    population whose drive rises from 0 to `I_max` with the index (neuron 0 is
    silent, the others fire, the last one at ~110 Hz).

    Traub & Miles's Na and K currents (Traub & Miles 1991, as in Brette et al.
    2007), Traub et al. (2003, J Neurophysiol 89:909)'s high-threshold Ca
    current, a Ca pool ``dCa/dt = -k_Ca*ICa - (Ca - Ca_rest)/tau_Ca`` (a 0.1 um
    shell, 2 ms), and the BK channel of Moczydlowski & Latorre (1983, J Gen
    Physiol 82:511) with the rates and constants of NEURON's cagk.mod (ModelDB) at
    36 °C. The BK current deepens the after-hyperpolarisation by ~1.5 mV and nearly
    halves the firing rate of the fastest neurons. Everything is in the namespace
    (no per-neuron parameter); autolut needs `BK_NEURON_RANGES` for the Ca axis.
    """
    group = NeuronGroup(N, BK_NEURON, threshold="v > -20*mV", refractory=3 * ms,
                        method=method, namespace=dict(BK_NEURON_NAMESPACE, I_max=I_max),
                        name=name or "bk_neuron*")
    group.v = -65 * mV
    group.Ca = BK_NEURON_NAMESPACE["Ca_rest"]
    group.I = "I_max * i / (N - 1)"
    return group


# -- Hodgkin & Huxley (1952) on a 10 cm squid axon, as Brian2's examples/compartmental/
#    hh_with_spikes.py (a spike wave read from m > 0.5 along the axon, dt = 0.01 ms) and
#    hodgkin_huxley_1952.py (sodium channels on the first half only) write it: raw
#    exp(...) - 1 denominators, 0/0 at v = 25 mV and 10 mV; the stimulus a point current.
HH_AXON = Equations("""
Im = gl * (El-v) + gNa * m**3 * h * (ENa-v) + gK * n**4 * (EK-v) : amp/meter**2
I : amp (point current)
dm/dt = alpham * (1-m) - betam * m : 1
dn/dt = alphan * (1-n) - betan * n : 1
dh/dt = alphah * (1-h) - betah * h : 1
alpham = (0.1/mV) * (-v+25*mV) / (exp((-v+25*mV) / (10*mV)) - 1)/ms : Hz
betam = 4 * exp(-v/(18*mV))/ms : Hz
alphah = 0.07 * exp(-v/(20*mV))/ms : Hz
betah = 1/(exp((-v+30*mV) / (10*mV)) + 1)/ms : Hz
alphan = (0.01/mV) * (-v+10*mV) / (exp((-v+10*mV) / (10*mV)) - 1)/ms : Hz
betan = 0.125*exp(-v/(80*mV))/ms : Hz
gNa : siemens/meter**2
""")
HH_AXON_NAMESPACE = dict(El=10.613 * mV, ENa=115 * mV, EK=-12 * mV, gl=0.3 * msiemens / cm**2,
                         gK=36 * msiemens / cm**2)


def hh_axon(compartments=1000, sodium_on_first_half_only=False, dt=None, name=None,
            length=10 * cm, equations=HH_AXON, namespace=None):
    """The squid axon of Brian2's hh_with_spikes.py example (threshold ``m > 0.5``,
    refractory ``m > 0.4``, run at dt = 0.01 ms); with `sodium_on_first_half_only`,
    that of hodgkin_huxley_1952.py (run at Brian2's default dt, 0.1 ms). `dt` is
    the neuron's own time step (default: the default clock's). A shorter `length`
    keeps the diameter (same compartment size for ``compartments/10 cm`` per
    length); other `equations` and `namespace` serve the benchmark's variants.
    Stimulate it with `stimulate_axon`."""
    morphology = Cylinder(length=length, diameter=2 * 238 * um, n=compartments, type="axon")
    neuron = SpatialNeuron(morphology=morphology, model=equations, method="exponential_euler",
                           refractory="m > 0.4", threshold="m > 0.5", Cm=1 * ufarad / cm**2,
                           Ri=35.4 * ohm * cm, dt=dt, name=name or "hh_axon*",
                           namespace=dict(HH_AXON_NAMESPACE if namespace is None else namespace))
    neuron.v = 0 * mV
    neuron.h, neuron.m, neuron.n = 1, 0, 0.5
    neuron.I = 0 * amp
    neuron.gNa = 120 * msiemens / cm**2
    if sodium_on_first_half_only:
        neuron[5 * cm:10 * cm].gNa = 0 * siemens / cm**2
    return neuron


def stimulate_axon(neuron, run, rest=50 * ms, pulse=3 * ms, after=50 * ms):
    """The examples' protocol: `rest`, then 1 uA into the first compartment for
    `pulse`, then `after`. `run` is a Network's ``run`` (Brian2's magic ``run()``,
    called from here, would not collect the caller's monitors)."""
    run(rest)
    neuron.I[0] = 1 * uA
    run(pulse)
    neuron.I = 0 * amp
    run(after)


# -- Destexhe, Neubig, Ulrich & Huguenard (1998), Fig. 12: a thalamocortical relay cell in
#    three compartments with HH spikes at the soma (Traub convention, v2 = v - VT) and a
#    T-type calcium current whose driving force is the Goldman-Hodgkin-Katz factor G_Ca
#    (0/0 at v = 0), as Brian2's examples/frompapers/Destexhe_et_al_1998.py writes it:
#    tau_h_T switches form at -81 mV (int(v < -81*mV)).
DESTEXHE_1998 = Equations("""
Im = gl*(El-v) - I_Na - I_K - I_T: amp/meter**2
I_inj : amp (point current)
gl : siemens/meter**2
g_Na : siemens/meter**2
g_K : siemens/meter**2
I_Na = g_Na * m**3 * h * (v-E_Na) : amp/meter**2
I_K = g_K * n**4 * (v-E_K) : amp/meter**2
v2 = v - VT : volt
dm/dt = (0.32*(mV**-1)*(13.*mV-v2)/
        (exp((13.*mV-v2)/(4.*mV))-1.)*(1-m)-0.28*(mV**-1)*(v2-40.*mV)/
        (exp((v2-40.*mV)/(5.*mV))-1.)*m) / ms * tadj_HH: 1
dn/dt = (0.032*(mV**-1)*(15.*mV-v2)/
        (exp((15.*mV-v2)/(5.*mV))-1.)*(1.-n)-.5*exp((10.*mV-v2)/(40.*mV))*n) / ms * tadj_HH: 1
dh/dt = (0.128*exp((17.*mV-v2)/(18.*mV))*(1.-h)-4./(1+exp((40.*mV-v2)/(5.*mV)))*h) / ms * tadj_HH: 1
I_T = P_Ca * m_T**2*h_T * G_Ca : amp/meter**2
P_Ca : meter/second
G_Ca = Z_Ca**2*F*v*gamma*(Ca_i - Ca_o*exp(-Z_Ca*gamma*v))/(1 - exp(-Z_Ca*gamma*v))
       : coulomb/meter**3
dm_T/dt = -(m_T - m_T_inf)/tau_m_T : 1
dh_T/dt = -(h_T - h_T_inf)/tau_h_T : 1
m_T_inf = 1/(1 + exp(-(v/mV + 56)/6.2)) : 1
h_T_inf = 1/(1 + exp((v/mV + 80)/4)) : 1
tau_m_T = (0.612 + 1.0/(exp(-(v/mV + 131)/16.7) + exp((v/mV + 15.8)/18.2))) * ms / tadj_m_T: second
tau_h_T = (int(v<-81*mV) * exp((v/mV + 466)/66.6) +
           int(v>=-81*mV) * (28 + exp(-(v/mV + 21)/10.5))) * ms / tadj_h_T: second
""")
_TEMPERATURE = 34 * kelvin + zero_celsius
DESTEXHE_1998_NAMESPACE = dict(
    VT=-52 * mV, El=-76.5 * mV, E_Na=50 * mV, E_K=-100 * mV, tadj_HH=3.0**((34 - 36) / 10.0),
    tadj_m_T=2.5**((34 - 24) / 10.0), tadj_h_T=2.5**((34 - 24) / 10.0), F=faraday_constant,
    gamma=faraday_constant / (gas_constant * _TEMPERATURE), Z_Ca=2, Ca_i=240 * nM,
    Ca_o=2 * mmolar)
_DENDRITIC_CORRECTION = 7.954


def destexhe_1998(somatic_density=1.7e-5 * cm / second, dendritic_density=9.5e-5 * cm / second,
                  dt=None, name=None):
    """The three-compartment relay cell of Fig. 12 (A2: high T-current density in the
    distal dendrite), initialised as the example does (which runs it at dt = 0.01 ms).
    Stimulate it with `stimulate_destexhe`."""
    morphology = Cylinder(x=[0, 38.42] * um, diameter=26 * um)
    morphology.dend = Cylinder(x=[0, 12.49] * um, diameter=10.28 * um)
    morphology.dend.distal = Cylinder(x=[0, 84.67] * um, diameter=8.5 * um)
    capacitance = 0.88 * ufarad / cm**2
    neuron = SpatialNeuron(morphology, DESTEXHE_1998, Cm=capacitance,
                           Ri=173 * ohm * cm, method="exponential_euler",
                           threshold="v > -20*mV", refractory="v > -20*mV", dt=dt,
                           namespace=dict(DESTEXHE_1998_NAMESPACE), name=name or "destexhe*")
    neuron.v = -74 * mV
    neuron.main.g_Na = 100 * msiemens / cm**2
    neuron.main.g_K = 100 * msiemens / cm**2
    neuron.dend.Cm = capacitance * _DENDRITIC_CORRECTION  # (written, not read: standalone)
    neuron.m_T = "m_T_inf"
    neuron.h_T = "h_T_inf"
    neuron.P_Ca = somatic_density
    neuron.dend.distal.P_Ca = dendritic_density * _DENDRITIC_CORRECTION
    neuron.gl = 0.0379 * msiemens / cm**2
    neuron.dend.gl = 0.0379 * msiemens / cm**2 * _DENDRITIC_CORRECTION
    return neuron


def stimulate_destexhe(neuron, run, current=75 * pA, rest=180 * ms, after=320 * ms):
    """The example's protocol: `rest`, then `current` into the soma for `after`
    (`run`: a Network's ``run``, as for `stimulate_axon`)."""
    run(rest)
    neuron.main.I_inj = current
    run(after)


# -- Brunel & Wang (2001, J Comput Neurosci 11:63), as Brian2's examples/frompapers/
#    Brunel_Wang_2001.py writes it, but with the NMDA magnesium block in the Synapses: each
#    glutamatergic synapse computes its NMDA current from v_post and sums it into the
#    neuron (as published Brian2 models do), instead of the neuron multiplying the block
#    by a summed gating variable. One group: neurons 0..0.8*N-1 are pyramidal, the rest
#    interneurons, with their own capacitance, leak and conductances (per-neuron constants).
BRUNEL_WANG_NEURON = Equations("""
dv/dt = (-g_m*(v - V_L) - I_syn)/C_m : volt (unless refractory)
I_syn = I_AMPA_ext + I_AMPA_rec + I_NMDA_rec + I_GABA_rec : amp
I_AMPA_ext = g_AMPA_ext*(v - V_E)*s_AMPA_ext : amp
I_AMPA_rec = g_AMPA_rec*(v - V_E)*s_AMPA : amp
ds_AMPA_ext/dt = -s_AMPA_ext/tau_AMPA : 1
ds_AMPA/dt = -s_AMPA/tau_AMPA : 1
I_NMDA_rec : amp
I_GABA_rec = g_GABA*(v - V_I)*s_GABA : amp
ds_GABA/dt = -s_GABA/tau_GABA : 1
C_m : farad (constant)
g_m : siemens (constant)
g_AMPA_ext : siemens (constant)
g_AMPA_rec : siemens (constant)
g_NMDA : siemens (constant)
g_GABA : siemens (constant)
""")
BRUNEL_WANG_NMDA = Equations("""
I_NMDA_rec_post = g_NMDA_post*w*(v_post - V_E)/(1 + Mg2*exp(-0.062*v_post/mV)/3.57)*s_NMDA
                  : amp (summed)
ds_NMDA/dt = -s_NMDA/tau_NMDA_decay + alpha*x*(1 - s_NMDA) : 1 (clock-driven)
dx/dt = -x/tau_NMDA_rise : 1 (clock-driven)
w : 1
""")
BRUNEL_WANG_NAMESPACE = dict(
    V_L=-70 * mV, V_thr=-50 * mV, V_reset=-55 * mV, V_E=0 * mV, V_I=-70 * mV,
    tau_AMPA=2 * ms, tau_NMDA_rise=2 * ms, tau_NMDA_decay=100 * ms, alpha=0.5 / ms, Mg2=1.0,
    tau_GABA=10 * ms)
#: Per pyramidal / interneuron: capacitance, leak, and the conductances of the example
#: (for 800 pyramidal and 200 interneurons, all-to-all).
_BRUNEL_WANG_CELLS = dict(
    C_m=(0.5 * nF, 0.2 * nF), g_m=(25 * nS, 20 * nS), g_AMPA_ext=(2.08 * nS, 1.62 * nS),
    g_AMPA_rec=(0.104 * nS, 0.081 * nS), g_NMDA=(0.327 * nS, 0.258 * nS),
    g_GABA=(1.25 * nS, 0.973 * nS))


def brunel_wang(N: int = 1000, connectivity: float = 0.2, rate=3 * Hz, seed: int = 2001,
                name: str = "brunel_wang"):
    """The Brunel–Wang (2001) network of `N` neurons with the NMDA magnesium block in
    its glutamatergic `Synapses` (`BRUNEL_WANG_NMDA`, summed into ``I_NMDA_rec``).

    Each pair is connected with probability `connectivity` (the example: 1, all to
    all); the recurrent conductances are scaled by ``800/(connectivity*N_E)`` (and
    ``200/(connectivity*N_I)``) so that every neuron gets the example's mean input.
    Every neuron receives 800 Poisson inputs at `rate` through AMPA. The
    connections and initial voltages are drawn with numpy from `seed` (the same on
    every target); the Poisson input uses Brian2's generator (call ``brian2.seed``).

    Returns
    -------
    neurons, glutamate, gaba, inputs
        The `NeuronGroup`, the excitatory `Synapses` (AMPA on_pre, NMDA summed),
        the inhibitory `Synapses` and the `PoissonInput`.
    """
    rng = np.random.default_rng(seed)
    excitatory = int(0.8 * N)
    neurons = NeuronGroup(N, BRUNEL_WANG_NEURON, threshold="v > V_thr", reset="v = V_reset",
                          refractory="(2 - 1*int(i >= N_E))*ms", method="euler",
                          namespace=dict(BRUNEL_WANG_NAMESPACE, N_E=excitatory),
                          name=f"{name}_neurons")
    scale = {"g_AMPA_rec": 800 / (connectivity * excitatory), "g_NMDA": 800 / (connectivity *
             excitatory), "g_GABA": 200 / (connectivity * max(N - excitatory, 1))}
    for parameter, (pyramidal, interneuron) in _BRUNEL_WANG_CELLS.items():
        values = np.where(np.arange(N) < excitatory, float(pyramidal), float(interneuron))
        setattr(neurons, parameter, values * scale.get(parameter, 1) * get_unit(pyramidal.dim))
    neurons.v = BRUNEL_WANG_NAMESPACE["V_L"] + rng.uniform(0, 10, N) * mV

    def connect(synapses, sources):
        pre, post = np.nonzero(rng.random((len(sources), N)) < connectivity)
        keep = sources[pre] != post
        synapses.connect(i=sources[pre[keep]], j=post[keep])

    glutamate = Synapses(neurons, neurons, BRUNEL_WANG_NMDA, on_pre="s_AMPA_post += w\nx += 1",
                         method="euler", namespace=BRUNEL_WANG_NAMESPACE,
                         name=f"{name}_glutamate")
    connect(glutamate, np.arange(excitatory))
    glutamate.w = 1
    gaba = Synapses(neurons, neurons, on_pre="s_GABA_post += 1", name=f"{name}_gaba")
    connect(gaba, np.arange(excitatory, N))
    inputs = PoissonInput(neurons, "s_AMPA_ext", 800, rate, "1")
    return neurons, glutamate, gaba, inputs
