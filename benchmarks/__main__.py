"""``python -m benchmarks``: run the benchmark and write the result files.

Usage::

    python -m benchmarks                      # full run (~25 min), into benchmarks/results/
    python -m benchmarks --quick              # CI smoke run (< 2 min), into a temporary directory
    python -m benchmarks --policies           # only the out_of_range policy comparison
    python -m benchmarks --no-policies        # everything but the policy comparison
    python -m benchmarks --threads            # only the OpenMP comparison (cpp_standalone)
    python -m benchmarks --targets cpp_standalone --models coba_hh --sizes 1000,10000

See `benchmarks` (the package docstring) for what is measured.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import os
import sys
import tempfile
import time
from pathlib import Path

from .models import MODELS
from .runner import ROOT, Config, Runner
from .variants import POLICY_VARIANTS, THREAD_VARIANTS, VARIANTS

TARGETS = ("numpy", "cython", "cpp_standalone")


@dataclasses.dataclass(frozen=True)
class Plan:
    """What a run measures.

    Attributes
    ----------
    targets, models, sizes
        The configurations: every model on every target at every size...
    durations
        ...simulated for ``durations[N]`` ms...
    caps
        ...except ``{(target, model): (largest N, longest ms)}`` (largest N 0:
        the model is not run on that target).
    policy_targets, policy_models, policy_sizes
        The configurations of the out_of_range policy comparison (with the
        same caps and durations).
    thread_models, thread_sizes
        The configurations of the OpenMP comparison, on cpp_standalone.
    """

    targets: tuple[str, ...]
    models: tuple[str, ...]
    sizes: tuple[int, ...]
    durations: dict[int, float]
    caps: dict[tuple[str, str], tuple[int, float]]
    policy_targets: tuple[str, ...]
    policy_models: tuple[str, ...]
    policy_sizes: tuple[int, ...]
    thread_models: tuple[str, ...] = ()
    thread_sizes: tuple[int, ...] = ()

    def configs(self) -> list[Config]:
        """The configurations of the main comparison."""
        return self._configs(self.targets, self.models, self.sizes)

    def policy_configs(self) -> list[Config]:
        """The configurations of the policy comparison."""
        return self._configs(self.policy_targets, self.policy_models, self.policy_sizes)

    def thread_configs(self) -> list[Config]:
        """The configurations of the OpenMP comparison."""
        return self._configs(("cpp_standalone",), self.thread_models, self.thread_sizes)

    def _configs(self, targets, models, sizes) -> list[Config]:
        configs = []
        for target in targets:
            for model in models:
                largest, longest = self.caps.get((target, model), (math.inf, math.inf))
                configs += [Config(model, target, N, min(self.duration(N), longest))
                            for N in sizes if N <= largest]
        return configs

    def duration(self, N: int) -> float:
        """Simulated ms for `N` neurons (that of the nearest size with a duration)."""
        return self.durations[min(self.durations, key=lambda n: abs(n - N))]


#: Full run (about 25 min on the idle 2-core development machine). A measurement
#: simulates 1 to 100 million neuron-steps: 100 ms up to N = 1000 (every firing
#: regime of the populations), shorter above, so that at large N the agreement
#: covers the first spikes only. numpy/coba_hh is capped at 10 ms: Brian2's
#: numpy code calls exprel through a unit-checking wrapper that formats the whole
#: result array into an (unused) error message on every call, about 4 ms per
#: step at N = 100 and 30 ms at N = 1000 (numpy abbreviates longer arrays, so
#: the cost falls again above: 2.5 ms per step at N = 10 000). The axon stops at
#: 10 000 compartments (10 um each).
FULL = Plan(targets=TARGETS, models=tuple(MODELS), sizes=(100, 1000, 10000, 100000),
            durations={100: 100, 1000: 100, 10000: 20, 100000: 10},
            caps={("numpy", "coba_hh"): (math.inf, 10),
                  **{(target, "hh_axon"): (10000, math.inf) for target in TARGETS}},
            policy_targets=TARGETS, policy_models=tuple(MODELS), policy_sizes=(10000,),
            thread_models=tuple(MODELS), thread_sizes=(10000,))
#: Quick run (CI, under 2 min): the four original models (the network, two
#: populations and the axon) with every variant on numpy, the Wang–Buzsaki
#: population on cpp_standalone (the cheapest to compile), 100 neurons for 10 ms,
#: and the policies on numpy for the network. Its times mean little; it checks
#: that everything runs and writes its files. (The other models, all populations,
#: would double its time, half of it compiling on cpp_standalone.)
QUICK = Plan(targets=("numpy", "cpp_standalone"),
             models=("coba_hh", "wang_buzsaki", "rothman_manis", "hh_axon"), sizes=(100,),
             durations={100: 10},
             caps={("cpp_standalone", "coba_hh"): (0, 0),
                   ("cpp_standalone", "rothman_manis"): (0, 0),
                   ("cpp_standalone", "hh_axon"): (0, 0)},
             policy_targets=("numpy",), policy_models=("coba_hh",), policy_sizes=(100,),
             thread_models=("wang_buzsaki",), thread_sizes=(100,))


def plan(args) -> Plan:
    """The plan of the command line: full or quick, with the options given.

    Giving sizes drops the caps (you asked for them).
    """
    base = QUICK if args.quick else FULL
    changes = {name: tuple(convert(x) for x in value.split(","))
               for name, value, convert in [("targets", args.targets, str),
                                            ("models", args.models, str),
                                            ("sizes", args.sizes, int)] if value}
    for name in list(changes):
        changes["policy_" + name] = changes[name]
        if name != "targets":
            changes["thread_" + name] = changes[name]
    if "sizes" in changes:
        changes["caps"] = {}
    if args.duration:
        changes["durations"] = {0: args.duration}
    return dataclasses.replace(base, **changes)


def policies_unavailable() -> str | None:
    """None if ``autolut.optimize`` takes ``out_of_range``; otherwise why it does not."""
    from brian2 import NeuronGroup
    from brian2.utils.logger import BrianLogger

    import autolut
    from autolut.options import OptionsError

    BrianLogger.suppress_name("unused_brian_object")  # the probe group is never run
    try:
        autolut.optimize(NeuronGroup(1, "dv/dt = -v/(10*ms) : volt"), out_of_range="clamp")
    except OptionsError as error:
        return f"not run: this autolut does not take out_of_range ({error})"
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="Run the autolut benchmark and write the "
                                                 "result files.")
    parser.add_argument("--quick", action="store_true",
                        help="small CI run (< 2 min); writes to a temporary directory "
                             "unless --out is given")
    parser.add_argument("--out", type=Path,
                        help="directory of the result files (default: benchmarks/results/, "
                             "or a new temporary directory with --quick)")
    parser.add_argument("--targets", help=f"comma-separated, from {','.join(TARGETS)}")
    parser.add_argument("--models", help=f"comma-separated, from {','.join(MODELS)}")
    parser.add_argument("--sizes", help="comma-separated numbers of neurons (no caps then)")
    parser.add_argument("--duration", type=float, help="simulated ms for every size")
    sections = parser.add_mutually_exclusive_group()
    sections.add_argument("--policies", action="store_true",
                          help="run only the out_of_range policy comparison")
    sections.add_argument("--no-policies", action="store_true",
                          help="skip the out_of_range policy comparison")
    sections.add_argument("--threads", action="store_true",
                          help="run only the OpenMP comparison (cpp_standalone)")
    parser.add_argument("--keep", type=Path,
                        help="keep caches, standalone projects and spikes in this directory")
    args = parser.parse_args(argv)
    for name, allowed in (("targets", TARGETS), ("models", MODELS)):
        unknown = set((getattr(args, name) or "").split(",")) - set(allowed) - {""}
        if unknown:
            parser.error(f"unknown {name}: {', '.join(sorted(unknown))}")
    out = args.out or (Path(tempfile.mkdtemp(prefix="autolut_benchmark_")) if args.quick
                       else ROOT / "benchmarks" / "results")
    chosen = plan(args)
    main_configs, policy_configs = chosen.configs(), chosen.policy_configs()
    thread_configs = chosen.thread_configs() if "cpp_standalone" in chosen.targets else []
    if args.policies or args.threads:
        main_configs = []
    if args.policies:
        thread_configs = []
    skipped = ("not run (--no-policies)" if args.no_policies else
               "not run (--threads)" if args.threads else policies_unavailable())
    if skipped:
        policy_configs = []
    from .report import machine, write_results

    results = dict(command=" ".join(["python -m benchmarks", *(argv or sys.argv[1:])]),
                   machine=machine(), rows=[], policies=skipped)
    total = sum(len(MODELS[config.model].variants(variants))
                for configs, variants in ((main_configs, VARIANTS),
                                          (policy_configs, POLICY_VARIANTS),
                                          (thread_configs, THREAD_VARIANTS))
                for config in configs)
    print(f"{total} measurements; results into {out}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="autolut_benchmark_work_") as scratch:
        workdir = args.keep or Path(scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        runner = Runner(workdir, total)
        results["rows"] = runner.section(main_configs, VARIANTS)
        if policy_configs:
            results["policies"] = runner.section(policy_configs, POLICY_VARIANTS)
        elif skipped:
            print(f"out_of_range policies: {skipped}", flush=True)
        results["threads"] = runner.section(thread_configs, THREAD_VARIANTS)
    results["total_minutes"] = (time.perf_counter() - start) / 60
    results["load_average_end"] = os.getloadavg()[0]
    # a policies-only or threads-only run writes files of its own, next to those of a full run
    name = "policies" if args.policies else "threads" if args.threads else "benchmark"
    for path in write_results(out, results, name):
        print(f"wrote {path}")
    failed = [row for row in results["rows"] + results["threads"] + (
        results["policies"] if isinstance(results["policies"], list) else []) if row["error"]]
    print(f"{total} measurements in {results['total_minutes']:.1f} min, {len(failed)} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
