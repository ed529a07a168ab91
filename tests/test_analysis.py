"""Tests of autolut.analysis (pure sympy) and of `autolut.report` on Brian2 groups.

Nothing here runs a simulation.
"""

import dataclasses
import json

import numpy as np
import pytest
import sympy
from brian2.parsing.sympytools import str_to_sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autolut import analysis
from autolut.frontends.neurongroup import read_group
from autolut.options import Options
from autolut.analysis import (
    AXIS,
    CONSTANT,
    DT,
    LOOKUP_COST,
    PARAMETER,
    SHARED,
    STOCHASTIC,
    TIME,
    Equation,
    Model,
    estimate_cost,
    find_candidates,
    rewrite_expression,
    rewrite_model,
    substitute_back,
)

DIFF = "differential equation"
SUB = "subexpression"
UNITS = {"mV": CONSTANT, "ms": CONSTANT, "Hz": CONSTANT, "pi": CONSTANT}


def S(name):
    return sympy.Symbol(name, real=True)


def make_model(equations, symbols, **options):
    """`equations`: (name, 'd' or 's', Brian2 expression string or sympy expression)."""
    return Model(tuple(Equation(name, SUB if kind == "s" else DIFF,
                                str_to_sympy(expr) if isinstance(expr, str) else expr)
                       for name, kind, expr in equations),
                 dict(symbols), **options)


def inline_all(expr, model):
    """`expr` with every subexpression of `model` replaced by its definition (test-side)."""
    definitions = {S(eq.name): eq.expression for eq in model.equations if eq.kind == SUB}
    for _ in range(len(definitions) + 1):
        new = expr.xreplace(definitions)
        if new == expr:
            return expr
        expr = new
    return expr


def _numerically_equal(a, b, trials=2):
    """Whether `a` and `b` agree at random positive values of their symbols (a quick filter)."""
    symbols = sorted(a.free_symbols | b.free_symbols, key=str)
    modules = [{"exprel": lambda z: np.expm1(z) / z}, "numpy"]
    fa, fb = (sympy.lambdify(symbols, e, modules=modules) for e in (a, b))
    rng = np.random.default_rng(1)
    with np.errstate(all="ignore"):
        for _ in range(trials):
            values = rng.uniform(0.3, 1.7, len(symbols))
            ya, yb = complex(fa(*values)), complex(fb(*values))
            if not np.isfinite(ya) or not np.isfinite(yb):
                continue
            if abs(ya - yb) > 1e-8 * (abs(ya) + abs(yb)) + 1e-12:
                return False
    return True


def same(a, b):
    """Structural equality, falling back to algebra (after a quick numeric filter)."""
    if a == b:
        return True
    if not _numerically_equal(a, b):
        return False
    difference = a - b
    return sympy.expand(difference) == 0 or sympy.simplify(difference) == 0


def match(actual, expected):
    """Pair every expected expression with a distinct equal actual one; True if all match
    and nothing is left over. Structural matches are paired first."""
    remaining, unmatched = list(actual), []
    for expression in expected:
        if expression in remaining:
            remaining.remove(expression)
        else:
            unmatched.append(expression)
    for expression in unmatched:
        for k, candidate in enumerate(remaining):
            if same(candidate, expression):
                del remaining[k]
                break
        else:
            return False
    return not remaining


# -- the table of models -----------------------------------------------------------------

@dataclasses.dataclass
class Case:
    equations: list
    symbols: dict
    # (expression in terms of the model's names, inlined by the test; axis)
    tabulatable: list
    # (axis or None, substring of the reason) of the candidates left exact
    left_exact: list = dataclasses.field(default_factory=list)
    options: dict = dataclasses.field(default_factory=dict)


TRAUB_MILES_EQUATIONS = [
    ("v", "d", "(gl*(El-v) - g_na*(m*m*m)*h*(v-ENa) - g_kd*(n*n*n*n)*(v-EK) + I)/Cm"),
    ("m", "d", "0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms*(1-m)"
               "-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms*m"),
    ("n", "d", "0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms*(1.-n)"
               "-.5*exp((10.*mV-v+VT)/(40.*mV))/ms*n"),
    ("h", "d", "0.128*exp((17.*mV-v+VT)/(18.*mV))/ms*(1.-h)"
               "-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms*h"),
]
TRAUB_MILES_SYMBOLS = dict(UNITS, v=AXIS, m=AXIS, n=AXIS, h=AXIS, I=PARAMETER,
                           **{name: CONSTANT for name in
                              ("gl", "El", "g_na", "ENa", "g_kd", "EK", "Cm", "VT")})
TRAUB_MILES_RATES = [
    ("0.32*(mV**-1)*4*mV/exprel((13.*mV-v+VT)/(4*mV))/ms", "v"),
    ("-0.28*(mV**-1)*5*mV/exprel((v-VT-40.*mV)/(5*mV))/ms", "v"),
    ("0.032*(mV**-1)*5*mV/exprel((15.*mV-v+VT)/(5*mV))/ms", "v"),
    ("-.5*exp((10.*mV-v+VT)/(40.*mV))/ms", "v"),
    ("0.128*exp((17.*mV-v+VT)/(18.*mV))/ms", "v"),
    ("-4./(1+exp((40.*mV-v+VT)/(5.*mV)))/ms", "v"),
]

WANG_BUZSAKI_EQUATIONS = [
    ("v", "d", "(-gNa*m_inf**3*h*(v-ENa) - gK*n**4*(v-EK) - gL*(v-EL) + I)/Cm"),
    ("m_inf", "s", "alpha_m/(alpha_m + beta_m)"),
    ("alpha_m", "s", "-0.1/mV*(v + 35*mV)/(exp(-0.1/mV*(v + 35*mV)) - 1)/ms"),
    ("beta_m", "s", "4*exp(-(v + 60*mV)/(18*mV))/ms"),
    ("h", "d", "phi*(alpha_h*(1 - h) - beta_h*h)"),
    ("alpha_h", "s", "0.07*exp(-(v + 58*mV)/(20*mV))/ms"),
    ("beta_h", "s", "1./(exp(-0.1/mV*(v + 28*mV)) + 1)/ms"),
    ("n", "d", "phi*(alpha_n*(1 - n) - beta_n*n)"),
    ("alpha_n", "s", "-0.01/mV*(v + 34*mV)/(exp(-0.1/mV*(v + 34*mV)) - 1)/ms"),
    ("beta_n", "s", "0.125*exp(-(v + 44*mV)/(80*mV))/ms"),
]
WANG_BUZSAKI_SYMBOLS = dict(UNITS, v=AXIS, h=AXIS, n=AXIS, I=PARAMETER,
                            **{name: CONSTANT for name in
                               ("Cm", "gL", "EL", "ENa", "EK", "gNa", "gK", "phi")})
WANG_BUZSAKI_SUBEXPRESSIONS = [(name, "v") for name in
                               ("alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n")]

# The Moczydlowski–Latorre BK gate of autolut.models.bk_neuron: rates of v and Ca that do
# not factor into functions of one variable.
BK_EQUATIONS = [
    ("o", "d", "alpha_o*(1 - o) - beta_o*o"),
    ("alpha_o", "s", "abar*Ca/(Ca + k1*exp(-2*d1*F*v/(R*T)))"),
    ("beta_o", "s", "bbar/(1 + Ca/(k4*exp(-2*d4*F*v/(R*T))))"),
    ("Ca", "d", "-(Ca - Ca_rest)/tau_Ca"),
    ("v", "d", "(EL - v)/tau"),
]
BK_SYMBOLS = dict(UNITS, o=AXIS, Ca=AXIS, v=AXIS, **{name: CONSTANT for name in (
    "abar", "bbar", "k1", "k4", "d1", "d4", "F", "R", "T", "Ca_rest", "tau_Ca", "EL", "tau")})
BK_ONE_AXIS = [("k1*exp(-2*d1*F*v/(R*T))", "v"), ("1/(k4*exp(-2*d4*F*v/(R*T)))", "v")]
BK_ALPHA = "abar*Ca/(Ca + k1*exp(-2*d1*F*v/(R*T)))"

CASES = {
    "bk-rates-are-2d-tables-when-both-axes-have-ranges": Case(
        BK_EQUATIONS, BK_SYMBOLS, [("alpha_o", "v, Ca"), ("beta_o", "v, Ca")],
        options=dict(bounded=("v", "Ca"))),
    "bk-rates-without-a-ca-range-tabulate-their-v-factors": Case(
        BK_EQUATIONS, BK_SYMBOLS, BK_ONE_AXIS, options=dict(bounded=("v",))),
    "bk-refused-2d-table-is-split-into-one-axis-tables": Case(
        BK_EQUATIONS, BK_SYMBOLS, [BK_ONE_AXIS[0], ("beta_o", "v, Ca")],
        options=dict(bounded=("v", "Ca"), refused_2d=frozenset({str_to_sympy(BK_ALPHA)}))),
    "inline-2d-rate-times-gate-is-one-table": Case(
        [("o", "d", "k*Ca/(Ca + K*exp(-v/mV))/ms*(1 - o) - o/ms")],
        dict(UNITS, o=AXIS, Ca=AXIS, v=AXIS, k=CONSTANT, K=CONSTANT),
        [("k*Ca/(Ca + K*exp(-v/mV))/ms", "v, Ca")], options=dict(bounded=("v", "Ca"))),
    "product-of-one-axis-factors-keeps-two-1d-tables": Case(
        [("q", "d", "exp(-v/mV)*Ca**4/(Ca**4 + Kd**4)*(1 - q)/ms - q/ms")],
        dict(UNITS, q=AXIS, Ca=AXIS, v=AXIS, Kd=CONSTANT),
        [("exp(-v/mV)/ms", "v"), ("Ca**4/(Ca**4 + Kd**4)", "Ca")],
        options=dict(bounded=("v", "Ca"))),
    "2d-expression-with-an-unbounded-axis-stays-exact": Case(
        [("q", "d", "exp(v*Ca/(mV*K))/ms - q/ms")],
        dict(UNITS, q=AXIS, Ca=AXIS, v=AXIS, K=CONSTANT), [],
        [(None, "more than one varying variable (Ca, v); ranges={'Ca': (low, high)} with "
                "units would allow a 2-D table over Ca, v")],
        options=dict(bounded=("v",))),
    "2d-over-the-own-variable-stays-exact": Case(
        [("m", "d", "exp(v*m/mV)/ms - m/ms")], dict(UNITS, v=AXIS, m=AXIS), [],
        [(None, "more than one varying variable (m, v)")], options=dict(bounded=("v", "m"))),
    # Synapses (autolut.frontends.synapses): a summed NMDA current, the magnesium block of
    # the postsynaptic voltage; weights, per-neuron conductances and the per-synapse
    # gating variable (an axis without a range) stay outside the table.
    "synaptic-nmda-block-of-v-post-leaves-weights-outside": Case(
        [("I_post", "s", "g_post*w*(v_post - E)/(1 + Mg*exp(-0.062*v_post/mV)/3.57)*s_nmda"),
         ("s_nmda", "d", "-s_nmda/tau + alpha*x*(1 - s_nmda)"), ("x", "d", "-x/tau_rise")],
        dict(UNITS, v_post=AXIS, s_nmda=AXIS, x=AXIS, w=PARAMETER, g_post=PARAMETER,
             **{name: CONSTANT for name in ("E", "Mg", "tau", "alpha", "tau_rise")}),
        [("(v_post - E)/(1 + Mg*exp(-0.062*v_post/mV)/3.57)", "v_post")],
        options=dict(bounded=("v_post",), element="synapse")),
    "synaptic-parameter-inside-the-exponential-stays-exact": Case(
        [("g_post", "s", "1/(1 + exp(-v_post/k))")], dict(UNITS, v_post=AXIS, k=PARAMETER), [],
        [("v_post", "per-synapse parameter k")], options=dict(bounded=("v_post",),
                                                              element="synapse")),
    "traub-miles-exprel": Case(TRAUB_MILES_EQUATIONS, TRAUB_MILES_SYMBOLS, TRAUB_MILES_RATES),
    "wang-buzsaki-subexpressions": Case(
        WANG_BUZSAKI_EQUATIONS, WANG_BUZSAKI_SYMBOLS,
        WANG_BUZSAKI_SUBEXPRESSIONS + [("alpha_m/(alpha_m + beta_m)", "v")]),
    "wang-buzsaki-explicit-method": Case(
        WANG_BUZSAKI_EQUATIONS, WANG_BUZSAKI_SYMBOLS,
        WANG_BUZSAKI_SUBEXPRESSIONS + [
            ("alpha_m/(alpha_m + beta_m)", "v"),
            # With a method that only evaluates right-hand sides, m_inf(v) makes the
            # whole sodium conductance factor of dv/dt the largest single-axis expression.
            ("-gNa*m_inf**3*(v-ENa)", "v"),
        ], options=dict(tabulate_own_variable=True)),
    "own-variable-left-to-the-integrator": Case(
        [("v", "d", "(-v + mV*exp(-v/mV))/(10*ms)")], dict(UNITS, v=AXIS), []),
    "lif-with-input-parameter": Case(
        [("v", "d", "(EL - v + R*I)/tau")],
        dict(v=AXIS, I=PARAMETER, EL=CONSTANT, R=CONSTANT, tau=CONSTANT), []),
    "lif-single-time-constant": Case(
        [("v", "d", "(EL - v)/tau")], dict(v=AXIS, EL=CONSTANT, tau=CONSTANT), []),
    "per-neuron-parameter": Case(
        [("m", "d", "alpha_m*(1 - m) - beta_m*m"),
         ("alpha_m", "s", "0.32/mV*(13*mV - v + VT)/(exp((13*mV - v + VT)/(4*mV)) - 1)/ms"),
         ("beta_m", "s", "0.28/mV*(v - VT - 40*mV)/(exp((v - VT - 40*mV)/(5*mV)) - 1)/ms"),
         ("v", "d", "(-65*mV - v)/(10*ms)")],
        dict(UNITS, m=AXIS, v=AXIS, VT=PARAMETER),
        [("alpha_m", "v - VT"), ("beta_m", "v - VT")]),
    "per-neuron-parameter-not-a-shift": Case(
        [("m", "d", "exp(v/k_i)/ms - m/ms"), ("v", "d", "(-65*mV - v)/(10*ms)")],
        dict(UNITS, m=AXIS, v=AXIS, k_i=PARAMETER), [],
        [("v", "per-neuron parameter k_i, and not only through a shift of v")]),
    "scaled-shift-by-two-parameters": Case(
        [("m", "d", "exp((v - 2*VT - Vs)/(4*mV))/ms - m/ms")],
        dict(UNITS, m=AXIS, v=AXIS, VT=PARAMETER, Vs=SHARED),
        [("exp((v - 2*VT - Vs)/(4*mV))/ms", "v - 2*VT - Vs")]),
    "shared-temperature-factor-stays-outside": Case(
        WANG_BUZSAKI_EQUATIONS, dict(WANG_BUZSAKI_SYMBOLS, phi=SHARED),
        WANG_BUZSAKI_SUBEXPRESSIONS + [("alpha_m/(alpha_m + beta_m)", "v")]),
    "time-dependent": Case(
        [("v", "d", "(-v + 10*mV*sin(2*pi*5*Hz*t))/(10*ms)")],
        dict(UNITS, v=AXIS, t=TIME), [], [("v", "depends on the time t")]),
    "random-next-to-a-rate": Case(
        [("v", "d", "(-65*mV - v + 2*mV*rand())/(10*ms)"),
         ("m", "d", "4*exp(-(v + 65*mV)/(18*mV))/ms*(1 - m) - m/ms")],
        dict(UNITS, v=AXIS, m=AXIS),
        [("4*exp(-(v + 65*mV)/(18*mV))/ms", "v")],
        [("v", "random or stateful function rand()")]),
    "time-and-random-together": Case(
        [("v", "d", "(-65*mV - v + 10*mV*sin(2*pi*5*Hz*t) + 2*mV*rand())/(10*ms)")],
        dict(UNITS, v=AXIS, t=TIME), [], [("v", "rand()")]),
    "random-factor-keeps-the-rate": Case(
        [("v", "d", "(-v + mV*exp(-v/mV)*(1 + rand()))/(10*ms)")],
        dict(UNITS, v=AXIS), [("mV*exp(-v/mV)", "v")], [(None, "rand()")],
        options=dict(tabulate_own_variable=True)),
    "calcium-gated": Case(
        [("q", "d", "(q_inf - q)/tau_q"), ("q_inf", "s", "Ca**4/(Ca**4 + Kd**4)"),
         ("Ca", "d", "-Ca/tau_Ca")],
        dict(q=AXIS, Ca=AXIS, Kd=CONSTANT, tau_q=CONSTANT, tau_Ca=CONSTANT),
        [("Ca**4/(Ca**4 + Kd**4)", "Ca")]),
    "two-axes-in-one-exp": Case(
        [("m", "d", "exp(v*m/mV)/ms - m/ms")], dict(UNITS, v=AXIS, m=AXIS), [],
        [(None, "more than one varying variable (m, v)")]),
    "shared-variable-shifts-the-axis": Case(
        [("m", "d", "(exp(-(v - V0)/mV) - m)/ms")], dict(UNITS, v=AXIS, m=AXIS, V0=SHARED),
        [("exp(-(v - V0)/mV)", "v - V0")]),
    "shared-variable-not-a-shift": Case(
        [("m", "d", "(exp(-v*V0/mV**2) - m)/ms")], dict(UNITS, v=AXIS, m=AXIS, V0=SHARED), [],
        [("v", "shared variable V0")]),
    "stochastic-dt-unknown": Case(
        [("m", "d", "exp(-v/mV)*sqrt(dt)/ms + m*exp(-v/mV*xi)/ms + exp(foo*v/mV)/ms")],
        dict(UNITS, v=AXIS, m=AXIS, dt=DT, xi=STOCHASTIC),
        [("exp(-v/mV)/ms", "v")],
        [(None, "depends on dt"), ("v", "stochastic term xi"), ("v", "unknown name foo")]),
    "too-cheap-division": Case(
        [("m", "d", "(mV/v - m)/ms")], dict(UNITS, v=AXIS, m=AXIS), [],
        [("v", "too cheap")]),
    "cheap-division-with-low-min-cost": Case(
        [("m", "d", "(mV/v - m)/ms")], dict(UNITS, v=AXIS, m=AXIS), [("mV/v", "v")],
        options=dict(min_cost=5)),
    "user-excludes-a-differential-equation": Case(
        TRAUB_MILES_EQUATIONS, TRAUB_MILES_SYMBOLS, TRAUB_MILES_RATES[2:],
        [("v", "excluded by the user"), ("v", "excluded by the user")],
        dict(excluded=frozenset({"m"}))),
    "user-excludes-a-subexpression": Case(
        WANG_BUZSAKI_EQUATIONS, WANG_BUZSAKI_SYMBOLS,
        WANG_BUZSAKI_SUBEXPRESSIONS[1:], [("v", "excluded by the user")],
        dict(excluded=frozenset({"alpha_m"}))),
}


def _analyse(case):
    model = make_model(case.equations, case.symbols, **case.options)
    return model, find_candidates(model)


@pytest.mark.parametrize("name", list(CASES))
def test_expected_candidates(name):
    case = CASES[name]
    model, found = _analyse(case)
    tabulatable = found.tabulatable
    expected = [inline_all(str_to_sympy(expression), model)
                for expression, _ in case.tabulatable]
    assert match([c.expression for c in tabulatable], expected), (
        f"got {[str(c.expression) for c in tabulatable]}, "
        f"expected {[str(e) for e in expected]}")
    assert sorted(c.axis for c in tabulatable) == sorted(axis for _, axis in case.tabulatable)
    left = [c for c in found.candidates if not c.tabulatable]
    assert len(left) == len(case.left_exact), [(c.axis, c.reason) for c in left]
    unmatched = list(left)
    for axis, reason in case.left_exact:
        hits = [c for c in unmatched if c.axis == axis and reason in c.reason]
        assert hits, f"no candidate over {axis} left exact because of '{reason}': " \
                     f"{[(c.axis, c.reason) for c in left]}"
        unmatched.remove(hits[0])


@pytest.mark.parametrize("name", list(CASES))
def test_candidate_invariants(name):
    case = CASES[name]
    model, found = _analyse(case)
    min_cost = case.options.get("min_cost", analysis.DEFAULT_MIN_COST)
    for candidate in found.tabulatable:
        assert len(candidate.axes) in (1, 2)
        for axis in candidate.axes:
            assert model.symbols[axis.variable] == AXIS
        if len(candidate.axes) == 2:  # plain axes with ranges, in the model's order
            assert all(axis.parameters == () for axis in candidate.axes)
            assert list(candidate.variables) == [name for name in model.bounded
                                                 if name in candidate.variables]
        varying = {s.name for s in candidate.expression.free_symbols
                   if model.symbols.get(s.name) != CONSTANT}
        assert varying == {*candidate.variables,
                           *(name for axis in candidate.axes for name in axis.parameters)}
        # the table holds a function of the variables alone
        assert {s.name for s in candidate.tabulated.free_symbols
                if model.symbols.get(s.name) != CONSTANT} == set(candidate.variables)
        assert candidate.cost >= min_cost
        assert not candidate.expression.atoms(sympy.Symbol) & {
            S(eq.name) for eq in model.equations if eq.kind == SUB}, "not inlined"
    for candidate in found.candidates:
        assert candidate.origins
        assert set(candidate.origins) <= {eq.name for eq in model.equations}
    for site in found.sites:
        candidate = found.candidates[site.candidate]
        assert candidate.tabulatable
        assert site.equation in candidate.origins
        assert site.equation not in model.excluded
        assert same(inline_all(site.subtree, model), candidate.expression)
    # Every tabulatable candidate is used somewhere.
    assert {site.candidate for site in found.sites} == {
        k for k, c in enumerate(found.candidates) if c.tabulatable}


def test_wang_buzsaki_m_inf_is_one_table_and_lookups_make_no_extra_tables():
    model, found = _analyse(CASES["wang-buzsaki-subexpressions"])
    from_m_inf = [c for c in found.candidates if "m_inf" in c.origins]
    assert len(from_m_inf) == 1 and from_m_inf[0].tabulatable
    # -beta_h*h and alpha_h*(1 - h) use tabulated subexpressions: no new tables, no sites.
    assert not [c for c in found.candidates if {"h", "n"} & set(c.origins)]
    assert not [s for s in found.sites if s.equation in ("h", "n")]
    # The subexpressions are tabulated at their definitions, and m_inf uses their lookups:
    assert [s.subtree for s in found.sites if s.equation == "m_inf"] == \
        [str_to_sympy("alpha_m/(alpha_m + beta_m)")]


def test_beta_h_times_h_is_not_a_table():
    """`-beta_h*h` is a lookup times a state: the lookup is not re-tabulated with a sign."""
    model = make_model(
        [("h", "d", "alpha_h*(1 - h) - beta_h*h"),
         ("alpha_h", "s", "0.07*exp(-(v + 58*mV)/(20*mV))/ms"),
         ("beta_h", "s", "1./(exp(-0.1/mV*(v + 28*mV)) + 1)/ms")],
        dict(UNITS, v=AXIS, h=AXIS))
    found = find_candidates(model)
    assert sorted(c.origins for c in found.candidates) == [("alpha_h",), ("beta_h",)]
    assert all(c.tabulatable for c in found.candidates)


def test_inlined_rate_is_tabulated_when_the_subexpression_is_too_cheap():
    # x = v/mV is too cheap to be a table of its own, so exp(x) is inlined into the rate.
    model = make_model([("m", "d", "exp(-x)*(1 - m)/ms"), ("x", "s", "v/mV")],
                       dict(UNITS, v=AXIS, m=AXIS))
    found = find_candidates(model)
    assert [str(c.expression) for c in found.tabulatable] == [
        str(str_to_sympy("exp(-v/mV)/ms"))]
    assert found.sites[0].subtree == str_to_sympy("exp(-x)/ms")


def test_same_expression_in_two_equations_is_one_candidate():
    model = make_model([("m", "d", "exp(-v/mV)/ms*(1 - m)"), ("h", "d", "exp(-v/mV)/ms*(1 - h)")],
                       dict(UNITS, v=AXIS, m=AXIS, h=AXIS))
    found = find_candidates(model)
    assert len(found.candidates) == 1
    assert found.candidates[0].origins == ("m", "h")
    assert sorted(s.equation for s in found.sites) == ["h", "m"]


def test_excluded_equation_gets_no_sites_and_nothing_is_rewritten():
    model = make_model(TRAUB_MILES_EQUATIONS, TRAUB_MILES_SYMBOLS, excluded=frozenset({"m"}))
    found = find_candidates(model)
    excluded = [c for c in found.candidates if c.reason == "excluded by the user"]
    assert len(excluded) == 2 and all(c.origins == ("m",) for c in excluded)
    assert not [s for s in found.sites if s.equation == "m"]
    calls = {k: sympy.Function(f"lut{k}")(S("v")) for k, c in enumerate(found.candidates)
             if c.tabulatable}
    assert "m" not in rewrite_model(model, found, calls)


def test_linear_membrane_equation_is_not_tabulated():
    model = make_model([("v", "d", "(EL - v)/(R*C)")],
                       dict(v=AXIS, EL=CONSTANT, R=CONSTANT, C=CONSTANT))
    assert find_candidates(model).tabulatable == ()


# -- estimate_cost -----------------------------------------------------------------------

x, y = S("x"), S("y")


@pytest.mark.parametrize("expression, cost", [
    (x, 0),
    (sympy.Integer(3), 0),
    (x + 1, 1),
    (x + y + 1, 2),
    (2 * x * y, 2),
    (1 / x, 4),
    (x ** 2, 1),
    (x ** 4, 3),
    (x ** -2, 1 + 4),
    (sympy.sqrt(x), 20),
    (sympy.exp(x), 20),
    (sympy.exp(x) + 1, 21),
    (1 / (1 + sympy.exp(x)), 25),
    (sympy.log(x ** 2 + 1), 22),
    (sympy.exp(sympy.exp(x)), 40),
])
def test_estimate_cost_values(expression, cost):
    assert estimate_cost(expression) == cost


def test_estimate_cost_exprel_counts_as_a_function():
    assert estimate_cost(str_to_sympy("exprel(x)")) == 20
    assert estimate_cost(str_to_sympy("1/exprel(x)")) == 24


@settings(max_examples=50, deadline=None)
@given(st.integers(0, 5), st.integers(0, 5), st.integers(1, 4))
def test_estimate_cost_is_monotonic_and_non_negative(n_exp, n_terms, power):
    expression = sum((sympy.exp(k * x) for k in range(1, n_exp + 1)), y) \
        + sum((x ** (k + 2) for k in range(n_terms)), sympy.Integer(0))
    cost = estimate_cost(expression)
    assert cost >= 20 * n_exp
    assert cost >= n_exp + n_terms  # one addition per extra term
    assert estimate_cost(expression + sympy.exp(y)) > cost
    assert estimate_cost(sympy.exp(expression)) == cost + 20
    assert estimate_cost(x ** power) == power - 1


def test_lookup_is_cheaper_than_the_minimum_cost():
    assert LOOKUP_COST < analysis.DEFAULT_MIN_COST <= estimate_cost(sympy.exp(x))


# -- rewrite / substitute back -----------------------------------------------------------

def test_rewrite_expression_replaces_the_split_group():
    model = make_model([("m", "d", "4*exp(-v/mV)/ms*(1 - m) - m/ms")],
                       dict(UNITS, v=AXIS, m=AXIS))
    found = find_candidates(model)
    lut = sympy.Function("lut")(S("v"))
    new = rewrite_model(model, found, {0: lut})["m"]
    assert new == lut * (1 - S("m")) - S("m") / S("ms")
    assert substitute_back(new, {lut: found.candidates[0].expression}) == \
        model.equations[0].expression


def test_rewrite_expression_without_replacements_is_identity():
    expression = str_to_sympy("exp(-v/mV)*(1 - m) + h")
    assert rewrite_expression(expression, {}, lambda node: list(node.args)) is expression


# Random models for the round trip.
v, m, h, g, c, k = S("v"), S("m"), S("h"), S("g"), S("c"), S("k")
EXPREL = str_to_sympy("exprel(v)").func
ROUND_TRIP_SYMBOLS = dict(v=AXIS, m=AXIS, h=AXIS, g=PARAMETER, c=CONSTANT, k=CONSTANT)
_numbers = st.sampled_from([sympy.Integer(1), sympy.Integer(2), sympy.Integer(-3),
                            sympy.Rational(1, 2), sympy.Rational(-2, 5)])
_v_atoms = st.one_of(
    st.builds(lambda a: sympy.exp(a * v), _numbers),
    st.builds(lambda a, b: sympy.exp(a * v / k + b * c), _numbers, _numbers),
    st.builds(lambda a: EXPREL(a * (v - c)), _numbers),
    st.builds(lambda a: 1 / EXPREL(a * v / k), _numbers),
    st.builds(lambda a: sympy.log(v ** 2 + a ** 2), _numbers),
    st.builds(lambda n: v ** n, st.sampled_from([2, 3, 4, -1, sympy.Rational(1, 2)])),
    st.builds(lambda a: 1 / (1 + sympy.exp(a * (v - c))), _numbers),
    st.builds(lambda a: a * v + c, _numbers),
    st.just(v),
)
_others = st.sampled_from([m, h, 1 - m, m ** 3 * h, g, c, k, sympy.exp(m), sympy.exp(g * v),
                           sympy.exp(v * m), 1 / (1 + h ** 2)])
def _expression_strategy(atoms):
    """Sums of products of `atoms`, nested in exp, sums, products and 1/(1 + e**2)."""
    factors = st.recursive(
        atoms,
        lambda children: st.one_of(
            st.lists(children, min_size=2, max_size=3).map(lambda args: sympy.Add(*args)),
            st.lists(children, min_size=2, max_size=3).map(lambda args: sympy.Mul(*args)),
            children.map(sympy.exp),
            children.map(lambda e: 1 / (1 + e ** 2))),
        max_leaves=6)
    terms = st.lists(factors, min_size=1, max_size=3).map(lambda args: sympy.Mul(*args))
    return st.lists(terms, min_size=1, max_size=4).map(lambda args: sympy.Add(*args))


_expressions = _expression_strategy(st.one_of(_v_atoms, _v_atoms, _others, _numbers))
_v_expressions = _expression_strategy(st.one_of(_v_atoms, _numbers, st.sampled_from([c, k])))
alpha_s, beta_s, gamma_s = S("alpha"), S("beta"), S("gamma")
_expressions_using_subexpressions = _expression_strategy(st.one_of(
    _v_atoms, _others, _numbers, st.sampled_from([alpha_s, beta_s, gamma_s])))


def _round_trip(model):
    found = find_candidates(model)
    calls = {index: sympy.Function(f"lut{index}")(*candidate.arguments)
             for index, candidate in enumerate(found.candidates) if candidate.tabulatable}
    rewritten = rewrite_model(model, found, calls)
    back = {call: found.candidates[index].expression for index, call in calls.items()}
    has_subexpressions = any(eq.kind == SUB for eq in model.equations)
    for equation in model.equations:
        new = rewritten.get(equation.name, equation.expression)
        restored = substitute_back(new, back)
        original = equation.expression
        if has_subexpressions:  # candidates are inlined: compare inlined forms
            restored, original = inline_all(restored, model), inline_all(original, model)
        assert same(restored, original), (equation.name, new, restored, original)
        # Every call is a lut of the candidate's axis, called with that axis symbol.
        for call in new.atoms(sympy.core.function.AppliedUndef):
            index = int(call.func.__name__[3:])
            assert call == calls[index]
            assert call.args == found.candidates[index].arguments
        if equation.name in model.excluded:
            assert equation.name not in rewritten
            continue
        # Nothing tabulated here is left behind in the rewritten expression.
        for index in {site.candidate for site in found.sites if site.equation == equation.name}:
            assert not new.has(found.candidates[index].expression), (
                equation.name, found.candidates[index].expression, new)
        for site in found.sites:
            if site.equation == equation.name:
                assert not new.has(site.subtree)
                assert new.has(calls[site.candidate])
    for name in rewritten:
        assert name not in model.excluded
    return found


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_expressions, second=_expressions)
def test_round_trip_of_random_equations(first, second):
    model = Model((Equation("m", DIFF, first), Equation("h", DIFF, second)),
                  ROUND_TRIP_SYMBOLS)
    _round_trip(model)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(alpha=_v_expressions, beta=_expressions, gamma=_expressions_using_subexpressions.filter(
           lambda e: not e.has(gamma_s)),
       first=_expressions_using_subexpressions, second=_expressions_using_subexpressions,
       min_cost=st.sampled_from([5, 10, 30]))
def test_round_trip_with_subexpressions(alpha, beta, gamma, first, second, min_cost):
    """alpha depends on v only, beta on anything, gamma on the other two (nested)."""
    model = Model((Equation("m", DIFF, alpha_s * (1 - m) - beta_s * m + first),
                   Equation("alpha", SUB, alpha), Equation("beta", SUB, beta),
                   Equation("gamma", SUB, gamma),
                   Equation("h", DIFF, second)),
                  ROUND_TRIP_SYMBOLS, min_cost=min_cost)
    _round_trip(model)


# Rates of v and m that do not factor (as the BK gate's rates of v and Ca), for 2-D tables.
_vm_atoms = st.one_of(
    st.builds(lambda a: k * m / (m + c * sympy.exp(a * v)), _numbers),
    st.builds(lambda a: 1 / (1 + m * sympy.exp(a * v / k)), _numbers),
    st.builds(lambda a: sympy.exp(a * v * m), _numbers),
)
_expressions_2d = _expression_strategy(st.one_of(_vm_atoms, _v_atoms, _others, _numbers))


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_expressions_2d, second=_expressions_2d)
def test_round_trip_with_2d_tables(first, second):
    """With ranges for v and m, what varies with both and does not factor becomes a 2-D
    table (in h's equation; in m's own, m stays with the integrator), called with both
    axes, and substituting the calls back gives the equations again."""
    model = Model((Equation("m", DIFF, first), Equation("h", DIFF, second)),
                  ROUND_TRIP_SYMBOLS, bounded=("v", "m"))
    found = _round_trip(model)
    for candidate in found.tabulatable:
        if len(candidate.axes) == 2:
            assert candidate.variables == ("v", "m") and candidate.origins == ("h",)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(first=_expressions)
def test_round_trip_with_an_excluded_equation(first):
    model = Model((Equation("m", DIFF, first), Equation("h", DIFF, first.xreplace({m: h}))),
                  ROUND_TRIP_SYMBOLS, excluded=frozenset({"h"}))
    found = _round_trip(model)
    assert all(s.equation == "m" for s in found.sites)
    assert not [c for c in found.candidates if c.origins == ("h",) and c.tabulatable]
    # What h would have tabulated is reported as excluded by the user, and nothing else is.
    alone = find_candidates(Model((model.equations[1],), ROUND_TRIP_SYMBOLS))
    excluded = [c.expression for c in found.candidates if c.reason == "excluded by the user"]
    assert sorted(map(str, excluded)) == sorted(str(c.expression) for c in alone.tabulatable)


# -- autolut.report on Brian2 groups -----------------------------------------------------

def _report(group, **options):
    import autolut
    before = str(group.user_equations)
    namespace_before = dict(group.namespace)
    result = autolut.report(group, **options)
    assert str(group.user_equations) == before, "report must not modify the group"
    assert dict(group.namespace).keys() == namespace_before.keys()
    assert getattr(group, "_autolut", None) is None
    json.dumps(result.to_dict())
    str(result)
    return result


def _check_tabulated_row(row, unit):
    from brian2 import Quantity
    from brian2.units.fundamentalunits import have_same_dimensions
    assert row.tabulated and row.reason == ""
    for bound in (row.low, row.high, row.step):
        assert isinstance(bound, Quantity) and have_same_dimensions(bound, unit)
    assert row.low < row.high
    assert row.points >= 2
    average_step = float(row.high - row.low) / (row.points - 1)
    if row.segments == 1:
        assert float(row.step) == pytest.approx(average_step)
    else:  # piecewise uniform: the smallest step is reported
        assert float(row.step) < average_step
    assert row.nbytes == 16 * row.points
    assert float(row.max_error) >= 0
    assert row.relative_error <= row.tolerance
    assert row.cost > LOOKUP_COST and row.saved_operations == row.cost - LOOKUP_COST


def _check_untabulated_row(row, reason):
    assert not row.tabulated
    assert reason in row.reason
    assert row.low is None and row.high is None and row.step is None
    assert row.max_error is None and row.points == 0 and row.saved_operations == 0


def test_report_traub_miles(numpy_target):
    from brian2 import mV
    from models import traub_miles
    group = traub_miles(2)
    result = _report(group, integration_tables=False)
    assert len(result.candidates) == 6 and len(result.tabulated) == 6
    assert sorted(row.name for row in result.candidates) == ["h", "h", "m", "m", "n", "n"]
    for row in result.candidates:
        _check_tabulated_row(row, mV)
        assert row.variable == "v"
        assert "exprel" in row.expression or "exp" in row.expression
        # the model's lowest and highest potentials, EK = -90 mV and ENa = 50 mV, +- 20 mV
        assert float(row.low) == pytest.approx(-0.11) and float(row.high) == pytest.approx(0.07)
    assert result.axes == ("v in [-110, 70] mV (the model's values EK .. ENa with a margin of "
                           "20 mV); the neuron lives in [-90, 50] mV",)
    # All tables of an axis share one grid.
    assert len({row.points for row in result.candidates}) == 1


def test_report_wang_buzsaki(numpy_target):
    from brian2 import mV
    from models import wang_buzsaki
    group = wang_buzsaki(2)
    result = _report(group, integration_tables=False)
    names = sorted(row.name for row in result.tabulated)
    # The h and n rates, and (as in the analysis case above; the model uses Euler) the
    # sodium factor -gNa*m_inf**3*(v - ENa) of dv/dt, which makes the m_inf, alpha_m
    # and beta_m tables unnecessary; nothing from the h and n equations.
    assert names == sorted(["alpha_h", "beta_h", "alpha_n", "beta_n", "v"])
    m_inf = [row for row in result.candidates if row.name == "m_inf"][0]
    assert "exp" in m_inf.expression and "alpha_m" not in m_inf.expression
    assert not m_inf.tabulated and "not needed" in m_inf.reason
    for row in result.tabulated:
        _check_tabulated_row(row, mV)


def test_report_hh_temperature_treats_q10_as_a_constant(numpy_target):
    from brian2 import mV
    from models import hh_temperature
    group = hh_temperature(2)
    result = _report(group, integration_tables=False)
    assert len(result.candidates) == 6 and len(result.tabulated) == 6
    assert sorted(row.name for row in result.tabulated) == sorted(
        ["alpha_m", "beta_m", "alpha_h", "beta_h", "alpha_n", "beta_n"])
    for row in result.tabulated:
        _check_tabulated_row(row, mV)
        assert "q10" not in row.expression and "celsius" not in row.expression


def test_report_lif_has_no_rows(numpy_target):
    from models import lif
    result = _report(lif(2))
    assert result.candidates == () and result.tabulated == () and result.nbytes == 0
    assert result.to_dict()["candidates"] == []


def test_report_per_neuron_parameter_is_a_shift_of_the_voltage_axis(numpy_target):
    """Rates of v - VT with a per-neuron VT: one table each over the shifted axis, whose
    range is v's range shifted by the values VT takes."""
    from brian2 import NeuronGroup, mV
    from models import PER_NEURON_PARAMETER
    group = NeuronGroup(3, PER_NEURON_PARAMETER)
    group.VT = [-66, -63, -60] * mV
    result = _report(group)
    assert sorted(row.name for row in result.tabulated) == ["alpha_m", "beta_m"]
    assert {row.variable for row in result.candidates} == {"v - VT"}
    v = read_group(group, Options(), {}).axes["v"]
    low, high = v.low + 60e-3, v.high + 66e-3
    (shifted,) = result.axes
    assert shifted.startswith(f"v - VT in [{low * 1e3:g}, {high * 1e3:g}] mV (a shifted axis")
    for row in result.tabulated:
        assert (float(row.low), float(row.high)) == pytest.approx((low, high))
        assert row.relative_error <= row.tolerance


def test_report_time_and_noise(numpy_target):
    from brian2 import NeuronGroup, mV
    from models import TIME_AND_NOISE
    result = _report(NeuronGroup(1, TIME_AND_NOISE))
    tabulated = result.tabulated
    assert [row.name for row in tabulated] == ["m", "m"]
    for row in tabulated:
        _check_tabulated_row(row, mV)
    exact = [row for row in result.candidates if not row.tabulated]
    assert len(exact) == 1 and exact[0].name == "v"
    _check_untabulated_row(exact[0], "rand()")
    assert "sin" in exact[0].expression


@pytest.mark.parametrize("with_range", [False, True])
def test_report_calcium_gated(numpy_target, with_range):
    from brian2 import NeuronGroup, mmolar
    from models import CALCIUM_GATED, CALCIUM_GATED_NAMESPACE, CALCIUM_RANGE
    group = NeuronGroup(1, CALCIUM_GATED, namespace=CALCIUM_GATED_NAMESPACE)
    options = dict(ranges={"Ca": CALCIUM_RANGE}) if with_range else {}
    result = _report(group, **options)
    assert len(result.candidates) == 1
    row = result.candidates[0]
    assert row.name == "q_inf" and row.variable == "Ca"
    assert "Ca**4.7" in row.expression
    if with_range:
        _check_tabulated_row(row, mmolar)
        assert row.low == CALCIUM_RANGE[0] and row.high == CALCIUM_RANGE[1]
        assert float(row.max_error) <= 1e-6  # dimensionless, spread below 1
    else:
        _check_untabulated_row(row, "no range")
        assert "'Ca'" in row.reason


def test_report_to_dict_is_plain_data(numpy_target):
    from models import hh_temperature
    result = _report(hh_temperature(2), integration_tables=False)
    data = result.to_dict()
    again = json.loads(json.dumps(data))
    assert again == data
    assert data["group"] == result.group and data["tolerance"] == result.tolerance
    assert data["table_bytes"] == result.nbytes > 0
    first = data["candidates"][0]
    for key in ("name", "expression", "variable", "low", "high", "step", "points",
                "max_error", "tabulated", "reason", "saved_operations"):
        assert key in first
    assert isinstance(first["low"], float) and first["low_unit"]
    assert first["low"] == pytest.approx(-0.097)  # EK = -77 mV, minus 20 mV


def test_report_tolerance_and_exclude_options(numpy_target):
    from models import hh_temperature
    coarse = _report(hh_temperature(2), tolerance=1e-3, integration_tables=False)
    fine = _report(hh_temperature(2), integration_tables=False)
    assert coarse.candidates[0].points < fine.candidates[0].points
    assert all(row.relative_error <= 1e-3 for row in coarse.tabulated)
    excluded = _report(hh_temperature(2), exclude=["alpha_m"], integration_tables=False)
    rows = [row for row in excluded.candidates if row.name == "alpha_m"]
    assert len(rows) == 1
    _check_untabulated_row(rows[0], "excluded by the user")
    assert len(excluded.tabulated) == 5


def _gate_rows(result):
    return [row for row in result.candidates
            if row.name.endswith(("(steady state)", "(step factor)"))]


def test_report_traub_miles_with_integration_tables(numpy_target):
    """exponential_euler group: every gate gets a steady-state and a step-factor table, and
    the rates written inline in the gate equations get none."""
    from brian2 import mV
    from models import traub_miles
    result = _report(traub_miles(2))
    gates = _gate_rows(result)
    assert sorted(row.name for row in gates) == sorted(
        f"{x} ({part})" for x in "mhn" for part in ("steady state", "step factor"))
    assert result.tabulated == tuple(gates)
    for row in gates:
        _check_tabulated_row(row, mV)
    factors = [row for row in gates if row.name.endswith("(step factor)")]
    assert all("dt" in row.expression for row in factors)
    rates = [row for row in result.candidates if row not in gates]
    assert len(rates) == 6
    for row in rates:
        _check_untabulated_row(row, "only used in the equation of")


def test_report_hh_temperature_with_integration_tables(numpy_target):
    from brian2 import mV
    from models import hh_temperature
    result = _report(hh_temperature(2))
    gates = _gate_rows(result)
    assert len(gates) == 6
    for row in gates:
        _check_tabulated_row(row, mV)
        assert "celsius" in row.expression  # q10 is baked in as a constant


def test_report_hh_temperature_default_builds_only_the_six_gate_tables(numpy_target):
    from models import hh_temperature
    result = _report(hh_temperature(2))
    assert len(result.tabulated) == 6
    assert [row.name for row in result.tabulated] == [row.name for row in _gate_rows(result)]


def test_report_linear_lif_with_rc_has_no_tables(numpy_target):
    from brian2 import Mohm, NeuronGroup, mV, pfarad
    group = NeuronGroup(1, "dv/dt = (EL - v)/(R*C) : volt", method="exact",
                        namespace=dict(EL=-65 * mV, R=100 * Mohm, C=100 * pfarad))
    assert _report(group).tabulated == ()


def test_int_of_a_comparison_is_pure(numpy_target):
    """Brian2's int() is int_ in sympy: piecewise rates (Destexhe et al. 1998) are not
    mistaken for random functions."""
    import autolut
    from brian2 import NeuronGroup
    group = NeuronGroup(1, """
        dh/dt = (1/(1 + exp((v/mV + 80)/4)) - h)/tau_h : 1
        tau_h = (int(v < -81*mV)*exp((v/mV + 466)/66.6)
                 + int(v >= -81*mV)*(28 + exp(-(v/mV + 21)/10.5)))*ms : second
        dv/dt = (-65*mV - v)/(10*ms) : volt""", method="euler")
    reasons = [row.reason for row in autolut.report(group).candidates]
    assert not any("random" in reason for reason in reasons), reasons
