"""`validate`: the exact and the optimized model side by side, from identical state and inputs.

NEURON users learned that toggling tables changes spike counts (931 vs 928 in
nrn#1764); `validate` makes that comparison one call. It builds the model twice
with the user's builder (same random seed), optimizes the second copy, runs both
on the current target (or cpp_standalone), and compares spike counts, spike
times and state traces, with the speed ratio next to them.
"""

from __future__ import annotations

import dataclasses
import functools
import numbers
import sys
import tempfile
import time
from collections.abc import Mapping

import numpy as np
from brian2 import (Network, NeuronGroup, SpikeMonitor, StateMonitor, device,
                    second, seed, set_device)
from brian2.equations.equations import DIFFERENTIAL_EQUATION
from brian2.units.fundamentalunits import Quantity, get_unit, have_same_dimensions

from .api import _optimize_all, brian_objects, report
from .options import Options, OptionsError, display_unit

__all__ = ["validate", "Validation", "GroupComparison"]


@dataclasses.dataclass(frozen=True)
class GroupComparison:
    """Exact vs optimized for one NeuronGroup of the model."""

    group: str
    neurons: int
    same_counts: int              # neurons with identical spike counts
    spikes_exact: int
    spikes_optimized: int
    mean_shift: Quantity          # spike-time shifts of neurons with identical counts
    max_shift: Quantity
    trace_rms: dict               # variable -> RMS difference of the recorded traces
    trace_max: dict               # variable -> maximum absolute difference


@dataclasses.dataclass(frozen=True)
class Validation:
    """The result of `validate`; ``print(result)`` shows it, ``result.passed`` judges it."""

    groups: tuple[GroupComparison, ...]
    exact_time: float
    optimized_time: float
    failures: tuple[str, ...]
    simulated: tuple[str, ...] = ()  # every object of the model that ran, with its class
    reports: tuple = ()  # the autolut report of every optimized group (after the run)

    @property
    def speedup(self) -> float:
        return self.exact_time / self.optimized_time

    @property
    def passed(self) -> bool:
        return not self.failures

    def __str__(self) -> str:
        lines = [f"autolut validation: exact {self.exact_time:.3f} s, optimized "
                 f"{self.optimized_time:.3f} s, speed ratio {self.speedup:.2f}x"]
        if self.simulated:
            lines.append(f"  simulated (both copies): {', '.join(self.simulated)}")
        for g in self.groups:
            lines.append(f"  {g.group}: identical spike counts in {g.same_counts} of "
                         f"{g.neurons} neurons ({g.spikes_exact} vs {g.spikes_optimized} "
                         f"spikes); spike-time shift mean {g.mean_shift}, max {g.max_shift}")
            for name in g.trace_rms:
                lines.append(f"    {name}: trace difference RMS {g.trace_rms[name]}, "
                             f"max {g.trace_max[name]}")
        lines.append("PASS" if self.passed else "FAIL: " + "; ".join(self.failures))
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def validate(builder, duration, *, target=None, recorded_neurons=10, random_seed=4321,
             max_count_mismatch=0, max_shift=None, max_trace_error=None, **options):
    """Run the exact and the optimized model side by side and compare them.

    Parameters
    ----------
    builder : callable
        Builds the model. Called twice, after the same ``seed(random_seed)``, so
        random initial values and inputs are identical. Everything it creates
        takes part in the runs, as in Brian2's magic network: the objects it
        returns (alone, in a tuple, list, dict or `Network`) and those it keeps
        in its local variables (a ``PoissonGroup`` and ``Synapses`` feeding the
        returned group, say).
    duration : Quantity
        Simulated time of each run.
    target : str, optional
        ``'cpp_standalone'`` to run both on that device (in temporary
        directories); by default the current runtime target.
    recorded_neurons : int
        State traces are recorded for this many neurons per group, spread evenly.
    max_count_mismatch : int
        Pass only if at most this many neurons fire a different number of spikes.
    max_shift : Quantity, optional
        Pass only if no spike moves by more than this.
    max_trace_error : dict, optional
        ``{variable: Quantity}``: pass only if the traces differ by at most this.
        Every variable must be a state variable of a group of the model, in its
        unit.
    **options
        Options of `autolut.optimize` (``tolerance``, ``ranges``, ...).

    All arguments are checked before anything is simulated; `OptionsError` says
    what is wrong.

    Returns
    -------
    Validation

    Examples
    --------
    >>> from brian2 import NeuronGroup, mV, ms, prefs
    >>> import autolut
    >>> prefs.codegen.target = 'numpy'
    >>> def build():
    ...     group = NeuronGroup(3, '''dv/dt = (-65*mV - v)/(10*ms) + 20*mV*m/ms : volt
    ...         dm/dt = (1 - m)/exprel(-(v + 40*mV)/(10*mV))/ms
    ...                 - 4*m*exp(-(v + 65*mV)/(18*mV))/ms : 1''',
    ...                         threshold='v > -30*mV', reset='v = -65*mV', method='euler')
    ...     group.v = -65*mV
    ...     return group
    >>> result = autolut.validate(build, 5*ms, max_shift=0.1*ms)
    >>> result.passed, result.groups[0].same_counts
    (True, 3)
    """
    Options.from_keywords(**options)  # unknown or malformed options, before any run
    _check_arguments(duration, target, recorded_neurons, max_count_mismatch, max_shift,
                     max_trace_error)
    checks = functools.partial(_check_traces, max_trace_error or {})
    exact = _run(builder, duration, False, target, recorded_neurons, random_seed, options,
                 checks)
    fast = _run(builder, duration, True, target, recorded_neurons, random_seed, options)
    # The copies are built in the same order; the second gets other names (name_1, ...).
    groups = tuple(_compare(name, exact["groups"][name], optimized)
                   for name, optimized in zip(exact["groups"], fast["groups"].values()))
    failures = []
    for g in groups:
        if g.neurons - g.same_counts > max_count_mismatch:
            failures.append(f"{g.group}: {g.neurons - g.same_counts} neurons fire a different "
                            f"number of spikes (allowed: {max_count_mismatch})")
        if max_shift is not None and g.max_shift > max_shift:
            failures.append(f"{g.group}: a spike moved by {g.max_shift} (allowed: {max_shift})")
        for name, limit in (max_trace_error or {}).items():
            if name in g.trace_max and g.trace_max[name] > limit:
                failures.append(f"{g.group}: {name} differs by {g.trace_max[name]} "
                                f"(allowed: {limit})")
    return Validation(groups, exact["time"], fast["time"], tuple(failures), exact["objects"],
                      fast["reports"])


def _check_arguments(duration, target, recorded_neurons, max_count_mismatch, max_shift,
                     max_trace_error) -> None:
    """The arguments of `validate` that do not need the model, checked before any run."""
    def integer(value):
        return isinstance(value, numbers.Integral) and not isinstance(value, bool)

    problems = []
    if not (isinstance(duration, Quantity) and have_same_dimensions(duration, second)
            and float(duration) > 0):
        problems.append(f"duration must be a positive time, e.g. 200*ms, not {duration!r}")
    if target not in (None, "cpp_standalone"):
        problems.append(f"target must be None (the current runtime target) or "
                        f"'cpp_standalone', not {target!r}; for cython set "
                        f"prefs.codegen.target = 'cython'")
    if not integer(recorded_neurons) or recorded_neurons < 1:
        problems.append(f"recorded_neurons must be a positive integer, not "
                        f"{recorded_neurons!r}")
    if not integer(max_count_mismatch) or max_count_mismatch < 0:
        problems.append(f"max_count_mismatch must be a non-negative integer, not "
                        f"{max_count_mismatch!r}")
    if max_shift is not None and not (isinstance(max_shift, Quantity)
                                      and have_same_dimensions(max_shift, second)):
        problems.append(f"max_shift must be a time, e.g. 0.1*ms, not {max_shift!r}")
    if max_trace_error is not None and not isinstance(max_trace_error, Mapping):
        problems.append(f"max_trace_error must be a dict {{variable: limit}}, e.g. "
                        f"{{'v': 1*mV}}, not {max_trace_error!r}")
    if problems:
        raise OptionsError("autolut.validate: " + "; ".join(problems))


def _typical_magnitude(group, name) -> float:
    """The largest magnitude of the variable's current values (SI), or 0 where the device
    cannot tell before running (standalone)."""
    try:
        values = np.asarray(group.variables[name].get_value(), dtype=float)
    except NotImplementedError:
        return 0.0
    return float(np.max(np.abs(values), initial=0.0))


def _check_traces(max_trace_error, groups) -> None:
    """Every variable of `max_trace_error` is a state variable of a group of the model,
    and its limit has the variable's unit (checked on the exact copy, before it runs)."""
    problems = []
    for name, limit in max_trace_error.items():
        owners = [group for group in groups if name in _state_variables(group)]
        if not owners:
            known = sorted({v for group in groups for v in _state_variables(group)})
            problems.append(f"max_trace_error: no group of the model has a state variable "
                            f"'{name}'; they have {', '.join(known) or 'none'}")
            continue
        dimensions = owners[0].variables[name].dim
        if not have_same_dimensions(limit, Quantity(1, dim=dimensions)) \
                or not np.isfinite(float(limit)) or float(limit) < 0:
            _, unit = display_unit(get_unit(dimensions), _typical_magnitude(owners[0], name))
            problems.append(f"max_trace_error['{name}'] must be a non-negative limit in "
                            f"{get_unit(dimensions)!r}, e.g. 1*{unit}, not {limit!r}")
    if problems:
        raise OptionsError("autolut.validate: " + "; ".join(problems))


def _state_variables(group) -> list[str]:
    return [eq.varname for eq in group.user_equations.values()
            if eq.type == DIFFERENTIAL_EQUATION]


def _built(builder):
    """Call `builder`; return what it returned and the Brian2 objects it created: the
    returned ones and those left in its local variables (as the magic network would
    collect them from a script)."""
    frame_locals = {}
    code = getattr(builder, "__code__", None)

    def profile(frame, event, argument):
        if event == "return" and frame.f_code is code and not frame_locals:
            frame_locals.update(frame.f_locals)

    previous = sys.getprofile()
    sys.setprofile(profile if code is not None else previous)
    try:
        built = builder()
    finally:
        sys.setprofile(previous)
    found = brian_objects(built) + [obj for value in frame_locals.values()
                                    for obj in brian_objects(value)]
    unique = list({id(obj): obj for obj in found}.values())
    return built, unique


def _run(builder, duration, optimized, target, recorded_neurons, random_seed, options,
         check=None):
    """Build, (optimize,) record and run one copy of the model."""
    standalone = target == "cpp_standalone"
    if standalone:
        directory = tempfile.mkdtemp(prefix="autolut_validate_")
        set_device("cpp_standalone", directory=directory, build_on_run=False)
    try:
        seed(random_seed)
        built, objects = _built(builder)
        groups = [obj for obj in objects if isinstance(obj, NeuronGroup)]
        if not groups:
            raise OptionsError(f"autolut.validate: the builder created no NeuronGroup (it "
                               f"returned {built!r}); return the group(s) to compare")
        if check is not None:
            check(groups)
        if optimized:  # the groups, and the Synapses with terms of v_post (as @optimized)
            _optimize_all(objects, options)
        monitors = {}
        for group in groups:
            record = np.unique(np.linspace(0, len(group) - 1, min(recorded_neurons, len(group)))
                               .astype(int))
            monitors[group.name] = (SpikeMonitor(group),
                                    StateMonitor(group, _state_variables(group), record=record))
        recorders = [monitor for pair in monitors.values() for monitor in pair]
        if isinstance(built, Network):
            network = built
            network.add([obj for obj in objects if obj not in network.objects] + recorders)
        else:
            network = Network(objects, recorders)
        if standalone:
            network.run(duration)
            device.build(directory=directory)
            elapsed = device._last_run_time
        else:
            network.run(groups[0].clock.dt)  # code generation and compilation, not timed
            start = time.perf_counter()
            network.run(duration)
            elapsed = time.perf_counter() - start
        results = {name: _collect(spikes, states) for name, (spikes, states) in monitors.items()}
        simulated = tuple(f"{obj.name} ({type(obj).__name__})" for obj in objects)
        reports = tuple(report(obj) for obj in objects
                        if getattr(obj, "_autolut", None) is not None) if optimized else ()
        return {"time": elapsed, "groups": results, "objects": simulated, "reports": reports}
    finally:
        if standalone:
            device.reinit()
            set_device("runtime")


def _collect(spikes, states) -> dict:
    trains = spikes.spike_trains()
    return {"N": len(spikes.source), "trains": {i: np.asarray(t) for i, t in trains.items()},
            "units": {name: get_unit(states.variables[name].dim)
                      for name in states.record_variables},
            "traces": {name: np.asarray(getattr(states, name + "_")).copy()
                       for name in states.record_variables}}


def _compare(name, exact, fast) -> GroupComparison:
    shifts, same = [], 0
    for i in range(exact["N"]):
        a, b = exact["trains"].get(i, np.array([])), fast["trains"].get(i, np.array([]))
        if len(a) == len(b):
            same += 1
            shifts.append(np.abs(a - b))
    shifts = np.concatenate(shifts) if shifts else np.array([])
    rms, largest = {}, {}
    for variable, trace in exact["traces"].items():
        difference = fast["traces"][variable] - trace
        unit = exact["units"][variable]
        rms[variable] = float(np.sqrt(np.mean(difference**2))) * unit
        largest[variable] = float(np.max(np.abs(difference))) * unit
    return GroupComparison(
        name, exact["N"], same, sum(len(t) for t in exact["trains"].values()),
        sum(len(t) for t in fast["trains"].values()),
        (float(shifts.mean()) if shifts.size else 0.0) * second,
        (float(shifts.max()) if shifts.size else 0.0) * second, rms, largest)
