"""Brian2 scripts, unchanged but for one ``autolut.enable()`` line: spikes and speed.

``python -m benchmarks.examples [--targets cython,cpp_standalone] [--small] [--out DIR]``
runs each script of benchmarks/examples/ (rebuilt from Brian2's examples: COBAHH,
Wang–Buzsaki, Rothman–Manis) twice per target, each time in a process of its own
with Brian2's random numbers seeded the same: as it is, and with the one line
``autolut.enable()`` executed before it. It prints and writes (``examples.txt``
in DIR) the simulation time of the script's last ``run()`` (``device._last_run_time``:
after code generation and compilation; on cpp_standalone the whole program),
the speedup and the spike agreement. ``--small`` runs the scripts' small sizes
(``AUTOLUT_EXAMPLE_SIZE=small``), as tests/test_enable.py does.

``python -m benchmarks.examples --one SCRIPT TARGET OUT.npz WORKDIR MODE`` is one
such run (``MODE``: ``exact`` or ``enable``); it saves the spike counts, the first
recorded voltage trace, the simulation time and `autolut.summary()`. On
``cpp_standalone`` the script's run() calls make one program
(``build_on_run=False``), built and run once the script ends; on
``cpp_standalone_build_on_run`` (scripts with one run() only) its run() builds
and runs the program itself, as with a plain ``set_device('cpp_standalone')``.
"""

from __future__ import annotations

import argparse
import os
import runpy
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

EXAMPLES = Path(__file__).resolve().parent / "examples"
SCRIPTS = ("cobahh", "wang_buzsaki", "rothman_manis")
STRICT_FLAGS = ["-w", "-O2", "-ffp-contract=off", "-fno-fast-math", "-std=c++11"]


def run_one(script, target, out, workdir, mode="exact") -> None:
    """Run `script` on `target` (with ``autolut.enable()`` if `mode` is ``'enable'``)."""
    from brian2 import SpikeMonitor, StateMonitor, device, prefs, seed, set_device

    import autolut

    prefs.codegen.cpp.extra_compile_args_gcc = STRICT_FLAGS  # targets agree to the last bit
    if target == "cpp_standalone_build_on_run":
        set_device("cpp_standalone", directory=str(Path(workdir) / "standalone"))
    elif target == "cpp_standalone":
        set_device("cpp_standalone", build_on_run=False)
    else:
        prefs.codegen.target = target
        prefs.codegen.runtime.cython.cache_dir = str(Path(workdir) / "cython_cache")
    seed(2007)
    if mode == "enable":
        autolut.enable()
    names = runpy.run_path(str(script), run_name="__main__")
    if target == "cpp_standalone":
        device.build(directory=str(Path(workdir) / "standalone"))
    [spikes] = [obj for obj in names.values() if isinstance(obj, SpikeMonitor)]
    traces = [obj for obj in names.values() if isinstance(obj, StateMonitor)]
    np.savez(out, count=np.asarray(spikes.count[:]), v=np.asarray(traces[0].v_[:]),
             time=float(device._last_run_time), summary=str(autolut.summary()))


def run_pair(script: str, target: str, root: Path, small: bool, together: bool = True) -> dict:
    """`script` exact and with ``enable()`` on `target`, each in its own process (both at
    once if `together`); ``{mode: results}``."""
    environment = dict(os.environ, AUTOLUT_EXAMPLE_SIZE="small" if small else "full")
    results, processes = {}, {}
    for mode in ("exact", "enable"):
        processes[mode] = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.examples", "--one", str(EXAMPLES / f"{script}.py"),
             target, str(root / f"{script}_{target}_{mode}.npz"),
             str(root / f"{script}_{target}_{mode}"), mode],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=environment,
            cwd=str(Path(__file__).resolve().parent.parent))
        if not together:
            processes[mode].wait()
    for mode, process in processes.items():
        output, _ = process.communicate(timeout=3600)
        if process.returncode != 0:
            raise RuntimeError(f"{script} {mode} on {target} failed:\n{output[-3000:]}")
        results[mode] = np.load(root / f"{script}_{target}_{mode}.npz")
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.examples",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--one", nargs=5, metavar=("SCRIPT", "TARGET", "OUT", "WORKDIR", "MODE"))
    parser.add_argument("--targets", default="cython,cpp_standalone")
    parser.add_argument("--small", action="store_true")
    parser.add_argument("--out", default="benchmarks/results/examples")
    args = parser.parse_args(argv)
    if args.one:
        run_one(*args.one)
        return 0
    lines = [f"{'script':<15}{'target':<16}{'exact s':>9}{'enable() s':>12}{'speedup':>9}  "
             f"{'spikes exact / enable()':<25}identical counts"]
    print(lines[0], flush=True)
    with tempfile.TemporaryDirectory() as work:
        for target in args.targets.split(","):
            for script in SCRIPTS:
                # one at a time: the two processes must not share the cores while timed
                runs = run_pair(script, target, Path(work), args.small, together=False)
                exact, enabled = runs["exact"], runs["enable"]
                same = int(np.sum(exact["count"] == enabled["count"]))
                spikes = f"{int(exact['count'].sum())} / {int(enabled['count'].sum())}"
                lines.append(f"{script:<15}{target:<16}{float(exact['time']):>9.3f}"
                             f"{float(enabled['time']):>12.3f}"
                             f"{float(exact['time']) / float(enabled['time']):>8.2f}x  "
                             f"{spikes:<25}{same} of {len(exact['count'])} neurons")
                print(lines[-1], flush=True)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    (Path(args.out) / "examples.txt").write_text(
        f"python -m benchmarks.examples {' '.join(argv or sys.argv[1:])}\n"
        f"simulation time of each script's last run(), seconds\n\n" + "\n".join(lines) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
