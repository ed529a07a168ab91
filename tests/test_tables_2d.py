"""2-D tables end to end (issue: error-controlled 2-D tables (v, Ca)).

The BK gate of `autolut.models.bk_neuron` has rates of v and Ca that do not factor
into functions of one variable: ``alpha_o = abar*Ca/(Ca + k1*exp(-2*d1*F*v/(R*T)))``
and ``beta_o``. With ranges for both axes each becomes one 2-D table, looked up
``lut_alpha_o(v, Ca)``; where the tables would be too large, they are refused and
their factors of v get 1-D tables as before.

The numeric comparison on numpy, cython and cpp_standalone runs in one subprocess
per target (tests/tables_2d_runner.py, each with its own cache or build
directory), once per session; the report, out-of-range and view tests run on numpy
in this process.
"""

import json
import logging
import re
import subprocess
import sys
from pathlib import Path

import matplotlib
import numpy as np
import pytest
from brian2 import (Network, StateMonitor, defaultclock, mmolar, ms, mV, prefs, start_scope)

import autolut
from autolut.analysis import LOOKUP_COST
from autolut.lutfunction import OutOfRangeError
from autolut.models import BK_NEURON_RANGES, bk_neuron
from autolut.options import DEFAULT_TOLERANCE
from tables_2d_runner import DURATION, NARROW_CA, RANGES, TOLERANCE

matplotlib.use("Agg")

HERE = Path(__file__).resolve().parent
TARGETS = ("numpy", "cython", "cpp_standalone")
RATES = ("alpha_o", "beta_o")


@pytest.fixture(scope="module")
def numpy_scope():
    """The numpy target, a fresh scope, Brian2's default dt (as bk_neuron's runs use)."""
    previous = prefs.codegen.target
    prefs.codegen.target = "numpy"
    start_scope()
    defaultclock.dt = 0.1 * ms
    yield
    prefs.codegen.target = previous


def _rows(report, names=RATES):
    rows = {row.name: row for row in report.candidates if row.name in names}
    assert sorted(rows) == sorted(names), [row.name for row in report.candidates]
    return rows


# -- (a) the report ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def report_2d(numpy_scope):
    return autolut.report(bk_neuron(4), ranges=RANGES, tolerance=TOLERANCE, prefer_2d=True)


def test_bk_rates_are_2d_rows_over_v_and_ca(report_2d):
    for name, row in _rows(report_2d).items():
        print(f"{name}: {row.shape}, {row.nbytes / 2**20:.2f} MiB, rel. error "
              f"{row.relative_error:.2g} at {row.worst}")
        assert row.tabulated and row.variable == "v, Ca"
        assert "v" in row.expression and "Ca" in row.expression  # the whole rate
        assert row.relative_error <= row.tolerance == TOLERANCE
        nx, ny = row.shape
        assert row.points == nx * ny <= prefs.autolut.max_points
        assert row.nbytes == 8 * row.points  # values only, no slopes
        assert [float(q) for q in row.low] == pytest.approx([-0.1, 0.0])
        assert [float(q) for q in row.high] == pytest.approx([0.05, 0.04])
        assert [float(q) for q in row.step] == pytest.approx([0.15 / (nx - 1), 0.04 / (ny - 1)])
        assert -0.1 - 1e-12 <= float(row.worst[0]) <= 0.05 + 1e-12
        assert 0 <= float(row.worst[1]) <= 0.04 + 1e-12
        assert row.saved_operations == row.cost - 2 * LOOKUP_COST
    alpha, beta = _rows(report_2d).values()
    assert alpha.shape == beta.shape  # one grid: the lookups share their indices
    # the axes of the 2-D tables are described like any other
    assert any(line.startswith("Ca in [0, 40] uM (given)") for line in report_2d.axes)


def test_2d_rows_print_both_axes_and_are_plain_data(report_2d):
    text = str(report_2d)
    alpha = _rows(report_2d)["alpha_o"]
    nx, ny = alpha.shape
    assert f"{nx * ny} ({nx} x {ny})" in text and "[-100. mV, 50. mV] x [0. mM, 40. uM]" in text
    data = report_2d.to_dict()
    assert json.loads(json.dumps(data)) == data
    [plain] = [row for row in data["candidates"] if row["name"] == "alpha_o"]
    assert plain["variable"] == "v, Ca" and plain["shape"] == [nx, ny]
    assert plain["low"] == pytest.approx([-0.1, 0.0]) and plain["low_unit"][0] == "mV"
    assert len(plain["worst"]) == 2 and plain["points"] == nx * ny


# -- (b) refused 2-D tables: what would fit, and the 1-D tables of their factors --------------

def _check_refused_and_split(report, what):
    rows = [row for row in report.candidates if row.name in RATES]
    refused = [row for row in rows if row.variable == "v, Ca"]
    assert len(refused) == 2
    for row in refused:
        assert not row.tabulated and what in row.reason
        assert "its parts that vary with one variable are tabulated instead" in row.reason
    # as without a Ca range: the exp(v) factors of both rates are tables over v
    split = [row for row in rows if row.variable == "v"]
    assert len(split) == 2 and all(row.tabulated and "Ca" not in row.expression
                                   for row in split)


def test_too_small_max_points_refuses_the_2d_tables_saying_what_would_fit(numpy_scope):
    report = autolut.report(bk_neuron(4), ranges=RANGES, tolerance=TOLERANCE, prefer_2d=True,
                            max_points=100_000)
    _check_refused_and_split(report, "more than max_points = 100000")
    for row in report.candidates:
        if row.variable == "v, Ca":
            fits = float(re.search(r"a tolerance of (\S+) or coarser would fit",
                                   row.reason).group(1))
            assert fits > TOLERANCE
            assert "[-100 mV, 50 mV] x [0 uM, 40 uM]" in row.reason


def test_default_tolerance_over_the_models_own_v_range_keeps_the_1d_tables(numpy_scope):
    """Even where preferred: over v in [-110, 145] mV the rates bend so sharply near
    Ca = 0 that a uniform grid for 1e-6 would need about 1e9 points."""
    report = autolut.report(bk_neuron(4), ranges=BK_NEURON_RANGES, prefer_2d=True)
    assert report.tolerance == DEFAULT_TOLERANCE
    _check_refused_and_split(report, "coarser would fit")


def test_by_default_the_bk_rates_take_their_cheaper_split_form(numpy_scope):
    """Split, each rate costs a lookup of its exp(v) factor and a few operations on Ca
    (about 12), less than a 2-D lookup and a share of two indices: the split form ran
    faster on all three targets (benchmarks/results/bk)."""
    report = autolut.report(bk_neuron(4), ranges=RANGES, tolerance=TOLERANCE)
    _check_refused_and_split(report, "a 2-D table does not pay")
    for row in report.candidates:
        if row.variable == "v, Ca":
            split = int(re.search(r"it costs about (\d+) operations", row.reason).group(1))
            assert split < row.cost and "prefer_2d=True" in row.reason


def test_2d_tables_too_cheap_for_their_indices_are_split(numpy_scope):
    """Together the two rates save about 2*(33 - 10) operations, less two indices (30):
    16, below min_cost = 20; each exp(v) factor (26 operations) shares the index of the
    gate tables over v."""
    report = autolut.report(bk_neuron(4), ranges=RANGES, tolerance=TOLERANCE, prefer_2d=True,
                            min_cost=20)
    _check_refused_and_split(report, "too cheap for a table of its own")


# -- (c) exact vs 2-D tables, on every target -------------------------------------------------

@pytest.fixture(scope="module")
def target_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("tables_2d")
    processes = {target: subprocess.Popen(
        [sys.executable, str(HERE / "tables_2d_runner.py"), target,
         str(root / f"{target}.npz"), str(root / target)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) for target in TARGETS}
    for target, process in processes.items():
        output, _ = process.communicate(timeout=900)
        assert process.returncode == 0, f"{target} failed:\n{output[-3000:]}"
    return {target: np.load(root / f"{target}.npz") for target in TARGETS}


def _target_param(target):
    return pytest.param(target, marks=[] if target == "numpy" else [pytest.mark.compiler])


@pytest.mark.parametrize("target", [_target_param(t) for t in TARGETS])
def test_2d_tables_fire_as_the_exact_model(target_runs, target):
    """Against the exact model on numpy (`test_targets_agree_on_the_2d_tables`: the
    targets agree to the last bits)."""
    run, exact = target_runs[target], target_runs["numpy"]
    assert str(run["alpha_o"]) == "lut_alpha_o(v, Ca)" and str(run["beta_o"]) == \
        "lut_beta_o(v, Ca)"
    counts = exact["exact_count"]
    assert counts[0] == 0 and counts[-1] > 10  # neuron 0 is silent, the others fire
    np.testing.assert_array_equal(run["optimized_count"], counts)
    dv = np.abs(run["optimized_v"] - exact["exact_v"])
    dca = np.abs(run["optimized_Ca"] - exact["exact_Ca"])
    shifts = [np.max(np.abs(run["optimized_t"][run["optimized_i"] == i]
                            - exact["exact_t"][exact["exact_i"] == i]), initial=0)
              for i in range(len(counts))]
    print(f"{target}: spike counts {counts.tolist()}, largest spike time shift "
          f"{max(shifts) * 1e3:.2g} ms; max |dv| {dv.max() * 1e3:.3g} mV (median "
          f"{np.median(dv) * 1e3:.2g} mV), max |dCa| {dca.max() * 1e3:.3g} uM (median "
          f"{np.median(dca) * 1e3:.2g} uM)")
    # A table error of 1e-3 in the BK rates moves threshold crossings by a few steps at
    # most (each spike is steep, so |dv| is large for a step there); between spikes the
    # traces stay close.
    assert max(shifts) <= 0.5e-3
    assert np.median(dv) <= 0.1e-3 and np.median(dca) <= 1e-3 * np.max(exact["exact_Ca"])
    assert run["optimized_v"].shape[1] == int(round(DURATION / defaultclock.dt))


@pytest.mark.compiler
def test_targets_agree_on_the_2d_tables(target_runs):
    reference = target_runs["numpy"]
    for target in ("cython", "cpp_standalone"):
        run = target_runs[target]
        np.testing.assert_array_equal(run["optimized_count"], reference["optimized_count"])
        np.testing.assert_array_equal(run["optimized_t"], reference["optimized_t"])
        for variable in ("v", "Ca"):
            difference = np.abs(run[f"optimized_{variable}"] - reference[f"optimized_{variable}"])
            scale = np.abs(reference[f"optimized_{variable}"]).max()
            print(f"{target} vs numpy: max |d{variable}| {difference.max():.3g} (SI)")
            assert difference.max() <= 1e-9 * scale
    # the same C code under strict flags: cython and cpp_standalone to the last bit
    for variable in ("v", "Ca"):
        np.testing.assert_array_equal(target_runs["cython"][f"optimized_{variable}"],
                                      target_runs["cpp_standalone"][f"optimized_{variable}"])


@pytest.mark.compiler
def test_compiled_error_policy_names_both_variables(target_runs):
    _check_error_message(str(target_runs["cython"]["error"]))


# -- (d) out of range: counted per axis under 'clamp', named under 'error' ---------------------

def _check_error_message(text):
    match = re.search(r"table (lut_\w+) \(from (\w+) of group '\w+'\) was looked up at "
                      r"v = (\S+) mV, Ca = (\S+) uM for neuron (\d+), outside its range "
                      r"\[-100, 50\] mV x \[0, 2\] uM \(out_of_range='error'\)\. Widen the "
                      r"range with ranges=\{'v': \(low, high\), 'Ca': \(low, high\)\}", text)
    assert match, text
    table, origin, v, ca, neuron = match.groups()
    assert origin in RATES and table == f"lut_{origin}"
    assert -100 <= float(v) <= 50 and float(ca) > 2  # Ca left the range, v did not
    assert int(neuron) > 0  # neuron 0 never fires


@pytest.fixture(scope="module")
def clamped(numpy_scope):
    """A population whose Ca overshoots the range of its 2-D tables, under 'clamp'."""
    group = bk_neuron(4, name="clamped")
    autolut.optimize(group, ranges=dict(RANGES, Ca=NARROW_CA), tolerance=TOLERANCE, prefer_2d=True,
                     out_of_range="clamp")
    trace = StateMonitor(group, ["v", "Ca"], record=True)
    messages = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: messages.append(record.getMessage())
    logging.getLogger("brian2.autolut").addHandler(handler)
    try:
        Network(group, trace).run(20 * ms)
    finally:
        logging.getLogger("brian2.autolut").removeHandler(handler)
    return group, trace, messages


def test_clamp_counts_lookups_outside_the_ca_range_per_axis(clamped):
    group, trace, messages = clamped
    counts = {count.axis: count for count in autolut.range_counts(group)}
    assert set(counts) == {"v", "Ca"}
    ca, v = counts["Ca"], counts["v"]
    assert set(ca.tables) == {"lut_alpha_o", "lut_beta_o"}
    assert {"lut_alpha_o", "lut_beta_o"} < set(v.tables)  # with the gate tables over v
    outside = trace.Ca_[:] > float(NARROW_CA[1])
    assert ca.outside == int(outside.sum()) > 0
    assert ca.neurons == int(outside.any(axis=1).sum())
    assert float(ca.highest) == pytest.approx(trace.Ca_[:].max(), rel=1e-12)
    assert ca.lowest is None and v.outside == 0
    [warning] = [text for text in messages if "Ca was outside" in text]
    assert "[0, 2] uM" in warning and "lut_alpha_o" in warning


def test_error_policy_stops_naming_v_and_ca(numpy_scope):
    group = bk_neuron(3, name="error_policy")
    autolut.optimize(group, ranges=dict(RANGES, Ca=NARROW_CA), tolerance=TOLERANCE, prefer_2d=True,
                     out_of_range="error")
    with pytest.raises(Exception) as caught:
        Network(group).run(20 * ms)
    error = caught.value
    assert isinstance(error, OutOfRangeError) or isinstance(error.__cause__, OutOfRangeError)
    _check_error_message(f"{error} {error.__cause__}")


# -- the table as a view, out-of-range 'exact', refresh, plot ----------------------------------

@pytest.fixture(scope="module")
def optimized(numpy_scope):
    return autolut.optimize(bk_neuron(2, name="viewed"), ranges=RANGES, tolerance=TOLERANCE,
                            prefer_2d=True)


def test_view_of_a_2d_table_and_exact_values_outside(optimized):
    view = {view.name: view for view in autolut.tables(optimized)}["lut_alpha_o"]
    assert view.variable == "v, Ca" and view.dimensions == 2
    grid_v, grid_ca = view.grid
    assert view.values.shape == (len(grid_v), len(grid_ca))
    rng = np.random.default_rng(0)
    v = rng.uniform(-100, 50, 2000) * mV
    ca = rng.uniform(0, 0.04, 2000) * mmolar
    assert np.max(np.abs(view.lookup(v, ca) - view.exact(v, ca))) <= view.max_error
    errors = np.abs(view.lookup(v, ca) - view.exact(v, ca)) / view.error_scale(v, ca)
    assert np.max(errors) <= view.relative_error <= TOLERANCE
    # default policy 'exact': outside the rectangle (either axis) the exact value
    v_out, ca_out = [60, -20, -120] * mV, [0.01, 0.05, 0.05] * mmolar
    np.testing.assert_allclose(view.lookup(v_out, ca_out), view.exact(v_out, ca_out),
                               rtol=1e-15)


def test_changed_constant_rebuilds_the_2d_table(optimized):
    view = {view.name: view for view in autolut.tables(optimized)}["lut_alpha_o"]
    v, ca = [-60, 0, 40] * mV, [0.0005, 0.01, 0.03] * mmolar
    before = np.asarray(view.lookup(v, ca))
    abar = optimized.namespace["abar"]
    optimized.namespace["abar"] = 2 * abar  # a baked constant: the table must follow
    try:
        Network(optimized).run(0.2 * ms)
        view = {view.name: view for view in autolut.tables(optimized)}["lut_alpha_o"]
        np.testing.assert_allclose(np.asarray(view.lookup(v, ca)), 2 * before, rtol=1e-12)
        assert view.relative_error <= TOLERANCE
    finally:
        optimized.namespace["abar"] = abar


def test_plot_tables_draws_a_2d_table_as_maps(optimized):
    views = autolut.tables(optimized)
    axes = autolut.plot_tables(optimized)
    assert axes.shape == (2, len(views))
    [column] = [k for k, view in enumerate(views) if view.name == "lut_alpha_o"]
    values, errors = axes[:, column]
    assert values.collections and errors.collections  # pcolormesh maps
    assert errors.get_xlabel() == "v (mV)" and errors.get_ylabel() == "Ca (uM)"
    error = errors.collections[0].get_array()
    assert np.nanmax(error) <= np.log10(TOLERANCE) + 1e-9  # what the report promised
    matplotlib.pyplot.close("all")
