"""The quick benchmark (``python -m benchmarks --quick``) runs and writes sane results.

This is how CI runs the benchmark: the original four models with every variant
on numpy, one model on cpp_standalone (also on 1 and 2 OpenMP threads), and the
out_of_range policies, in a few minutes. The other models (populations like
those) are checked without simulating: which variants apply, their per-neuron
parameters.
"""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from brian2 import mV

from autolut.models import BK_NEURON_RANGES, pospischil_rs, traub_miles
from benchmarks.__main__ import QUICK
from benchmarks.models import MODELS, build
from benchmarks.runner import Config, Runner
from benchmarks.variants import POLICY_VARIANTS, THREAD_VARIANTS, VARIANTS

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The output directory and printed output of one quick run."""
    out = tmp_path_factory.mktemp("benchmark")
    finished = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True, timeout=900)
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    return out, finished.stdout


@pytest.mark.compiler
def test_writes_every_file(quick):
    out, stdout = quick
    for suffix in ("json", "md", "txt"):
        assert (out / f"benchmark.{suffix}").stat().st_size > 0
    assert (out / "benchmark.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    markdown = (out / "benchmark.md").read_text()
    assert "## Speedup over exact Brian2" in markdown and "## out_of_range policies" in markdown
    assert "## OpenMP threads on cpp_standalone" in markdown
    # one progress line per measurement, with the elapsed time
    results = json.loads((out / "benchmark.json").read_text())
    progress = [line for line in stdout.splitlines() if line.startswith("[")]
    assert len(progress) == (len(results["rows"]) + len(results["policies"])
                             + len(results["threads"]))


@pytest.mark.compiler
def test_every_model_and_variant_measured(quick):
    results = json.loads((quick[0] / "benchmark.json").read_text())
    rows = results["rows"] + results["policies"] + results["threads"]
    # models without curves have no lut4brian or floor variant
    assert {(row["model"], row["variant"]) for row in results["rows"]} == \
        {(model, variant) for model in QUICK.models for variant in MODELS[model].variants(VARIANTS)}
    assert {row["variant"] for row in results["policies"]} == set(POLICY_VARIANTS)
    assert {row["variant"] for row in results["threads"]} == set(THREAD_VARIANTS)
    assert {row["target"] for row in results["rows"]} == {"numpy", "cpp_standalone"}
    for row in rows:
        assert row["error"] is None
        assert row["run_s"] > 0 and row["compile_s"] > 0 and row["build_s"] > 0
        assert row["ns_per_neuron_step"] > 0 and row["steps"] > 0
        assert (row["optimize_s"] > 0) == row["variant"].startswith("autolut")
        # the setup of a further run(), measured where runs happen in Python
        assert (row["per_run_s"] is None) == (row["target"] == "cpp_standalone")
        assert row["per_run_s"] is None or 0 < row["per_run_s"] < 5


@pytest.mark.compiler
def test_agreement_is_sane(quick):
    results = json.loads((quick[0] / "benchmark.json").read_text())
    for row in results["rows"] + results["policies"] + results["threads"]:
        if row["variant"] in ("exact", "autolut_clamp", "exact@1"):  # the references
            assert "agreement" not in row
            continue
        agreement = row["agreement"]
        assert row["speedup"] > 0
        assert 0 <= agreement["same_counts"] <= agreement["neurons"] == row["N"]
        assert agreement["spikes"] == row["spikes"] >= 0
        if agreement["shift_max_ms"] is not None:
            assert 0 <= agreement["shift_mean_ms"] <= agreement["shift_max_ms"] \
                <= row["duration_ms"]
        if MODELS[row["model"]].network:
            assert 0 <= agreement["rate_ks"] <= 1 and agreement["rate_hz"] >= 0
        if row["variant"].startswith("autolut"):
            # the default tolerance keeps spike counts (a neuron at its threshold may flip)
            assert agreement["same_counts"] >= 0.9 * agreement["neurons"]
    # OpenMP changes no result: 2 threads agree with 1 exactly
    threads = {row["variant"]: row for row in results["threads"]}
    assert threads["exact@2"]["agreement"]["same_counts"] == threads["exact@2"]["N"]
    assert threads["exact@2"]["agreement"]["shift_max_ms"] in (0.0, None)


def test_variants_that_replace_curves_need_curves():
    """lut4brian and floor replace the curves (functions of v alone): without curves
    (rates inline, per-neuron VT, or functions of v and Ca) only exact and autolut run."""
    for name in ("traub_miles", "traub_miles_vt", "pospischil_vt", "bk"):
        assert MODELS[name].variants(VARIANTS) == ("exact", "autolut")
        assert MODELS[name].variants(POLICY_VARIANTS) == POLICY_VARIANTS
        assert MODELS[name].variants(THREAD_VARIANTS) == THREAD_VARIANTS
    for name in ("coba_hh", "wang_buzsaki", "rothman_manis", "hh_axon", "pospischil"):
        assert MODELS[name].variants(VARIANTS) == VARIANTS
    assert MODELS["bk"].options == {"ranges": BK_NEURON_RANGES}


def test_section_runs_only_the_variants_that_apply(tmp_path, monkeypatch):
    runner, measured = Runner(tmp_path, total=6), []

    def measure(config, variant):  # a failed measurement: nothing to compare
        measured.append((config.model, variant))
        return dict(dataclasses.asdict(config), variant=variant, wall_s=0.0, error="not run",
                    spikes_file=str(tmp_path / f"{config.model}-{variant}.npz"))

    monkeypatch.setattr(runner, "measure", measure)
    rows = runner.section([Config("bk", "numpy", 10, 1.0), Config("pospischil", "numpy", 10, 1.0)],
                          VARIANTS)
    assert measured == [("bk", "exact"), ("bk", "autolut")] + \
        [("pospischil", variant) for variant in VARIANTS]
    assert len(rows) == runner.done == 6 and all("spikes_file" not in row for row in rows)


@pytest.mark.parametrize("name, builder", [("traub_miles_vt", traub_miles),
                                           ("pospischil_vt", pospischil_rs)])
def test_per_neuron_VT_is_the_builders(name, builder):
    """The benchmark's heterogeneous populations are the builders' (`VT_spread=5*mV`): the
    same VT values in every build, spread over 5 mV, uncorrelated with the index."""
    group, _ = build(MODELS[name], 50)
    again, _ = build(MODELS[name], 50)
    reference = builder(50, VT_spread=5 * mV)
    VT = np.asarray(group.VT_[:])
    assert np.array_equal(VT, again.VT_[:]) and np.array_equal(VT, reference.VT_[:])
    assert np.isclose(np.ptp(VT), 5e-3 * 49 / 50)
    assert abs(np.corrcoef(VT, np.arange(50))[0, 1]) < 0.5
