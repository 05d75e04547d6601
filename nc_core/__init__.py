"""nc_core: the library behind the reference companion of arXiv 2602.16642.

Subpackages: :mod:`nc_core.metrics` (NC metrics).
"""

__version__ = "0.1.0"
