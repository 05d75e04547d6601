"""The scale profiles: one registry of their names and of the validity rule each applies.

A profile is a named scale at which every grid and chapter can run (never another code path):
``smoke`` (CI: every code path in minutes), ``cpu`` (a laptop: the book's default), ``gpu`` (one GPU)
and ``paper`` (the paper's protocol). What a profile changes in a grid lives with the grid
(:data:`nc_core.sweep.DEFAULT_PROFILES` and each grid's ``profiles``); what a chapter is given at a
profile lives with the chapter (:mod:`nc_core.book.chapters`).
"""

from __future__ import annotations

__all__ = ["PROFILES", "VALID_TRAIN_ACC", "check_profile", "min_train_acc"]

#: Profile names, smallest scale first.
PROFILES: tuple[str, ...] = ("smoke", "cpu", "gpu", "paper")

#: The paper's "valid" runs reached at least this training accuracy (Section 3.1, Table 3 notes).
VALID_TRAIN_ACC = 0.99


def check_profile(profile: str) -> str:
    """``profile`` if it is a profile name, else a ``ValueError`` listing them."""
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    return profile


def min_train_acc(profile: str) -> float:
    """The training accuracy a run needs to count at ``profile``: the paper's 99% everywhere but ``smoke``
    (2 epochs on 200 images, where nothing fits the training set and every finished run counts)."""
    return 0.0 if check_profile(profile) == "smoke" else VALID_TRAIN_ACC
