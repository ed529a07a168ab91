"""Golden strings of the generated code: every policy and target, without a compiler.

As SymPy's printer tests do, these compare the generated C (and the Cython
wrapper) with the exact text it must have, so that a change of the code
generation shows here first, in words, and not only as a compile error or a
wrong number on a machine with a compiler.
"""

import numpy as np
import pytest
from brian2 import Hz, mmolar, volt

from autolut.lutfunction import Exact, LUTFunction, TableBank
from autolut.tabulate import build_table
from autolut.tabulate2d import build_table_2d
from autolut.targets import c_kernel, cpp_target, cython_target

DESCRIPTION = "lut_m (from m of group 'g')"


@pytest.fixture
def bank():
    """Two curves over v in [-80, 20] mV on 11 points, interleaved (stride 4)."""
    table = build_table(lambda x: 2.0 * x, -0.08, 0.02, 11)
    return TableBank([table, table], name="golden_v_tables")


def _lut(bank, policy, index=1):
    return LUTFunction(bank, index, ("v",), (volt,), Hz, policy, Exact(lambda x: 2 * x, "2.0*x"),
                       description=DESCRIPTION, name="golden_lut_m")


def _body(source: str) -> str:
    """The source after the shared kernel, which every table function carries once."""
    assert source.startswith(c_kernel.KERNEL)
    return source[len(c_kernel.KERNEL):]


LOOKUP = ("    return autolut_interpolate(x, -0.08, 100.0, 10.0, "
          "_namespacegolden_v_tables_v0_values, 4, 2);\n}\n")


def test_clamp_is_the_bare_lookup(bank):
    assert _body(c_kernel.function_source(_lut(bank, "clamp"), cpp_target._fail)) == (
        "static inline double golden_lut_m(const double x)\n{\n" + LOOKUP)


def test_exact_evaluates_the_c_form_outside_the_range(bank):
    assert _body(c_kernel.function_source(_lut(bank, "exact"), cpp_target._fail)) == (
        "static inline double golden_lut_m(const double x)\n{\n"
        "    if (__builtin_expect(!(x >= -0.08 && x <= 0.02), 0))\n"
        "        return 2.0*x;\n" + LOOKUP)


def test_error_calls_a_cold_helper_with_the_message_in_the_axis_unit(bank):
    body = _body(c_kernel.function_source(_lut(bank, "error"), cpp_target._fail))
    helper, function = body.split("#endif\n")
    assert "__attribute__((noinline, cold))" in helper
    assert "#pragma omp critical(autolut_fail)" in helper  # one thread reports
    assert 'fopen("autolut_out_of_range.txt", "w")' in helper and "exit(1);" in helper
    assert function == (
        "static inline double golden_lut_m(const double x, const int neuron)\n{\n"
        "    if (__builtin_expect(!(x >= -0.08 && x <= 0.02), 0)) {\n"
        "        autolut_out_of_range(\"autolut: table lut_m (from m of group 'g') was looked "
        "up at v = %.6g mV for neuron %d, outside its range [-80, 20] mV "
        "(out_of_range='error'). Widen the range with ranges={'v': (low, high)}, or use "
        "out_of_range='exact'.\", x / 0.001, neuron);\n"
        "        return -1.0;\n    }\n" + LOOKUP)


def test_the_first_curve_of_a_bank_is_at_offset_zero(bank):
    assert c_kernel.call(_lut(bank, "clamp", index=0)) == (
        "autolut_interpolate(x, -0.08, 100.0, 10.0, _namespacegolden_v_tables_v0_values, 4, 0)")


def test_a_segmented_grid_calls_the_segmented_kernel():
    table = build_table(lambda x: x, 0.0, 1.0, 9, intervals=(4, 2, 2))
    lut = LUTFunction(TableBank([table], name="golden_ca_tables"), 0, ("Ca",), (volt,), Hz, "clamp",
                      Exact(lambda x: x, "x"), description=DESCRIPTION, name="golden_lut_q")
    assert c_kernel.call(lut) == (
        f"autolut_interpolate_segmented(x, 0.0, {3 / 1.0!r}, 3, "
        f"_namespacegolden_ca_tables_v0_values, 2, 0)")


@pytest.mark.parametrize("policy, signature, flags, arguments", [
    ("clamp", "(double x)", "noexcept nogil", "(x, _namespacegolden_v_tables_v0_values)"),
    ("exact", "(double x)", "noexcept nogil", "(x, _namespacegolden_v_tables_v0_values)"),
    ("error", "(double x, int neuron)", "except? -1.0",
     "(x, _namespacegolden_v_tables_v0_values, neuron)"),
])
def test_cython_wraps_the_same_c_with_the_bank_array(bank, policy, signature, flags,
                                                     arguments):
    lut = _lut(bank, policy)
    code = cython_target.implementation(lut)["code"](None)
    c_source = c_kernel.function_source(lut, cython_target._fail, name="golden_lut_m_lookup",
                                        packed="packed")
    assert code.startswith('cdef extern from *:\n    """\n')
    assert c_source.replace("\n", "\n    ") in code  # the very C of the other target
    packed = "const double* packed" + (", int neuron" if policy == "error" else "")
    assert code.endswith(
        f'    """\n    double golden_lut_m_lookup(double x, {packed}) {flags}\n'
        f"cdef inline double golden_lut_m{signature} {flags}:\n"
        f"    return golden_lut_m_lookup{arguments}\n")
    if policy == "error":
        assert "PyErr_SetString(PyExc_RuntimeError, message);" in c_source


def test_numbers_are_printed_to_the_last_bit():
    """Grid constants are literals: repr() of the doubles, which C reads back exactly."""
    table = build_table(np.exp, -0.1, 0.1 / 3, 7)
    lut = LUTFunction(TableBank([table], name="golden_exp_tables"), 0, ("v",), (volt,), Hz, "clamp",
                      Exact(np.exp, "exp(x)"), description=DESCRIPTION, name="golden_lut_e")
    call = c_kernel.call(lut)
    low, inverse = call.split(", ")[1:3]
    assert float(low) == table.low and float(inverse) == table.inverse_step
    assert low == repr(table.low) and inverse == repr(float(table.inverse_step))


# -- 2-D tables: two arguments, both ranges, the values of the curves side by side --------

@pytest.fixture
def bank_2d():
    """Two curves over v in [-80, 20] mV (11 points) and Ca in [0, 0.04] mM (5 points),
    interleaved (stride 2)."""
    table = build_table_2d(lambda v, ca: 2.0 * v + ca, (-0.08, 0.0), (0.02, 0.04), (11, 5))
    return TableBank([table, table], name="golden_v_and_Ca_tables")


def _lut_2d(bank, policy):
    return LUTFunction(bank, 1, ("v", "Ca"), (volt, mmolar), Hz, policy,
                       Exact(lambda v, ca: 2 * v + ca, "2.0*x + y"),
                       description="lut_alpha_o (from alpha_o of group 'g')",
                       name="golden_lut_alpha_o")


LOOKUP_2D = ("    return autolut_interpolate_2d(x, y, -0.08, 100.0, 11, 0.0, 100.0, 5, "
             "_namespacegolden_v_and_Ca_tables_v0_values, 2, 1);\n}\n")


def test_2d_clamp_is_the_bilinear_lookup_of_both_arguments(bank_2d):
    assert _body(c_kernel.function_source(_lut_2d(bank_2d, "clamp"), cpp_target._fail)) == (
        "static inline double golden_lut_alpha_o(const double x, const double y)\n{\n"
        + LOOKUP_2D)


def test_2d_exact_is_inside_where_both_arguments_are(bank_2d):
    assert _body(c_kernel.function_source(_lut_2d(bank_2d, "exact"), cpp_target._fail)) == (
        "static inline double golden_lut_alpha_o(const double x, const double y)\n{\n"
        "    if (__builtin_expect(!(x >= -0.08 && x <= 0.02 && y >= 0.0 && y <= 0.04), 0))\n"
        "        return 2.0*x + y;\n" + LOOKUP_2D)


def test_2d_error_names_both_variables_values_and_ranges(bank_2d):
    body = _body(c_kernel.function_source(_lut_2d(bank_2d, "error"), cpp_target._fail))
    helper, function = body.split("#endif\n")
    assert "vsnprintf(message, sizeof message, format, values);" in helper
    assert function == (
        "static inline double golden_lut_alpha_o(const double x, const double y, "
        "const int neuron)\n{\n"
        "    if (__builtin_expect(!(x >= -0.08 && x <= 0.02 && y >= 0.0 && y <= 0.04), 0)) {\n"
        "        autolut_out_of_range(\"autolut: table lut_alpha_o (from alpha_o of group 'g') "
        "was looked up at v = %.6g mV, Ca = %.6g uM for neuron %d, outside its range "
        "[-80, 20] mV x [0, 40] uM (out_of_range='error'). Widen the range with "
        "ranges={'v': (low, high), 'Ca': (low, high)}, or use out_of_range='exact'.\", "
        "x / 0.001, y / 0.001, neuron);\n"
        "        return -1.0;\n    }\n" + LOOKUP_2D)


@pytest.mark.parametrize("policy, signature, flags, arguments", [
    ("clamp", "(double x, double y)", "noexcept nogil",
     "(x, y, _namespacegolden_v_and_Ca_tables_v0_values)"),
    ("error", "(double x, double y, int neuron)", "except? -1.0",
     "(x, y, _namespacegolden_v_and_Ca_tables_v0_values, neuron)"),
])
def test_cython_wraps_a_2d_table_with_both_arguments(bank_2d, policy, signature, flags,
                                                     arguments):
    lut = _lut_2d(bank_2d, policy)
    code = cython_target.implementation(lut)["code"](None)
    c_source = c_kernel.function_source(lut, cython_target._fail,
                                        name="golden_lut_alpha_o_lookup", packed="packed")
    assert c_source.replace("\n", "\n    ") in code
    packed = "const double* packed" + (", int neuron" if policy == "error" else "")
    assert code.endswith(
        f'    """\n    double golden_lut_alpha_o_lookup(double x, double y, {packed}) {flags}\n'
        f"cdef inline double golden_lut_alpha_o{signature} {flags}:\n"
        f"    return golden_lut_alpha_o_lookup{arguments}\n")


def test_2d_bank_interleaves_values_without_slopes(bank_2d):
    lut = _lut_2d(bank_2d, "clamp")
    assert bank_2d.stride == 2 and lut.offset == 1
    assert bank_2d.array.shape == (11 * 5 * 2,)
    np.testing.assert_array_equal(bank_2d.array[1::2], lut.table.values.reshape(-1))
