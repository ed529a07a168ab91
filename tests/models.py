"""Neuron models of the tests: the published ones (`autolut.models`) and test-only variants.

Every builder takes the population size and returns a fresh ``NeuronGroup``;
constants live in each group's explicit ``namespace``.
"""

from brian2 import Equations, NeuronGroup, cm, exp, mmolar, ms, msiemens, mV, siemens, ufarad, uA

from autolut.models import *  # noqa: F401,F403 - the published models
from autolut.models import __all__ as _PUBLISHED

# -- A leaky integrate-and-fire model: nothing to tabulate
LIF = Equations("""
dv/dt = (EL - v + R*I)/tau : volt (unless refractory)
I : amp
""")


def lif(N):
    return NeuronGroup(N, LIF, threshold="v > -50*mV", reset="v = -65*mV", refractory=2 * ms,
                       namespace=dict(EL=-65 * mV, R=100e6 * siemens**-1, tau=10 * ms),
                       method="exact", name="lif*")


# -- Rates with a per-neuron parameter (VT differs between neurons): nothing tabulated
PER_NEURON_PARAMETER = Equations("""
dm/dt = alpha_m*(1 - m) - beta_m*m : 1
alpha_m = 0.32/mV*(13*mV - v + VT)/(exp((13*mV - v + VT)/(4*mV)) - 1)/ms : Hz
beta_m = 0.28/mV*(v - VT - 40*mV)/(exp((v - VT - 40*mV)/(5*mV)) - 1)/ms : Hz
dv/dt = (-65*mV - v)/(10*ms) : volt
VT : volt (constant)
""")

# -- A time-dependent and a random term next to two tabulatable rates
TIME_AND_NOISE = Equations("""
dv/dt = (-65*mV - v + 10*mV*sin(2*pi*5*Hz*t) + 2*mV*rand())/(10*ms) : volt
dm/dt = 4*exp(-(v + 65*mV)/(18*mV))/ms*(1 - m) - 0.07*exp(-(v + 65*mV)/(20*mV))/ms*m : 1
""")

# -- A calcium-gated potassium current, tabulated over a user-given Ca range. The
#    activation is a Hill function with the non-integer exponent of SK channels
#    (Hirschberg et al. 1998): Ca**4 with integer powers would be too cheap for a table.
CALCIUM_GATED = Equations("""
dv/dt = (-gL*(v - EL) - gKCa*q*(v - EK) + I)/Cm : volt
dq/dt = (q_inf - q)/tau_q : 1
q_inf = Ca**4.7/(Ca**4.7 + Kd**4.7) : 1
dCa/dt = -Ca/tau_Ca : mmolar
I : amp/metre**2
""")
CALCIUM_GATED_NAMESPACE = dict(gL=0.1 * msiemens / cm**2, EL=-65 * mV, EK=-90 * mV,
                               gKCa=5 * msiemens / cm**2, Cm=1 * ufarad / cm**2,
                               tau_q=5 * ms, Kd=0.5e-3 * mmolar, tau_Ca=50 * ms)
CALCIUM_RANGE = (0 * mmolar, 0.01 * mmolar)

# -- A spiking neuron with a calcium-activated potassium current: two table axes (v and Ca),
#    each with a gate for the exponential-Euler tables. Ca needs a range from the user.
SPIKING_CALCIUM = Equations("""
dv/dt = (-gL*(v - EL) - gKCa*q*(v - EK) - gNa*m**3*(v - 50*mV) + I)/Cm : volt
dm/dt = (1/(1 + exp(-(v + 40*mV)/(5*mV))) - m)/(0.1*ms) : 1
dq/dt = (Ca**4.7/(Ca**4.7 + Kd**4.7) - q)/tau_q : 1
dCa/dt = -Ca/tau_Ca : mmolar
I : amp/metre**2
""")
SPIKING_CALCIUM_RANGES = {"Ca": (0 * mmolar, 0.1 * mmolar)}


def spiking_calcium(N, method="exponential_euler", I_max=3 * uA / cm**2, name=None):
    group = NeuronGroup(N, SPIKING_CALCIUM, threshold="v > -20*mV",
                        reset="Ca += 0.002*mmolar", refractory=2 * ms, method=method,
                        namespace=dict(CALCIUM_GATED_NAMESPACE, gNa=20 * msiemens / cm**2,
                                       I_max=I_max),
                        name=name or "spiking_calcium*")
    group.v = -65 * mV
    group.I = "I_max * i / (N - 1)"
    return group


__all__ = _PUBLISHED + ["lif", "spiking_calcium", "LIF", "PER_NEURON_PARAMETER",
                       "TIME_AND_NOISE", "CALCIUM_GATED", "CALCIUM_GATED_NAMESPACE",
                       "CALCIUM_RANGE", "SPIKING_CALCIUM", "SPIKING_CALCIUM_RANGES", "exp"]
