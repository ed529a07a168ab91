"""Drive models outside their table ranges under each out-of-range policy (test_out_of_range.py).

``python tests/range_runner.py TARGET OUT.json WORKDIR`` runs, one after the
other, the exact model and the optimized one under ``out_of_range='exact'``,
``'clamp'`` and ``'error'``, and writes what each produced: spike counts, the
extremes of v and Ca, the logged out-of-range warnings, `autolut.range_counts`
and the error raised. Ranges are set narrow on purpose: the spikes of
traub_miles overshoot +20 mV and its after-hyperpolarisation undershoots -80 mV;
the calcium of spiking_calcium rises above 4 µM.
"""

import json
import logging
import sys
from pathlib import Path

import numpy as np
from brian2 import (Network, SpikeMonitor, StateMonitor, defaultclock, device, mmolar, ms,
                    mV, prefs, set_device)

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import autolut  # noqa: E402
from tests.models import spiking_calcium, traub_miles  # noqa: E402

N = 4
DURATION = 20 * ms
RANGES = {"traub_miles": {"v": (-80 * mV, 20 * mV)},
          "spiking_calcium": {"Ca": (0 * mmolar, 0.004 * mmolar)}}
VARIANTS = ("reference", "exact", "clamp", "error")


class Collect(logging.Handler):
    def __init__(self):
        super().__init__(logging.WARNING)
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def simulate(target, variant, workdir):
    if target == "cpp_standalone":
        device.reinit()
        set_device("cpp_standalone", build_on_run=False)
    defaultclock.dt = 0.01 * ms
    groups = [traub_miles(N, name="traub_miles"), spiking_calcium(N, name="spiking_calcium")]
    if variant != "reference":
        for group in groups:
            autolut.optimize(group, out_of_range=variant, ranges=RANGES[group.name])
    spikes = [SpikeMonitor(g) for g in groups]
    traces = [StateMonitor(groups[0], "v", record=True), StateMonitor(groups[1], "Ca", record=True)]
    collect = Collect()
    logging.getLogger("brian2.autolut").addHandler(collect)
    result = {"error": None}
    try:
        Network(groups, spikes, traces).run(DURATION)
        if target == "cpp_standalone":
            device.build(directory=str(Path(workdir) / variant))
    except Exception as error:  # the 'error' policy: what did the user get?
        cause = error.__cause__
        result["error"] = {"type": type(error).__name__, "message": str(error),
                           "cause": f"{type(cause).__name__}: {cause}" if cause else ""}
        return result
    finally:
        logging.getLogger("brian2.autolut").removeHandler(collect)
    result.update(
        counts={g.name: np.asarray(s.count[:]).tolist() for g, s in zip(groups, spikes)},
        v=[float(np.min(traces[0].v_)), float(np.max(traces[0].v_))],
        v_trace=np.asarray(traces[0].v_).tolist(),
        Ca=[float(np.min(traces[1].Ca_)), float(np.max(traces[1].Ca_))],
        warnings=collect.messages,
        range_counts=[] if variant == "reference" else [
            dict(group=c.group, axis=c.axis, tables=list(c.tables), outside=c.outside,
                 neurons=c.neurons, every=c.every, estimate=c.estimate, policy=c.policy,
                 lowest=None if c.lowest is None else float(c.lowest),
                 highest=None if c.highest is None else float(c.highest))
            for g in groups for c in autolut.range_counts(g)])
    return result


def main(target, out, workdir):
    if target != "cpp_standalone":
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = str(Path(workdir) / "cython_cache")
    results = {variant: simulate(target, variant, workdir) for variant in VARIANTS}
    Path(out).write_text(json.dumps(results))


if __name__ == "__main__":
    main(*sys.argv[1:4])
