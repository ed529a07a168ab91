"""Tests of autolut.tabulate: grids, removable singularities, poles, error control, packing."""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autolut
from autolut.tabulate import (
    DEFAULT_MAX_POINTS,
    TabulationError,
    build_table,
    evaluate,
    grid,
    layout,
    lookup,
    required_step,
    SEGMENTS,
    pack,
    tabulate,
)
from autolut.targets.numpy_target import interpolate


def _quiet(function):
    """Wrap a numpy function so that 0/0 at a singular point does not warn."""
    def wrapped(x):
        with np.errstate(all="ignore"):
            return function(x)
    return wrapped


# -- removable singularities ------------------------------------------------------------

# (function, limit at the singular point x0, x0)
REMOVABLE = {
    "x/(exp(x)-1)": (lambda x: x / (np.exp(x) - 1), 1.0, 0.0),
    "(exp(x)-1)/x": (lambda x: (np.exp(x) - 1) / x, 1.0, 0.0),
    "sin(x)/x": (lambda x: np.sin(x) / x, 1.0, 0.0),
    "x/(exp(x/5)-1)": (lambda x: x / (np.exp(x / 5) - 1), 5.0, 0.0),
    "-(x+2)/(exp(-(x+2))-1)": (lambda x: -(x + 2) / (np.exp(-(x + 2)) - 1), 1.0, -2.0),
}


@pytest.mark.parametrize("name", sorted(REMOVABLE))
def test_removable_singularity_on_a_grid_point_gets_its_limit(name):
    function, limit, x0 = REMOVABLE[name]
    function = _quiet(function)
    # A power-of-two range and 2**k + 1 points: every grid point is exact, x0 included.
    low, high, points = -4.0, 4.0, 257
    x = grid(low, high, points)
    assert np.any(x == x0), "the test grid must contain the singular point exactly"
    assert not np.isfinite(function(np.array([x0])))[0], "the function must really be 0/0 there"
    table = build_table(function, low, high, points)
    assert np.all(np.isfinite(table.values))
    assert table.values[x == x0][0] == pytest.approx(limit, abs=1e-9, rel=1e-9)
    assert math.isfinite(table.max_error)
    # Neighbouring grid points are the function itself, untouched.
    k = int(np.flatnonzero(x == x0)[0])
    np.testing.assert_allclose(table.values[k - 1:k + 2:2], function(x[k - 1:k + 2:2]),
                               rtol=1e-15)


def test_removable_singularity_with_forced_step_through_tabulate():
    function = _quiet(REMOVABLE["x/(exp(x)-1)"][0])
    table = tabulate(function, -4.0, 4.0, 1e-6, step=2.0**-8)
    assert table.points == 2049
    x = grid(table.low, table.high, table.points)
    assert np.any(x == 0.0)
    assert np.all(np.isfinite(table.values))
    assert table.values[x == 0.0][0] == pytest.approx(1.0, abs=1e-9)
    assert table.relative_error <= 1e-6


def test_removable_singularity_with_tolerance_driven_grid():
    """The curvature sample (4097 points on a symmetric range) hits 0 exactly."""
    function = _quiet(REMOVABLE["x/(exp(x)-1)"][0])
    table = tabulate(function, -4.0, 4.0, 1e-6)
    assert np.all(np.isfinite(table.values))
    assert table.relative_error <= 1e-6
    assert table.max_error <= 1e-6 * table.scale.floor


def test_evaluate_replaces_only_the_non_finite_points():
    function = _quiet(lambda x: x / (np.exp(x) - 1))
    x = np.array([-1.0, 0.0, 1.0])
    y = evaluate(function, x, 1e-6)
    assert np.all(np.isfinite(y))
    # The limit is the mean of the values at +-delta: 1 + delta**2/12 here.
    assert y[1] == pytest.approx(1.0, abs=1e-9)
    assert evaluate(function, x, 1e-4)[1] == pytest.approx(1 + 1e-8 / 12, abs=1e-11)
    np.testing.assert_array_equal(y[[0, 2]], function(x[[0, 2]]))


# -- the same through a Brian2 group ------------------------------------------------------

WB_ALPHA = "alpha = -0.1/mV*(v + 35*mV)/(exp(-0.1/mV*(v + 35*mV)) - 1)/ms : Hz"


def _alpha_group():
    from brian2 import NeuronGroup
    return NeuronGroup(1, f"""dv/dt = -v/(10*ms) : volt
                              dm/dt = alpha*(1 - m) - m/ms : 1
                              {WB_ALPHA}""")


def test_brian_group_singular_point_on_the_grid_reports_a_finite_error(numpy_target):
    from brian2 import mV
    group = _alpha_group()
    report = autolut.report(group, step={"v": 0.05 * mV}, ranges={"v": (-100 * mV, 60 * mV)})
    rows = [row for row in report.candidates if row.name == "alpha"]
    assert len(rows) == 1
    row = rows[0]
    assert row.tabulated, row.reason
    assert row.points == 3201
    x = grid(float(row.low), float(row.high), row.points)
    assert np.any(x == -0.035), "-35 mV must be a grid point for this test to mean anything"
    assert math.isfinite(float(row.max_error))
    assert row.relative_error < 1e-5


def test_brian_group_optimized_table_is_finite_and_has_the_limit(numpy_target):
    from brian2 import mV
    group = autolut.optimize(_alpha_group(), step={"v": 0.05 * mV},
                             ranges={"v": (-100 * mV, 60 * mV)}, namespace={})
    lut = group.namespace["lut_alpha"]
    table = lut.table
    assert np.all(np.isfinite(table.values))
    assert np.all(np.isfinite(lut.bank.array))
    x = grid(table.low, table.high, table.points)
    # alpha(-35 mV) = 0.1/mV * 10 mV / ms... the limit of u/(exp(u)-1) * 1/ms is 1/ms = 1000 Hz.
    assert table.values[x == -0.035][0] == pytest.approx(1000.0, rel=1e-9)


# -- poles -------------------------------------------------------------------------------

@pytest.mark.parametrize("function, low, high", [
    (lambda x: 1 / x, -1.0, 1.0),
    (lambda x: 1 / x, -1.1, 0.9),
    (lambda x: 1 / (x - 0.5) ** 2, 0.0, 1.0),
    (lambda x: np.log(np.abs(x)), -1.0, 1.0),
    (lambda x: np.sqrt(x), -1.0, 1.0),
], ids=["1/x", "1/x-shifted-range", "1/(x-1/2)**2", "log|x|", "sqrt-negative"])
def test_pole_on_a_grid_point_raises_not_finite(function, low, high):
    with pytest.raises(TabulationError, match="not finite|bends most sharply"):
        tabulate(_quiet(function), low, high, 1e-6)


def test_pole_on_a_grid_point_raises_with_forced_step():
    with pytest.raises(TabulationError, match="not finite"):
        tabulate(_quiet(lambda x: 1 / x), -1.0, 1.0, 1e-6, step=0.25)


def test_pole_between_grid_points_still_raises():
    # 0 falls between the curvature samples: the message may then be about size.
    with pytest.raises(TabulationError):
        tabulate(_quiet(lambda x: 1 / x), -1.0, 1.3, 1e-6)


# -- error control (property) ------------------------------------------------------------

def _smooth_functions():
    coefficient = st.floats(0.1, 10.0) | st.floats(-10.0, -0.1)
    rate = st.floats(0.05, 3.0) | st.floats(-3.0, -0.05)
    centre = st.floats(-5.0, 5.0)
    width = st.floats(0.05, 5.0) | st.floats(-5.0, -0.05)
    exponential = st.builds(
        lambda a, b: (f"{a}*exp({b}*x)", lambda x: a * np.exp(b * x)), coefficient, rate)
    sigmoid = st.builds(
        lambda a, c, d: (f"{a}/(1+exp((x-{c})/{d}))", lambda x: a / (1 + np.exp((x - c) / d))),
        coefficient, centre, width)
    polynomial = st.builds(
        lambda cs: (f"poly{cs}", lambda x: np.polyval(cs, x)),
        st.lists(st.floats(-5.0, 5.0), min_size=2, max_size=5))
    tanh = st.builds(
        lambda a, b, c: (f"{a}*tanh({b}*(x-{c}))", lambda x: a * np.tanh(b * (x - c))),
        coefficient, rate, centre)
    return exponential | sigmoid | polynomial | tanh


@settings(max_examples=40, deadline=None)
@given(function=_smooth_functions(), low=st.floats(-5.0, 5.0), width=st.floats(0.01, 10.0),
       tolerance=st.floats(1e-7, 1e-2), seed=st.integers(0, 2**32 - 1))
def test_tabulate_meets_the_tolerance_everywhere(function, low, width, tolerance, seed):
    description, f = function
    high = low + width
    x = np.random.default_rng(seed).uniform(low, high, 20000)
    x = np.concatenate([x, [low, high]])
    exact = f(x)
    scale = float(np.max(np.abs(exact)))
    spread = float(exact.max() - exact.min())
    # Nearly constant functions are limited by float rounding, not by the grid.
    assume(spread > 1e-6 * scale)
    table = tabulate(f, low, high, tolerance)
    assert table.relative_error <= tolerance, description
    assert np.all(np.isfinite(table.values))
    looked_up = lookup(x, table)  # by the kernel of its grid, uniform or segmented
    # the floor is the largest magnitude over the range (no operating range given)
    assert table.scale.floor == pytest.approx(scale, rel=1e-3)
    ratio = float(np.max(np.abs(looked_up - exact) / table.scale.at(exact)))
    assert ratio <= tolerance * (1 + 1e-3) + 1e-12, (
        f"{description} on [{low}, {high}]: error {ratio:.3g} of the local scale > "
        f"{tolerance:.3g}")


def test_known_table_size_for_exp():
    table = tabulate(np.exp, 0.0, 1.0, tolerance=1e-6)
    # h**2/8 * f'' <= tol * f  ->  at most sqrt(8e-6) ~ 1/354 per step, with the margin
    # of the measured refinement
    assert 354 < table.points < 2000
    assert table.relative_error <= 1e-6
    assert table.low == 0.0 and table.high == 1.0


def test_max_error_is_measured_not_assumed():
    table = build_table(np.exp, 0.0, 1.0, 11)
    # Linear interpolation of exp with h = 0.1 errs by about h**2/8 * e ~ 3.4e-3 at the end,
    # i.e. by h**2/8 = 1.25e-3 of the local value everywhere.
    assert table.max_error == pytest.approx(0.1 ** 2 / 8 * np.exp(0.95), rel=0.05)
    assert table.relative_error == pytest.approx(0.1 ** 2 / 8, rel=0.05)
    assert table.spread == pytest.approx(np.e - 1)


# -- forced step and size limits ---------------------------------------------------------

@pytest.mark.parametrize("low, high, step, points", [
    (0.0, 1.0, 0.1, 11),
    (0.0, 1.0, 0.01, 101),
    (0.0, 1.0, 0.3, 5),          # not a divisor: rounded to the finer grid
    (-0.1, 0.06, 5e-5, 3201),
    (0.0, 1.0, 2.0, 2),          # step larger than the range: two points
])
def test_forced_step_gives_the_implied_number_of_points(low, high, step, points):
    table = tabulate(np.exp, low, high, 1e-6, step=step)
    assert table.points == points
    assert table.step <= step * (1 + 1e-12)
    assert table.low == low and table.high == high
    assert len(table.values) == points
    np.testing.assert_allclose(table.values, np.exp(grid(low, high, points)), rtol=1e-15)


def test_forced_step_may_exceed_the_tolerance_but_reports_it():
    table = tabulate(np.exp, 0.0, 1.0, 1e-9, step=0.5)
    assert table.points == 3
    assert table.relative_error > 1e-9


def test_too_many_points_says_which_tolerance_would_fit():
    with pytest.raises(TabulationError, match="max_points = 100") as error:
        tabulate(np.exp, 0.0, 1.0, 1e-9, max_points=100)
    fits = float(str(error.value).split("a tolerance of ")[1].split()[0])
    assert tabulate(np.exp, 0.0, 1.0, fits * 1.05, max_points=100).points <= 100


def test_too_many_points_with_forced_step():
    with pytest.raises(TabulationError, match="step of 0.010101 .SI units. or coarser"):
        tabulate(np.exp, 0.0, 1.0, 1e-6, step=1e-3, max_points=100)


def test_max_points_limit_is_inclusive():
    table = tabulate(np.exp, 0.0, 1.0, 1e-6, step=0.01, max_points=101)
    assert table.points == 101
    with pytest.raises(TabulationError):
        tabulate(np.exp, 0.0, 1.0, 1e-6, step=0.01, max_points=100)


def test_default_max_points():
    assert DEFAULT_MAX_POINTS == 2**22


def test_table_properties():
    table = build_table(np.exp, 0.0, 2.0, 5)
    assert table.points == 5
    assert table.step == 0.5
    assert table.inverse_step == 2.0
    assert table.nbytes == 2 * 5 * 8
    np.testing.assert_array_equal(layout([table.values]), pack(table.values))


def test_constant_function_has_zero_relative_error():
    table = tabulate(lambda x: np.full_like(x, 3.0), 0.0, 1.0, 1e-6)
    assert table.points == 2
    assert table.spread == 0.0
    assert table.relative_error == 0.0
    assert table.max_error == 0.0


def test_zero_function_is_tabulated_exactly():
    table = tabulate(lambda x: np.zeros_like(x), 0.0, 1.0, 1e-6)
    assert table.points == 2 and table.max_error == 0.0


# -- packing and lookups -----------------------------------------------------------------

def test_pack_interleaves_values_and_slopes():
    values = np.array([1.0, 3.0, 7.0, 6.0])
    packed = pack(values)
    np.testing.assert_array_equal(packed, [1.0, 2.0, 3.0, 4.0, 7.0, -1.0, 6.0, 0.0])
    np.testing.assert_array_equal(packed[0::2], values)
    assert packed.shape == (8,)


def test_pack_two_points():
    np.testing.assert_array_equal(pack(np.array([5.0, 2.0])), [5.0, -3.0, 2.0, 0.0])


def test_interpolate_is_exact_on_grid_points_and_linear_between():
    values = np.array([0.0, 10.0, 40.0, 90.0])
    packed = pack(values)
    low, inverse_step = -1.0, 2.0  # grid -1, -0.5, 0, 0.5
    x = grid(low, 0.5, 4)
    np.testing.assert_array_equal(interpolate(x, low, inverse_step, packed), values)
    np.testing.assert_allclose(interpolate(np.array([-0.75, -0.25, 0.25]), low, inverse_step,
                                           packed), [5.0, 25.0, 65.0])


def test_interpolate_clamps_at_both_ends():
    values = np.array([2.0, 4.0, 8.0])
    packed = pack(values)
    below = interpolate(np.array([-1e300, -100.0, -0.001, 0.0]), 0.0, 1.0, packed)
    np.testing.assert_array_equal(below, [2.0, 2.0, 2.0, 2.0])
    above = interpolate(np.array([2.0, 2.0001, 100.0, 1e300]), 0.0, 1.0, packed)
    np.testing.assert_array_equal(above, [8.0, 8.0, 8.0, 8.0])
    # Just inside the top interval the slope is used, at the top the padding slope is 0.
    assert interpolate(np.array([1.5]), 0.0, 1.0, packed)[0] == 6.0


def test_interpolate_keeps_shapes_and_scalars():
    packed = pack(np.array([0.0, 1.0]))
    out = interpolate(np.array([[0.25, 0.5], [0.75, 1.0]]), 0.0, 1.0, packed)
    assert out.shape == (2, 2)
    np.testing.assert_allclose(out, [[0.25, 0.5], [0.75, 1.0]])
    scalar = interpolate(0.5, 0.0, 1.0, packed)
    assert np.ndim(scalar) == 0 and scalar == 0.5


@settings(max_examples=60, deadline=None)
@given(values=st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=40),
       low=st.floats(-1.0, 1.0), width=st.floats(1e-3, 10.0),
       segmented=st.booleans(), seed=st.integers(0, 2**32 - 1))
def test_the_numpy_reference_is_the_numba_kernel_to_the_last_bit(values, low, width,
                                                                 segmented, seed):
    """Tables are measured with the numpy `interpolate`; the numpy target runs the numba
    kernel: both must give the same bits everywhere, ends, NaN and segments included."""
    from autolut.targets.numba_kernel import lookup as kernel
    values = np.asarray(values)
    intervals = None
    if segmented and len(values) >= 5:
        cut = len(values) // 2
        intervals = (cut, len(values) - 1 - cut)
        values = np.concatenate([values, [values[-1]]])[:sum(intervals) + 1]
    high = low + width
    packed = layout([values], intervals)
    segments = len(intervals) if intervals else 0
    inverse = (segments or len(values) - 1) / width
    x = np.random.default_rng(seed).uniform(low - width, high + width, 200)
    x = np.concatenate([x, [low, high, np.nan, -np.inf, np.inf, np.nextafter(high, 0)]])
    _, expected, outside = kernel(x, low, high, inverse, packed, 2, 0, segments)
    np.testing.assert_array_equal(interpolate(x, low, inverse, packed, segments=segments),
                                  expected)
    assert outside == np.sum(~((x >= low) & (x <= high)))


def test_pole_between_samples_is_located_in_the_message():
    with pytest.raises(TabulationError,
                       match=r"bends most sharply near -?(0\.000\d+|\d\.\d+e-0[5-9]) "):
        tabulate(lambda x: 1 / x, -1.0, 1.3, 1e-6)


def test_a_concentration_axis_gets_a_piecewise_uniform_grid():
    """Ca from 0 to 50 µM with half-activation at 0.5 µM (issue 5): a uniform grid
    needs ~10^4 points for 1e-5; the segmented one, dense only where the Hill
    function bends, far fewer, with the error measured everywhere."""
    def hill(ca):
        return ca**4 / (ca**4 + 0.5e-3**4)  # SI: mmolar = mol/m^3, 0.5 µM = 0.5e-3

    low, high, tolerance = 0.0, 50e-3, 1e-5
    table = tabulate(hill, low, high, tolerance)
    uniform_points = (high - low) / required_step(hill, low, high, tolerance)
    assert table.intervals is not None and len(table.intervals) == SEGMENTS
    assert uniform_points > 8000 and table.points * 10 < uniform_points
    assert table.relative_error <= tolerance
    assert table.scale.floor == pytest.approx(1.0, rel=1e-6)
    x = np.concatenate([np.linspace(low, high, 200001), np.linspace(0, 2e-3, 200001)])
    assert np.max(np.abs(lookup(x, table) - hill(x))) <= tolerance * (1 + 1e-6)
    # dense where it bends (first segment), coarse on the plateau (last one)
    assert table.intervals[0] > 50 * table.intervals[-1]
    np.testing.assert_allclose(lookup(table.x, table), table.values, rtol=1e-12, atol=1e-15)


def test_functions_that_bend_everywhere_keep_a_uniform_grid():
    table = tabulate(np.sin, 0.0, 200.0, 1e-6)
    assert table.intervals is None


def test_segmented_lookup_clamps_at_both_ends():
    table = tabulate(lambda x: np.exp(-x / 0.01), 0.0, 1.0, 1e-6)
    assert table.intervals is not None
    np.testing.assert_allclose(lookup(np.array([-5.0, 0.0, 1.0, 7.0, np.inf]), table),
                               table.values[[0, 0, -1, -1, -1]], rtol=0, atol=1e-15)
