"""Synapses (issue: tabulate per-synapse voltage-dependent terms, the NMDA magnesium block).

The Brunel–Wang network of `autolut.models.brunel_wang` computes its NMDA current in
the glutamatergic Synapses, ``g_NMDA_post*w*(v_post - V_E)/(1 + Mg2*exp(-0.062*v_post/mV)
/3.57)*s_NMDA`` summed into the neuron: the factor of ``v_post`` becomes one table,
the per-synapse weight and gating variable stay outside it. The report, restore,
decorator and out-of-range tests run on numpy in this process; the numeric comparison
on numpy, cython and cpp_standalone runs in subprocesses (tests/synapses_runner.py),
exact and optimized apart, with the same seed of the Poisson input.
"""

import logging
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import (Network, NeuronGroup, Synapses, defaultclock, ms, mV, run, seed,
                    start_scope)

import autolut
from autolut.lutfunction import OutOfRangeError
from autolut.models import brunel_wang
from autolut.options import OptionsError

HERE = Path(__file__).resolve().parent
TARGETS = ("numpy", "cython", "cpp_standalone")


def _tabulated(report):
    return [row for row in report.candidates if row.tabulated]


# -- what is tabulated ------------------------------------------------------------------------

def test_nmda_block_of_v_post_is_one_table_weights_and_gating_outside(numpy_target):
    neurons, glutamate, gaba, inputs = brunel_wang(50)
    report = autolut.report(glutamate)
    rows = _tabulated(report)
    assert [row.name for row in rows] == ["I_NMDA_rec_post"]
    row = rows[0]
    assert row.variable == "v_post" and "exp" in row.expression
    for outside in ("w", "s_NMDA", "g_NMDA_post"):
        assert outside not in row.expression.replace("v_post", "")
    # the neurons' own range for v: their named potentials V_I .. V_E, 20 mV beyond
    assert [float(row.low), float(row.high)] == pytest.approx([-0.09, 0.02])
    assert row.relative_error <= 1e-6
    assert autolut.report(gaba).tabulated == ()  # on_pre only: nothing to do


def test_per_synapse_parameter_inside_the_exponential_stays_exact(numpy_target):
    group = NeuronGroup(2, "dv/dt = (-70*mV - v)/(10*ms) : volt")
    target = NeuronGroup(2, "dv/dt = (-70*mV - v + g/nS*mV)/(10*ms) : volt\ng : siemens")
    synapses = Synapses(group, target, """
        k : volt
        g_post = nS/(1 + exp(-v_post/k)) : siemens (summed)""")
    report = autolut.report(synapses)
    assert report.tabulated == ()
    (row,) = [row for row in report.candidates if "exp" in row.expression]
    assert "per-synapse parameter k" in row.reason


def test_pre_and_post_groups_keep_their_own_ranges(numpy_target):
    """v_pre takes the presynaptic group's range, v_post the postsynaptic one's;
    ranges={'v': ...} sets both, ranges={'v_post': ...} only v_post."""
    source = NeuronGroup(2, "dv/dt = (-80*mV - v)/(10*ms) : volt", threshold="v > 40*mV")
    target = NeuronGroup(2, """dv/dt = (-60*mV - v)/(10*ms) + g/nS*mV/ms : volt
                               g : siemens""", threshold="v > -40*mV")
    synapses = Synapses(source, target, """
        g_post = nS*exp(v_pre/(30*mV))/(1 + exp(v_pre/(10*mV)))
                 /(1 + exp(-v_post/(16*mV)))/(1 + 0.3*exp(v_post/(8*mV))) : siemens (summed)""")
    ranges = {row.variable: (float(row.low), float(row.high))
              for row in _tabulated(autolut.report(synapses))}
    assert ranges["v_pre"] == pytest.approx((-0.1, 0.06))   # -80 .. 40 mV, 20 mV beyond
    assert ranges["v_post"] == pytest.approx((-0.08, -0.02))  # -60 .. -40 mV
    both = {row.variable: (float(row.low), float(row.high)) for row in _tabulated(
        autolut.report(synapses, ranges={"v": (-100 * mV, 50 * mV)}))}
    assert both == {"v_pre": pytest.approx((-0.1, 0.05)), "v_post": pytest.approx((-0.1, 0.05))}
    post = {row.variable: (float(row.low), float(row.high)) for row in _tabulated(
        autolut.report(synapses, ranges={"v_post": (-90 * mV, 0 * mV)}))}
    assert post == {"v_pre": pytest.approx((-0.1, 0.06)), "v_post": pytest.approx((-0.09, 0))}
    with pytest.raises(OptionsError, match=r"ranges\['u'\].*synapses"):
        autolut.report(synapses, ranges={"u": (0 * mV, 1 * mV)})


# -- exact vs optimized, restore, the decorator (numpy) -------------------------------------

def _run(optimize, duration=60 * ms, **options):
    start_scope()
    defaultclock.dt = 0.1 * ms
    seed(5)
    neurons, glutamate, gaba, inputs = brunel_wang(100)
    if optimize:
        autolut.optimize(glutamate, **options)
    network = Network(neurons, glutamate, gaba, inputs)
    network.run(duration)
    return neurons, glutamate, network


def test_optimized_synapses_fire_as_exact_and_restore(numpy_target):
    exact, _, _ = _run(False)
    neurons, glutamate, _ = _run(True)
    assert "lut_I_NMDA_rec_post(v_post)" in glutamate.summed_updaters[
        "I_NMDA_rec_post"].expression.code
    np.testing.assert_allclose(neurons.v_[:], exact.v_[:], rtol=0, atol=1e-9)
    np.testing.assert_allclose(neurons.I_NMDA_rec_[:], exact.I_NMDA_rec_[:], rtol=1e-5,
                               atol=1e-15)
    autolut.restore(glutamate)
    assert "lut" not in glutamate.summed_updaters["I_NMDA_rec_post"].expression.code
    assert "lut" not in glutamate.summed_updaters["I_NMDA_rec_post"].abstract_code
    assert not any(name.startswith("lut") for name in glutamate.namespace)


def test_decorator_optimizes_the_synapses_it_returns(numpy_target):
    build = autolut.optimized()(brunel_wang)
    neurons, glutamate, gaba, inputs = build(50)
    assert glutamate._autolut is not None and len(glutamate._autolut.report.tabulated) == 1
    assert neurons._autolut is not None  # nothing to tabulate there, but optimized


def test_clamp_counts_per_postsynaptic_neuron(numpy_target, caplog):
    with caplog.at_level(logging.WARNING):
        _, glutamate, _ = _run(True, 20 * ms, out_of_range="clamp",
                               ranges={"v_post": (-60 * mV, -52 * mV)})
    (count,) = [counter.count() for counter in glutamate._autolut.guard.counters]
    assert count.axis == "v_post" and count.group == glutamate.name
    assert count.outside > 0 and 0 < count.neurons <= 100
    assert any("postsynaptic neuron-steps" in record.getMessage() for record in caplog.records)


def test_error_names_the_postsynaptic_neuron(numpy_target):
    with pytest.raises(Exception) as error:
        _run(True, 20 * ms, out_of_range="error", ranges={"v_post": (-60 * mV, -52 * mV)})
    assert isinstance(error.value.__cause__, OutOfRangeError)
    assert re.search(r"from I_NMDA_rec_post of group 'brunel_wang_glutamate'\) was looked up "
                     r"at v_post = -?[\d.]+ mV for postsynaptic neuron \d+, outside its range "
                     r"\[-60, -52\] mV", str(error.value.__cause__))


# -- every target ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def target_runs(tmp_path_factory):
    """Exact and optimized, each in its own process; the two of a target at once (the
    machine has two cores)."""
    root = tmp_path_factory.mktemp("synapses")
    results = {}
    for target in TARGETS:
        processes = {variant: subprocess.Popen(
            [sys.executable, str(HERE / "synapses_runner.py"), target,
             str(root / f"{target}_{variant}.npz"), str(root / f"{target}_{variant}"), variant],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            for variant in ("exact", "autolut")}
        for variant, process in processes.items():
            output, _ = process.communicate(timeout=900)
            assert process.returncode == 0, f"{target} {variant} failed:\n{output[-3000:]}"
            results[target, variant] = np.load(root / f"{target}_{variant}.npz")
    return results


@pytest.mark.parametrize("target", [pytest.param(t, marks=[] if t == "numpy" else
                                                 [pytest.mark.compiler]) for t in TARGETS])
def test_brunel_wang_with_tabulated_nmda_block_on_every_target(target_runs, target):
    exact, optimized = target_runs[target, "exact"], target_runs[target, "autolut"]
    assert "lut_I_NMDA_rec_post(v_post)" in str(optimized["summed"])
    assert int(optimized["synapses"]) > 5000
    counts = exact["count"]
    print(f"{target}: {int(optimized['synapses'])} synapses, {counts.sum()} spikes exact, "
          f"{optimized['count'].sum()} optimized; max |dI_NMDA| "
          f"{np.abs(optimized['I_NMDA'] - exact['I_NMDA']).max():.3g} A")
    assert counts.sum() > 50  # the network is active
    np.testing.assert_array_equal(optimized["count"], counts)
    np.testing.assert_allclose(optimized["I_NMDA"], exact["I_NMDA"], rtol=1e-4,
                               atol=1e-4 * np.abs(exact["I_NMDA"]).max())


def test_a_synaptic_variable_as_axis_is_counted_per_synapse(numpy_target):
    """A range given for a synapse's own clock-driven variable: its lookups are counted
    per synapse (a dynamic array that follows the synapses), and 'clamp' says so."""
    source = NeuronGroup(3, "v : volt")
    target = NeuronGroup(2, "dv/dt = -v/(10*ms) + g/nS*mV/ms : volt\ng : siemens")
    synapses = Synapses(source, target, """
        ds/dt = -s/(5*ms) : 1 (clock-driven)
        g_post = nS*s**3/(1 + exp(-(s - 0.5)*8)) : siemens (summed)""", method="exact")
    synapses.connect()
    synapses.s = "0.2 + 0.4*i"  # the synapses of presynaptic neuron 2 start above 0.8
    autolut.optimize(synapses, ranges={"s": (0, 0.8)}, out_of_range="clamp")
    run(0.2 * ms)
    (count,) = [counter.count() for counter in synapses._autolut.guard.counters]
    assert count.axis == "s" and count.element == "synapse"
    assert count.neurons == 2  # the two synapses of presynaptic neuron 2, each step
    assert count.outside == 2 * 2
