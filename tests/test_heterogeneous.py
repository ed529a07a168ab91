"""Heterogeneous populations: tables over shifted axes (``v - VT``) and run-time factors.

The analysis layer (which expressions become shifted-axis candidates, and which
must not) is in test_analysis.py's table of cases; here: property tests of the
shift, the ranges of shifted axes, runs in which the parameters change after
``optimize`` (between runs, and through ``run_args`` on cpp_standalone), and
shared factors. Exact-vs-optimized spike trains of the per-neuron-VT models on
the three targets are in test_targets.py (`traub_miles_vt`, `pospischil_vt`).
"""

import numpy as np
import pytest
import sympy
from brian2 import (Equations, NeuronGroup, SpikeMonitor, device, mV, ms, nA, run,
                    set_device)
from brian2.parsing.sympytools import str_to_sympy
from hypothesis import given, settings
from hypothesis import strategies as st

import autolut
from autolut.analysis import (AXIS, CONSTANT, PARAMETER, SHARED, Equation, Model,
                              find_candidates, shift_of)
from autolut.options import OptionsError
from tests.models import (TRAUB_MILES, TRAUB_MILES_NAMESPACE, WANG_BUZSAKI,
                          WANG_BUZSAKI_NAMESPACE, traub_miles)

v, u, VT, Vs, mV_, m = (sympy.Symbol(name, real=True) for name in ("v", "u", "VT", "Vs", "mV", "m"))
EXPREL = str_to_sympy("exprel(v)").func
SYMBOLS = dict(v=AXIS, m=AXIS, VT=PARAMETER, Vs=SHARED, mV=CONSTANT)


# -- the shift, as a property of the analysis -----------------------------------------------

_numbers = st.sampled_from([sympy.Integer(1), sympy.Integer(-3), sympy.Rational(1, 2),
                            sympy.Rational(-2, 5), sympy.Float(0.25)])
# rates of u as the literature writes them
_rates_of_u = st.one_of(
    st.builds(lambda a, b: sympy.exp(a * (u + b * mV_) / mV_), _numbers, _numbers),
    st.builds(lambda a, b: 1 / (1 + sympy.exp(a * (u + b * mV_) / mV_)), _numbers, _numbers),
    st.builds(lambda a, b: (u + b * mV_) / (sympy.exp(a * (u + b * mV_) / mV_) - 1),
              _numbers, _numbers),
    st.builds(lambda a: 1 / EXPREL(a * u / mV_), _numbers))
_rate_sums = st.lists(_rates_of_u, min_size=1, max_size=3).map(lambda terms: sympy.Add(*terms))
_shifts = st.sampled_from([-VT, VT, -2 * VT, sympy.Rational(1, 2) * VT, -VT - Vs, -VT + 3 * Vs])


@settings(max_examples=60, deadline=None)
@given(rate=_rate_sums, shift=_shifts)
def test_a_rate_of_a_shifted_variable_is_one_table_over_the_shift(rate, shift):
    """f(v, VT) = g(v + shift): one candidate over the axis v + shift, whose table holds g,
    and which gives f back when looked up with v + shift."""
    expression = rate.xreplace({u: v + shift})
    model = Model((Equation("m", "differential equation", expression * (1 - m) - m / mV_),),
                  SYMBOLS)
    (candidate,) = find_candidates(model).tabulatable
    (axis,) = candidate.axes
    assert sympy.simplify(axis.argument - (v + shift)) == 0
    assert axis.name.startswith("v ")
    assert not candidate.tabulated.has(VT, Vs)
    # substituting back: the table's function of the argument is the original expression
    back = candidate.tabulated.xreplace({v: axis.argument})
    symbols, point = (v, VT, Vs, mV_), (-0.061, -0.0634, 0.0021, 1e-3)
    modules = [{"exprel": lambda z: np.expm1(z) / z}, "numpy"]
    with np.errstate(all="ignore"):
        assert sympy.lambdify(symbols, back, modules)(*point) == pytest.approx(
            sympy.lambdify(symbols, candidate.expression, modules)(*point), rel=1e-9,
            nan_ok=True)


@pytest.mark.parametrize("expression", [
    sympy.exp(v * VT / mV_**2),            # a product of v and the parameter
    sympy.exp(v / VT),                     # a per-neuron slope
    sympy.exp((v - VT) / mV_) * VT / mV_,  # the parameter outside the shift too
    sympy.exp(v / mV_) + VT / mV_,         # a sum of a function of v and of VT
])
def test_a_parameter_outside_a_shift_is_no_shift(expression):
    assert shift_of(expression, "v", ["VT"], lambda ratio: not ratio.has(v, VT)) is None


def test_a_parameter_outside_a_shift_stays_exact_with_the_reason():
    model = Model((Equation("m", "differential equation",
                            sympy.exp(v / VT) * (1 - m) - m / mV_),), SYMBOLS)
    (left,) = find_candidates(model).candidates
    assert not left.tabulatable
    assert "per-neuron parameter VT, and not only through a shift of v" in left.reason


# -- runs: parameters that change after optimize ---------------------------------------------

HETEROGENEOUS_TM = TRAUB_MILES + Equations("VT : volt (constant)")
TM_NAMESPACE = {key: value for key, value in TRAUB_MILES_NAMESPACE.items() if key != "VT"}


def _heterogeneous_tm(N=12):
    group = NeuronGroup(N, HETEROGENEOUS_TM, threshold="v > -20*mV", refractory=3 * ms,
                        method="exponential_euler", namespace=dict(TM_NAMESPACE))
    group.v = -65 * mV
    group.I = "1.5*nA*i/(N - 1)"
    group.VT = "-63*mV + 5*mV*(i/(N - 1.) - 0.5)"
    return group


def _counts_through_vt_changes(optimized, changes, **options):
    """Spike counts per neuron after each run; before each run VT is moved by the change."""
    group = _heterogeneous_tm()
    if optimized:
        autolut.optimize(group, **options)
    spikes = SpikeMonitor(group)
    counts = []
    for change in changes:
        group.VT = group.VT[:] + change
        run(30 * ms)
        counts.append(np.array(spikes.count[:]))
    return counts


def test_changing_vt_between_runs_keeps_the_shifted_tables_right(numpy_target):
    """VT per neuron moved by +2 mV, then by -3 mV, then beyond the table range (+40 mV):
    the same spikes as the exact model, with the lookups outside evaluated exactly."""
    changes = [0 * mV, 2 * mV, -3 * mV, 40 * mV]
    exact = _counts_through_vt_changes(False, changes)
    optimized = _counts_through_vt_changes(True, changes)
    for before, after in zip(exact, optimized):
        np.testing.assert_array_equal(after, before)
    assert exact[2].sum() > exact[1].sum() > 0  # the runs fire, and VT matters


def test_a_shifted_axis_out_of_its_range_is_counted_under_clamp(numpy_target, caplog):
    group = _heterogeneous_tm()
    autolut.optimize(group, out_of_range="clamp")
    group.VT = group.VT[:] + 80 * mV  # u = v - VT far below the range
    run(5 * ms)
    (count,) = autolut.range_counts(group)
    assert count.axis == "v - VT"
    assert count.outside == 12 * 50 and count.neurons == 12
    assert "v - VT was outside the table range" in caplog.text
    assert "ranges={'v - VT': (low, high)}" in caplog.text


def test_ranges_of_a_shifted_axis_in_any_spelling(numpy_target):
    group = _heterogeneous_tm()
    for key in ("v - VT", "v-VT", "-VT + v"):
        report = autolut.report(group, ranges={key: (-80 * mV, 120 * mV)})
        row = report.tabulated[0]
        assert row.variable == "v - VT"
        assert (float(row.low), float(row.high)) == pytest.approx((-0.08, 0.12))
    with pytest.raises(OptionsError, match="foo is not one of them"):
        autolut.report(group, ranges={"v - foo": (-80 * mV, 120 * mV)})


def test_shared_temperature_factor_stays_a_run_time_factor(numpy_target):
    """Wang–Buzsaki with its phi a shared variable changed between runs: phi multiplies
    the rate tables at run time; nothing is baked or guarded."""
    equations = WANG_BUZSAKI + Equations("phi : 1 (shared)")
    namespace = {key: value for key, value in WANG_BUZSAKI_NAMESPACE.items() if key != "phi"}

    def counts(optimized):
        group = NeuronGroup(8, equations, threshold="v > -20*mV", refractory=2 * ms,
                            method="euler", namespace=dict(namespace))
        group.v, group.h, group.n = -65 * mV, 0.6, 0.3
        group.I = "3*uA/cm**2*i/(N - 1)"
        if optimized:
            autolut.optimize(group)
            report = autolut.report(group)
            assert {row.variable for row in report.tabulated} == {"v"}
            assert "phi" not in group._autolut.guard.constants  # not baked, not guarded
            assert not any("phi" in row.expression for row in report.tabulated)
            assert all(("phi*" in str(group.user_equations[name].expr))
                       for name in ("h", "n"))  # the factor of the rate tables
        spikes, result = SpikeMonitor(group), []
        for phi in (5, 2):
            group.phi = phi
            run(40 * ms)
            result.append(np.array(spikes.count[:]))
        return result

    exact, optimized = counts(False), counts(True)
    for before, after in zip(exact, optimized):
        np.testing.assert_array_equal(after, before)
    assert (exact[1] - exact[0]).sum() != exact[0].sum()  # phi changed the firing


def test_standalone_report_without_the_shift_values_names_the_range_option():
    """On cpp_standalone VT cannot be read before the run: the shifted axis takes v's
    range, and the report says how to give one."""
    set_device("cpp_standalone", build_on_run=False)
    try:
        group = _heterogeneous_tm()
        text = str(autolut.report(group))
        assert "the shift's values cannot be read before the run" in text
        assert "give ranges={'v - VT': (low, high)}" in text
    finally:
        device.reinit()
        set_device("runtime")


@pytest.mark.compiler
def test_standalone_run_args_sweep_vt_with_the_same_tables(tmp_path):
    """A parameter sweep through device.run(run_args=...) on a per-neuron VT: one build,
    two runs with other VT values, spike counts equal to the exact model's."""
    sweeps = [{}, {"VT": np.linspace(-61, -65, 12) * mV}]

    def build(optimized):
        set_device("cpp_standalone", build_on_run=False, directory=None)
        group = traub_miles(12, I_max=1.5 * nA, VT_spread=5 * mV, name="tm_vt")
        if optimized:
            autolut.optimize(group, ranges={"v - VT": (-60 * mV, 140 * mV)})
        spikes = SpikeMonitor(group)
        run(40 * ms)
        directory = tmp_path / ("optimized" if optimized else "exact")
        device.build(directory=str(directory), run=False)
        counts = []
        for sweep in sweeps:
            device.run(directory=str(directory),
                       run_args={group.VT: value for value in sweep.values()})
            counts.append(np.array(spikes.count[:]))
        device.reinit()
        set_device("runtime")
        return counts

    exact, optimized = build(False), build(True)
    for before, after in zip(exact, optimized):
        np.testing.assert_array_equal(after, before)
    assert not np.array_equal(exact[0], exact[1])  # the sweep changed the firing
