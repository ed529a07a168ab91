"""Lookups outside the table range under each out_of_range policy, on every target (issue 5).

tests/range_runner.py drives traub_miles (v overshoots a +20 mV table end and
undershoots -80 mV) and spiking_calcium (Ca rises above a 4 µM table end) on
one target, exact and under the three policies; one subprocess per target, run
once per session, each with its own cache or build directory.
"""

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import NeuronGroup, Function, mV, ms, network_operation, run

import autolut
from autolut.options import OptionsError

HERE = Path(__file__).resolve().parent
TARGETS = ("numpy", "cython", "cpp_standalone")
TABLE_ENDS = {"v": (-0.080, 0.020), "Ca": (0.0, 4e-6)}  # SI, as in range_runner.RANGES


@pytest.fixture(scope="session")
def range_results(tmp_path_factory):
    root = tmp_path_factory.mktemp("out_of_range")
    processes = {target: subprocess.Popen(
        [sys.executable, str(HERE / "range_runner.py"), target, str(root / f"{target}.json"),
         str(root / target)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for target in TARGETS}
    for target, process in processes.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"{target} failed:\n{output[-3000:]}"
    return {target: json.loads((root / f"{target}.json").read_text()) for target in TARGETS}


def _target_param(target):
    return pytest.param(target, marks=[] if target == "numpy" else [pytest.mark.compiler])


@pytest.mark.parametrize("target", [_target_param(t) for t in TARGETS])
def test_exact_policy_evaluates_the_exact_expression_outside(range_results, target):
    results = range_results[target]
    reference, exact, clamp = results["reference"], results["exact"], results["clamp"]
    assert reference["v"][1] > TABLE_ENDS["v"][1] and reference["v"][0] < TABLE_ENDS["v"][0]
    assert reference["Ca"][1] > TABLE_ENDS["Ca"][1]
    assert exact["counts"] == reference["counts"]
    trace_error = np.max(np.abs(np.subtract(exact["v_trace"], reference["v_trace"])))
    clamp_error = np.max(np.abs(np.subtract(clamp["v_trace"], reference["v_trace"])))
    # the table error (amplified on the spike upstrokes), while clamping errs by far more
    print(f"max |dv|: exact policy {trace_error:.3g} V, clamp {clamp_error:.3g} V")
    assert trace_error < 1e-4  # volt
    assert clamp_error > 20 * trace_error
    # the axis was checked every `every` steps (the lookups see v before each state update, as
    # the state monitor records it), and that estimates how often the tables fell back
    trace = np.asarray(exact["v_trace"])
    outside = (trace < TABLE_ENDS["v"][0]) | (trace > TABLE_ENDS["v"][1])
    [v_count] = [c for c in exact["range_counts"] if c["group"] == "traub_miles"]
    every = v_count["every"]
    assert v_count["policy"] == "exact" and every > 1 and len(v_count["tables"]) == 6
    assert v_count["outside"] == int(outside[:, ::every].sum()) > 0
    assert v_count["neurons"] == int(outside[:, ::every].any(axis=1).sum())
    assert v_count["estimate"] == every * v_count["outside"]
    assert v_count["estimate"] == pytest.approx(int(outside.sum()), rel=0.25)
    assert v_count["highest"] == pytest.approx(trace[:, ::every].max(), abs=1e-12)
    [ca_count] = [c for c in exact["range_counts"] if c["axis"] == "Ca"]
    assert ca_count["outside"] > 0
    # ... and a run in which they were frequent ends with one warning per axis
    [v_warning] = [w for w in exact["warnings"] if "'traub_miles'" in w]
    assert (f"evaluated their exact expressions in about {v_count['estimate']} neuron-steps "
            f"(checked every {every} steps)") in v_warning
    assert "[-80, 20] mV" in v_warning and "lut_m_inf" in v_warning


@pytest.mark.parametrize("target", [_target_param(t) for t in TARGETS])
def test_clamp_policy_counts_and_reports_the_lookups_outside(range_results, target):
    clamp = range_results[target]["clamp"]
    counts = {(c["group"], c["axis"]): c for c in clamp["range_counts"]}
    v_count, ca_count = counts["traub_miles", "v"], counts["spiking_calcium", "Ca"]
    trace = np.asarray(clamp["v_trace"])
    outside = (trace < TABLE_ENDS["v"][0]) | (trace > TABLE_ENDS["v"][1])
    # the counter sees v before each state update, as the state monitor records it
    # (the monitor's extra first sample is inside the range)
    assert v_count["outside"] == int(outside.sum()) > 0
    assert v_count["neurons"] == int(outside.any(axis=1).sum())
    assert v_count["lowest"] == pytest.approx(trace.min(), abs=1e-12)
    assert v_count["highest"] == pytest.approx(trace.max(), abs=1e-12)
    assert ca_count["outside"] > 0 and ca_count["lowest"] is None
    assert ca_count["highest"] == pytest.approx(clamp["Ca"][1], rel=1e-9)
    assert counts["spiking_calcium", "v"]["outside"] == 0
    # ... and both are reported after the run, through Brian2's logger
    [v_warning] = [w for w in clamp["warnings"] if "'traub_miles'" in w]
    assert f"in {v_count['outside']} neuron-steps ({v_count['neurons']} neurons" in v_warning
    assert "[-80, 20] mV" in v_warning and "lut_m_inf" in v_warning
    assert f"highest {trace.max() * 1e3:.6g} mV" in v_warning
    [ca_warning] = [w for w in clamp["warnings"] if "'spiking_calcium'" in w]
    assert "[0, 4] uM" in ca_warning and "lut_q_inf" in ca_warning


@pytest.mark.parametrize("target", [_target_param(t) for t in TARGETS])
def test_error_policy_stops_the_run_naming_table_variable_value_and_neuron(range_results,
                                                                           target):
    error = range_results[target]["error"]["error"]
    text = error["message"] + " " + error["cause"]
    match = re.search(r"table (lut_\w+) \(from .+? of group '(\w+)'\) was looked up at "
                      r"(\w+) = (\S+) (\w+) for neuron (\d+), outside its range", text)
    assert match, text
    table, group, variable, value, unit, neuron = match.groups()
    assert (group, variable, unit) in {("traub_miles", "v", "mV"),
                                       ("spiking_calcium", "Ca", "uM")}
    low, high = TABLE_ENDS[variable]
    scale = 1e-3 if unit == "mV" else 1e-6
    assert not low <= float(value) * scale <= high
    reference = range_results[target]["reference"]
    assert reference["counts"][group][int(neuron)] > 0  # a neuron that spikes
    assert "out_of_range='exact'" in text  # what to do


@pytest.mark.compiler
def test_every_policy_gives_the_same_results_on_every_target(range_results):
    for policy in ("exact", "clamp"):
        numpy = range_results["numpy"][policy]
        for target in ("cython", "cpp_standalone"):
            other = range_results[target][policy]
            assert other["counts"] == numpy["counts"]
            assert [c["tables"] for c in other["range_counts"]] == \
                [c["tables"] for c in numpy["range_counts"]]
            assert [_numbers(c) for c in other["range_counts"]] == \
                [pytest.approx(_numbers(c)) for c in numpy["range_counts"]]
            np.testing.assert_allclose(other["v_trace"], numpy["v_trace"], atol=1e-9)


def _numbers(count: dict) -> dict:
    return {key: value for key, value in count.items() if key != "tables"}


def test_an_unknown_policy_is_refused_and_leaves_the_group_untouched(numpy_target):
    group = NeuronGroup(1, "dm/dt = (1/(1 + exp(-v/(5*mV))) - m)/ms : 1\nv : volt",
                        method="euler")
    before = str(group.user_equations)
    with pytest.raises(OptionsError, match=r"out_of_range must be one of 'exact', 'clamp', "
                                           r"'error', not 'wrap'"):
        autolut.optimize(group, out_of_range="wrap")
    assert str(group.user_equations) == before and "lut_m" not in group.namespace


def test_exact_policy_keeps_expressions_without_a_c_form_exact(numpy_target):
    """A user function known only to Python cannot run as C code outside the range."""
    slope = Function(lambda x: 1 / (1 + np.exp(-np.asarray(x))), arg_units=[1], return_unit=1)
    equations = ("dm/dt = (slope(v/(5*mV))*exp(v/(30*mV)) - m)/ms : 1\n"
                 "dv/dt = -v/(10*ms) : volt")
    group = NeuronGroup(1, equations, method="euler", namespace={"slope": slope})
    [row] = [r for r in autolut.report(group).candidates if "slope" in r.expression]
    assert not row.tabulated and "out_of_range='exact' needs the exact expression as C " \
                                  "code" in row.reason and "'slope'" in row.reason
    clamped = NeuronGroup(1, equations, method="euler", namespace={"slope": slope})
    assert any(r.tabulated for r in autolut.report(clamped, out_of_range="clamp").candidates)


def test_optimize_is_refused_while_the_group_runs(numpy_target):
    group = NeuronGroup(1, "dm/dt = (1/(1 + exp(-v/(5*mV))) - m)/ms : 1\nv : volt",
                        method="euler")
    before = str(group.user_equations)
    failures = []

    @network_operation(dt=1 * ms)
    def optimize_now():
        try:
            autolut.optimize(group)
        except autolut.AutolutError as error:
            failures.append(str(error))

    run(2 * ms)
    assert failures and "is being simulated right now" in failures[0] \
        and "before or between runs" in failures[0]
    assert str(group.user_equations) == before and getattr(group, "_autolut", None) is None


def test_tables_view_shows_grid_values_errors_and_both_functions(numpy_target):
    group = autolut.optimize(NeuronGroup(1, """dv/dt = (-65*mV - v)/(10*ms) : volt
        dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1
        """), ranges={"v": (-100 * mV, 40 * mV)})
    table, _ = autolut.tables(group)
    assert (table.name, table.origins, table.variable) == ("lut_m", ("m",), "v")
    assert float(table.grid[0] / mV) == -100 and float(table.grid[-1] / mV) == pytest.approx(40)
    x = np.linspace(-100, 40, 1001) * mV
    assert np.max(np.abs(table.lookup(x) - table.exact(x))) <= table.max_error
    assert table.relative_error <= 1e-6
    # default policy 'exact': outside the range the lookup is the exact value
    outside = [-150, 60] * mV
    np.testing.assert_allclose(table.lookup(outside), table.exact(outside), rtol=1e-15)
    with pytest.raises(ValueError, match="is not optimized"):
        autolut.tables(NeuronGroup(1, "v : volt"))


def test_stochastic_terms_stay_exact_and_their_coefficients_are_tabulated(numpy_target):
    """xi itself is never inside a table (its sympy-level refusal: test_analysis.py);
    the deterministic coefficient of the noise is a function of v like any other."""
    group = NeuronGroup(2, """dv/dt = (-65*mV - v)/(10*ms) : volt
                              dm/dt = (exp(v/(20*mV))*(1 - m) - m)/ms
                                      + 0.01*exp(v/(30*mV))*xi/sqrt(ms) : 1""",
                        method="heun")
    group.v = -65 * mV
    rows = autolut.report(group).candidates
    assert {row.expression for row in rows if row.tabulated} == {
        "exp(v/(20*mV))", "0.01*exp(v/(30*mV))/sqrt(ms)"}
    autolut.optimize(group)
    assert "xi" in str(group.user_equations["m"].expr)
    run(1 * ms)
    assert np.all(np.isfinite(group.m[:]))


def test_tables_view_of_unitless_tables(numpy_target):
    """Steady states and step factors of exponential-Euler gates have no unit."""
    group = autolut.optimize(NeuronGroup(1, """dv/dt = (-65*mV - v)/(10*ms) : volt
                                               dm/dt = (1/(1 + exp(-v/(5*mV))) - m)/ms : 1""",
                                         method="exponential_euler"))
    views = autolut.tables(group)
    assert {view.name for view in views} == {"lut_m_inf", "lut_m_factor"}
    x = np.linspace(-100, 60, 101) * mV
    for view in views:
        assert np.max(np.abs(view.lookup(x) - view.exact(x))) <= float(view.max_error) + 1e-15
