"""The cpp_standalone target: a static inline C++ function per table.

The table bank reaches the code as a Function namespace array, which the
standalone device writes to ``static_arrays/<key>`` and loads at start-up; the
grid constants are literals in the code. No file is written by autolut.

With ``out_of_range='error'`` a lookup outside the range prints the message,
leaves it in a file of the project directory and ends the program with exit
status 1; `autolut.guards.watch_standalone_run` turns Brian2's
``RuntimeError: Project run failed`` into an ``OutOfRangeError`` with the
message.
"""

from __future__ import annotations

from brian2.devices.device import get_device

from . import c_kernel

__all__ = ["implementation", "check_device"]

SUPPORTED_DEVICES = ("CPPStandaloneDevice",)
#: File (in the project directory) where the program leaves the message of a
#: lookup outside the range under out_of_range='error'.
STANDALONE_ERROR_FILE = "autolut_out_of_range.txt"


def check_device():
    """Refuse C++-derived devices (brian2cuda, brian2genn...) that would reuse this code."""
    device = type(get_device()).__name__
    if device not in SUPPORTED_DEVICES:
        raise NotImplementedError(
            f"autolut tables have no implementation for the device '{device}'. "
            f"Supported: the runtime device (numpy and cython targets) and "
            f"cpp_standalone. Call autolut.restore(group) to run the exact model.")


def _fail(message: str) -> str:
    return (f'printf("%s\\n", {message}); fflush(stdout); '
            f'FILE* file = fopen("{STANDALONE_ERROR_FILE}", "w"); '
            f'if (file) {{ fputs({message}, file); fclose(file); }} exit(1);')


def implementation(lut):
    # The table array comes with the bank, a dependency: loaded once per file.
    return dict(code=lambda owner: c_kernel.function_source(lut, _fail), name=lut.name,
                availability_check=check_device, namespace=lambda owner: {},
                dependencies={lut.bank.name: lut.bank})

