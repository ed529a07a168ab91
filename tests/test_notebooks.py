"""The notebooks in ``notebooks/`` execute without errors, and are committed with their outputs.

Each notebook runs in a fresh ipykernel of the interpreter running the tests,
in a temporary copy of ``notebooks/`` (so neither the committed outputs nor the
repository change), with ``AUTOLUT_NOTEBOOK_QUICK=1``: the notebooks then pick
shorter runs. They use Brian2's numpy target, so no C compiler is needed.
"""

import os
import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = ["tutorial.ipynb", "choosing_tolerance.ipynb"]


def _kernel_manager():
    """A kernel of this interpreter, whatever kernelspecs are installed: without
    kernel directories, 'python3' is ipykernel's own spec (``sys.executable``)."""
    return KernelManager(kernel_name="python3",
                         kernel_spec_manager=KernelSpecManager(kernel_dirs=[]))


def _kernel_environment(tmp_path):
    pythonpath = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    return dict(os.environ,
                AUTOLUT_NOTEBOOK_QUICK="1",
                PYTHONPATH=os.pathsep.join(pythonpath),  # this checkout's autolut
                IPYTHONDIR=str(tmp_path / "ipython"))    # no user startup files


@pytest.mark.parametrize("name", NAMES)
def test_notebook_executes(name, tmp_path):
    before = sorted(os.listdir(NOTEBOOKS))
    workdir = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOKS, workdir, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    notebook = nbformat.read(workdir / name, as_version=4)
    client = NotebookClient(notebook, km=_kernel_manager(), timeout=600, startup_timeout=120,
                            resources={"metadata": {"path": str(workdir)}})
    client.execute(env=_kernel_environment(tmp_path))  # raises CellExecutionError on an error
    outputs = [output for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs]
    assert not [output for output in outputs if output.output_type == "error"]
    assert any("image/png" in output.get("data", {}) for output in outputs), "no plots"
    assert sorted(os.listdir(NOTEBOOKS)) == before


@pytest.mark.parametrize("name", NAMES)
def test_notebook_committed_with_outputs(name):
    """Rendered on GitHub, the notebooks show their results: every code cell ran, none failed."""
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code]
    assert counts == list(range(1, len(code) + 1)), \
        f"{name}: run all cells in order, then save it with its outputs"
    assert not [output for cell in code for output in cell.outputs
                if output.output_type == "error"]
