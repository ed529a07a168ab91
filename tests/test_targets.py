"""The same optimized models on numpy, cython and cpp_standalone (issue: compiled targets).

The heavy part, one build per target, runs once per session in subprocesses
(tests/target_runner.py), each with its own cache or build directory, and the
targets are compared afterwards.
"""

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from brian2 import (NeuronGroup, StateMonitor, defaultclock, mV, ms, prefs, run,
                    start_scope)
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice

import autolut
from autolut import guards
from autolut.targets import cpp_target

HERE = Path(__file__).resolve().parent
TARGETS = ("numpy", "cython", "cpp_standalone")
MODELS = ("traub_miles", "wang_buzsaki", "hh_temperature", "spiking_calcium",
          "traub_miles_vt", "pospischil_vt")


@pytest.fixture(scope="session")
def target_results(tmp_path_factory):
    """{run: npz} for the models optimized in one network (and exact), two runs each."""
    root = tmp_path_factory.mktemp("targets")
    runs = {target: [target] for target in TARGETS}
    runs["exact"] = ["numpy", "exact"]
    processes = {}
    for run_name, (target, *variant) in runs.items():
        processes[run_name] = subprocess.Popen(
            [sys.executable, str(HERE / "target_runner.py"), target,
             str(root / f"{run_name}.npz"), str(root / run_name), *variant],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    for run_name, process in processes.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"{run_name} run failed:\n{output[-3000:]}"
    return {run_name: np.load(root / f"{run_name}.npz") for run_name in runs}


@pytest.mark.compiler
@pytest.mark.parametrize("model", MODELS)
def test_optimized_spike_trains_match_the_exact_model(target_results, model):
    """Through a dt change, and for hh_temperature a temperature change, between runs."""
    exact, optimized = target_results["exact"], target_results["numpy"]
    np.testing.assert_array_equal(optimized[f"{model}_i"], exact[f"{model}_i"])
    np.testing.assert_allclose(optimized[f"{model}_t"], exact[f"{model}_t"], atol=0.02)  # ms


@pytest.mark.compiler
@pytest.mark.parametrize("model", MODELS)
def test_spike_trains_identical_on_every_target(target_results, model):
    reference = target_results["numpy"]
    assert len(reference[f"{model}_i"]) > 20  # the models fire
    for target in ("cython", "cpp_standalone"):
        np.testing.assert_array_equal(target_results[target][f"{model}_i"],
                                      reference[f"{model}_i"])
        np.testing.assert_array_equal(target_results[target][f"{model}_t"],
                                      reference[f"{model}_t"])


@pytest.mark.compiler
@pytest.mark.parametrize("model", MODELS)
def test_compiled_targets_bit_identical_under_strict_flags(target_results, model):
    np.testing.assert_array_equal(target_results["cython"][f"{model}_v"],
                                  target_results["cpp_standalone"][f"{model}_v"])


@pytest.mark.compiler
@pytest.mark.parametrize("model", MODELS)
def test_numpy_traces_match_compiled_ones(target_results, model):
    # numpy's exp and the C library's exp differ in the last bit now and then;
    # over 6000 steps with spikes that stays around 1e-12 of the trace's scale.
    numpy_v = target_results["numpy"][f"{model}_v"]
    compiled_v = target_results["cpp_standalone"][f"{model}_v"]
    scale = np.abs(numpy_v).max()
    assert np.abs(numpy_v - compiled_v).max() <= 1e-10 * scale
    assert np.abs(numpy_v[:, :100] - compiled_v[:, :100]).max() <= 1e-13 * scale
    assert numpy_v.shape[1] == 2000 + 8000  # 20 ms at dt = 0.01 ms, 40 ms at 0.005 ms


@pytest.fixture
def cython_target(tmp_path):
    """The cython target with a cache directory of this test's own."""
    saved = prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir
    prefs.codegen.target = "cython"
    prefs.codegen.runtime.cython.cache_dir = str(tmp_path / "cython_cache")
    start_scope()
    defaultclock.dt = 0.1 * ms
    yield
    prefs.codegen.target, prefs.codegen.runtime.cython.cache_dir = saved


def _scaled_exp_group(K):
    group = NeuronGroup(2, """dv/dt = (v0 - v)/(10*ms) : volt
                              y = K*exp(v/(20*mV))/(1 + exp(-v/(5*mV))) : 1
                              v0 : volt (constant)""",
                        namespace={"K": K}, method="euler")
    group.v0 = [-70, 30] * mV
    group.v = group.v0[:]
    return group


def _scaled_exp(v_mV):
    """y/K of `_scaled_exp_group` at `v_mV`."""
    return np.exp(v_mV / 20.0) / (1 + np.exp(-v_mV / 5.0))


@pytest.mark.compiler
def test_cython_sees_changed_table_on_second_run(cython_target):
    group = _scaled_exp_group(K=2.0)
    monitor = StateMonitor(group, "y", record=True)
    autolut.optimize(group, tolerance=1e-8)
    assert "lut_y" in group.namespace
    run(0.5 * ms)
    first = monitor.y[:, -1].copy()
    group.namespace["K"] = 5.0  # a baked constant: the table must follow
    run(0.5 * ms)
    second = monitor.y[:, -1].copy()
    expected = _scaled_exp(np.array([-70, 30]))
    np.testing.assert_allclose(first, 2.0 * expected, rtol=1e-6)
    np.testing.assert_allclose(second, 5.0 * expected, rtol=1e-6)


@pytest.mark.compiler
def test_group_optimized_under_numpy_runs_under_cython(cython_target):
    prefs.codegen.target = "numpy"
    group = _scaled_exp_group(K=3.0)
    monitor = StateMonitor(group, "y", record=True)
    autolut.optimize(group, tolerance=1e-8)
    prefs.codegen.target = "cython"
    run(0.3 * ms)
    np.testing.assert_allclose(monitor.y[:, -1], 3.0 * _scaled_exp(np.array([-70, 30])),
                               rtol=1e-6)


class CUDAStandaloneDevice(CPPStandaloneDevice):
    """Stands for brian2cuda: derived from the C++ device, must not get C++ tables."""


def test_cpp_derived_devices_are_refused(monkeypatch):
    fake = CUDAStandaloneDevice()
    monkeypatch.setattr(cpp_target, "get_device", lambda: fake)
    monkeypatch.setattr(guards, "get_device", lambda: fake)
    with pytest.raises(NotImplementedError, match="CUDAStandaloneDevice"):
        cpp_target.check_device()
    with pytest.raises(autolut.AutolutError, match="CUDAStandaloneDevice.*cpp_standalone"):
        autolut.optimize(NeuronGroup(1, "dv/dt = exp(-v/mV)*mV/ms : volt"))


@pytest.mark.compiler
def test_standalone_reinit_between_builds(tmp_path):
    script = textwrap.dedent(f"""
        import sys; sys.path.insert(0, {str(HERE.parent)!r})
        from brian2 import *
        import autolut
        from tests.models import traub_miles
        prefs.codegen.cpp.extra_compile_args_gcc = ['-w', '-O1']
        counts = []
        for k in range(2):
            set_device('cpp_standalone', directory={str(tmp_path)!r} + f'/build{{k}}',
                       build_on_run=False)
            group = traub_miles(10, name='tm')
            spikes = SpikeMonitor(group)
            autolut.optimize(group)
            run(20*ms)
            device.build(directory={str(tmp_path)!r} + f'/build{{k}}')
            counts.append(spikes.num_spikes)
            device.reinit()
            device.activate(build_on_run=False)
        print('COUNTS', counts)
        assert counts[0] == counts[1] > 0
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    assert "COUNTS" in result.stdout
