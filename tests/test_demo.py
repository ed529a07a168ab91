"""`autolut demo` on each target (small sizes)."""

import subprocess
import sys

import pytest

from autolut.__main__ import main


def test_demo_numpy(capsys, numpy_target):
    assert main(["demo", "--neurons", "30", "--duration", "20"]) == 0
    out = capsys.readouterr().out
    assert "autolut report for 'traub_miles" in out
    assert "speed ratio exact/optimized:" in out
    assert "neurons with identical spike counts: 30 of 30" in out


def test_usage_without_command(capsys):
    assert main([]) == 2
    assert "usage: autolut demo" in capsys.readouterr().out


@pytest.mark.compiler
def test_demo_cpp_standalone_as_a_module():
    result = subprocess.run([sys.executable, "-m", "autolut", "demo", "--neurons", "30",
                             "--duration", "20", "--target", "cpp_standalone"],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "neurons with identical spike counts: 30 of 30" in result.stdout
