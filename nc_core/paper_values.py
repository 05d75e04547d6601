"""Numbers printed in the paper, as data, for side-by-side comparisons in the book.

Source: arXiv 2602.16642, Section 3.3, **Table 1** -- "Final NC metrics for the same setting as in
Figure 5" (ResNet9 on FashionMNIST, 200 epochs); in parentheses the change relative to the metric at
initialisation, in percent, exactly as printed (including ``"< -99.5%"`` and ``">> 100%"``).

Convention: the paper's numbers come from the authors' released code, not from the formulas of its
Section 2: NC0 is ``||W^T 1||`` (not squared, not divided by K), and NC2 / NC3 lack the ``1/K^2`` and
``1/(Kp)`` normalisations. Compare them with the project's ``NC0_code``, ``NC2_code``, ``NC3_code``
columns (NC1 is the same in both conventions), never with ``NC0`` .. ``NC3``.
"""

from __future__ import annotations

import pandas as pd

__all__ = ["TABLE1", "TABLE1_CONVENTION", "TABLE1_METRICS", "TABLE1_OPTIMIZERS", "table1"]

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
