"""Run the Brunel–Wang network (NMDA block in its Synapses) on one target (test_synapses.py).

``python tests/synapses_runner.py TARGET OUT.npz WORKDIR VARIANT`` runs
`autolut.models.brunel_wang` exact (``VARIANT`` = ``exact``) or with its
glutamatergic Synapses optimized (``autolut``), with the same seed of Brian2's
random numbers (its Poisson input), and saves the spike counts, the summed NMDA
current of a few neurons and the optimized summed expression. Each variant runs
in its own process, so that both draw the same random numbers on every target.
Compiler flags are the strict ones of tests/target_runner.py.
"""

import sys
from pathlib import Path

import numpy as np
from brian2 import Network, SpikeMonitor, StateMonitor, defaultclock, device, ms, seed

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import autolut  # noqa: E402
from autolut.models import brunel_wang  # noqa: E402
from tests.target_runner import use_target  # noqa: E402

N = 200
DURATION = 100 * ms


def main(target, out, workdir, variant):
    use_target(target, workdir)
    defaultclock.dt = 0.1 * ms
    seed(2001)
    neurons, glutamate, gaba, inputs = brunel_wang(N)
    if variant == "autolut":
        autolut.optimize(glutamate)
    spikes = SpikeMonitor(neurons)
    current = StateMonitor(neurons, "I_NMDA_rec", record=[0, N // 2, N - 1])
    Network(neurons, glutamate, gaba, inputs, spikes, current).run(DURATION)
    if target == "cpp_standalone":
        device.build(directory=str(Path(workdir) / "standalone"))
    np.savez(out, count=np.asarray(spikes.count[:]), I_NMDA=np.asarray(current.I_NMDA_rec_[:]),
             summed=glutamate.summed_updaters["I_NMDA_rec_post"].expression.code,
             synapses=len(glutamate))


if __name__ == "__main__":
    main(*sys.argv[1:])
