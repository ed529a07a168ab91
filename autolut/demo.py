"""`autolut demo`: a Hodgkin–Huxley population, exact vs optimized, side by side.

The model is the Traub & Miles (1991) neuron of the COBA-HH benchmark (Brette et
al. 2007, `autolut.models.traub_miles`), with an input current rising with the
neuron index so that the population covers silent to fast-firing neurons. The
comparison is `autolut.validate`'s. By default it runs on the fastest target
this machine has (cpp_standalone when a C++ compiler works, numpy otherwise);
``--all-targets`` runs numpy, cython and cpp_standalone and prints one table.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile

from brian2 import defaultclock, ms, prefs, start_scope

from .models import traub_miles
from .validate import validate

__all__ = ["main", "fastest_target"]

TARGETS = ("numpy", "cython", "cpp_standalone")


def fastest_target() -> str:
    """``'cpp_standalone'`` if a C++ compiler compiles a test program here, else ``'numpy'``."""
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++") \
        or shutil.which("clang++")
    if compiler is None:
        return "numpy"
    with tempfile.TemporaryDirectory() as directory:
        try:
            result = subprocess.run([compiler, "-x", "c++", "-", "-o",
                                     os.path.join(directory, "test")],
                                    input="int main() { return 0; }\n", text=True,
                                    capture_output=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return "numpy"
    return "cpp_standalone" if result.returncode == 0 else "numpy"


def _compare(target: str, neurons: int, duration, method: str, options: dict):
    """`validate` on `target` (the runtime targets through ``prefs.codegen.target``)."""
    start_scope()
    defaultclock.dt = 0.01 * ms
    standalone = target == "cpp_standalone"
    previous = prefs.codegen.target
    if not standalone:
        prefs.codegen.target = target
    try:
        return validate(lambda: traub_miles(neurons, method), duration,
                        target="cpp_standalone" if standalone else None, **options)
    finally:
        prefs.codegen.target = previous


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="autolut demo", description=__doc__.splitlines()[0])
    parser.add_argument("--neurons", type=int, default=10000)
    parser.add_argument("--duration", type=float, default=100.0, help="simulated ms")
    parser.add_argument("--target", default=None, choices=TARGETS,
                        help="default: the fastest this machine has")
    parser.add_argument("--all-targets", action="store_true",
                        help="run on numpy, cython and cpp_standalone, one table")
    parser.add_argument("--method", default="exponential_euler")
    parser.add_argument("--tolerance", type=float, default=None)
    args = parser.parse_args(argv)
    options = {} if args.tolerance is None else {"tolerance": args.tolerance}
    duration = args.duration * ms
    targets = TARGETS if args.all_targets else (args.target or fastest_target(),)
    rows = []
    for target in targets:
        print(f"simulating {args.neurons} neurons for {duration} on {target} "
              f"({args.method}), exact and optimized ...", flush=True)
        result = _compare(target, args.neurons, duration, args.method, options)
        [report], [group] = result.reports, result.groups
        if not rows:
            print(report, end="\n\n")
        rows.append((target, result, group))
    print(f"{'target':<16}{'exact s':>9}{'optimized s':>13}{'speedup':>9}  "
          f"{'spikes exact / optimized':<26}identical counts, largest spike shift")
    for target, result, group in rows:
        print(f"{target:<16}{result.exact_time:>9.2f}{result.optimized_time:>13.2f}"
              f"{result.speedup:>8.2f}x  {f'{group.spikes_exact} / {group.spikes_optimized}':<26}"
              f"{group.same_counts} of {group.neurons} neurons, {group.max_shift}")
    print("(simulation time only: code generation and compilation, the same for both, "
          "are not counted)")
    return 0
