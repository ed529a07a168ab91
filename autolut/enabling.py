"""`autolut.enable()`: every group and synapses object of every run, optimized with one line.

Brian2 prepares every run in `Network.before_run`, for the magic ``run()``
and explicit Networks alike, and on every device (cpp_standalone calls it from
``device.network_run``). autolut wraps that method once, at import; the
wrapper does nothing until `enable` is called (or ``prefs.autolut.enabled =
True`` is set). Enabled, it optimizes each NeuronGroup (SpatialNeuron
included) and Synapses object of the network that it has not seen before —
the groups first, so that the synapses' ``v_post`` gets their ranges — with
the options given, and leaves objects that would get no table exactly as they
were. The wrapped `Network.after_run` then logs a summary (`summary`) after
each run in which it optimized objects, and
the wrapped `Network.store` optimizes first, so that a state stored before
the first run has the objects (clocks) the tables add, and `restore` finds them.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import os
import sys
import weakref

from brian2 import Network, NeuronGroup, Synapses, prefs

from .api import optimize_object
from .guards import RangeCount
from .messages import logger
from .options import Options

__all__ = ["enable", "disable", "exclude_object", "summary", "Summary", "is_enabled"]

# The options given to `enable` (None: the preferences' defaults).
_options: Options | None = None
_patterns: list[str] = []
_excluded: weakref.WeakSet = weakref.WeakSet()
_seen: weakref.WeakSet = weakref.WeakSet()        # objects already considered
_optimized: list[weakref.ref] = []                # in the order they were optimized
_pending: weakref.WeakSet = weakref.WeakSet()  # networks that optimized objects in this run


def enable(**options) -> None:
    """Optimize every NeuronGroup, SpatialNeuron and Synapses object that takes part in
    a run from now on, just before its first run.

    Parameters
    ----------
    **options
        The options of `autolut.optimize` (``tolerance``, ``ranges``, ...), checked
        now; used for every object.

    Examples
    --------
    >>> import autolut
    >>> autolut.enable(tolerance=1e-6)
    >>> autolut.is_enabled()
    True
    >>> autolut.disable()
    """
    global _options
    _options = Options.from_keywords(**options)
    prefs.autolut.enabled = True


def disable() -> None:
    """Stop optimizing new objects (those optimized keep their tables; see `restore`)."""
    global _options
    _options = None
    prefs.autolut.enabled = False


def is_enabled() -> bool:
    """Whether objects are optimized at their first run (`enable`, or the preference)."""
    return bool(prefs.autolut.enabled)


def exclude_object(obj_or_pattern) -> None:
    """Leave an object exact under `enable`: the object itself, or every object whose
    name matches a pattern (``'inh*'``, as `fnmatch`)."""
    if isinstance(obj_or_pattern, str):
        _patterns.append(obj_or_pattern)
    else:
        _excluded.add(obj_or_pattern)


def _excluded_object(obj) -> bool:
    return obj in _excluded or any(fnmatch.fnmatchcase(obj.name, p) for p in _patterns)


def _optimize_network(network, run_namespace) -> int:
    """Optimize the objects of `network` that were not considered before; returns how
    many were rewritten."""
    options = _options if _options is not None else Options.from_keywords()
    candidates = [obj for obj in _all_objects(network) if isinstance(obj, (NeuronGroup, Synapses))
                  and obj not in _seen and getattr(obj, "_autolut", None) is None]
    rewritten = 0
    for obj in sorted(candidates, key=lambda obj: isinstance(obj, Synapses)):
        _seen.add(obj)
        if _excluded_object(obj):
            continue
        namespace = run_namespace if options.namespace is None else options.namespace
        if optimize_object(obj, options, namespace, only_if_tables=True):
            _optimized.append(weakref.ref(obj))
            rewritten += 1
    return rewritten


def _all_objects(network) -> list:
    """The objects of `network` and the objects they contain, in order."""
    found, pending = [], list(network.objects)
    while pending:
        obj = pending.pop(0)
        found.append(obj)
        pending.extend(getattr(obj, "contained_objects", ()))
    return found


@dataclasses.dataclass(frozen=True)
class ObjectSummary:
    """One optimized object: its tables, their memory, their largest measured relative
    error, and its range counts (under 'clamp'/'exact')."""

    name: str
    kind: str
    tables: int
    nbytes: int
    largest_error: float  # the largest measured relative error of its tables
    counts: tuple[RangeCount, ...]


@dataclasses.dataclass(frozen=True)
class Summary:
    """What `enable` did: one row per optimized object (`summary`)."""

    objects: tuple[ObjectSummary, ...]

    def __str__(self) -> str:
        if not self.objects:
            return "autolut: no object optimized (enable() optimizes them at their first run)"
        lines = [f"autolut: {len(self.objects)} object(s) optimized, "
                 f"{sum(o.tables for o in self.objects)} tables, "
                 f"{sum(o.nbytes for o in self.objects) / 1024:.0f} KiB"]
        for o in self.objects:
            lines.append(f"  {o.kind} '{o.name}': {o.tables} tables, {o.nbytes / 1024:.0f} KiB, "
                         f"largest measured error {o.largest_error:.2g}")
            lines += [f"    {count}" for count in o.counts if count.outside]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><td>{o.kind}</td><td>{o.name}</td><td>{o.tables}</td>"
                       f"<td>{o.nbytes / 1024:.0f} KiB</td><td>{o.largest_error:.2g}</td>"
                       f"<td>{sum(c.outside for c in o.counts)}</td></tr>" for o in self.objects)
        return ("<table><tr><th>kind</th><th>object</th><th>tables</th><th>memory</th>"
                "<th>largest error</th><th>steps outside a range</th></tr>" + rows + "</table>")


def summary() -> Summary:
    """The objects `enable` optimized (that still exist), their tables, memory, largest
    measured error and, under ``out_of_range='clamp'``/``'exact'``, how often a range
    was left (read after the run; on cpp_standalone once the program ran)."""
    objects = []
    for reference in _optimized:
        obj = reference()
        if obj is None or getattr(obj, "_autolut", None) is None:
            continue
        report = obj._autolut.report
        counts = tuple(count for count in map(_count, obj._autolut.guard.counters)
                       if count is not None)
        objects.append(ObjectSummary(
            obj.name, type(obj).__name__, len(report.tabulated), report.nbytes,
            max((row.relative_error for row in report.tabulated), default=0.0), counts))
    return Summary(tuple(objects))


def _count(counter) -> RangeCount | None:
    """The counter's count, or None where it cannot be read yet (standalone before the
    program ran)."""
    try:
        return counter.count()
    except NotImplementedError:
        return None


def _before_run(network, run_namespace):
    if prefs.autolut.enabled and _optimize_network(network, run_namespace):
        _pending.add(network)
    return _BEFORE_RUN(network, run_namespace)


def _after_run(network):
    """After a run that optimized objects: the summary, through Brian2's logger."""
    _AFTER_RUN(network)
    if network in _pending:
        _pending.discard(network)
        logger.info(str(summary()), "summary")


def _store(network, *args, **kwargs):
    if prefs.autolut.enabled and _optimize_network(network, _caller_namespace()):
        _pending.add(network)
    return _STORE(network, *args, **kwargs)


_LIBRARIES = tuple(os.path.dirname(module.__file__) + os.sep
                   for module in (sys.modules["brian2"], sys.modules[__package__]))


def _caller_namespace() -> dict:
    """The variables of the user code that called into Brian2 (as ``run()`` reads them)."""
    frame = sys._getframe(1)
    while frame is not None and frame.f_code.co_filename.startswith(_LIBRARIES):
        frame = frame.f_back
    return {} if frame is None else {**frame.f_globals, **frame.f_locals}


_BEFORE_RUN, _AFTER_RUN, _STORE = Network.before_run, Network.after_run, Network.store


def install_hooks() -> None:
    """Wrap `Network.before_run`, `after_run` and `store` (once; inactive until enabled)."""
    if Network.before_run is not _before_run:
        Network.before_run, Network.after_run, Network.store = _before_run, _after_run, _store
