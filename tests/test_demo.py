"""`autolut demo` on each target (small sizes)."""

import re
import shutil
import subprocess
import sys

import pytest

from autolut.__main__ import main
from autolut.demo import fastest_target


def test_demo_numpy(capsys, numpy_target):
    assert main(["demo", "--neurons", "30", "--duration", "20", "--target", "numpy"]) == 0
    out = capsys.readouterr().out
    assert "autolut report for 'traub_miles" in out
    row = re.search(r"^numpy\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s+(\d+) / (\d+)\s+30 of 30 "
                    r"neurons", out, re.MULTILINE)
    assert row, out
    exact, optimized, speedup = (float(x) for x in row.groups()[:3])
    assert speedup == pytest.approx(exact / optimized, rel=0.02)
    assert row.group(4) == row.group(5) and int(row.group(4)) > 0


def test_fastest_target_needs_a_working_compiler(monkeypatch):
    monkeypatch.setenv("CXX", "false")  # a "compiler" that always fails
    assert fastest_target() == "numpy"
    monkeypatch.delenv("CXX")
    assert fastest_target() == ("cpp_standalone" if shutil.which("g++") or shutil.which("c++")
                                else "numpy")


def test_usage_without_command(capsys):
    assert main([]) == 2
    assert "usage: autolut demo" in capsys.readouterr().out


@pytest.mark.compiler
def test_demo_on_all_targets_as_a_module_without_brian_warnings():
    result = subprocess.run([sys.executable, "-m", "autolut", "demo", "--neurons", "30",
                             "--duration", "20", "--all-targets"],
                            capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-3000:]
    output = result.stdout + result.stderr
    assert "getting deleted" not in output and "WARNING" not in output
    for target in ("numpy", "cython", "cpp_standalone"):
        assert re.search(rf"^{target}\s+[\d.]+\s+[\d.]+\s+[\d.]+x\s+\d+ / \d+\s+30 of 30 "
                         rf"neurons", result.stdout, re.MULTILINE), result.stdout
