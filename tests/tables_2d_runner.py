"""Run `autolut.models.bk_neuron` exact and with 2-D tables on one target (test_tables_2d.py).

``python tests/tables_2d_runner.py TARGET OUT.npz WORKDIR`` runs the optimized
model, whose BK rates ``alpha_o(v, Ca)`` and ``beta_o(v, Ca)`` are 2-D tables, and
saves spikes, v and Ca traces and the optimized rate equations; on numpy, the
exact model too, in the same network (the reference of every target: the compiled
targets agree with numpy to the last bits, and compiling the exact model as well
would double the cython run). On cython it then runs a small population under
``out_of_range='error'`` with a Ca range that the spikes overshoot, and saves the
message (the C failure path of a 2-D table, compiled). Compiler flags are the
strict ones of tests/target_runner.py.
"""

import sys
from pathlib import Path

import numpy as np
from brian2 import (Network, SpikeMonitor, StateMonitor, defaultclock, device, mmolar, ms, mV)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import autolut  # noqa: E402
from autolut.models import BK_NEURON_RANGES, bk_neuron  # noqa: E402
from tests.target_runner import use_target  # noqa: E402

N = 10
DURATION = 150 * ms
#: The BK rates as 2-D tables: at the default tolerance (1e-6) they need about 1e9
#: points over the model's own v range, [-110, 145] mV (the Ca axis is uniform, and the
#: rates bend within a fraction of a uM of Ca = 0 at high v); over v in [-100, 50] mV
#: (the spikes peak below 50 mV) at 1e-3 both fit one 150 x 3119 grid.
RANGES = dict(BK_NEURON_RANGES, v=(-100 * mV, 50 * mV))
TOLERANCE = 1e-3
#: A Ca range that the spiking neurons' Ca overshoots (it peaks near 30 uM).
NARROW_CA = (0 * mmolar, 0.002 * mmolar)


def main(target, out, workdir):
    use_target(target, workdir)
    defaultclock.dt = 0.1 * ms
    groups = [bk_neuron(N, name="optimized")]
    autolut.optimize(groups[0], ranges=RANGES, tolerance=TOLERANCE, prefer_2d=True)
    if target == "numpy":
        groups.append(bk_neuron(N, name="exact"))
    spikes = [SpikeMonitor(g) for g in groups]
    traces = [StateMonitor(g, ["v", "Ca"], record=True) for g in groups]
    Network(groups, spikes, traces).run(DURATION)
    if target == "cpp_standalone":
        device.build(directory=str(Path(workdir) / "standalone"))
    results = {"alpha_o": str(groups[0].user_equations["alpha_o"].expr),
               "beta_o": str(groups[0].user_equations["beta_o"].expr)}
    for g, s, m in zip(groups, spikes, traces):
        results[f"{g.name}_count"] = np.asarray(s.count[:])
        results[f"{g.name}_i"] = np.asarray(s.i[:])
        results[f"{g.name}_t"] = np.asarray(s.t_[:])
        results[f"{g.name}_v"] = np.asarray(m.v_[:])
        results[f"{g.name}_Ca"] = np.asarray(m.Ca_[:])
    if target == "cython":
        results["error"] = error_message()
    np.savez(out, **results)


def error_message() -> str:
    """The message with which a run under out_of_range='error' stops when Ca leaves the
    2-D tables' range."""
    group = bk_neuron(3, name="error_policy")
    autolut.optimize(group, ranges=dict(RANGES, Ca=NARROW_CA), tolerance=TOLERANCE, prefer_2d=True,
                     out_of_range="error")
    try:
        Network(group).run(20 * ms)
    except Exception as error:  # what the user gets: Brian2's exception, ours as its cause
        return f"{error} {error.__cause__}"
    return ""


if __name__ == "__main__":
    main(*sys.argv[1:4])
