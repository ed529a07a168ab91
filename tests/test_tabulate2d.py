"""Tests of autolut.tabulate2d: two-axis tables sized for a tolerance, their measured
error, and their lookup kernels (numpy, numba, C), which must agree to the last bit."""

import ctypes
import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autolut.tabulate import ErrorScale, TabulationError, tabulate
from autolut.tabulate2d import (
    Grid2D,
    build_table_2d,
    error_scale_2d,
    finest_grid_2d,
    layout_2d,
    lookup_2d,
    on_grid_of_2d,
    tabulate_2d,
)
from autolut.targets import c_kernel
from autolut.targets.numpy_target import interpolate_2d

FARADAY, GAS_CONSTANT = 96485.33212, 8.314462618
# v from -100 to 60 mV, Ca from 0 to 10 µM (SI: volt, mol/m**3)
LOW, HIGH = (-0.1, 0.0), (0.06, 0.01)


def bk_rate(k1=480e3, K1=0.18, d1=0.84, temperature=310.0):
    """The opening rate of the Moczydlowski–Latorre BK channel model (k1 in Hz, K1 in
    mol/m**3): a sigmoid in v whose midpoint moves with Ca, so it does not factor."""
    def rate(v, ca):
        return k1 * ca / (ca + K1 * np.exp(-2 * d1 * FARADAY * v / (GAS_CONSTANT * temperature)))
    return rate


def _random_points(seed, low, high, count):
    x, y = (np.random.default_rng(seed + axis).uniform(low[axis], high[axis], count)
            for axis in (0, 1))
    # the corners and the edges' midpoints too
    corners_x = np.array([low[0], low[0], high[0], high[0], (low[0] + high[0]) / 2, low[0]])
    corners_y = np.array([low[1], high[1], low[1], high[1], low[1], (low[1] + high[1]) / 2])
    return np.concatenate([x, corners_x]), np.concatenate([y, corners_y])


def _quiet(function):
    """Wrap a numpy function so that 0/0 and log(0) do not warn."""
    def wrapped(x, y):
        with np.errstate(all="ignore"):
            return function(x, y)
    return wrapped


# -- error control (property) ------------------------------------------------------------

def _bk_rates():
    return st.builds(
        lambda k1, K1, d1, temperature: (
            f"bk(k1={k1:.3g}, K1={K1:.3g}, d1={d1:.3g}, T={temperature:.4g})",
            bk_rate(k1, K1, d1, temperature), LOW, HIGH),
        st.floats(1e3, 1e6), st.floats(0.1, 0.5), st.floats(0.5, 0.9), st.floats(279.0, 310.0))


def _diagonal_sigmoids():
    """A sigmoid across a slanted line of the square: steep along both axes at once."""
    return st.builds(
        lambda slant, centre, width: (
            f"1/(1+exp((x - {slant:.3g}*y - {centre:.3g})/{width:.3g}))",
            lambda x, y: 1 / (1 + np.exp((x - slant * y - centre) / width)),
            (-1.0, -1.0), (1.0, 1.0)),
        st.floats(-1.5, 1.5), st.floats(-0.5, 0.5), st.floats(0.1, 1.0))


@settings(max_examples=16, deadline=None)
@given(family=_bk_rates() | _diagonal_sigmoids(), exponent=st.floats(-5.0, -3.0),
       seed=st.integers(0, 2**32 - 1))
def test_tabulate_2d_meets_the_tolerance_everywhere(family, exponent, seed):
    description, function, low, high = family
    tolerance = 10.0**exponent
    table = tabulate_2d(function, low, high, tolerance)
    assert table.relative_error <= tolerance, description
    assert table.points <= 2**22 and min(table.shape) >= 2
    x, y = _random_points(seed, low, high, 20000)
    exact = function(x, y)
    # the floor is the largest magnitude over the rectangle (no operating rectangle given)
    assert table.scale.floor >= np.max(np.abs(exact)) * (1 - 1e-12)
    ratio = float(np.max(np.abs(lookup_2d(x, y, table) - exact) / table.scale.at(exact)))
    assert ratio <= 1.5 * tolerance, f"{description}: error {ratio:.3g} of the local scale"


def test_bk_rate_over_physiological_ranges():
    """v over [-100, 60] mV, Ca over [0, 10] µM."""
    table = tabulate_2d(bk_rate(), LOW, HIGH, 1e-5)
    assert table.relative_error <= 1e-5
    # steeper along Ca (near Ca = 0 at depolarised v) than along v
    assert table.shape[1] > table.shape[0] > 100
    assert table.points < 10**6


# -- the step of each axis ---------------------------------------------------------------

def test_a_function_of_one_axis_gets_two_points_on_the_other():
    along_x = tabulate_2d(lambda x, y: np.exp(x) + 0 * y, (0.0, 0.0), (1.0, 1.0), 1e-6)
    along_y = tabulate_2d(lambda x, y: np.exp(y) + 0 * x, (0.0, 0.0), (1.0, 1.0), 1e-6)
    assert along_x.shape[1] == 2 and along_y.shape[0] == 2
    assert along_x.shape[0] == along_y.shape[1]
    # the straight axis costs nothing: the other one gets the whole tolerance, as in 1-D
    assert along_x.shape[0] == pytest.approx(tabulate(np.exp, 0.0, 1.0, 1e-6).points, rel=0.05)
    assert along_x.relative_error <= 1e-6


def test_the_axis_that_bends_more_gets_more_points():
    table = tabulate_2d(lambda x, y: np.exp(3 * x + y), (0.0, 0.0), (1.0, 1.0), 1e-5)
    assert table.shape[0] == pytest.approx(3 * table.shape[1], rel=0.1)


def test_bilinear_functions_are_exact_with_two_points_per_axis():
    table = tabulate_2d(lambda x, y: 3 + 2 * x - y + 5 * x * y, (0.0, 0.0), (1.0, 2.0), 1e-9)
    assert table.shape == (2, 2)
    assert table.relative_error <= 1e-15


def test_constant_function_has_zero_error():
    table = tabulate_2d(lambda x, y: np.full(np.broadcast(x, y).shape, 3.0), (0.0, 0.0),
                        (1.0, 1.0), 1e-6)
    assert table.shape == (2, 2) and table.max_error == 0.0 and table.relative_error == 0.0


def test_measured_error_of_a_coarse_table():
    """exp(x + y) on 11 by 11 points: bilinear interpolation errs by about
    ``2 * h**2/8`` of the local value at a cell's centre."""
    table = build_table_2d(lambda x, y: np.exp(x + y), (0.0, 0.0), (1.0, 1.0), (11, 11))
    assert table.relative_error * table.scale.floor / np.exp(table.worst[0] + table.worst[1]) \
        == pytest.approx(2 * 0.1**2 / 8, rel=0.05)
    assert table.worst == pytest.approx((0.95, 0.95))
    assert table.worst_value == pytest.approx(np.exp(1.9))


# -- the error scale ---------------------------------------------------------------------

def test_error_scale_floor_comes_from_the_operating_rectangle():
    def function(x, y):
        return np.exp(x) * (1 + y)

    low, high = (0.0, 0.0), (1.0, 1.0)
    assert error_scale_2d(function, low, high).floor == pytest.approx(2 * np.e)
    assert error_scale_2d(function, low, high, ((0.0, 0.5), None)).floor \
        == pytest.approx(2 * np.exp(0.5))
    assert error_scale_2d(function, low, high, ((-5.0, 0.5), (0.0, 0.25))).floor \
        == pytest.approx(1.25 * np.exp(0.5))
    # outside the rectangle: the whole rectangle
    assert error_scale_2d(function, low, high, ((2.0, 3.0), None)).floor \
        == pytest.approx(2 * np.e)
    # where the function vanishes: the whole rectangle
    assert error_scale_2d(lambda x, y: x * y, low, high, ((0.0, 0.0), None)).floor \
        == pytest.approx(1.0)
    # step factors: the distance from 1
    assert error_scale_2d(lambda x, y: np.exp(-x - y), low, high, offset=1.0).floor \
        == pytest.approx(1 - np.exp(-2))


def test_an_operating_rectangle_makes_the_tail_relative():
    """Outside the operating rectangle exp(x) grows; its error stays relative to its value."""
    table = tabulate_2d(lambda x, y: np.exp(x) * (1 + y), (0.0, 0.0), (5.0, 1.0), 1e-5,
                        operating=((0.0, 1.0), None))
    assert table.scale.floor == pytest.approx(2 * np.e)
    x, y = _random_points(0, (0.0, 0.0), (5.0, 1.0), 20000)
    exact = np.exp(x) * (1 + y)
    assert np.max(np.abs(lookup_2d(x, y, table) - exact) / exact) <= 1.5e-5


# -- lookups -----------------------------------------------------------------------------

@pytest.fixture
def small_table():
    return build_table_2d(bk_rate(), LOW, HIGH, (7, 9))


def test_values_are_the_function_at_the_grid_points(small_table):
    x, y = small_table.x
    np.testing.assert_array_equal(small_table.values, bk_rate()(x[:, None], y[None, :]))


def test_lookup_is_exact_at_grid_points(small_table):
    # Not bitwise: (x_i - low)*inverse_step may fall one rounding below i, and the
    # lookup then takes the value as a + 1*(b - a) from the cell before.
    x, y = small_table.x
    np.testing.assert_allclose(lookup_2d(x[:, None], y[None, :], small_table),
                               small_table.values, rtol=1e-14, atol=1e-300)


def test_interpolate_2d_is_bilinear_inside_a_cell():
    values = np.array([[1.0, 2.0, 4.0], [3.0, 5.0, 9.0]])  # x: 0, 1; y: 0, 1, 2
    looked_up = interpolate_2d(np.array([0.5, 0.25, 0.5]), np.array([0.5, 1.0, 1.5]),
                               0.0, 1.0, 2, 0.0, 1.0, 3, layout_2d([values]))
    np.testing.assert_array_equal(looked_up, [2.75, 2.75, 5.0])


def test_lookup_is_clamped_outside_the_rectangle(small_table):
    x = np.array([-1.0, -1e300, -np.inf, 0.5, 1e300, np.inf, -0.05, -0.05, 0.2])
    y = np.array([0.005, 0.005, -1.0, 0.02, 0.003, -np.inf, -7.0, 1e300, 1e300])
    clipped = (np.clip(x, LOW[0], HIGH[0]), np.clip(y, LOW[1], HIGH[1]))
    np.testing.assert_allclose(lookup_2d(x, y, small_table), lookup_2d(*clipped, small_table),
                               rtol=1e-14, atol=1e-300)
    corners = lookup_2d(np.array([-np.inf, -np.inf, np.inf, np.inf]),
                        np.array([-np.inf, np.inf, -np.inf, np.inf]), small_table)
    np.testing.assert_allclose(corners, small_table.values[[0, 0, -1, -1], [0, -1, 0, -1]],
                               rtol=1e-14, atol=1e-300)


def test_nan_goes_to_the_low_edge(small_table):
    y = np.linspace(LOW[1], HIGH[1], 11)
    np.testing.assert_array_equal(lookup_2d(np.nan, y, small_table),
                                  lookup_2d(LOW[0], y, small_table))
    x = np.linspace(LOW[0], HIGH[0], 11)
    np.testing.assert_array_equal(lookup_2d(x, np.nan, small_table),
                                  lookup_2d(x, LOW[1], small_table))


def test_lookup_keeps_shapes_and_scalars(small_table):
    x, y = np.linspace(-0.1, 0.06, 3), np.linspace(0, 0.01, 4)
    assert lookup_2d(x[:, None], y[None, :], small_table).shape == (3, 4)
    scalar = lookup_2d(-0.02, 0.004, small_table)
    assert np.ndim(scalar) == 0 and np.isfinite(scalar)


def test_layout_interleaves_the_curves_point_by_point():
    curves = [np.arange(6.0).reshape(2, 3) + 10 * c for c in range(3)]
    packed = layout_2d(curves)
    assert packed.flags.c_contiguous and packed.dtype == np.float64 and packed.shape == (18,)
    for i in range(2):
        for j in range(3):
            for c in range(3):
                assert packed[(i * 3 + j) * 3 + c] == curves[c][i, j]
    # a lookup with the stride and the curve's offset reads that curve as if alone
    x, y = np.random.default_rng(0).uniform(-0.5, 1.5, (2, 100))
    for c in range(3):
        np.testing.assert_array_equal(
            interpolate_2d(x, y, 0.0, 1.0, 2, 0.0, 2.0, 3, packed, stride=3, offset=c),
            interpolate_2d(x, y, 0.0, 1.0, 2, 0.0, 2.0, 3, layout_2d([curves[c]])))


# -- size limits and errors --------------------------------------------------------------

def test_too_many_points_says_which_tolerance_would_fit():
    function = bk_rate()
    with pytest.raises(TabulationError, match=r"max_points = 1000 \(0.00763 MiB\)") as error:
        tabulate_2d(function, LOW, HIGH, 1e-8, max_points=1000)
    message = str(error.value)
    assert "or narrower ranges, or a larger max_points" in message
    fits = float(message.split("a tolerance of ")[1].split()[0])
    table = tabulate_2d(function, LOW, HIGH, fits * 1.05, max_points=1000)
    assert table.points <= 1000 and table.relative_error <= fits * 1.05


def test_too_many_points_is_refused_before_the_grid_is_built():
    largest = []

    def function(x, y):
        largest.append(np.broadcast(x, y).size)
        return np.exp(x + y)

    with pytest.raises(TabulationError, match=r"would need (\d+) x (\d+) = (\d+) points") as error:
        tabulate_2d(function, (0.0, 0.0), (1.0, 1.0), 1e-12)
    needed = int(str(error.value).split(" = ")[1].split()[0])
    assert needed > 2**22 and max(largest) < needed / 10


@pytest.mark.parametrize("max_points", [4, 50, 400])
def test_max_points_is_respected(max_points):
    table = tabulate_2d(lambda x, y: np.exp(x + y), (0.0, 0.0), (1.0, 1.0), 0.5,
                        max_points=max_points)
    assert table.points <= max_points
    with pytest.raises(TabulationError):
        tabulate_2d(lambda x, y: np.exp(x + y), (0.0, 0.0), (1.0, 1.0), 1e-7,
                    max_points=max_points)


def test_non_finite_function_names_the_point():
    show = (lambda v: f"v = {v * 1e3:g} mV", lambda ca: f"Ca = {ca * 1e3:g} uM")
    with pytest.raises(TabulationError, match="not finite at v = -100 mV, Ca = 0 uM"):
        tabulate_2d(_quiet(lambda v, ca: np.log(ca) + v), LOW, HIGH, 1e-6, show=show)
    # grid points: v every 10 mV, Ca every 1 µM
    with pytest.raises(TabulationError, match="not finite at v = 10 mV, Ca = 5 uM"):
        build_table_2d(lambda v, ca: np.where((v > 0.0095) & (ca > 0.0045), np.inf, v + ca),
                       LOW, HIGH, (17, 11), ErrorScale(1.0), show=show)


def test_removable_singularity_on_a_grid_line_gets_its_limit():
    function = _quiet(lambda x, y: x / (np.exp(x) - 1) * (1 + y))
    table = build_table_2d(function, (-4.0, 0.0), (4.0, 1.0), (257, 5))
    x, y = table.x
    assert np.any(x == 0.0)
    assert np.all(np.isfinite(table.values))
    np.testing.assert_allclose(table.values[x == 0.0][0], 1 + y, rtol=1e-9)
    assert tabulate_2d(function, (-4.0, 0.0), (4.0, 1.0), 1e-6).relative_error <= 1e-6


# -- the table's fields and grids --------------------------------------------------------

def test_table_properties(small_table):
    assert small_table.shape == (7, 9) and small_table.points == 63
    assert small_table.step == pytest.approx((0.16 / 6, 0.01 / 8))
    assert small_table.inverse_step == pytest.approx((6 / 0.16, 8 / 0.01))
    assert [len(axis) for axis in small_table.x] == [7, 9]
    assert small_table.x[0][0] == LOW[0] and small_table.x[1][-1] == HIGH[1]
    assert small_table.nbytes == 63 * 8
    assert small_table.grid == Grid2D(LOW, HIGH, (7, 9)) and small_table.grid.points == 63
    assert small_table.intervals is None


def test_on_grid_of_and_finest_grid():
    grids = [Grid2D(LOW, HIGH, (5, 40)), Grid2D(LOW, HIGH, (30, 7))]
    assert finest_grid_2d(grids) == Grid2D(LOW, HIGH, (30, 40))
    function = bk_rate()
    scale = error_scale_2d(function, LOW, HIGH)
    table = on_grid_of_2d(function, finest_grid_2d(grids), scale)
    assert table.shape == (30, 40) and table.scale == scale
    np.testing.assert_array_equal(table.values,
                                  build_table_2d(function, LOW, HIGH, (30, 40)).values)


# -- the kernels agree to the last bit ---------------------------------------------------

def _layout_and_points(seed, shape=(5, 8), count=3000):
    """Three random curves on `shape` points over a random rectangle, and random
    points in and around it, with NaN and infinities."""
    rng = np.random.default_rng(seed)
    low = tuple(rng.uniform(-1.0, 1.0, 2))
    high = tuple(a + w for a, w in zip(low, rng.uniform(1e-3, 5.0, 2)))
    packed = layout_2d([rng.uniform(-1e3, 1e3, shape) for _ in range(3)])
    x, y = (rng.uniform(a - (b - a) / 2, b + (b - a) / 2, count) for a, b in zip(low, high))
    special = np.array([np.nan, -np.inf, np.inf, 0.0])
    x = np.concatenate([x, [low[0], high[0], np.nextafter(high[0], 0)], special, x[:4]])
    y = np.concatenate([y, [high[1], low[1], np.nextafter(high[1], 0)], y[:4], special])
    inverse = tuple((n - 1) / (b - a) for a, b, n in zip(low, high, shape))
    return low, high, inverse, packed, x, y


def _numpy_lookup(x, y, low, inverse, shape, packed, offset):
    return interpolate_2d(x, y, low[0], inverse[0], shape[0], low[1], inverse[1], shape[1],
                          packed, 3, offset)


@settings(max_examples=20, deadline=None)
@given(nx=st.integers(2, 12), ny=st.integers(2, 12), offset=st.integers(0, 2),
       seed=st.integers(0, 2**32 - 1))
def test_the_numba_kernel_is_the_numpy_reference_to_the_last_bit(nx, ny, offset, seed):
    from autolut.targets.numba_kernel import lookup_2d as kernel

    low, high, inverse, packed, x, y = _layout_and_points(seed, (nx, ny))
    flat_x, flat_y, out, outside = kernel(x, y, low, high, inverse, (nx, ny), packed, 3, offset)
    np.testing.assert_array_equal(flat_x, x)
    np.testing.assert_array_equal(flat_y, y)
    np.testing.assert_array_equal(out, _numpy_lookup(x, y, low, inverse, (nx, ny), packed,
                                                     offset))
    inside = (x >= low[0]) & (x <= high[0]) & (y >= low[1]) & (y <= high[1])
    assert outside == np.sum(~inside) > 0


def test_the_numba_kernel_broadcasts_its_axes():
    from autolut.targets.numba_kernel import lookup_2d as kernel

    low, high, inverse, packed, _, _ = _layout_and_points(0)
    x, y = np.linspace(low[0], high[0], 4), np.linspace(low[1], high[1], 3)
    flat_x, flat_y, out, outside = kernel(x[:, None], y[None, :], low, high, inverse, (5, 8),
                                          packed, 3, 1)
    assert out.shape == (12,) and outside == 0
    np.testing.assert_array_equal(flat_x, np.repeat(x, 3))
    np.testing.assert_array_equal(out.reshape(4, 3), _numpy_lookup(
        x[:, None], y[None, :], low, inverse, (5, 8), packed, 1))


KERNEL_2D = """\
static inline double autolut_interpolate_2d(const double x, const double y, const double low_x,
                                   const double inverse_x, const int nx,
                                   const double low_y, const double inverse_y, const int ny,
                                   const double* packed, const int stride, const int offset)
{
    double u = (x - low_x) * inverse_x;
    u = u > 0.0 ? u : 0.0;          /* below the range, and NaN, go to the first point */
    u = u < nx - 1 ? u : (double)(nx - 1);
    int i = (int)u;
    i = i < nx - 2 ? i : nx - 2;
    const double fx = u - i;
    double w = (y - low_y) * inverse_y;
    w = w > 0.0 ? w : 0.0;
    w = w < ny - 1 ? w : (double)(ny - 1);
    int j = (int)w;
    j = j < ny - 2 ? j : ny - 2;
    const double fy = w - j;
    const double* r0 = packed + (i*ny + j)*stride + offset;
    const double* r1 = r0 + ny*stride;
    const double a = r0[0] + fy * (r0[stride] - r0[0]);
    const double b = r1[0] + fy * (r1[stride] - r1[0]);
    return a + fx * (b - a);
}
"""


def test_the_c_kernel_text():
    assert c_kernel.HELPER_2D_NAME == "autolut_interpolate_2d"
    assert KERNEL_2D in c_kernel.KERNEL
    # inside the guard, so that a generated file holds it once
    assert c_kernel.KERNEL.index("#define AUTOLUT_KERNEL") < c_kernel.KERNEL.index(KERNEL_2D) \
        < c_kernel.KERNEL.index("#endif")


HARNESS = """
void lookups(const double* x, const double* y, const int count, const double low_x,
             const double inverse_x, const int nx, const double low_y, const double inverse_y,
             const int ny, const double* packed, const int stride, const int offset,
             double* out)
{
    for (int k = 0; k < count; k++)
        out[k] = autolut_interpolate_2d(x[k], y[k], low_x, inverse_x, nx, low_y, inverse_y, ny,
                                        packed, stride, offset);
}
"""


@pytest.mark.compiler
def test_the_c_kernel_is_the_numpy_reference_to_the_last_bit(tmp_path):
    compiler = shutil.which("gcc")
    if compiler is None:
        pytest.skip("no gcc")
    (tmp_path / "harness.c").write_text(c_kernel.KERNEL + HARNESS)
    subprocess.run([compiler, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o",
                    str(tmp_path / "harness.so"), str(tmp_path / "harness.c"), "-lm"],
                   check=True, capture_output=True, timeout=60)
    library = ctypes.CDLL(str(tmp_path / "harness.so"))
    array = np.ctypeslib.ndpointer(dtype=np.float64, flags="C_CONTIGUOUS")
    library.lookups.restype = None
    library.lookups.argtypes = [array, array, ctypes.c_int, ctypes.c_double, ctypes.c_double,
                                ctypes.c_int, ctypes.c_double, ctypes.c_double, ctypes.c_int,
                                array, ctypes.c_int, ctypes.c_int, array]
    for seed, shape, offset in [(1, (2, 2), 0), (2, (5, 8), 1), (3, (40, 3), 2),
                                (4, (17, 29), 2)]:
        low, high, inverse, packed, x, y = _layout_and_points(seed, shape)
        out = np.empty_like(x)
        library.lookups(x, y, len(x), low[0], inverse[0], shape[0], low[1], inverse[1],
                        shape[1], packed, 3, offset, out)
        np.testing.assert_array_equal(out, _numpy_lookup(x, y, low, inverse, shape, packed,
                                                         offset))
