"""The result files: JSON (everything), Markdown and text (tables), PNG (plot)."""

from __future__ import annotations

import datetime
import json
import math
import os
import platform
import subprocess
from pathlib import Path

from .runner import ROOT, describe_agreement

__all__ = ["machine", "write_results"]


def machine() -> dict:
    """The machine and software versions, and the load when asked (other jobs skew times)."""
    import brian2
    import Cython
    import numba
    import numpy
    import sympy

    def first_line(command):
        try:
            return subprocess.run(command, capture_output=True, text=True,
                                  cwd=ROOT).stdout.splitlines()[0].strip()
        except (OSError, IndexError):
            return "unknown"

    cpu = next((line.split(":", 1)[1].strip() for line in _read("/proc/cpuinfo").splitlines()
                if line.startswith("model name")), platform.processor())
    memory = next((line.split()[1] for line in _read("/proc/meminfo").splitlines()
                   if line.startswith("MemTotal")), None)
    system = next((line.split("=", 1)[1].strip('"') for line in
                   _read("/etc/os-release").splitlines() if line.startswith("PRETTY_NAME")),
                  platform.platform())
    dirty = first_line(["git", "status", "--porcelain", "--untracked-files=no"]) != "unknown"
    return dict(date=datetime.datetime.now().isoformat(timespec="seconds"), cpu=cpu,
                cores=os.cpu_count(),
                memory_gib=round(int(memory) / 2**20, 1) if memory else None, system=system,
                compiler=first_line(["gcc", "--version"]), python=platform.python_version(),
                brian2=brian2.__version__, numpy=numpy.__version__, numba=numba.__version__,
                cython=Cython.__version__, sympy=sympy.__version__,
                commit=first_line(["git", "rev-parse", "--short", "HEAD"])
                + (" (with uncommitted changes)" if dirty else ""),
                load_average=os.getloadavg()[0])


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def write_results(out: Path, results: dict, name: str = "benchmark") -> list[Path]:
    """Write `name` ``.json``, ``.md``, ``.txt`` and ``.png`` into `out`; returns the paths.

    The plot shows the main comparison; without it (a policies-only run) there is no PNG.
    """
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{name}.{suffix}" for suffix in ("json", "md", "txt")]
    paths[0].write_text(json.dumps(_plain(results), indent=1, allow_nan=False))
    paths[1].write_text(_document(results, markdown=True))
    paths[2].write_text(_document(results, markdown=False))
    if results["rows"]:
        from .plot import plot
        paths.append(out / f"{name}.png")
        plot(results["rows"], paths[-1])
    return paths


def _plain(value):
    """`value` with NaN as null (strict JSON) and numpy numbers as Python numbers."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, (str, bool, int)) or value is None:
        return value
    value = float(value)
    return None if math.isnan(value) else value


# -- tables -----------------------------------------------------------------------------------

def _document(results: dict, markdown: bool) -> str:
    """The tables with a header saying what was run where; Markdown or aligned text."""
    m = results["machine"]
    lines = [f"{'# ' if markdown else ''}autolut benchmark", "",
             f"Command: `{results['command']}`  ",
             f"Date: {m['date']}, {results['total_minutes']:.1f} min; commit {m['commit']}  ",
             f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB; {m['system']}; "
             f"{m['compiler']}  ",
             f"Python {m['python']}, brian2 {m['brian2']}, numpy {m['numpy']}, numba "
             f"{m['numba']}, Cython {m['cython']}, sympy {m['sympy']}  ",
             f"Load average (1 min) at start / end: {m['load_average']:.2f} / "
             f"{results['load_average_end']:.2f} (well above 0 means other jobs shared the "
             f"cores and the times are less reliable)", "",
             "Times in seconds; `sim`: simulation only; compile and table-build (autolut.optimize) "
             "times apart; `per run`: what every further run() costs before its first step "
             "(median of 7 runs of 0 ms; in parentheses without Brian2's gc.collect(); "
             "cpp_standalone runs everything in one program); `cable solver`: the share of a "
             "SpatialNeuron's step spent in Brian2's cable solver (profiled, numpy and cython). "
             "Speedup: exact time / variant time on the same model, target and N. "
             "Agreement with exact Brian2: `same`: neurons with identical spike counts; `shift`: "
             "mean/max spike-time difference (ms) over those neurons; for the COBA-HH network "
             "(chaotic) also the mean rate and its change, the mean ISI CV (variant/exact) and "
             "the KS distance between per-neuron rate distributions. lut4brian and floor "
             "replace a model's rate curves (named functions of v alone): blank for models "
             "without such curves (rates written inline, or functions of a per-neuron "
             "parameter or of two variables).", ""]
    rows = results["rows"]
    if rows:
        lines += [_heading("Speedup over exact Brian2", markdown), "",
                  _render(*_summary(rows), markdown), "",
                  _heading("All measurements", markdown), "",
                  _render(*_measurements(rows), markdown), ""]
    if results.get("threads"):
        lines += [_heading("OpenMP threads on cpp_standalone", markdown), "",
                  "The same program on 1 and 2 threads (prefs.devices.cpp_standalone."
                  "openmp_threads); ×: time on 1 thread / time on 2.", "",
                  _render(*_thread_table(results["threads"]), markdown), ""]
    policies = results["policies"]
    lines.append(_heading("out_of_range policies: cost relative to 'clamp'", markdown))
    lines.append("")
    if isinstance(policies, str):
        lines.append(policies)
    else:
        lines.append(_render(*_policy_table(policies), markdown))
    return "\n".join(lines) + "\n"


def _heading(text: str, markdown: bool) -> str:
    return f"## {text}" if markdown else f"{text}\n{'-' * len(text)}"


def _configurations(rows: list[dict]) -> dict[tuple, dict[str, dict]]:
    """``{(model, target, N, duration_ms): {variant: row}}`` in the order run."""
    grouped = {}
    for row in rows:
        key = (row["model"], row["target"], row["N"], row["duration_ms"])
        grouped.setdefault(key, {})[row["variant"]] = row
    return grouped


def _summary(rows: list[dict]):
    headers = ["model", "target", "N", "ms", "exact s", "autolut s", "lut4brian s", "floor s",
               "× autolut", "× lut4brian", "× floor", "autolut/floor",
               "per run ms exact (without gc)", "per run ms autolut (without gc)",
               "autolut agreement", "lut4brian agreement"]
    table = []
    for (model, target, N, duration), variants in _configurations(rows).items():
        def get(variant, key, fmt):
            row = variants.get(variant, {})
            return "failed" if row.get("error") else _number(row.get(key), fmt)

        autolut, floor = variants.get("autolut", {}), variants.get("floor", {})
        ratio = autolut["run_s"] / floor["run_s"] if "run_s" in autolut and "run_s" in floor \
            else None
        table.append([model, target, f"{N:,}", f"{duration:g}",
                      *(get(v, "run_s", "sig") for v in ("exact", "autolut", "lut4brian", "floor")),
                      *(get(v, "speedup", "sig") for v in ("autolut", "lut4brian", "floor")),
                      _number(ratio, ".2f"),
                      *(_per_run(variants.get(v, {})) for v in ("exact", "autolut")),
                      *(_agreement(variants[v]) if v in variants else ""
                        for v in ("autolut", "lut4brian"))])
    return headers, table


def _measurements(rows: list[dict]):
    headers = ["model", "target", "N", "ms", "variant", "sim s", "ns/neuron-step", "speedup",
               "compile s", "tables s", "build s", "per run ms (without gc)", "cable solver",
               "spikes", "agreement with exact"]
    table = []
    for row in rows:
        start = [row["model"], row["target"], f"{row['N']:,}", f"{row['duration_ms']:g}",
                 row["variant"]]
        if row["error"]:
            table.append(start + ["failed: " + row["error"][:80]] + [""] * 9)
            continue
        table.append(start + [_number(row["run_s"], "sig"),
                              _number(row["ns_per_neuron_step"], "sig"),
                              _number(row.get("speedup"), "sig"),
                              _number(row["compile_s"], ".1f"), _number(row["optimize_s"], ".2f"),
                              _number(row["build_s"], ".2f"), _per_run(row),
                              _percent(row.get("cable_share")), str(row["spikes"]),
                              _agreement(row)])
    return headers, table


def _policy_table(rows: list[dict]):
    headers = ["model", "target", "N", "ms", "policy", "sim s", "relative to clamp", "tables s",
               "compile s", "agreement with clamp"]
    table = []
    for row in rows:
        start = [row["model"], row["target"], f"{row['N']:,}", f"{row['duration_ms']:g}",
                 row["variant"].removeprefix("autolut_")]
        if row["error"]:
            table.append(start + ["failed: " + row["error"][:80]] + [""] * 4)
            continue
        relative = 1 / row["speedup"] if "speedup" in row else 1.0  # clamp itself: 1
        table.append(start + [_number(row["run_s"], "sig"), _number(relative, ".3f"),
                              _number(row["optimize_s"], ".2f"), _number(row["compile_s"], ".1f"),
                              _agreement(row)])
    return headers, table


def _thread_table(rows: list[dict]):
    headers = ["model", "N", "ms", "exact 1 thread s", "exact 2 threads s", "× exact 2 vs 1",
               "autolut 1 thread s", "autolut 2 threads s", "× autolut 2 vs 1",
               "× autolut vs exact (2 threads)", "autolut agreement (2 threads, vs exact 1)"]
    table = []
    for (model, _, N, duration), variants in _configurations(rows).items():
        def seconds(variant):
            row = variants.get(variant, {})
            return None if row.get("error") else row.get("run_s")

        times = {variant: seconds(variant) for variant in
                 ("exact@1", "exact@2", "autolut@1", "autolut@2")}
        table.append([model, f"{N:,}", f"{duration:g}",
                      *(_number(times[v], "sig") for v in ("exact@1", "exact@2")),
                      _number(_ratio(times["exact@1"], times["exact@2"]), ".2f"),
                      *(_number(times[v], "sig") for v in ("autolut@1", "autolut@2")),
                      _number(_ratio(times["autolut@1"], times["autolut@2"]), ".2f"),
                      _number(_ratio(times["exact@2"], times["autolut@2"]), ".2f"),
                      _agreement(variants["autolut@2"]) if "autolut@2" in variants else ""])
    return headers, table


def _ratio(numerator, denominator):
    return numerator / denominator if numerator and denominator else None


def _milliseconds(seconds) -> str:
    return "" if seconds is None else f"{1e3 * seconds:.1f}"


def _percent(share) -> str:
    return "" if share is None else f"{100 * share:.0f} %"


def _per_run(row: dict) -> str:
    """Setup time of a run, and in parentheses without Brian2's garbage collection
    (older results have only the first)."""
    total, setup = row.get("per_run_s"), row.get("per_run_setup_s")
    return _milliseconds(total) + ("" if setup is None else f" ({_milliseconds(setup)})")


def _agreement(row: dict) -> str:
    if "agreement" in row:
        return describe_agreement(row["agreement"])
    return "" if row.get("error") else "(reference)"


def _number(value, fmt: str) -> str:
    """`value` formatted with `fmt`; ``"sig"``: 3 significant digits, never an exponent."""
    if value is None or math.isnan(value):
        return ""
    if fmt == "sig":
        decimals = max(0, 2 - math.floor(math.log10(abs(value)))) if value else 0
        return f"{value:,.{decimals}f}"
    return format(value, fmt)


def _render(headers: list[str], table: list[list[str]], markdown: bool) -> str:
    """A Markdown table, or the same columns aligned for a text file."""
    if markdown:
        numeric = [all(_is_number(r[c]) for r in table if r[c]) for c in range(len(headers))]
        rule = ["---:" if n else "---" for n in numeric]
        return "\n".join("| " + " | ".join(cells) + " |" for cells in [headers, rule, *table])
    widths = [max(len(str(cells[c])) for cells in [headers, *table]) for c in range(len(headers))]
    return "\n".join("  ".join(str(cell).ljust(w) for cell, w in zip(cells, widths)).rstrip()
                     for cells in [headers, *table])


def _is_number(text: str) -> bool:
    try:
        float(text.replace(",", ""))
        return True
    except ValueError:
        return False
