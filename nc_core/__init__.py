"""nc_core: the library behind the reference companion of arXiv 2602.16642 (a Jupyter Book reproducing it).

Subpackages, each owning its facts (others ask it):

* :mod:`nc_core.data` - the datasets (specs, sizes, fetching, loading, imported copies, synthetic data);
* :mod:`nc_core.models` - the models behind one interface, built by name;
* :mod:`nc_core.optim` - the optimizers by name (the paper's six and the project's own);
* :mod:`nc_core.metrics` - the NC metrics (NC0-NC4, layer by layer) and their measurement;
* :mod:`nc_core.train` - one run end to end (:class:`~nc_core.train.RunConfig`, ``run_training``);
* :mod:`nc_core.sweep` - grids of runs, scaled by profiles, run locally or on Ray, in a Parquet results store;
* :mod:`nc_core.profiles` - the scale profiles' names and the rule of which runs count;
* :mod:`nc_core.analysis`, :mod:`nc_core.theory`, :mod:`nc_core.claims` - what the pages compute, the
  paper's theorems simulated, the paper's claims and their verdicts;
* :mod:`nc_core.book` - the chapters and their execution into the book.

Command line: ``python -m nc_core AREA COMMAND`` (:mod:`nc_core.__main__`).
"""

__version__ = "0.1.0"
