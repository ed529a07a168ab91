"""The code style is part of the test command: ruff, lines of at most 100 characters."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_finds_nothing():
    """``ruff check`` with the settings of pyproject.toml (pyflakes and pycodestyle rules,
    line length 100) over the package, tests, benchmarks and notebooks."""
    finished = subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", str(ROOT)],
                              capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert finished.returncode == 0, finished.stdout + finished.stderr
