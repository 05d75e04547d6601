"""The beyond-the-paper chapter's checks: the project's findings on Lion, Schedule-Free and Muon (from
:func:`nc_core.analysis.beyond.findings`, which reads the same prediction table the page shows, so a finding
and its table cannot disagree) and on NC1 stage by stage (:func:`nc_core.analysis.beyond.stages_above`).
"""

from __future__ import annotations

import pandas as pd

from ..analysis.beyond import PREDICTIONS, findings, grid_lrs_agree, last_stage_deviation, stages_above
from ..claims import Check, direction, integrity

__all__ = ["LAYER_TOLERANCE", "beyond_checks", "layer_checks", "probe_checks"]

#: the all-stage pass and the last-layer pass compute the same NC1: relative difference below this
LAYER_TOLERANCE = 1e-6


def _named(text: str, labels: dict[str, str]) -> str:
    for name in sorted(labels, key=len, reverse=True):  # the longest first: lion_coupled before lion
        text = text.replace(f"{name}'s", f"{labels[name]}'s")
    return text


def probe_checks(
    picks: pd.DataFrame, grid_lrs: dict[str, list[float]], profile: str, picked_at: str
) -> list[Check]:
    """Integrity: the weight-decay grid runs every optimizer at the probe's pick and the candidate below it
    (``picks``: :func:`nc_core.analysis.beyond.pick_lr` at ``profile``). Decided only where ``profile`` is
    ``picked_at``, the profile whose probe set ``grid_lrs``; at another profile the probe may pick other LRs
    while the grid keeps these, which is no error: no check."""
    if profile != picked_at:
        return []
    lrs = grid_lrs_agree(picks, grid_lrs)
    return [
        integrity(
            "the weight-decay grid runs every optimizer at the probe's pick and the candidate below it",
            {o: r["grid uses"] for o, r in lrs.iterrows()},
            bool(lrs["agrees"].all()),
        )
    ]


def beyond_checks(
    summary: pd.DataFrame, valid: pd.DataFrame, labels: dict[str, str], scale: str
) -> list[Check]:
    """The findings on the new optimizers from ``summary`` (:func:`nc_core.sweep.summarise_by` of ``valid``,
    the
    valid runs of grid ``beyond_wd``, over optimizer and weight decay); ``labels`` names the optimizers."""
    out = []
    for _, r in findings(summary).iterrows():
        opts = [r["optimizer"]] if r["optimizer"] else [o for o in PREDICTIONS if f"{o}'s" in r["check"]]
        out.append(
            direction(
                _named(r["check"], labels),
                r["value"],
                bool(r["passed"]),
                r["finding"],
                runs=valid[valid["optimizer"].isin(opts)],
                scale=scale,
            )
        )
    return out


def layer_checks(layers: pd.DataFrame, runs: pd.DataFrame, ratios: pd.DataFrame, scale: str) -> list[Check]:
    """The layer-by-layer finding: ``layers`` (:func:`nc_core.sweep.collect.layer_table`), ``runs`` the final
    records of grid ``layers_table4``, ``ratios`` (:func:`nc_core.analysis.beyond.layer_ratios` of NC1)."""
    deviation = last_stage_deviation(layers, runs, "NC1")
    out = [
        integrity(
            "the last stage's NC1 equals the run's last-layer NC1",
            f"largest relative deviation {deviation:.2g}",
            deviation < LAYER_TOLERANCE,
        )
    ]
    for pair in ("adamw/adam", "signumw/signum"):
        found = stages_above(ratios, pair)
        out.append(
            direction(
                f"{pair}: decoupled NC1 above coupled at every stage of every architecture",
                f"{found['above']} of {found['stages']} stages; smallest {found['smallest']:.3g}",
                found["holds"],
                "finding_layers",
                runs=runs[runs["optimizer"].isin(pair.split("/"))],
                scale=scale,
            )
        )
    return out
