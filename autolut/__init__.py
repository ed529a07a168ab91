"""autolut: automatic lookup tables for Brian2 neuron models.

Replaces the costly expressions of a `NeuronGroup` (or a multicompartment
`SpatialNeuron`, or `Synapses`) that depend on one bounded
variable (rate functions of v, Ca-gated terms...) by linearly interpolated
tables with a measured maximum error, on the numpy, cython and cpp_standalone
targets.

See `optimize`, `report`, `restore`, `optimized`, `validate`, `enable`,
`summary`, `tables`, `range_counts` and `plot_tables`.
"""

from . import enabling, expeuler
from .api import optimize, optimized, report, restore
from .enabling import Summary, disable, enable, exclude_object, is_enabled, summary
from .guards import RangeCount
from .lutfunction import OutOfRangeError
from .messages import AutolutError
from .options import Options, OptionsError
from .plotting import plot_tables
from .report import Report
from .validate import Validation, validate
from .views import TableView, range_counts, tables

__all__ = ["optimize", "optimized", "report", "restore", "validate", "tables", "range_counts",
           "Options", "OptionsError", "AutolutError", "OutOfRangeError", "RangeCount", "Report",
           "Validation", "TableView", "plot_tables", "enable", "disable", "exclude_object",
           "is_enabled", "summary", "Summary"]
__version__ = "0.1.0"

expeuler.register(optimize)  # method='lut_exponential_euler' optimizes with autolut.optimize
enabling.install_hooks()  # inactive until autolut.enable() or prefs.autolut.enabled = True
