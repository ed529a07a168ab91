"""Safe in every workflow (issue "Safe in every workflow"): parameter sweeps with run_args,
optimize between magic runs, validate that sees everything, option checks, clean caches,
OpenMP."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import (Equations, Hz, Network, NeuronGroup, PoissonGroup, SpikeMonitor,
                    StateMonitor, Synapses, defaultclock, device, mV, ms, nA, prefs, run,
                    set_device)

import autolut
from autolut.options import OptionsError
from tests.models import TRAUB_MILES, TRAUB_MILES_NAMESPACE, traub_miles

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _numpy(numpy_target):
    defaultclock.dt = 0.01 * ms


# -- optimize between magic runs --------------------------------------------------------

@pytest.mark.parametrize("policy", ["exact", "clamp"])
def test_optimize_between_magic_runs(policy):
    """The objects autolut adds to a group that ran already (its guard, the 'clamp'
    counter) do not make the magic network think a new simulation starts."""
    group = traub_miles(10)
    spikes = SpikeMonitor(group)
    run(5 * ms)
    autolut.optimize(group, out_of_range=policy, namespace={})
    run(5 * ms)
    assert float(group.t / ms) == pytest.approx(10)
    autolut.restore(group)
    run(5 * ms)
    autolut.optimize(group, out_of_range=policy, namespace={})
    run(5 * ms)
    assert float(group.t / ms) == pytest.approx(20) and spikes.num_spikes > 0


def test_optimize_after_a_run_that_failed():
    """A run that ends with an exception leaves Brian2's 'globally running' flag set;
    optimize must still work afterwards (and method='lut_exponential_euler' too)."""
    failing = autolut.optimize(traub_miles(3), out_of_range="error",
                               ranges={"v": (-80 * mV, 0 * mV)}, namespace={})
    with pytest.raises(Exception):
        Network(failing).run(20 * ms)
    group = autolut.optimize(traub_miles(3), namespace={})
    Network(group).run(1 * ms)
    assert autolut.report(group).tabulated


# -- the per-run cost ---------------------------------------------------------------------

def test_later_runs_reuse_the_generated_range_counter_and_table_code():
    """Brian2 generates every code object again in every run; the range counter's code
    and the table functions' code are made once (per target, per table version), and
    the counts still accumulate over the runs."""
    group = autolut.optimize(traub_miles(5, I_max=1.5 * nA), ranges={"v": (-80 * mV, 0 * mV)},
                             out_of_range="clamp", namespace={})
    network = Network(group)
    network.run(5 * ms)
    counter = group._autolut.guard.counters[0]
    code_object = counter.runner.codeobj
    function = next(iter(group._autolut.functions.values()))
    code = function.implementations["numpy"].get_code(group)
    network.run(15 * ms)
    assert counter.runner.codeobj is code_object
    assert function.implementations["numpy"].get_code(group) is code
    assert counter.count().outside > 0  # spike peaks above 0 mV, counted by the reused code
    group.namespace["VT"] = -60 * mV  # a rebuilt table gets code of its own
    network.run(0.1 * ms)
    assert function.implementations["numpy"].get_code(group) is not code


# -- validate sees what the builder created -----------------------------------------------

def _driven_group():
    group = NeuronGroup(20, TRAUB_MILES, threshold="v > -20*mV", refractory=3 * ms,
                        method="exponential_euler", namespace=dict(TRAUB_MILES_NAMESPACE))
    group.v = -65 * mV
    source = PoissonGroup(50, rates=400 * Hz)
    synapses = Synapses(source, group, on_pre="v += 2*mV")
    synapses.connect(p=0.3)
    return group  # the input is only in the builder's local variables


def test_validate_simulates_what_the_builder_created():
    result = autolut.validate(_driven_group, 30 * ms)
    comparison = result.groups[0]
    assert comparison.spikes_exact > 20, str(result)  # the Poisson input drove the group
    assert result.passed, str(result)
    kinds = " ".join(result.simulated)
    assert "(PoissonGroup)" in kinds and "(Synapses)" in kinds and "(NeuronGroup)" in kinds
    assert "simulated (both copies):" in str(result)


class _Counting:
    """A builder that counts its calls."""

    def __init__(self):
        self.calls = 0

    def __call__(self):
        self.calls += 1
        return traub_miles(4)


@pytest.mark.parametrize("arguments, words", [
    (dict(max_trace_error={"vv": 1 * mV}), ["no group", "'vv'", "h, m, n, v"]),
    (dict(max_trace_error={"v": 1.0}), ["max_trace_error['v']", "e.g. 1*mV"]),
    (dict(max_trace_error={"v": 1 * ms}), ["max_trace_error['v']"]),
    (dict(max_shift=0.1), ["max_shift must be a time"]),
    (dict(recorded_neurons=0), ["recorded_neurons"]),
    (dict(max_count_mismatch=-1), ["max_count_mismatch"]),
    (dict(target="cython"), ["prefs.codegen.target"]),
    (dict(tolerence=1e-6), ["tolerence"]),
])
def test_validate_checks_everything_before_simulating(arguments, words):
    builder = _Counting()
    with pytest.raises(OptionsError) as error:
        autolut.validate(builder, 10 * ms, **arguments)
    for word in words:
        assert word in str(error.value)
    assert builder.calls <= 1  # the model is read, never run


def test_validate_refuses_a_duration_without_units():
    with pytest.raises(OptionsError, match="duration must be a positive time"):
        autolut.validate(_Counting(), 10)


# -- option checks and messages -----------------------------------------------------------

def test_numpy_numbers_are_accepted():
    report = autolut.report(traub_miles(2), tolerance=np.float32(1e-5),
                            max_points=np.int64(10**6))
    assert report.tolerance == pytest.approx(1e-5) and report.tabulated


@pytest.mark.parametrize("thing", [None, "traub_miles", [1, 2]])
def test_non_groups_are_refused_naming_what_is_supported(thing):
    with pytest.raises(TypeError) as error:
        autolut.optimize(thing)
    assert "works on NeuronGroup, SpatialNeuron and Synapses objects; got" in str(error.value)
    assert type(thing).__name__ in str(error.value)


def test_report_of_an_optimized_group_with_other_options_says_so():
    group = autolut.optimize(traub_miles(2), namespace={})
    assert autolut.report(group) is group._autolut.report
    assert autolut.report(group, tolerance=1e-6) is group._autolut.report
    with pytest.raises(OptionsError, match=r"is optimized \(with tolerance=1e-06\).*"
                                           r"tolerance=0.001 would do.*restore"):
        autolut.report(group, tolerance=1e-3)


def test_messages_show_values_in_the_axis_unit():
    """A pole is named in mV, not as np.float64(...) in SI units."""
    group = NeuronGroup(1, """dv/dt = -v/(10*ms) : volt
                              dm/dt = (1 - m)*exp(v/(20*mV))/((v + 30*mV)/mV)/ms
                                      - m*exp(v/(9*mV))/ms : 1""", method="euler")
    [row] = [row for row in autolut.report(group).candidates if "30*mV" in row.expression]
    assert not row.tabulated
    assert "pole at -30 mV" in row.reason and "np.float64" not in row.reason


def test_out_of_range_messages_use_the_unit_of_the_range():
    from autolut import OutOfRangeError
    group = autolut.optimize(traub_miles(3, I_max=1.5 * nA), out_of_range="error",
                             ranges={"v": (-80 * mV, 0 * mV)}, namespace={})
    with pytest.raises(Exception) as error:
        Network(group).run(20 * ms)
    text = str(error.value) + str(error.value.__cause__)
    assert "mV for neuron" in text and "[-80, 0] mV" in text
    assert isinstance(error.value.__cause__, (OutOfRangeError, RuntimeError))


# -- the demo ------------------------------------------------------------------------------

# -- caches outside the package --------------------------------------------------------------

def test_numba_cache_lives_in_the_user_cache_directory(tmp_path):
    package = Path(autolut.__file__).parent
    code = ("import numpy as np, autolut\n"
            "from autolut.targets.numba_kernel import lookup\n"
            "from autolut.tabulate import pack\n"
            "packed = pack(np.array([0.0, 2.0]))\n"
            "print(lookup(np.array([0.5]), 0.0, 1.0, 1.0, packed, 2, 0, 0)[1])\n")
    environment = dict(os.environ, AUTOLUT_CACHE_DIR=str(tmp_path / "cache"))
    process = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env=environment, timeout=300)
    assert process.returncode == 0, process.stderr
    assert "[1.]" in process.stdout
    cached = [path.name for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert any(name.endswith(".nbi") for name in cached), cached
    assert not [path for path in package.rglob("*") if path.suffix in (".nbi", ".nbc")]


# -- parameter sweeps with run_args on cpp_standalone ---------------------------------------

SHARED_VT = TRAUB_MILES + Equations("VT : volt (shared, constant)")


@pytest.mark.compiler
def test_run_args_that_touch_a_baked_value_are_refused(tmp_path):
    set_device("cpp_standalone", directory=str(tmp_path), build_on_run=False)
    try:
        namespace = {key: value for key, value in TRAUB_MILES_NAMESPACE.items() if key != "VT"}
        group = NeuronGroup(20, SHARED_VT, threshold="v > -20*mV", refractory=3 * ms,
                            method="exponential_euler", namespace=namespace, name="shared_vt")
        group.v = -65 * mV
        group.I = "1.5*nA*i/(N - 1)"
        group.VT = -63 * mV
        spikes = SpikeMonitor(group)
        autolut.optimize(group, namespace={})
        assert autolut.report(group).tabulated
        run(20 * ms)
        device.build(directory=str(tmp_path), run=False)
        device.run()  # the value the tables were built with: fine
        assert spikes.num_spikes > 0
        with pytest.raises(autolut.AutolutError) as error:
            device.run(run_args={group.VT: -55 * mV})
        text = str(error.value)
        assert "'shared_vt.VT'" in text and "baked into the tables" in text
        assert "lut_m_inf" in text and "autolut.restore" in text
        with pytest.raises(autolut.AutolutError, match="shared_vt.VT"):
            device.run(run_args=["shared_vt.VT=-0.055"])
        device.run(run_args={group.I: 0.5 * nA})  # not baked: fine
    finally:
        device.reinit()
        set_device("runtime")


# -- OpenMP ------------------------------------------------------------------------------------

def _openmp_run(directory, threads, policy, ranges=None):
    set_device("cpp_standalone", directory=str(directory), build_on_run=False)
    prefs.devices.cpp_standalone.openmp_threads = threads
    try:
        group = traub_miles(200, name="threads")
        spikes = SpikeMonitor(group)
        trace = StateMonitor(group, "v", record=True)
        autolut.optimize(group, out_of_range=policy, namespace={}, **(ranges or {}))
        run(30 * ms)
        error = None
        try:
            device.build(directory=str(directory))
        except Exception as failure:  # noqa: BLE001 - what the user gets
            error = failure
        counts = None if error else np.asarray(spikes.count[:]).copy()
        range_counts = None if error else [(c.outside, c.neurons) for c in
                                           autolut.range_counts(group)]
        if ranges and not error:  # what the counter should have counted
            low, high = (float(value) for value in ranges["ranges"]["v"])
            outside = (np.asarray(trace.v_) < low) | (np.asarray(trace.v_) > high)
            assert range_counts == [(int(outside.sum()), int(outside.any(axis=1).sum()))]
        return counts, range_counts, error
    finally:
        prefs.devices.cpp_standalone.openmp_threads = 0
        device.reinit()
        set_device("runtime")


@pytest.mark.compiler
def test_openmp_threads_give_identical_results(tmp_path):
    one, _, _ = _openmp_run(tmp_path / "one", 1, "exact")
    two, _, _ = _openmp_run(tmp_path / "two", 2, "exact")
    assert one.sum() > 100
    np.testing.assert_array_equal(one, two)


@pytest.mark.compiler
def test_openmp_clamp_counts_and_error_message(tmp_path):
    narrow = {"v": (-80 * mV, 0 * mV)}
    _, one, _ = _openmp_run(tmp_path / "clamp1", 1, "clamp", {"ranges": narrow})
    _, two, _ = _openmp_run(tmp_path / "clamp2", 2, "clamp", {"ranges": narrow})
    assert one == two and one[0][0] > 0
    _, _, error = _openmp_run(tmp_path / "error2", 2, "error", {"ranges": narrow})
    assert isinstance(error, autolut.OutOfRangeError)
    text = str(error)
    assert text.count("autolut: table") == 1 and "for neuron" in text and "[-80, 0] mV" in text
