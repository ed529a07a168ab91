"""The import graph of the package: no circle, and every module imports only modules
below it in the pipeline (the stages in `autolut.api`'s docstring)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "autolut"

#: Bottom to top. A module may import the modules of the layers before its own.
LAYERS = [
    {"kinds", "messages", "cache", "models"},  # vocabulary, logger, caches, published models
    {"targets.c_expression", "targets.numba_kernel"},        # code generation per target...
    {"targets.c_kernel", "targets.numpy_target"},
    {"targets.cython_target", "targets.cpp_target", "targets"},
    {"tabulate"},                                            # numbers: grids and errors
    {"tabulate2d"},                                          # (2-D tables build on 1-D)
    {"analysis"},                                            # sympy: candidates
    {"options"},
    {"lutfunction"},                                         # table functions (Brian2 Functions)
    {"report"},
    {"expeuler"},
    {"frontends.neurongroup"},                               # read and install, per object kind
    {"frontends.spatialneuron"},                             # (builds on the NeuronGroup's)
    {"frontends.synapses"},                                  # (reads the groups it connects)
    {"frontends"},
    {"plan"},                                                # the immutable plan
    {"guards"},                                              # run-time guards
    {"api"},                                                 # the pipeline
    {"views"},
    {"plotting"},
    {"validate"},
    {"enabling"},                                            # autolut.enable(): hooks into runs
    {"demo"},
    {"__main__", "__init__"},
]


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def _imports(path: Path, module: str) -> set[str]:
    """The modules of the package that `module` imports (relative or absolute)."""
    package = module.split(".")[:-1] if path.name != "__init__.py" else module.split(".")
    if module == "__init__":
        package = []
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - (node.level - 1)] if node.level > 1 else package
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.startswith("autolut"):
                target = node.module.split(".")[1:]
            else:
                continue
            for alias in node.names:  # a module of the package, or a name from one
                name = ".".join(target + [alias.name])
                found.add(name if name in LAYER_OF else ".".join(target) or "__init__")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("autolut."):
                    found.add(alias.name.removeprefix("autolut."))
    found.discard(module)
    return found


LAYER_OF = {name: level for level, names in enumerate(LAYERS) for name in names}


def test_every_module_has_a_layer():
    modules = {_module_name(path) for path in PACKAGE.rglob("*.py")}
    assert modules == set(LAYER_OF), "place new modules in LAYERS"


def test_modules_import_only_modules_below_them():
    wrong = []
    for path in PACKAGE.rglob("*.py"):
        module = _module_name(path)
        for imported in _imports(path, module):
            if LAYER_OF[imported] >= LAYER_OF[module]:
                wrong.append(f"{module} imports {imported}")
    assert not wrong, wrong
