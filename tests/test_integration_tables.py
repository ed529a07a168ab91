"""Tabulated exponential-Euler steps (x_inf and exp(A*dt) per gate), on numpy.

The compiled targets run the same tables in tests/test_targets.py (which also
changes dt between two runs there).
"""

import numpy as np
import pytest
import sympy
from brian2 import (NeuronGroup, SpikeMonitor, StateMonitor, defaultclock, mV, ms, run)
from brian2.parsing.sympytools import str_to_sympy

import autolut
from autolut import analysis
from autolut.expeuler import LUTExponentialEuler
from tests.models import (TRAUB_MILES, TRAUB_MILES_NAMESPACE, hh_temperature, rothman_manis,
                          traub_miles)


@pytest.fixture(autouse=True)
def _numpy(numpy_target):
    defaultclock.dt = 0.01 * ms


def _model(equations: dict, kinds: dict) -> analysis.Model:
    return analysis.Model(
        tuple(analysis.Equation(name, kind, str_to_sympy(code))
              for name, (kind, code) in equations.items()), kinds)


def test_find_gates_takes_gates_and_leaves_v_and_state_dependent_ones():
    ode = "differential equation"
    model = _model({
        "v": (ode, "(-65*mV - v)/(10*ms) - m**3*h*(v - 50*mV)/ms"),
        "m": (ode, "4*exp(-v/(18*mV))/ms*(1 - m) - m/exprel(v/mV)/ms"),
        "h": (ode, "exp(-v/(18*mV))/ms*(1 - h) - h*c/ms"),         # coefficient depends on c
        "w": (ode, "exp(-v/(18*mV))/ms*(1 - w**2)"),               # not linear in w
        "c": (ode, "-c/(100*ms)"),                                 # no axis at all
    }, {"v": analysis.AXIS, "m": analysis.AXIS, "h": analysis.AXIS, "w": analysis.AXIS,
        "c": analysis.AXIS, "mV": analysis.CONSTANT, "ms": analysis.CONSTANT})
    gates = analysis.find_gates(model)
    assert [gate.variable for gate in gates] == ["m"]
    gate = gates[0]
    m = sympy.Symbol("m", real=True)
    rhs = model.equations[1].expression
    # x_inf is where the right-hand side vanishes; the factor is exp(dt * d(rhs)/dm)
    assert sympy.simplify(rhs.xreplace({m: gate.steady_state})) == 0
    assert sympy.simplify(gate.step_factor
                          - sympy.exp(analysis.DT_SYMBOL * sympy.diff(rhs, m))) == 0
    assert analysis.find_gates(model, variables={"v", "h"}) == ()


def _spike_counts(group, duration, dt_change=None, variable="v"):
    spikes = SpikeMonitor(group)
    trace = StateMonitor(group, variable, record=[0, len(group) - 1])
    run(duration)
    if dt_change is not None:
        defaultclock.dt = dt_change
        run(duration)
    return np.asarray(spikes.count[:]).copy(), np.asarray(getattr(trace, variable + "_")).copy()


def test_gates_use_tables_and_v_keeps_brians_update():
    group = autolut.optimize(traub_miles(3))
    method = group.state_updater.method_choice
    assert isinstance(method, LUTExponentialEuler)
    assert sorted(variable for variable, *_ in method.gates) == ["h", "m", "n"]
    run(0.1 * ms)
    code = group.state_updater.abstract_code
    for gate in "mhn":
        assert f"_inf_{gate} = lut_{gate}_inf(v)" in code
        assert f"_{gate} = _inf_{gate} + ({gate} - _inf_{gate})*lut_{gate}_factor(v)" in code
        assert f"_BA_{gate}" not in code
    assert "_BA_v" in code and "exp(" in code  # v: Brian2's own exponential Euler


def test_integration_tables_can_be_turned_off():
    group = autolut.optimize(traub_miles(3), integration_tables=False)
    assert group.state_updater.method_choice == "exponential_euler"
    assert "lut_m_factor" not in group.namespace and "lut_m" in group.namespace


@pytest.mark.parametrize("build", [traub_miles, hh_temperature])
def test_same_spike_counts_as_exact_with_a_dt_change(build):
    exact_counts, exact_v = _spike_counts(build(100, name="exact"), 100 * ms,
                                          dt_change=0.02 * ms)
    defaultclock.dt = 0.01 * ms
    group = autolut.optimize(build(100, name="fast"))
    factor = group.namespace["lut_h_factor"]
    counts, v = _spike_counts(group, 100 * ms, dt_change=0.02 * ms)
    assert factor.bank.key.endswith("_v1_values")  # rebuilt once, for the new dt
    assert exact_counts.max() >= 10 and exact_counts.min() == 0
    np.testing.assert_array_equal(counts, exact_counts)
    # up to the first spike the traces agree closely
    first_spike = np.argmax(exact_v[1] > -0.02)
    assert first_spike > 0
    assert np.abs(v[1, :first_spike] - exact_v[1, :first_spike]).max() < 1e-5  # volt


def test_step_factor_follows_dt_exactly():
    group = autolut.optimize(traub_miles(2))
    factor = group.namespace["lut_m_factor"]
    run(0.1 * ms)
    small = factor.table.values.copy()
    defaultclock.dt = 0.02 * ms
    run(0.1 * ms)
    # exp(A*2dt) = exp(A*dt)**2 on the same grid
    np.testing.assert_allclose(factor.table.values, small**2, rtol=1e-12)
    # and the report describes the tables in use
    row = [row for row in autolut.report(group).candidates if row.name == "m (step factor)"][0]
    assert float(row.max_error) == factor.table.max_error


def test_changed_constant_rebuilds_gate_tables():
    namespace = dict(TRAUB_MILES_NAMESPACE, I_max=0)
    group = NeuronGroup(1, TRAUB_MILES, method="exponential_euler", namespace=namespace)
    group.v = -65 * mV
    autolut.optimize(group)
    steady = group.namespace["lut_m_inf"]
    run(0.1 * ms)
    before = steady.table.values.copy()
    namespace["VT"] = -55 * mV  # shifts every rate curve by 8 mV
    run(0.1 * ms)
    x = steady.table.low + np.arange(steady.table.points) * steady.table.step
    shifted = np.interp(x - 0.008, x, before)
    inside = x > steady.table.low + 0.009
    assert np.abs(steady.table.values - before).max() > 0.1
    np.testing.assert_allclose(steady.table.values[inside], shifted[inside], atol=1e-5)


def test_method_by_name_optimizes_before_the_first_run():
    exact = traub_miles(50, name="exact")
    named = traub_miles(50, method="lut_exponential_euler", name="named")
    exact_spikes, named_spikes = SpikeMonitor(exact), SpikeMonitor(named)
    run(50 * ms)
    assert isinstance(named.state_updater.method_choice, LUTExponentialEuler)
    assert getattr(named, "_autolut", None) is not None
    np.testing.assert_array_equal(named_spikes.count[:], exact_spikes.count[:])


def test_rothman_manis_seven_gates_same_spike_counts():
    """A many-channel model written with a unitless `vu = v/mV`, tau/inf subexpressions
    and non-integer powers: every gate gets tables and the spikes are the same."""
    defaultclock.dt = 0.02 * ms
    exact_counts, _ = _spike_counts(rothman_manis(40, name="exact"), 100 * ms)
    group = autolut.optimize(rothman_manis(40, name="fast"))
    gated = sorted(variable for variable, *_ in group.state_updater.method_choice.gates)
    assert gated == ["h", "m", "n", "p", "r", "w", "z"]
    counts, _ = _spike_counts(group, 100 * ms)
    assert exact_counts.sum() > 10
    np.testing.assert_array_equal(counts, exact_counts)


def test_constant_over_dt_subexpression_is_tabulated_in_its_updater():
    equations = """dv/dt = (-65*mV - v + I*Mohm)/(10*ms) - 0.2*minf*(v - 50*mV)/(10*ms) : volt
                   minf = (1/(1 + exp(-(v + 48*mV)/(6*mV))))**0.25 : 1 (constant over dt)
                   I : amp"""
    traces = {}
    for variant in ("exact", "autolut"):
        group = NeuronGroup(5, equations, method="euler", threshold="v > -20*mV",
                            reset="v = -65*mV", name=variant)
        group.v, group.I = -65 * mV, "i*5*nA/4"
        monitor = StateMonitor(group, ["v", "minf"], record=True)
        if variant == "autolut":
            autolut.optimize(group)
            assert group.subexpression_updater.abstract_code == "minf = lut_minf(v)"
        run(5 * ms)
        traces[variant] = monitor.v_[:].copy(), monitor.minf[:].copy()
    assert np.abs(traces["exact"][1] - traces["autolut"][1]).max() < 1e-6
    assert np.abs(traces["exact"][0] - traces["autolut"][0]).max() < 1e-7  # volt


MORRIS_LECAR = """
dV/dt = (-g_L*(V - V_L) - g_Ca*m_inf*(V - V_Ca) - g_K*n*(V - V_K) + I)/C : volt
dn/dt = lambda_n*(n_inf - n) : 1
m_inf = 0.5*(1 + tanh((V - V_1)/V_2)) : 1
n_inf = 0.5*(1 + tanh((V - V_3)/V_4)) : 1
lambda_n = lambda_n__max*cosh((V - V_3)/(2*V_4)) : Hz
I : amp
"""


def _morris_lecar(name):
    from brian2 import mS, uA, uF
    namespace = dict(g_L=2 * mS, g_Ca=4 * mS, g_K=8 * mS, V_L=-50 * mV, V_Ca=100 * mV,
                     V_K=-70 * mV, lambda_n__max=1.0 / (15 * ms), V_1=10 * mV, V_2=15 * mV,
                     V_3=-1 * mV, V_4=14.5 * mV, C=20 * uF)
    group = NeuronGroup(17, MORRIS_LECAR, method="exponential_euler", threshold="V > 0*mV",
                        refractory="V > 0*mV", namespace=namespace, name=name)
    group.I = (np.arange(17) * 25 + 100) * uA
    group.V = -50 * mV
    group.n = "n_inf"
    return group


def test_morris_lecar_gate_without_exp_in_the_equations():
    """Morris & Lecar (1981), as in Brian2's examples: tanh/cosh rates, an uppercase V.
    The step factor brings in exp although the equations never use it."""
    exact_counts, exact_v = _spike_counts(_morris_lecar("exact"), 220 * ms, variable="V")
    group = autolut.optimize(_morris_lecar("fast"))
    assert [gate[0] for gate in group.state_updater.method_choice.gates] == ["n"]
    counts, v = _spike_counts(group, 220 * ms, variable="V")
    assert exact_counts.max() >= 5
    np.testing.assert_array_equal(counts, exact_counts)
    assert np.abs(v - exact_v).max() < 1e-5  # volt


def test_default_method_is_resolved_like_brian_does():
    """Without `method=`, Brian2 picks the first of ('exact', 'euler', 'heun') that fits:
    Euler for Wang-Buzsaki, so tables over v in dv/dt are safe there (with a method
    that must see the equation, they are not made: test_analysis)."""
    from tests.models import WANG_BUZSAKI, WANG_BUZSAKI_NAMESPACE
    wang_buzsaki = NeuronGroup(1, WANG_BUZSAKI, namespace=dict(WANG_BUZSAKI_NAMESPACE))
    rows = {row.name: row for row in autolut.report(wang_buzsaki).candidates}
    assert rows["v"].tabulated and rows["v"].variable == "v"
    exponential = NeuronGroup(1, WANG_BUZSAKI, namespace=dict(WANG_BUZSAKI_NAMESPACE),
                              method="exponential_euler")
    assert "v" not in {row.name for row in autolut.report(exponential).tabulated}


#: tau_h jumps at -81 mV (Destexhe et al. 1998): no step-factor table fits it.
JUMPING_GATE = """
    dh/dt = (h_inf - h)/tau_h : 1
    h_inf = 1/(1 + exp((v/mV + 80)/4)) : 1
    tau_h = (int(v < -81*mV)*exp((v/mV + 466)/66.6)
             + int(v >= -81*mV)*(28 + exp(-(v/mV + 21)/10.5)))*ms : second
    dm/dt = (1/(1 + exp(-(v/mV + 56)/6.2)) - m)/ms : 1
    dv/dt = (-65*mV - v)/(10*ms) + 10*mV*m/ms : volt"""


def test_gate_with_a_jump_keeps_brians_update():
    """tau_h jumps at -81 mV (Destexhe et al. 1998): no step-factor table fits it, so h keeps
    Brian2's update (with its steady state as a rate table) and the report says why."""
    group = autolut.optimize(NeuronGroup(2, JUMPING_GATE, method="exponential_euler"))
    assert [gate[0] for gate in group.state_updater.method_choice.gates] == ["m"]
    rows = {row.name: row for row in autolut.report(group).candidates}
    assert not rows["h (step factor)"].tabulated
    assert "keeps Brian2's exponential-Euler update" in rows["h (step factor)"].reason
    assert rows["h_inf"].tabulated
    run(1 * ms)


def test_a_failed_gate_re_plans_only_what_it_affects(monkeypatch):
    """Only the candidates that appear once the failed gate keeps Brian2's update (its rate
    functions) are tabulated again; the other gate's tables are kept as they are."""
    from autolut import plan

    tabulated = []
    entry = plan._plan_entry
    monkeypatch.setattr(plan, "_plan_entry", lambda model, candidate, options: (
        candidate.tabulatable and tabulated.append(str(candidate.expression))
        or entry(model, candidate, options)))
    report = autolut.report(NeuronGroup(2, JUMPING_GATE, method="exponential_euler"))
    assert len(tabulated) == len(set(tabulated)) >= 4  # nothing tabulated twice
    tables = {row.name for row in report.tabulated}
    assert {"m (steady state)", "m (step factor)", "h_inf"} <= tables
