"""`autolut.validate`: exact vs optimized side by side."""

import pytest
from brian2 import Hz, PoissonInput, defaultclock, mV, ms, nA, prefs

import autolut
from tests.models import traub_miles


@pytest.fixture(autouse=True)
def _numpy(numpy_target):
    defaultclock.dt = 0.01 * ms


def _noisy_traub_miles():
    """Random initial voltages and Poisson input: the same in both copies only with the seed."""
    group = traub_miles(60, I_max=1.2 * nA)
    group.v = "-65*mV + 5*mV*rand()"
    noise = PoissonInput(group, "v", 50, 200 * Hz, weight=0.5 * mV)
    return group, noise


def test_default_settings_pass():
    result = autolut.validate(_noisy_traub_miles, 100 * ms, max_shift=0.05 * ms,
                              max_trace_error={"v": 5 * mV})
    comparison = result.groups[0]
    assert result.passed, str(result)
    assert comparison.same_counts == comparison.neurons == 60
    assert comparison.spikes_exact > 50
    assert result.speedup > 0
    text = str(result)
    assert "identical spike counts in 60 of 60" in text and "PASS" in text


def test_coarse_tolerance_fails_and_says_why():
    result = autolut.validate(_noisy_traub_miles, 100 * ms, tolerance=3e-2)
    assert not result.passed
    assert "fire a different number of spikes" in result.failures[0]
    assert result.groups[0].same_counts < 60
    assert "FAIL" in str(result)


@pytest.mark.compiler
def test_on_cpp_standalone():
    result = autolut.validate(lambda: traub_miles(20), 30 * ms, target="cpp_standalone")
    assert result.passed, str(result)
    assert result.groups[0].spikes_exact > 0
    assert prefs.codegen.target == "numpy"  # the runtime device is back
