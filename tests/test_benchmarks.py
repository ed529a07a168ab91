"""The quick benchmark (``python -m benchmarks --quick``) runs and writes sane results.

This is how CI runs the benchmark: every model and variant on numpy, one
model on cpp_standalone (also on 1 and 2 OpenMP threads), and the out_of_range
policies, in a few minutes.
"""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.models import MODELS
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
    assert {(row["model"], row["variant"]) for row in results["rows"]} == \
        {(model, variant) for model in MODELS for variant in VARIANTS}
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
