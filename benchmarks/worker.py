"""One measurement, in a process of its own: ``python -m benchmarks.worker SPEC``.

``SPEC`` is a JSON object with the keys of `measure`. The process builds the
model variant, optimizes it if the variant uses autolut, generates and
compiles code, simulates, saves the spikes to ``spikes_file`` (``.npz`` with
``i`` and ``t`` in seconds) and prints the timings as one JSON line. Every
variant runs through exactly this code, so they differ only in their equations
or the ``autolut.optimize`` call.
"""

from __future__ import annotations

import json
import sys
import time
import types

import brian2.core.network
import numpy as np
from brian2 import (Network, NeuronGroup, SpatialNeuron, SpikeMonitor, Synapses, defaultclock,
                    device, ms, prefs, seed, set_device)
from brian2.utils.logger import BrianLogger

import autolut

from .models import MODELS, build
from .variants import autolut_options, variant_equations

#: Time step of every simulation (COBAHH.py and the tests use 0.01 ms).
DT = 0.01 * ms
#: Seed of Brian2's random numbers (a network's Poisson input).
SEED = 2001


def measure(model: str, target: str, variant: str, N: int, duration_ms: float,
            cache_dir: str, spikes_file: str) -> dict:
    """Simulate one variant in this process.

    Parameters
    ----------
    model, variant
        Names in `benchmarks.models.MODELS` and `benchmarks.variants`.
    target
        ``numpy``, ``cython`` or ``cpp_standalone``.
    N, duration_ms
        Number of neurons and simulated time in ms.
    cache_dir
        The Cython cache or the standalone project directory of this variant.
    spikes_file
        Where to save the spikes.

    Returns
    -------
    dict
        ``build_s`` (building the model in Brian2), ``optimize_s`` (the
        ``autolut.optimize`` call: analysis and table building, 0 for other
        variants), ``compile_s`` (code generation and compilation; for
        cpp_standalone everything of the build but the simulation),
        ``run_s`` (the simulation), ``per_run_s`` and ``per_run_setup_s`` (the
        setup cost of every further ``run()``, with and without Brian2's garbage
        collection, see `per_run_overhead`; None on cpp_standalone, whose runs all
        happen in one program), ``cable_share`` (for a SpatialNeuron on the
        runtime targets, see `cable_share`), ``steps`` and ``spikes``. A variant named
        ``name@K`` is ``name`` on ``K`` OpenMP threads (cpp_standalone).
    """
    # the throw-away groups that evaluate a variant's curves are never run, on purpose
    BrianLogger.suppress_name("unused_brian_object")
    defaultclock.dt = DT
    spec = MODELS[model]
    variant, _, threads = variant.partition("@")
    equations, namespace = variant_equations(spec, variant)  # on the runtime device
    if target == "cpp_standalone":
        set_device("cpp_standalone", directory=cache_dir, build_on_run=False)
        prefs.devices.cpp_standalone.openmp_threads = int(threads or 0)
    else:
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = cache_dir
    seed(SEED)  # a network's Poisson input: the same on every variant
    start = time.perf_counter()
    group, objects = build(spec, N, equations, namespace)
    build_s = time.perf_counter() - start
    options, optimize_s = autolut_options(variant), 0.0
    if options is not None:
        start = time.perf_counter()
        for obj in objects:  # as @autolut.optimized: the groups and the synapses
            if isinstance(obj, (NeuronGroup, Synapses)):
                autolut.optimize(obj, **{**spec.options, **options})
        optimize_s = time.perf_counter() - start
    spikes = SpikeMonitor(group)
    network = Network(objects, spikes)
    duration = duration_ms * ms
    if target == "cpp_standalone":
        network.run(duration)
        start = time.perf_counter()
        device.build(directory=cache_dir, compile=True, run=True)
        run_s = device._last_run_time  # measured inside the binary
        compile_s = time.perf_counter() - start - run_s
    else:
        start = time.perf_counter()
        network.run(defaultclock.dt)  # code generation and compilation, timed apart
        compile_s = time.perf_counter() - start
        start = time.perf_counter()
        network.run(duration)
        run_s = time.perf_counter() - start
    i, t = np.asarray(spikes.i[:]), np.asarray(spikes.t_[:])
    np.savez(spikes_file, i=i, t=t)
    per_run_s, per_run_setup_s = ((None, None) if target == "cpp_standalone"
                                  else per_run_overhead(network))
    cable = (cable_share(network, min(duration, 1000 * defaultclock.dt))
             if isinstance(group, SpatialNeuron) and target != "cpp_standalone" else None)
    return dict(build_s=build_s, optimize_s=optimize_s, compile_s=compile_s, run_s=run_s,
                per_run_s=per_run_s, per_run_setup_s=per_run_setup_s, cable_share=cable,
                steps=int(round(float(duration / defaultclock.dt))), spikes=len(i))


def cable_share(network, duration) -> float:
    """The share of a step's time that Brian2's cable solver (the SpatialNeuron's
    ``spatialstateupdater`` code object) takes, from Brian2's profiling of a run
    of `duration` after the timed one: what no table can shorten."""
    network.run(duration, profile=True)
    times = {name: float(seconds) for name, seconds in network.profiling_info}
    return sum(seconds for name, seconds in times.items()
               if "spatialstateupdater" in name) / sum(times.values())


def per_run_overhead(network, repeats: int = 7) -> tuple[float, float]:
    """Median time of a ``run()`` that simulates nothing: what every run costs before its
    first step (Brian2's checks, code objects, garbage collection, and autolut's guards).

    Returns the time with and without Brian2's ``gc.collect()`` (which every run
    calls): the collection's time depends on every Python object alive and varies
    by ±30 % from run to run on a shared machine; without it, what the code
    objects and checks of the model cost is measured to a millisecond.
    """
    def median_run() -> float:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            network.run(0 * ms)
            times.append(time.perf_counter() - start)
        return float(np.median(times))

    total = median_run()
    collector = brian2.core.network.gc
    brian2.core.network.gc = types.SimpleNamespace(collect=lambda *args: 0)
    try:
        return total, median_run()
    finally:
        brian2.core.network.gc = collector


if __name__ == "__main__":
    print(json.dumps(measure(**json.loads(sys.argv[1]))))
