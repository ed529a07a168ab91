"""End-to-end runs on the numpy target: optimized groups against the exact models.

Every simulation uses an explicit `Network`, so the module-scoped reference runs
(shared between tests, because the exact models are slow on numpy) never leak
into another test's magic network.

Note on ``wang_buzsaki``: Brian2's exponential Euler refuses the *exact* model
(``m_inf**3*(v - ENa)`` is not conditionally linear in ``v``), so the exact and
optimized runs of that model both use ``method='euler'`` (given explicitly).

The exact reference runs call brian2's ``exprel`` without its slow unit-checking
wrapper (see `fast_exprel`); the values are bitwise the same.
"""

from __future__ import annotations

import contextlib
import dataclasses

import numpy as np
import pytest
from brian2 import (Network, NeuronGroup, Quantity, SpikeMonitor, StateMonitor, Synapses,
                    defaultclock, mV, ms, prefs, run, second)
from brian2.codegen.runtime.numpy_rt import NumpyCodeObject
from brian2.core.functions import DEFAULT_FUNCTIONS, FunctionImplementation
from brian2.units import unitsafefunctions as unitsafe
from brian2.units.fundamentalunits import get_dimensions

import autolut
from autolut.lutfunction import LUTFunction
from autolut.options import OptionsError

from models import hh_temperature, traub_miles, wang_buzsaki

N = 100
DURATION = 200 * ms
RECORD = list(range(0, N, 3))          # v traces of every third neuron
MODELS = {
    "traub_miles": (traub_miles, {}),
    "wang_buzsaki": (wang_buzsaki, {"method": "euler"}),  # see the module docstring
    "hh_temperature": (hh_temperature, {}),
}


@pytest.fixture(autouse=True)
def _numpy(numpy_target):
    defaultclock.dt = 0.01 * ms


@dataclasses.dataclass
class Result:
    counts: np.ndarray
    trains: dict          # neuron index -> spike times (s, plain floats)
    t: np.ndarray         # s
    v: np.ndarray         # V, one row per neuron of RECORD


def simulate(group, duration=DURATION, record=RECORD) -> Result:
    assert prefs.codegen.target == "numpy"
    spikes = SpikeMonitor(group)
    states = StateMonitor(group, "v", record=record)
    Network(group, spikes, states).run(duration)
    return Result(np.array(spikes.count[:]),
                  {i: np.asarray(ts / second) for i, ts in spikes.spike_trains().items()},
                  np.array(states.t_[:]), np.array(states.v_[:]))


def build(model, n=N, **kwargs):
    builder, defaults = MODELS[model]
    return builder(n, **{**defaults, **kwargs})


@contextlib.contextmanager
def fast_exprel():
    """Call brian2's exprel without its unit-checking numpy wrapper.

    The wrapper formats its (unused) error messages eagerly, printing the whole
    argument array on every call: the exact hh_temperature model then takes
    ~50 s per 200 ms on numpy instead of ~3 s. The function called is the same
    (``unitsafe.exprel``, which starts with ``np.asarray(x)``), so the values are
    bitwise the same; only the exact reference runs use this.
    """
    implementations = DEFAULT_FUNCTIONS["exprel"].implementations._implementations
    saved = dict(implementations)
    implementations.pop(NumpyCodeObject, None)
    implementations["numpy"] = FunctionImplementation(
        name=None, code=unitsafe.exprel._orig_func, dependencies=None, compiler_kwds=None)
    try:
        yield
    finally:
        implementations.clear()
        implementations.update(saved)


class References:
    """Exact-model runs, each computed once per module and only when needed."""

    def __init__(self):
        self._cache = {}

    def get(self, model, duration=DURATION, namespace=None, dt=0.01 * ms, **kwargs):
        namespace = namespace or {}
        key = (model, float(duration), float(dt),
               tuple(sorted((k, float(v)) for k, v in namespace.items())),
               tuple(sorted(kwargs.items())))
        if key not in self._cache:
            group = build(model, **kwargs)
            group.namespace.update(namespace)
            old_dt = defaultclock.dt
            defaultclock.dt = dt
            try:
                with fast_exprel():
                    self._cache[key] = simulate(group, duration)
            finally:
                defaultclock.dt = old_dt
        return self._cache[key]


@pytest.fixture(scope="module")
def exact():
    return References()


def lut_functions(group) -> dict:
    return {name: value for name, value in group.namespace.items()
            if isinstance(value, LUTFunction)}


def code_of(group) -> str:
    return str(group.state_updater.codeobj.code)


def state_of(group):
    """Everything `optimize` may change and `restore` must put back."""
    return (str(group.user_equations), str(group.equations), group.state_updater.method_choice,
            set(group.namespace), list(group.contained_objects),
            {name: var.expr for name, var in group.variables.items() if hasattr(var, "expr")})


# -- 1. optimized vs exact -------------------------------------------------------------------

@pytest.mark.parametrize("model", list(MODELS))
def test_optimized_matches_exact(model, exact):
    reference = exact.get(model)
    group = autolut.optimize(build(model))
    assert lut_functions(group), "nothing was tabulated"
    optimized = simulate(group)
    assert "lut_" in code_of(group)          # the tables really ran

    assert reference.counts.min() == 0 and reference.counts.max() >= 10, reference.counts
    np.testing.assert_array_equal(optimized.counts, reference.counts)

    margin = 1e-3  # compare the subthreshold trajectory, up to 1 ms before the first spike
    for row, i in enumerate(RECORD):
        train = reference.trains[i]
        first = train[0] if len(train) else np.inf
        before = reference.t < first - margin
        assert before.any()
        difference = np.max(np.abs(optimized.v[row][before] - reference.v[row][before]))
        # Tables err by up to 1e-6 of their function's spread; Wang-Buzsaki's table of
        # the whole Na current factor spans so much that near rest this moves v by
        # up to ~0.2 mV (measured: 0.19 mV) over the run, while spike counts stay equal.
        assert difference < 0.3e-3, f"neuron {i}: v differs by {difference * 1e3:.3g} mV"


# -- 2. objects created before optimize -----------------------------------------------------

def _source_target_synapses():
    source = traub_miles(20)
    target = NeuronGroup(20, "v : volt", name="target*")
    synapses = Synapses(source, target, on_pre="v_post += 1*mV")
    synapses.connect(j="i")
    spikes = SpikeMonitor(source)
    states = StateMonitor(source, "v", record=[0, 19])
    return source, target, synapses, spikes, states


def test_objects_created_before_optimize_keep_working():
    source, target, synapses, spikes, states = _source_target_synapses()
    network = Network(source, target, synapses, spikes, states)
    assert autolut.optimize(source) is source
    network.run(50 * ms)

    assert "lut_" in code_of(source)
    assert all(obj.active for obj in network.sorted_objects)
    assert spikes.num_spikes > 0
    counts = np.array(spikes.count[:])
    assert counts.max() > 0 and counts.min() == 0
    np.testing.assert_allclose(np.asarray(target.v / mV), counts, rtol=0, atol=1e-9)
    assert states.v.shape == (2, 5000)
    assert np.asarray(states.v[1] / mV).max() > 0      # neuron 19 spiked (recorded peak)


def test_objects_created_before_optimize_magic_network():
    source, target, synapses, spikes, states = _source_target_synapses()
    autolut.optimize(source)
    run(20 * ms)
    counts = np.array(spikes.count[:])
    assert counts.max() > 0
    np.testing.assert_allclose(np.asarray(target.v / mV), counts, rtol=0, atol=1e-9)
    assert states.v.shape == (2, 2000)
    assert all(obj.active for obj in (source, target, synapses, spikes, states))


def test_guard_runs_in_network_created_before_optimize():
    group = traub_miles(5)
    network = Network(group)
    autolut.optimize(group)
    before = {name: lut.table for name, lut in lut_functions(group).items()}
    group.namespace["VT"] = -60 * mV
    network.run(0.1 * ms)
    after = {name: lut.table for name, lut in lut_functions(group).items()}
    assert all(after[name] is not before[name] for name in before)


# -- 3. restore ----------------------------------------------------------------------------

def test_restore_gives_the_exact_model_back(exact):
    reference = exact.get("traub_miles")
    group = build("traub_miles")
    before = state_of(group)
    autolut.optimize(group)
    assert state_of(group) != before
    assert autolut.restore(group) is group
    assert state_of(group) == before
    assert getattr(group, "_autolut", None) is None

    restored = simulate(group)
    assert "lut_" not in code_of(group)
    np.testing.assert_array_equal(restored.counts, reference.counts)
    for i in range(N):
        np.testing.assert_array_equal(restored.trains[i], reference.trains[i])
    np.testing.assert_array_equal(restored.v, reference.v)     # bitwise


def test_optimize_run_restore_run(exact):
    reference = exact.get("wang_buzsaki")
    group = build("wang_buzsaki")
    before = state_of(group)
    spikes = SpikeMonitor(group)
    network = Network(group, spikes)

    autolut.optimize(group)
    assert state_of(group) != before
    network.run(DURATION / 2)
    assert "lut_" in code_of(group)

    autolut.restore(group)
    assert state_of(group) == before
    assert not lut_functions(group)
    network.run(DURATION / 2)
    assert "lut_" not in code_of(group)
    np.testing.assert_array_equal(np.array(spikes.count[:]), reference.counts)
    assert autolut.restore(group) is group   # restoring twice does nothing


def test_optimize_again_after_restore(exact):
    reference = exact.get("traub_miles")
    group = build("traub_miles")
    autolut.optimize(group)
    first = lut_functions(group)
    autolut.restore(group)
    autolut.optimize(group)
    second = lut_functions(group)
    assert second.keys() == first.keys()
    assert all(second[name] is not first[name] for name in first)
    assert sum(type(obj).__name__ == "TableGuard" for obj in group.contained_objects) == 1
    result = simulate(group)
    assert "lut_" in code_of(group)
    np.testing.assert_array_equal(result.counts, reference.counts)


# -- 4. optimize twice ------------------------------------------------------------------------

@pytest.mark.parametrize("builder", [wang_buzsaki, traub_miles])
def test_optimize_twice_does_nothing_the_second_time(builder):
    group = builder(5)
    autolut.optimize(group)
    functions = lut_functions(group)
    before = state_of(group)
    optimization = group._autolut
    assert autolut.optimize(group, tolerance=1e-3) is group
    assert lut_functions(group).keys() == functions.keys()
    assert all(lut_functions(group)[name] is functions[name] for name in functions)
    assert state_of(group) == before
    assert group._autolut is optimization


# -- 5. constants changed after optimize -----------------------------------------------------

def test_changed_celsius_after_optimize(exact):
    reference_20 = exact.get("hh_temperature", celsius=20)
    reference_63 = exact.get("hh_temperature")                     # shared with test 1
    group = autolut.optimize(build("hh_temperature", celsius=6.3))
    tables = {name: lut.table for name, lut in lut_functions(group).items()}
    uses_celsius = {row.name for row in autolut.report(group).tabulated
                    if "celsius" in row.expression}
    group.namespace["celsius"] = 20
    result = simulate(group)
    functions = list(group._autolut.functions.items())
    rebuilt = {name for name, lut in functions if lut.table is not tables[name]}
    # exactly the tables whose expression contains celsius were rebuilt (the report
    # lists the tabulated rows in the order of the functions)
    rows = autolut.report(group).tabulated
    assert len(rows) == len(functions)
    assert rebuilt == {name for (name, _), row in zip(functions, rows) if row.name in uses_celsius}
    np.testing.assert_array_equal(result.counts, reference_20.counts)
    assert not np.array_equal(result.counts, reference_63.counts)
    assert reference_20.counts.max() > reference_63.counts.max()


def test_changed_tabulated_constant_after_optimize(exact):
    new_vt = -60 * mV
    reference = exact.get("traub_miles", namespace={"VT": new_vt})
    reference_default = exact.get("traub_miles")
    group = autolut.optimize(build("traub_miles"))
    tables = {name: lut.table for name, lut in lut_functions(group).items()}
    report = autolut.report(group)
    assert all("VT" in row.expression for row in report.tabulated)
    group.namespace["VT"] = new_vt
    result = simulate(group)
    for name, lut in lut_functions(group).items():
        assert lut.table is not tables[name]
        assert not np.array_equal(lut.table.values, tables[name].values)
        assert lut.table.relative_error <= report.tolerance
    np.testing.assert_array_equal(result.counts, reference.counts)
    assert not np.array_equal(result.counts, reference_default.counts)


def test_changed_dt_after_optimize(exact):
    """The exponential-Euler step-factor tables depend on dt; they must follow it."""
    new_dt = 0.02 * ms
    reference = exact.get("traub_miles", dt=new_dt)
    reference_default = exact.get("traub_miles")
    group = autolut.optimize(build("traub_miles"))
    tables = {name: lut.table for name, lut in lut_functions(group).items()}
    defaultclock.dt = new_dt
    result = simulate(group)
    assert len(result.t) == int(round(float(DURATION / new_dt)))
    factor_rows = [row for row in autolut.report(group).tabulated if "dt" in row.expression]
    rebuilt = [name for name, lut in lut_functions(group).items() if lut.table is not tables[name]]
    assert len(rebuilt) == len(factor_rows)
    np.testing.assert_array_equal(result.counts, reference.counts)
    assert not np.array_equal(reference.counts, reference_default.counts)


# -- 6. the decorator --------------------------------------------------------------------------

def _is_optimized(group):
    return getattr(group, "_autolut", None) is not None and bool(lut_functions(group))


def test_decorator_on_a_group():
    @autolut.optimized(tolerance=1e-5)
    def make():
        """Docstring."""
        return traub_miles(3)

    group = make()
    assert isinstance(group, NeuronGroup) and _is_optimized(group)
    assert autolut.report(group).tolerance == 1e-5
    assert make.__name__ == "make" and make.__doc__ == "Docstring."


def test_decorator_on_a_tuple_list_and_dict():
    monitors = []

    @autolut.optimized()
    def make_tuple():
        group = wang_buzsaki(3)
        monitors.append(SpikeMonitor(group))
        return group, monitors[-1]

    group, monitor = make_tuple()
    assert _is_optimized(group)
    assert monitor is monitors[-1] and getattr(monitor, "_autolut", None) is None

    @autolut.optimized()
    def make_list():
        return [traub_miles(2), "label", 42]

    built = make_list()
    assert isinstance(built, list) and _is_optimized(built[0]) and built[1:] == ["label", 42]

    @autolut.optimized()
    def make_dict():
        group = hh_temperature(3)
        monitors.append(SpikeMonitor(group))
        return {"group": group, "spikes": monitors[-1], "n": 3}

    built = make_dict()
    assert set(built) == {"group", "spikes", "n"}
    assert _is_optimized(built["group"])
    assert built["spikes"] is monitors[-1] and built["n"] == 3


def test_decorator_on_a_network_and_other_objects():
    parts = {}

    @autolut.optimized()
    def make_network():
        parts["group"] = traub_miles(3)
        parts["plain"] = NeuronGroup(2, "dv/dt = -v/(10*ms) : volt", name="plain*")
        parts["spikes"] = SpikeMonitor(parts["group"])
        parts["network"] = Network(parts["group"], parts["plain"], parts["spikes"])
        return parts["network"]

    network = make_network()
    assert network is parts["network"]
    assert _is_optimized(parts["group"])
    assert not lut_functions(parts["plain"])    # nothing to tabulate in a linear model
    assert set(network.objects) >= {parts["group"], parts["plain"], parts["spikes"]}
    network.run(0.5 * ms)

    @autolut.optimized()
    def make_number():
        return 42

    assert make_number() == 42


# -- 7. report -----------------------------------------------------------------------------------

@pytest.mark.parametrize("model", list(MODELS))
def test_report_of_an_optimized_group(model):
    dry_run = autolut.report(build(model, n=3))
    group = autolut.optimize(build(model, n=3))
    report = autolut.report(group)
    assert report is group._autolut.report
    assert report.tabulated
    assert len(lut_functions(group)) == len(report.tabulated)
    for row in report.candidates:
        if not row.tabulated:
            assert row.reason and row.points == 0 and row.max_error is None, row
            if "integrated with its own tables" in row.reason:   # exponential-Euler gates
                gate = row.name.split(",")[0]
                assert {f"{gate} (steady state)", f"{gate} (step factor)"} <= \
                    {r.name for r in report.tabulated}
            continue
        assert row.reason == ""
        assert row.relative_error <= report.tolerance == autolut.options.DEFAULT_TOLERANCE
        assert row.points >= 2 and row.low < row.high
        assert row.low <= row.worst <= row.high
    # the dry run of an identical group predicts the same tables
    assert [row.to_dict() for row in dry_run.candidates] == \
        [row.to_dict() for row in report.candidates]


# -- 8. errors leave the group unchanged ---------------------------------------------------------

@pytest.mark.parametrize("options, words", [
    (dict(tolerence=1e-6), ["tolerence"]),
    (dict(ranges={"v": (0 * second, 1 * second)}), ["unit"]),
    (dict(ranges={"v": (80 * mV, -120 * mV)}), ["low < high"]),
    (dict(ranges={"w": (-100 * mV, 50 * mV)}), ["'w'"]),
    (dict(exclude=["alpha_x"]), ["alpha_x"]),
    (dict(tolerance=2.0), ["tolerance"]),
    # the form of every option, with what to write instead (issue 12)
    (dict(ranges=(-100 * mV, 50 * mV)), ["ranges must be a dict", "ranges={'v'"]),
    (dict(step=0.01 * mV), ["step must be a dict"]),
    (dict(max_points=0), ["max_points must be an integer of at least 2"]),
    (dict(max_points=1e6), ["max_points must be an integer", "1000000.0"]),
    (dict(min_cost=-1), ["min_cost"]),
    (dict(tolerance=True), ["tolerance must be a number"]),
    (dict(tolerance="1e-6"), ["tolerance must be a number"]),
    (dict(integration_tables="yes"), ["integration_tables must be True or False"]),
    (dict(exclude=3), ["exclude must be a list"]),
    (dict(namespace=[1]), ["namespace must be a dict"]),
])
def test_bad_options_leave_the_group_unchanged(options, words):
    group = wang_buzsaki(3)
    user_equations, equations = str(group.user_equations), str(group.equations)
    namespace = dict(group.namespace)
    contained = list(group.contained_objects)
    with pytest.raises(OptionsError) as error:
        autolut.optimize(group, **options)
    for word in words:
        assert word in str(error.value)
    assert str(group.user_equations) == user_equations
    assert str(group.equations) == equations
    assert group.namespace == namespace
    assert group.contained_objects == contained
    assert getattr(group, "_autolut", None) is None
    with pytest.raises(OptionsError):
        autolut.report(group, **options)


# -- 9. exclude ----------------------------------------------------------------------------

def _rewritten(group) -> dict:
    return {name: str(eq.expr) for name, eq in group.user_equations.items()
            if eq.expr is not None}


def test_exclude_keeps_that_equation(exact):
    reference = exact.get("wang_buzsaki")
    plain = build("wang_buzsaki", n=3)
    original = _rewritten(plain)
    autolut.optimize(plain)
    rewritten_plain = {name for name, expr in _rewritten(plain).items() if expr != original[name]}

    group = build("wang_buzsaki")
    autolut.optimize(group, exclude=["alpha_m"])
    rewritten = {name for name, expr in _rewritten(group).items() if expr != original[name]}
    assert _rewritten(group)["alpha_m"] == original["alpha_m"]
    assert "lut_alpha_m" not in group.namespace
    assert rewritten
    # everything not computed from alpha_m is rewritten as without the exclusion
    assert rewritten_plain - {"alpha_m", "m_inf", "v"} <= rewritten
    rows = {row.name: row for row in autolut.report(group).candidates}
    assert not rows["alpha_m"].tabulated and "exclude" in rows["alpha_m"].reason
    result = simulate(group)
    np.testing.assert_array_equal(result.counts, reference.counts)


def test_exclude_a_gate():
    group = traub_miles(3)
    equations = str(group.user_equations)
    autolut.optimize(group, exclude=["m"])
    assert str(group.user_equations) == equations
    assert not any(name.startswith("lut_m") for name in group.namespace)
    assert any(name.startswith("lut_h") for name in group.namespace)
    method = group.state_updater.method_choice
    gates = {gate[0] for gate in getattr(method, "gates", ())}
    assert gates == {"h", "n"}
    for row in autolut.report(group).candidates:
        if row.name.startswith("m"):
            assert not row.tabulated and "exclude" in row.reason, row
        else:
            assert row.tabulated == row.name.endswith(")"), row   # gate tables only


# -- 10. the numpy implementation ---------------------------------------------------------------

WANG_BUZSAKI_RATES = {  # v in volt, rates in Hz (the formulas of tests/models.py)
    "alpha_m": lambda v: -0.1e3 * (v + 35e-3) / (np.exp(-0.1e3 * (v + 35e-3)) - 1) * 1e3,
    "beta_m": lambda v: 4 * np.exp(-(v + 60e-3) / 18e-3) * 1e3,
    "alpha_h": lambda v: 0.07 * np.exp(-(v + 58e-3) / 20e-3) * 1e3,
    "beta_h": lambda v: 1.0 / (np.exp(-0.1e3 * (v + 28e-3)) + 1) * 1e3,
    "alpha_n": lambda v: -0.01e3 * (v + 34e-3) / (np.exp(-0.1e3 * (v + 34e-3)) - 1) * 1e3,
    "beta_n": lambda v: 0.125 * np.exp(-(v + 44e-3) / 80e-3) * 1e3,
}


def _off_singular_points(voltages):
    """Drop voltages within 1 nV of a whole millivolt (the rates' 0/0 points are there)."""
    return voltages[np.abs(voltages - np.round(voltages, 3)) > 1e-9]


def _brian_values(expression, dimensions, namespace, voltages):
    """`expression` (a function of v) evaluated by Brian2 itself, in SI units."""
    namespace = {key: value for key, value in namespace.items()
                 if not isinstance(value, LUTFunction)}
    namespace["yunit"] = Quantity(1, dim=dimensions)
    probe = NeuronGroup(len(voltages), f"v : volt\ny = ({expression})/yunit : 1",
                        namespace=namespace, name="probe*")
    probe.v_[:] = voltages
    with np.errstate(invalid="ignore", divide="ignore"):   # 0/0 exactly at singular points
        return np.asarray(probe.y[:], dtype=float)


def test_numpy_implementation_is_registered_and_accurate():
    group = wang_buzsaki(2000)
    original = _rewritten(group)
    autolut.optimize(group)
    report = autolut.report(group)
    low, high = (float(bound) for bound in (report.tabulated[0].low, report.tabulated[0].high))
    rng = np.random.default_rng(1)
    voltages = _off_singular_points(np.sort(rng.uniform(low, high, 2000)))
    dense = np.linspace(low, high, 100001)
    group.v_[:len(voltages)] = voltages
    functions = list(group._autolut.functions.items())   # in the order of report.tabulated
    assert len(functions) == len(report.tabulated) > 0

    looked_up = {}
    for (name, lut), row in zip(functions, report.tabulated):
        assert group.namespace[name] is lut and row.points == lut.table.points
        implementation = lut.implementations["numpy"]
        assert lut.implementations[NumpyCodeObject] is implementation
        values = implementation.get_code(group)(voltages)
        assert type(values) is np.ndarray and values.shape == voltages.shape
        assert values.dtype == np.float64
        looked_up[name] = values
        # the lookup is linear interpolation in the table (on its grid, uniform or not)
        table = lut.table
        np.testing.assert_allclose(values, np.interp(voltages, table.x, table.values),
                                   rtol=1e-12, atol=1e-12 * table.scale.floor)
        # ... and as close to Brian2's own evaluation of the expression as the tolerance
        # says, relative to the value (at least to its largest value where the neuron lives)
        dimensions = get_dimensions(row.max_error)
        exact_values = _brian_values(row.expression, dimensions, group.namespace, voltages)
        error = np.abs(values - exact_values)
        assert np.max(error / table.scale.at(exact_values)) <= report.tolerance, row.name
        assert np.max(error) <= float(row.max_error) * (1 + 1e-6) + 1e-12 * table.scale.floor
        exact_dense = _brian_values(row.expression, dimensions, group.namespace, dense)
        assert table.scale.floor <= np.nanmax(np.abs(exact_dense)) * (1 + 1e-9)

    # subexpressions replaced by a lookup read through the table
    replaced = [name for name, expr in _rewritten(group).items()
                if expr == f"lut_{name}(v)" and expr != original[name]]
    assert replaced
    for name in replaced:
        np.testing.assert_array_equal(np.asarray(getattr(group, name)[:len(voltages)]),
                                      looked_up[f"lut_{name}"])

    # against the formulas of the paper and Brian2's exact reads after restore
    autolut.restore(group)
    checked = 0
    for name, formula in WANG_BUZSAKI_RATES.items():
        exact_values = np.asarray(getattr(group, name)[:len(voltages)])  # Brian2's evaluation
        np.testing.assert_allclose(exact_values, formula(voltages), rtol=1e-9)
        if f"lut_{name}" in looked_up:
            checked += 1
            table = dict(functions)[f"lut_{name}"].table
            error = np.abs(looked_up[f"lut_{name}"] - exact_values)
            assert np.max(error / table.scale.at(exact_values)) <= report.tolerance, name
    assert checked > 0


def test_defaults_come_from_brian_preferences():
    from brian2 import prefs
    from autolut.options import Options
    assert Options.from_keywords().tolerance == prefs.autolut.tolerance == 1e-6
    prefs.autolut.tolerance = 1e-4
    try:
        assert Options.from_keywords().tolerance == 1e-4
        assert Options.from_keywords(tolerance=1e-5).tolerance == 1e-5
        coarse = autolut.report(traub_miles(2))
        assert coarse.tolerance == 1e-4
        assert max(row.points for row in coarse.tabulated) < 2000
    finally:
        prefs.autolut.tolerance = 1e-6


def test_units_lost_by_sympy_keep_the_exact_form():
    """Sympy turns clip(x, 0*mV, inf*mV) into clip(x, 0, oo), which fails Brian2's unit
    check: a candidate like that stays exact, and so does an equation that would only be
    rewritten around it."""
    from brian2 import NeuronGroup, run
    group = NeuronGroup(2, """
        dw/dt = (clip(w + 63*mV, 0*mV, inf*mV) + 10*mV*exp(v/(20*mV)) - w)/ms : volt
        dtheta/dt = (-55*mV + 0.8*clip(v + 63*mV, 0*mV, inf*mV) - theta)/(5*ms) : volt
        dv/dt = (-65*mV - v)/(10*ms) : volt""", method="euler")
    w_equation = str(group.user_equations["w"].expr)
    rows = {row.name: row for row in autolut.report(group).candidates}
    assert not rows["theta"].tabulated and "unit cannot be checked" in rows["theta"].reason
    autolut.optimize(group)
    assert str(group.user_equations["w"].expr) == w_equation
    run(0.1 * ms)
