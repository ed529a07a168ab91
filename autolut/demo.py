"""`autolut demo`: a Hodgkin–Huxley population, exact vs optimized, side by side.

The model is the Traub & Miles (1991) neuron of the COBA-HH benchmark (Brette et
al. 2007, `autolut.models.traub_miles`), with an input current rising with the
neuron index so that the population covers silent to fast-firing neurons. The
comparison is `autolut.validate`'s.
"""

from __future__ import annotations

import argparse

from brian2 import defaultclock, ms, prefs, start_scope

from .models import traub_miles
from .validate import validate

__all__ = ["main"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autolut demo", description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=1000)
    parser.add_argument("--duration", type=float, default=200.0, help="simulated ms")
    parser.add_argument("--target", default="numpy",
                        choices=["numpy", "cython", "cpp_standalone"])
    parser.add_argument("--method", default="exponential_euler")
    parser.add_argument("--tolerance", type=float, default=None)
    args = parser.parse_args(argv)
    options = {} if args.tolerance is None else {"tolerance": args.tolerance}
    duration = args.duration * ms
    print(f"simulating {args.neurons} neurons for {duration} on {args.target} "
          f"({args.method}), exact and optimized ...", flush=True)
    start_scope()
    defaultclock.dt = 0.01 * ms
    standalone = args.target == "cpp_standalone"
    if not standalone:
        prefs.codegen.target = args.target
    result = validate(lambda: traub_miles(args.neurons, args.method), duration,
                      target="cpp_standalone" if standalone else None, **options)
    [report], [group] = result.reports, result.groups
    print(report, end="\n\n")
    print(f"exact:     {result.exact_time:7.2f} s   {group.spikes_exact} spikes")
    print(f"optimized: {result.optimized_time:7.2f} s   {group.spikes_optimized} spikes")
    print(f"speed ratio exact/optimized: {result.speedup:.2f}x")
    print(f"neurons with identical spike counts: {group.same_counts} of {group.neurons}; "
          f"spike-time shift mean {group.mean_shift}, max {group.max_shift}")
    return 0
