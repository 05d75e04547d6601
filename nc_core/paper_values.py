"""Numbers printed in the paper, as data, for side-by-side comparisons in the book.

Source: arXiv 2602.16642, Section 3.3, **Table 1** -- "Final NC metrics for the same setting as in
Figure 5" (ResNet9 on FashionMNIST, 200 epochs); in parentheses the change relative to the metric at
initialisation, in percent, exactly as printed (including ``"< -99.5%"`` and ``">> 100%"``). **Table 2**
-- the run with the smallest NC3 among the runs with > 99% training accuracy, per optimizer (same format);
**Table 5** (Appendix D.3) -- the regression of NC3 on NC0 over the ResNet9 / FashionMNIST runs.
:func:`format_value` and :func:`format_change` print the project's numbers in the same format.

Convention: the paper's numbers come from the authors' released code, not from the formulas of its
Section 2: NC0 is ``||W^T 1||`` (not squared, not divided by K), and NC2 / NC3 lack the ``1/K^2`` and
``1/(Kp)`` normalisations. Compare them with the project's ``NC0_code``, ``NC2_code``, ``NC3_code``
columns (NC1 is the same in both conventions), never with ``NC0`` .. ``NC3``.
"""

from __future__ import annotations

import math

import pandas as pd

__all__ = [
    "TABLE1",
    "TABLE1_CONVENTION",
    "TABLE1_METRICS",
    "TABLE1_OPTIMIZERS",
    "TABLE2",
    "TABLE5",
    "format_change",
    "format_value",
    "table1",
]

#: Metrics of Table 1, in column order.
TABLE1_METRICS: tuple[str, ...] = ("NC0", "NC1", "NC2", "NC3")
#: Optimizers of Table 1 (the project's names), in row order.
TABLE1_OPTIMIZERS: tuple[str, ...] = ("sgd", "sgdw", "adam", "adamw", "signum", "signumw")
#: The project column each Table 1 metric is to be compared with (authors' code convention).
TABLE1_CONVENTION: dict[str, str] = {"NC0": "NC0_code", "NC1": "NC1", "NC2": "NC2_code", "NC3": "NC3_code"}

#: Table 1: optimizer -> metric -> (final value, change relative to initialisation as printed).
TABLE1: dict[str, dict[str, tuple[float, str]]] = {
    "sgd": {"NC0": (2.14e-04, "< -99.5%"), "NC1": (0.05, "-99.3%"), "NC2": (0.29, "-63.0%"),
            "NC3": (0.35, "-75.1%")},
    "sgdw": {"NC0": (0.55, "-68.9%"), "NC1": (0.26, "-96.3%"), "NC2": (0.46, "-42.4%"),
             "NC3": (0.80, "-43.5%")},
    "adam": {"NC0": (0.34, "-80.6%"), "NC1": (0.04, "-99.5%"), "NC2": (0.29, "-63.9%"),
             "NC3": (0.29, "-79.5%")},
    "adamw": {"NC0": (5.33, ">> 100%"), "NC1": (0.20, "-97.2%"), "NC2": (0.54, "-32.4%"),
              "NC3": (0.78, "-45.2%")},
    "signum": {"NC0": (0.78, "-55.3%"), "NC1": (0.13, "-98.1%"), "NC2": (0.50, "-36.8%"),
               "NC3": (0.58, "-59.0%")},
    "signumw": {"NC0": (3185.69, ">> 100%"), "NC1": (0.30, "-95.7%"), "NC2": (1.15, "+44.2%"),
                "NC3": (1.40, "-1.2%")},
}  # fmt: skip


#: Table 2: optimizer -> metric -> (final value, change relative to initialisation as printed).
TABLE2: dict[str, dict[str, tuple[float, str]]] = {
    "sgd": {"NC0": (1.53e-05, "< -99.5%"), "NC1": (0.02, "< -99.5%"), "NC2": (0.19, "-75.8%"),
            "NC3": (0.13, "-90.9%")},
    "sgdw": {"NC0": (1.54e-04, "< -99.5%"), "NC1": (0.01, "< -99.5%"), "NC2": (0.15, "-81.7%"),
             "NC3": (0.10, "-92.7%")},
    "adam": {"NC0": (0.12, "< -93.2%"), "NC1": (0.04, "-99.5%"), "NC2": (0.23, "-71.6%"),
             "NC3": (0.17, "-88.2%")},
    "adamw": {"NC0": (8.09, ">> 100%"), "NC1": (0.01, "< -99.5%"), "NC2": (0.14, "-82.1%"),
              "NC3": (0.49, "-65.1%")},
}  # fmt: skip

#: Table 5: experiment -> (n, slope, SE, t, p, CI low, CI high, R^2, adjusted R^2, F) of NC3 ~ NC0.
TABLE5: dict[str, tuple[int, float, float, float, float, float, float, float, float, float]] = {
    "LR=0.001": (170, 0.1903, 0.008, 24.262, 0.000, 0.175, 0.206, 0.778, 0.777, 588.6),
    "LR=0.005": (74, 0.2017, 0.012, 16.252, 0.000, 0.177, 0.226, 0.786, 0.783, 264.1),
    "LR=0.01": (114, 0.1439, 0.007, 19.892, 0.000, 0.13, 0.158, 0.779, 0.777, 395.7),
    "LR=0.0679": (41, 0.1771, 0.012, 14.367, 0.000, 0.152, 0.202, 0.841, 0.837, 206.4),
    "all": (399, 0.1582, 0.005, 32.760, 0.000, 0.149, 0.168, 0.730, 0.729, 1073.0),
}
TABLE5_COLUMNS = ("n", "slope", "SE", "t", "p", "CI low", "CI high", "R2", "adj R2", "F")


def format_value(v: float) -> str:
    """A metric value as the paper prints it: two decimals, scientific notation below 0.01 or from 1000."""
    return "n/a" if not math.isfinite(v) else (f"{v:.2e}" if abs(v) < 0.01 or abs(v) >= 1e3 else f"{v:.2f}")


def format_change(final: float, init: float) -> str:
    """The change from ``init`` to ``final`` in percent, as the paper prints it (``"< -99.9%"`` for a
    fall of more than 99.95%, ``"+N%"`` above +100%, ``"Nx"`` beyond +10,000%)."""
    if not math.isfinite(final) or not math.isfinite(init) or init == 0:
        return "n/a"
    pct = 100.0 * (final - init) / init
    if pct < -99.95:
        return "< -99.9%"
    if pct > 100:
        return f"+{pct:.0f}%" if pct < 1e4 else f"{final / init:.3g}x"
    return f"{pct:+.1f}%"


def table1(*, with_change: bool = True) -> pd.DataFrame:
    """The paper's Table 1 as a DataFrame indexed by optimizer (the project's names, in the paper's order).

    Args:
        with_change: add a ``<metric> change`` column (the printed relative change string) after each
            ``<metric>`` value column.

    Returns:
        One row per optimizer; float columns ``NC0`` .. ``NC3`` (authors' code convention, see the module
        docstring) and, with ``with_change``, string columns ``NC0 change`` .. ``NC3 change``.
    """
    rows = []
    for opt in TABLE1_OPTIMIZERS:
        row: dict[str, object] = {"optimizer": opt}
        for metric in TABLE1_METRICS:
            value, change = TABLE1[opt][metric]
            row[metric] = value
            if with_change:
                row[f"{metric} change"] = change
        rows.append(row)
    return pd.DataFrame(rows).set_index("optimizer")
