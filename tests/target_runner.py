"""Run the test models, optimized, on one target; save spikes and traces (for test_targets.py).

Run in a subprocess so that every target starts from a clean Brian2 state:
``python tests/target_runner.py TARGET OUT.npz WORKDIR [exact]`` (``exact``:
the same script without `autolut.optimize`, the reference).

The models run as optimized groups in one network (each with its own tables),
in two ``run`` calls with different ``dt`` and, for hh_temperature, a
different temperature (the tables must follow both). Two models have a
per-neuron threshold shift ``VT`` (tables over ``v - VT``), which rises by
2 mV between the runs: the tables need no change, the lookups shift. Compiler
flags are the strict ones (no fast math, no FMA contraction), under which the
targets agree to the last bits.
"""

import sys
from pathlib import Path

import numpy as np
import functools

from brian2 import (Network, SpikeMonitor, StateMonitor, defaultclock, device, ms, mV, prefs,
                    set_device)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import autolut  # noqa: E402
from tests.models import (SPIKING_CALCIUM_RANGES, hh_temperature,  # noqa: E402
                          pospischil_rs, spiking_calcium, traub_miles, wang_buzsaki)

STRICT_FLAGS = ["-w", "-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c++11"]
N = 20
FIRST, SECOND = 20 * ms, 40 * ms
SECOND_DT = 0.005 * ms
#: The models, by group name (the names the tests read the results under).
BUILDERS = {"traub_miles": traub_miles, "wang_buzsaki": wang_buzsaki,
            "hh_temperature": hh_temperature, "spiking_calcium": spiking_calcium,
            "traub_miles_vt": functools.partial(traub_miles, VT_spread=5 * mV),
            "pospischil_vt": functools.partial(pospischil_rs, VT_spread=5 * mV)}


def use_target(target, workdir):
    """Strict compiler flags and `target`, with a Cython cache in `workdir` (standalone
    projects are built into ``device.build(directory=...)`` by the caller)."""
    prefs.codegen.cpp.extra_compile_args_gcc = STRICT_FLAGS
    if target == "cpp_standalone":
        set_device("cpp_standalone", build_on_run=False)
    else:
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = str(Path(workdir) / "cython_cache")


def main(target, out, workdir, variant="autolut"):
    use_target(target, workdir)
    defaultclock.dt = 0.01 * ms
    groups = [build(N, name=name) for name, build in BUILDERS.items()]
    spikes = [SpikeMonitor(g) for g in groups]
    traces = [StateMonitor(g, "v", record=[0, N // 2, N - 1]) for g in groups]
    if variant != "exact":
        for g in groups:
            autolut.optimize(g, ranges=SPIKING_CALCIUM_RANGES if "Ca" in g.variables else {})
    network = Network(groups, spikes, traces)
    network.run(FIRST)
    defaultclock.dt = SECOND_DT
    groups[2].namespace["celsius"] = 12.0  # a baked constant: hh_temperature's tables follow
    for group in groups:
        if "VT" in group.variables:  # a per-neuron shift: the same tables, other lookups
            group.VT = "VT + 2*mV"
    network.run(SECOND)
    if target == "cpp_standalone":
        device.build(directory=str(Path(workdir) / "standalone"))
    results = {}
    for g, s, m in zip(groups, spikes, traces):
        results[f"{g.name}_i"] = np.asarray(s.i[:])
        results[f"{g.name}_t"] = np.asarray(s.t[:] / ms)
        results[f"{g.name}_v"] = np.asarray(m.v_[:])
    np.savez(out, **results)


if __name__ == "__main__":
    main(*sys.argv[1:5])
