"""Run the multicompartment test models on one target; save spikes and traces (for
test_spatialneuron.py).

``python tests/spatial_runner.py TARGET OUT.npz WORKDIR [exact]`` (``exact``: without
`autolut.optimize`, the reference). One process per target and variant, so that
each starts from a clean Brian2 state (the variants share one Cython cache, beside
their work directories: the code they have in common is compiled once, under
Brian2's lock per module); the three models run as three networks of
one script (one standalone program), each with Brian2's examples' protocol,
shortened:

* ``axon``: hh_with_spikes.py, 1000 compartments at dt = 0.01 ms; the spike
  wave (threshold ``m > 0.5``) travels the whole 10 cm axon.
* ``axon_1952``: hodgkin_huxley_1952.py, sodium on the first half only, at
  dt = 0.1 ms; 200 compartments.
* ``destexhe``: Destexhe et al. (1998), three compartments, a low-threshold
  calcium burst.

Each is stimulated through its point current, changed between runs (every run
with ``report='text'``), and its ``v`` recorded everywhere.
"""

import functools
import sys
from pathlib import Path

import numpy as np
from brian2 import (Network, SpikeMonitor, StateMonitor, device, ms, prefs, set_device)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import autolut  # noqa: E402
from autolut.models import (destexhe_1998, hh_axon, stimulate_axon,  # noqa: E402
                            stimulate_destexhe)

MODELS = {
    "axon": (lambda: hh_axon(1000, dt=0.01 * ms, name="axon"),
             lambda neuron, run: stimulate_axon(neuron, run, rest=5 * ms, after=12 * ms)),
    "axon_1952": (lambda: hh_axon(200, sodium_on_first_half_only=True, dt=0.1 * ms,
                                  name="axon_1952"),
                  lambda neuron, run: stimulate_axon(neuron, run, rest=5 * ms, after=20 * ms)),
    "destexhe": (lambda: destexhe_1998(dt=0.01 * ms, name="destexhe"),
                 lambda neuron, run: stimulate_destexhe(neuron, run, rest=30 * ms,
                                                        after=100 * ms)),
}


def main(target, out, workdir, variant="autolut"):
    if target == "cpp_standalone":
        set_device("cpp_standalone", build_on_run=False)
    else:
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = str(Path(workdir).parent / "cython_cache")
    monitors = {}
    for name, (build, stimulate) in MODELS.items():
        neuron = build()
        if variant != "exact":
            autolut.optimize(neuron)
        spikes = SpikeMonitor(neuron)
        trace = StateMonitor(neuron, "v", record=True, dt=0.1 * ms)
        network = Network(neuron, spikes, trace)
        stimulate(neuron, functools.partial(network.run, report="text"))
        monitors[name] = neuron, spikes, trace
    if target == "cpp_standalone":
        device.build(directory=str(Path(workdir) / "standalone"))
    results = {}
    for name, (neuron, spikes, trace) in monitors.items():
        results[f"{name}_i"] = np.asarray(spikes.i[:])
        results[f"{name}_t"] = np.asarray(spikes.t[:] / ms)
        results[f"{name}_v"] = np.asarray(trace.v_[:])
        results[f"{name}_distance"] = np.asarray(neuron.distance_[:])
    np.savez(out, **results)


if __name__ == "__main__":
    main(*sys.argv[1:5])
