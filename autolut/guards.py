"""Run-time guards of an optimized object: what keeps its tables right between and during runs.

* `TableGuard` runs first in every run: it checks the device, rebuilds the
  tables whose baked constants (or ``dt``) changed, and reports the lookups
  outside the ranges after the run.
* `RangeCounter` counts, per neuron, the steps in which an axis was outside
  its tables' range (``out_of_range='clamp'`` and, sampled, ``'exact'``).
* `watch_standalone_run` wraps the standalone device's ``run``: it refuses
  run arguments that change a baked value, and reports counts and errors of
  the program.

The guard knows nothing of how an object is read or rewritten: it is handed
the functions that read the current constants and rebuild the tables.
"""

from __future__ import annotations

import dataclasses
import os
import weakref
from collections.abc import Callable, Mapping

import numpy as np
from brian2 import BrianObject
from brian2.devices.device import RuntimeDevice, get_device
from brian2.groups.group import CodeRunner
from brian2.units.fundamentalunits import DIMENSIONLESS, get_dimensions, get_unit

from .analysis import axis_identifier
from .lutfunction import OutOfRangeError
from .messages import AutolutError, logger
from .options import display_unit
from .targets.cpp_target import STANDALONE_ERROR_FILE, SUPPORTED_DEVICES

__all__ = ["TableGuard", "RangeCounter", "RangeCount", "check_device", "watch_standalone_run",
           "refuse_baked_run_args", "FALLBACK_SAMPLING", "FREQUENT_FALLBACK"]


def check_device() -> None:
    """Raise a clear error on devices without table implementations."""
    device = get_device()
    if type(device) is not RuntimeDevice and type(device).__name__ not in SUPPORTED_DEVICES:
        raise AutolutError(
            f"autolut: the device '{type(device).__name__}' is not supported; tables run "
            f"on the runtime device (numpy and cython targets) and on cpp_standalone. "
            f"Call autolut.restore(group) to run the exact model on this device.")


class TableGuard(BrianObject):
    """Runs first in every run of an optimized group: checks the device, and
    rebuilds the tables whose baked constants have changed since tabulation.

    Parameters
    ----------
    group
        The optimized group.
    read_constants
        ``read_constants(names, run_namespace)``: the values the constants have
        now (None for a name that is no longer a constant); from the front end.
    refresh
        Called with ``{name: new value}`` when guarded constants changed; it
        rebuilds the affected tables (or raises if it cannot).
    constants
        ``{name: value}`` of the guarded constants as tabulated.
    uses
        ``{constant: [table names]}``, for messages.
    """

    add_to_magic_network = False
    # Added to a group that may have run before: not a reason for the magic network
    # to think that a new simulation starts (MagicError "a mix of objects").
    invalidates_magic_network = False

    def __init__(self, group, read_constants: Callable, refresh: Callable[[dict], None],
                 constants: Mapping[str, float], uses: Mapping[str, list[str]] | None = None):
        BrianObject.__init__(self, clock=group.clock, when="before_start", order=-(2**31),
                             name=f"{group.name}_autolut_guard*")
        self.group = group
        self.read_constants, self.refresh = read_constants, refresh
        self.constants = dict(constants)
        self.uses = dict(uses or {})  # constant -> names of the tables that use it
        self.counters: list[RangeCounter] = []  # out_of_range 'clamp' and 'exact'
        self.steps = 0  # time steps simulated since the counts were last logged
        self._end = _timestep(group.clock) or 0

    def before_run(self, run_namespace):
        check_device()
        now = self.read_constants(self.constants, run_namespace)
        changed = {name: value for name, value in now.items() if value != self.constants[name]}
        if changed:
            missing = sorted(name for name, value in changed.items() if value is None)
            if missing:
                raise AutolutError(
                    f"autolut: the tables of group '{self.group.name}' were built with the "
                    f"constant(s) {', '.join(missing)}, which are no longer defined as "
                    f"constants; define them again or call autolut.restore(group)")
            logger.info(f"autolut: constant(s) {', '.join(sorted(changed))} of group "
                        f"'{self.group.name}' changed since tabulation; rebuilding the "
                        f"tables that use them", "retabulate")
            self.refresh(changed)
            self.constants.update(changed)
        clock = self.group.clock
        start = _timestep(clock)
        self.steps += clock._i_end - (self._end if start is None else start)
        self._end = clock._i_end
        if type(get_device()) is not RuntimeDevice:
            watch_standalone_run(self)
        super().before_run(run_namespace)

    def after_run(self):
        if type(get_device()) is RuntimeDevice:
            self.log_new_counts()
        super().after_run()

    def baked_variables(self) -> list[str]:
        """The group's own variables (shared constants) whose values the tables bake in."""
        return sorted(name for name in self.constants if name in self.group.variables
                      and name != "dt")

    def tables_using(self, name: str) -> list[str]:
        """Names of the group's tables whose expressions use the constant `name`."""
        return self.uses.get(name, [])

    def log_new_counts(self, reset: bool = True) -> None:
        """Warn about lookups outside the ranges since the last warning (see
        `RangeCounter.log_new_counts`). `reset` starts counting the time steps
        afresh (not for standalone, where every run of the program simulates all
        of them again)."""
        for counter in self.counters:
            counter.log_new_counts(self.steps)
        if reset:
            self.steps = 0


def _timestep(clock) -> int | None:
    """The clock's current time step, or None where it cannot be read (standalone)."""
    try:
        return int(np.asarray(clock.variables["timestep"].get_value()).reshape(-1)[0])
    except NotImplementedError:
        return None


#: Under out_of_range='exact', a run in which a table evaluated its exact
#: expression in more than this fraction of the neuron-steps ends with a warning:
#: its range misses where the neuron lives, which costs speed.
FREQUENT_FALLBACK = 0.01


@dataclasses.dataclass(frozen=True)
class RangeCount:
    """How often lookups fell outside the table range of an axis.

    ``outside`` counts the neuron-steps in which the axis was outside ``[low,
    high]`` and ``neurons`` how many neurons it happened to; ``lowest`` and
    ``highest`` are the extreme values seen outside (None when the axis never
    went below / above). Under ``out_of_range='clamp'`` (``policy``) every step
    is checked, and in each of those steps every table of the axis used its end
    value. Under ``'exact'`` every ``every``-th step is checked, and `estimate`
    is the number of neuron-steps in which the tables evaluated their exact
    expressions.
    """

    group: str
    axis: str
    low: object
    high: object
    tables: tuple[str, ...]
    outside: int
    neurons: int | None
    lowest: object
    highest: object
    policy: str = "clamp"
    every: int = 1  # the axis was checked every this many steps
    element: str = "neuron"  # what one index of the group is ('compartment')

    @property
    def estimate(self) -> int:
        """Neuron-steps outside, estimated from the steps checked (`outside` itself
        when every step was checked)."""
        return self.outside * self.every

    def __str__(self) -> str:
        scale, unit = display_unit(self.high / float(self.high) if float(self.high) else
                                   self.low / float(self.low),
                                   max(abs(float(self.low)), abs(float(self.high))))

        def show(value):
            return f"{float(value) / scale:.6g} {unit}".rstrip()

        seen = ", ".join(f"{word} {show(value)}" for word, value in
                         (("lowest", self.lowest), ("highest", self.highest)) if value is not None)
        where = (f"[{float(self.low) / scale:g}, {float(self.high) / scale:g}] {unit}").rstrip()
        if self.policy == "exact":
            tables = (f"table {self.tables[0]} evaluated its exact expression"
                      if len(self.tables) == 1 else
                      f"tables {', '.join(self.tables)} evaluated their exact expressions")
            sampled = f" (checked every {self.every} steps)" if self.every > 1 else ""
            return (f"autolut: in group '{self.group}', {tables} in about {self.estimate} "
                    f"{self.element}-steps{sampled}, where {self.axis} was outside the range "
                    f"{where} ({self.neurons} {self.element}s; {seen}). That is right but "
                    f"slow; widen ranges={{'{self.axis}': (low, high)}} to cover these values.")
        return (f"autolut: in group '{self.group}', {self.axis} was outside the table range "
                f"{where} in {self.outside} {self.element}-steps ({self.neurons} "
                f"{self.element}s; {seen}); "
                f"tables {', '.join(self.tables)} used their end values there. Widen "
                f"ranges={{'{self.axis}': (low, high)}} or use out_of_range='exact'.")


#: Under out_of_range='exact' the axis is checked every this many steps: the
#: check is a loop over the neurons of its own, and every step it would cost
#: 10-20 % of an HH model's optimized run on cython (measured on the benchmark
#: models); one step in ten costs about a tenth of that.
FALLBACK_SAMPLING = 10


class RangeCounter:
    """Counts, per neuron, the steps in which an axis is outside its tables' range.

    A ``run_regularly`` operation of the group (before the state update, which
    does the lookups) keeps three per-neuron variables: the count, and the
    lowest and highest value seen outside. Being plain Brian2 code, it works on
    every target; the counts survive a standalone run in the group's arrays.

    Under ``'clamp'`` it runs every step, and every step outside is a lookup at
    an end value. Under ``'exact'`` it runs every `every` steps, and its count
    estimates the lookups that evaluated the exact expression instead
    (`RangeCount.estimate`).
    """

    def __init__(self, group, axis: str, low: float, high: float, unit, tables: tuple[str, ...],
                 policy: str = "clamp", every: int = 1, element: str = "neuron",
                 argument: str | None = None, owner: str | None = None):
        self.group, self.axis, self.tables, self.unit = group, axis, tables, unit
        self.policy, self.every, self.element = policy, every, element
        # the optimized object, when the counting runs in another group (the
        # postsynaptic neurons of a Synapses object's v_post)
        self.owner = owner or group.name
        self.low, self.high = low * unit, high * unit
        prefix = "" if owner is None else f"{owner}_"
        self.names = tuple(f"_autolut_{prefix}{axis_identifier(axis)}_{what}"
                           for what in ("outside", "lowest", "highest"))
        outside, lowest, highest = self.names
        dimensions = get_dimensions(unit)
        for name, value, dtype in ((outside, 0, np.int32), (lowest, low, np.float64),
                                   (highest, high, np.float64)):
            if name in group.variables:
                group.variables[name].set_value(value)  # counting starts afresh
                continue
            _add_element_array(group, name, value, dtype,
                               DIMENSIONLESS if dtype is np.int32 else dimensions)
        v, low_code, high_code = f"({argument or axis})", _code(self.low), _code(self.high)
        self.runner = _GeneratedOnceRunner(
            group, "stateupdate",
            code=f"{outside} += int(not ({v} >= {low_code} and {v} <= {high_code}))\n"
                 f"{lowest} += int({v} < {lowest})*({v} - {lowest})\n"
                 f"{highest} += int({v} > {highest})*({v} - {highest})",
            dt=every * group.clock.dt if every > 1 else None,
            when="before_groups",
            name=f"{group.name}_autolut_{prefix}{axis_identifier(axis)}_range*")
        group.contained_objects.append(self.runner)
        self.runner.invalidates_magic_network = False  # as the TableGuard
        self.reported = 0

    def count(self) -> RangeCount:
        outside, lowest, highest = (self.group.variables[name].get_value()
                                    for name in self.names)
        low_seen, high_seen = float(np.min(lowest)), float(np.max(highest))
        return RangeCount(
            self.owner, self.axis, self.low, self.high, self.tables,
            int(np.sum(outside)), int(np.count_nonzero(outside)),
            low_seen * self.unit if low_seen < float(self.low) else None,
            high_seen * self.unit if high_seen > float(self.high) else None, self.policy,
            self.every, self.element)

    def log_new_counts(self, steps: int) -> None:
        """Warn (through Brian2's logger) about lookups outside since the last call:
        always under 'clamp'; under 'exact' when they were (an estimated) more than
        `FREQUENT_FALLBACK` of the element-steps of the `steps` time steps simulated
        since."""
        count = self.count()
        element_steps = steps * len(self.group)
        new = (count.outside - self.reported) * self.every
        if self.policy == "clamp" and new > 0:
            logger.warn(str(count), "out_of_range")
        elif self.policy == "exact" and new > FREQUENT_FALLBACK * element_steps:
            logger.warn(f"{count} In the last run: about {new} of {element_steps} "
                        f"{self.element}-steps ({100 * new / element_steps:.2g} %).",
                        "exact_fallback")
        self.reported = count.outside

    def remove(self) -> None:
        self.group.contained_objects.remove(self.runner)


def _code(value) -> str:
    """`value` (a quantity, or a number for a dimensionless axis) as Brian2 code."""
    if get_dimensions(value) is DIMENSIONLESS:
        return repr(float(value))
    return repr(value)


def _add_element_array(group, name: str, value, dtype, dimensions) -> None:
    """A new variable of `group` with one `value` per element: an array for a
    neuron group, a dynamic array that grows with new synapses for a Synapses object."""
    if hasattr(group, "register_variable"):  # Synapses: sized by connect()
        group.variables.add_dynamic_array(name, size=len(group), dimensions=dimensions,
                                          dtype=dtype)
        variable = group.variables[name]
        variable.set_value(value)
        group.register_variable(variable)
        return
    group.variables.add_array(name, size=group._N, dtype=dtype, dimensions=dimensions,
                              values=np.full(group._N, value, dtype=dtype))


class _GeneratedOnceRunner(CodeRunner):
    """A ``run_regularly`` operation whose code object is generated once per
    code generation target on the runtime device, not in every ``run()``.

    Brian2 generates every code object again in every run, because a run's
    namespace may change what its code means. The range counter's code reads
    only its group's own arrays and literal numbers, so it cannot change; and
    generating it again cost about 5 ms of every ``run()`` (Traub-Miles,
    cython), most of what autolut added to a run's setup.
    """

    _generated_for = None  # the code object class the current code object was made for

    def create_code_objects(self, run_namespace):
        device = get_device()
        code_object_class = device.code_object_class(self.codeobj_class)
        if (type(device) is RuntimeDevice and self.codeobj is not None
                and self._generated_for is code_object_class):
            self.code_objects[:] = [weakref.proxy(self.codeobj)]
            return
        super().create_code_objects(run_namespace)
        self._generated_for = code_object_class


# cpp_standalone runs the simulation in device.build() (or device.run()), after
# every Python hook of the run: run arguments are checked before, counts read and
# a failed lookup's message turned into an exception after the program ran.
def watch_standalone_run(guard: TableGuard) -> None:
    """Have the standalone device check its run arguments against the constants
    baked into `guard`'s tables, and report `guard`'s counts and out-of-range
    errors, whenever it runs the program."""
    device = get_device()
    guards = device.__dict__.setdefault("_autolut_guards", [])
    if guard not in guards:
        guards.append(guard)
    if getattr(device, "_autolut_watched", False):
        return
    run = device.run

    def run_and_report(directory=None, results_directory=None, with_output=True,
                       run_args=None):
        current = [g for g in guards if _built_by(device, g.group)]
        refuse_baked_run_args(current, run_args)
        directory = directory or device.project_dir
        error_file = os.path.join(directory, STANDALONE_ERROR_FILE)
        if os.path.exists(error_file):
            os.remove(error_file)
        try:
            result = run(directory, results_directory, with_output, run_args)
        except RuntimeError as failure:
            if os.path.exists(error_file):
                with open(error_file) as file:
                    raise OutOfRangeError(file.read().strip()) from failure
            raise
        for watched in current:  # every run of the program counts from zero
            for counter in watched.counters:
                counter.reported = 0
            watched.log_new_counts(reset=False)
        return result

    device.run = run_and_report
    device._autolut_watched = True


def _built_by(device, group) -> bool:
    """Whether the device's current project simulates `group` (not one of an earlier
    project, before ``device.reinit()``)."""
    # code objects hold weak proxies of their owners: compare Brian2's unique ids
    return any(getattr(getattr(code_object, "owner", None), "id", None) == group.id
               for code_object in device.code_objects.values())


def refuse_baked_run_args(guards, run_args) -> None:
    """Raise before the program runs if `run_args` set a value baked into tables."""
    if not run_args:
        return
    names = []
    for key in (run_args if isinstance(run_args, Mapping) else
                [arg.split("=")[0] for arg in run_args]):
        if isinstance(key, str):
            names.append(key)
        elif hasattr(key, "group_name") and hasattr(key, "name"):
            names.append(f"{key.group_name}.{key.name}")
    for guard in guards:
        for name in guard.baked_variables():
            if f"{guard.group.name}.{name}" in names:
                value = guard.constants[name]
                scale, unit = display_unit(get_unit(guard.group.variables[name].dim),
                                           abs(value))
                raise AutolutError(
                    f"autolut: run_args set '{guard.group.name}.{name}', but its value "
                    f"({value / scale:g} {unit}".rstrip() + f") is baked into the tables "
                    f"{', '.join(guard.tables_using(name))} of group '{guard.group.name}': "
                    f"the program would run with stale tables. To sweep it, either set "
                    f"{guard.group.name}.{name} = value before run() and build once per "
                    f"value (the tables are rebuilt for it), or call "
                    f"autolut.restore(group) before building and sweep it with run_args "
                    f"(without tables).")
