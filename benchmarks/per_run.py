"""Per-run setup time: ``python -m benchmarks.per_run [numpy|cython]``.

What every further ``run()`` of a 100-neuron model costs before its first step,
exact and optimized (the default ``'exact'`` policy, ``'error'`` without a range
counter, ``'clamp'``): the median of 15 runs of 0 ms, in a fresh process per
variant, best of 3 processes, with and without Brian2's ``gc.collect()`` (see
`benchmarks.worker.per_run_overhead`). Prints one line per model.
"""

from __future__ import annotations

import json
import subprocess
import sys

from .worker import per_run_overhead

MODELS = ("traub_miles", "wang_buzsaki", "rothman_manis")
VARIANTS = ("exact", "autolut", "error", "clamp")


def measure(target: str, variant: str, model: str) -> tuple[float, float]:
    """Median setup time (s) of a run of 0 ms in this process, with and without
    Brian2's garbage collection."""
    from brian2 import BrianLogger, Network, SpikeMonitor, defaultclock, ms, prefs

    import autolut
    from autolut import models

    BrianLogger.log_level_warn()
    prefs.codegen.target = target
    defaultclock.dt = 0.01 * ms
    group = getattr(models, model)(100)
    if variant != "exact":
        autolut.optimize(group, **({} if variant == "autolut" else {"out_of_range": variant}))
    network = Network(group, SpikeMonitor(group))
    network.run(0.1 * ms)  # code generation and compilation
    return per_run_overhead(network, repeats=15)


def main(target: str = "cython") -> None:
    for model in MODELS:
        best = {}
        for _ in range(3):
            for variant in VARIANTS:
                out = subprocess.run([sys.executable, "-m", "benchmarks.per_run", target,
                                      variant, model], capture_output=True, text=True)
                times = json.loads(out.stdout.strip().splitlines()[-1])
                best[variant] = [min(pair) for pair in zip(best.get(variant, times), times)]
        print(f"{model} {target}, ms per run (without gc): " + "  ".join(
            f"{variant} {1e3 * total:.1f} ({1e3 * setup:.1f})"
            for variant, (total, setup) in best.items()), flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 4:
        print(json.dumps(measure(*sys.argv[1:])))
    else:
        main(*sys.argv[1:2])
