"""The scale profiles: one registry of their names and the one home of the validity rule each applies.

A profile is a named scale at which every grid and chapter can run (never another code path):
``smoke`` (CI: every code path in minutes), ``cpu`` (a laptop: the book's default), ``gpu`` (one GPU)
and ``paper`` (the paper's protocol). What a profile changes in a grid lives with the grid
(:data:`nc_core.sweep.DEFAULT_PROFILES` and each grid's ``profiles``); what a chapter is given at a
profile lives with the chapter (:mod:`nc_core.book.chapters`).

Which runs count is decided here and nowhere else:

* :func:`min_train_acc` - the training accuracy a run needs at a profile (the paper's 99%, or the filter the
  paper printed for one figure, :data:`FIGURE_FILTERS`; nothing at ``smoke``);
* :func:`valid_mask` - the runs that count: completed, at that accuracy, the named metrics finite;
* :func:`terminal_phase` - whether runs are in the terminal phase of training (every one completed at the
  paper's 99%, whatever the profile): a claim about neural collapse can only be decided on such runs.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = [
    "FIGURE_FILTERS",
    "PROFILES",
    "VALID_TRAIN_ACC",
    "check_profile",
    "mask_at",
    "min_train_acc",
    "terminal_phase",
    "valid_mask",
]

#: Profile names, smallest scale first.
PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu", "paper")

#: The paper's "valid" runs reached at least this training accuracy (Section 3.1, Table 3 notes).
VALID_TRAIN_ACC = 0.99

#: Figures for which the paper printed another filter than 99%: Figure 15 (the UFM) keeps "only models which
#: achieved 100% training accuracy", Figure 45 (the ViT) the runs above 50%.
FIGURE_FILTERS: dict[str, float] = {"fig15_ufm": 1.0, "fig45_vit": 0.5}


def check_profile(profile: str) -> str:
    """``profile`` if it is a profile name, else a ``ValueError`` listing them."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    return profile


def min_train_acc(profile: str, figure: str = "") -> float:
    """The training accuracy a run needs to count at ``profile``: the paper's 99% (or, for a ``figure`` of
    :data:`FIGURE_FILTERS`, the filter the paper printed for it) everywhere but ``smoke`` (2 epochs on 200
    images, where nothing fits the training set and every finished run counts)."""
    if figure and figure not in FIGURE_FILTERS:
        raise ValueError(f"unknown figure filter {figure!r}; choose from {', '.join(FIGURE_FILTERS)}")
    if check_profile(profile) == "smoke":
        return 0.0
    return FIGURE_FILTERS[figure] if figure else VALID_TRAIN_ACC


def mask_at(finals: pd.DataFrame, threshold: float, metrics: Sequence[str] = ()) -> pd.Series:
    """Boolean mask of the runs of ``finals`` completed at training accuracy >= ``threshold`` with every
    one of
    ``metrics`` finite: the one test behind :func:`valid_mask` and :func:`terminal_phase`."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"min_train_acc must be in [0, 1], got {threshold}")
    missing = sorted({"status", "train_acc", *metrics} - set(finals.columns))
    if missing:
        raise ValueError(f"final records lack column(s) {missing}")
    mask = (finals["status"] == "completed") & (finals["train_acc"].astype(float) >= threshold)
    for m in metrics:
        mask &= np.isfinite(finals[m].astype(float))
    return mask


def valid_mask(
    finals: pd.DataFrame, profile: str, metrics: Sequence[str] = (), figure: str = ""
) -> pd.Series:
    """Boolean mask of the runs of ``finals`` that count at ``profile``: completed, training accuracy >=
    :func:`min_train_acc` ``(profile, figure)`` and every one of ``metrics`` finite (a run whose weights
    decayed to zero has no NC3)."""
    return mask_at(finals, min_train_acc(profile, figure), metrics)


def terminal_phase(runs: pd.DataFrame | None) -> bool | None:
    """Whether ``runs`` (final records) are in the terminal phase of training: there is at least one and every
    one completed at >= :data:`VALID_TRAIN_ACC` training accuracy. ``None`` when ``runs`` is ``None`` (a
    check not about trained runs, e.g. a closed form); ``False`` for no runs (nothing to decide on)."""
    if runs is None:
        return None
    if len(runs) == 0:
        return False
    return bool(mask_at(runs, VALID_TRAIN_ACC, ()).all())
