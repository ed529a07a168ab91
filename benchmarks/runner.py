"""Run the measurements, each variant in a subprocess of its own, and print progress.

Every measurement starts ``python -m benchmarks.worker`` with the same layout
(a fresh Python process, the same build code) in a scratch directory, so no
variant profits from another's imports, caches or memory. The Cython cache or
the standalone project directory is one per model, target and variant: the
smallest N of a model compiles from scratch, the larger ones reuse their own
variant's cache, as a user re-running a model does.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import subprocess
import sys
import time
from pathlib import Path

from . import agreement
from .models import MODELS

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["Config", "Runner"]


@dataclasses.dataclass(frozen=True)
class Config:
    """One model on one target at one size; all variants of a section run on it."""

    model: str
    target: str
    N: int
    duration_ms: float


class Runner:
    """Runs measurements and prints one line per finished measurement.

    Parameters
    ----------
    workdir
        Scratch directory for caches, standalone projects and spike files.
    total
        Number of measurements planned, for the progress lines.
    """

    def __init__(self, workdir: Path, total: int):
        self.workdir, self.total, self.done = Path(workdir), total, 0
        self.start = time.perf_counter()

    def section(self, configs: list[Config], variants: tuple[str, ...]) -> list[dict]:
        """Measure every variant that applies to the model (`Model.variants`) on every
        configuration.

        The first variant is the reference (it applies to every model): every row
        carries the speedup (reference time / this time) and the spike agreement
        with it.

        Returns
        -------
        list of dict
            One row per measurement (see `measure` and `agreement.compare`),
            with ``error`` set (and no times) if the subprocess failed.
        """
        rows = []
        for config in configs:
            applied = MODELS[config.model].variants(variants)
            for variant in applied:
                row = self.measure(config, variant)
                if variant == variants[0]:
                    reference = row
                else:
                    self.add_comparison(row, reference)
                self.done += 1
                print(self.progress_line(row), flush=True)
                rows.append(row)
            for row in rows[-len(applied):]:
                Path(row.pop("spikes_file")).unlink(missing_ok=True)
        return rows

    def measure(self, config: Config, variant: str) -> dict:
        """Run one variant of `config` in a subprocess; returns its row."""
        name = f"{config.model}-{config.target}-{variant}"
        spikes_file = self.workdir / "spikes" / f"{name}-{config.N}.npz"
        spikes_file.parent.mkdir(parents=True, exist_ok=True)
        spec = dict(dataclasses.asdict(config), variant=variant,
                    cache_dir=str(self.workdir / "cache" / name), spikes_file=str(spikes_file))
        # the package and the benchmarks must be importable from the scratch directory
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(
            [str(ROOT)] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]))
        start = time.perf_counter()
        output = subprocess.run([sys.executable, "-m", "benchmarks.worker", json.dumps(spec)],
                                capture_output=True, text=True, cwd=self.workdir, env=env)
        row = dict(dataclasses.asdict(config), variant=variant, spikes_file=str(spikes_file),
                   wall_s=time.perf_counter() - start, error=None)
        if output.returncode != 0:
            row["error"] = output.stderr.strip().splitlines()[-1] if output.stderr.strip() \
                else f"exit code {output.returncode}"
            row["stderr"] = output.stderr[-3000:]
            return row
        row.update(json.loads(output.stdout.strip().splitlines()[-1]))
        row["ns_per_neuron_step"] = 1e9 * row["run_s"] / (config.N * row["steps"])
        return row

    @staticmethod
    def add_comparison(row: dict, reference: dict) -> None:
        """Add the speedup over `reference` and the spike agreement with it to `row`."""
        if row["error"] or reference["error"]:
            return
        row["reference"] = reference["variant"]
        row["speedup"] = reference["run_s"] / row["run_s"]
        N, duration_s = row["N"], row["duration_ms"] * 1e-3
        row["agreement"] = agreement.compare(
            agreement.Spikes.load(reference["spikes_file"], N),
            agreement.Spikes.load(row["spikes_file"], N), duration_s,
            network=MODELS[row["model"]].network)

    def progress_line(self, row: dict) -> str:
        """``[done/total elapsed] configuration variant: times | agreement``."""
        elapsed = time.perf_counter() - self.start
        head = (f"[{self.done:>3}/{self.total} {int(elapsed) // 60:>3}m{int(elapsed) % 60:02d}s] "
                f"{row['model']:13} {row['target']:14} N={row['N']:<6} "
                f"{row['duration_ms']:g} ms {row['variant']:13}")
        if row["error"]:
            return f"{head} FAILED ({row['wall_s']:.0f} s): {row['error']}"
        text = (f"{head} sim {row['run_s']:7.3g} s {row['ns_per_neuron_step']:8.1f} ns/neuron-step"
                f"  compile {row['compile_s']:5.1f} s  tables {row['optimize_s']:4.2f} s")
        if "speedup" in row:
            text += (f"  x{row['speedup']:.2f} vs {row['reference']} | "
                     f"{describe_agreement(row['agreement'])}")
        return text + f"  ({row['wall_s']:.0f} s)"


def describe_agreement(result: dict) -> str:
    """Short text of an `agreement.compare` result: counts, shift, and network statistics."""
    shift = f"{_text(result['shift_mean_ms'], '.2g')}/{_text(result['shift_max_ms'], '.2g')}"
    text = f"same counts {result['same_counts']}/{result['neurons']}, shift {shift} ms"
    if "rate_change" in result:
        change = _text(100 * result["rate_change"], "+.1f")
        cv = f"{_text(result['cv'], '.2f')}/{_text(result['cv_reference'], '.2f')}"
        text += (f", rate {result['rate_hz']:.1f} Hz ({change} %), CV {cv}, "
                 f"KS {result['rate_ks']:.3f}")
    return text


def _text(value, fmt: str) -> str:
    """`value` formatted, or a dash for a missing value (no spikes to compare)."""
    return "–" if value is None or math.isnan(value) else format(value, fmt)
