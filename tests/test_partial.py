"""nc_core.analysis.partial on a hand-made page whose answer is worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest

from nc_core.analysis import partial_collapse, partial_counts


def _page():
    # coupled runs: NC1 (0.1, 0.3, 0.5) -> median 0.3; NC2 (0.2, 0.4, 0.6) -> 0.4; NC0 (1, 2, 3) -> 2;
    # NC3 (0.2, 0.3, 0.4) -> 0.3. adamw A: features below, classifier above -> partial. adamw B: NC1 above
    # -> not. signumw C: NC3 equal to the coupled level (not above) -> not. The coupled runs are not partial.
    rows = [
        ("sgd", 0.1, 0.2, 1.0, 0.2), ("adam", 0.3, 0.4, 2.0, 0.3), ("signum", 0.5, 0.6, 3.0, 0.4),
        ("adamw", 0.2, 0.3, 9.0, 0.5), ("adamw", 0.4, 0.3, 9.0, 0.5), ("signumw", 0.1, 0.1, 5.0, 0.3),
    ]  # fmt: skip
    df = pd.DataFrame(rows, columns=["optimizer", "NC1", "NC2_code", "NC0_code", "NC3_code"])
    return df.assign(model="resnet9", dataset="mnist")


def test_partial_collapse_by_the_coupled_median():
    flagged = partial_collapse(_page())
    assert flagged["partial"].tolist() == [False, False, False, True, False, False]
    assert flagged["NC1 coupled"].iloc[0] == 0.3 and flagged["NC0_code coupled"].iloc[0] == 2.0
    counts = partial_counts(flagged)
    assert counts.loc["adamw", "valid"] == 2 and counts.loc["adamw", "partial"] == 1
    assert counts.loc["adamw", "share"] == 0.5 and counts.loc["signumw", "partial"] == 0


def test_each_page_has_its_own_coupled_level_and_bad_input_is_named():
    other = _page().assign(dataset="fashionmnist", NC1=lambda d: d["NC1"] * 10)  # same shape, 10x NC1
    flagged = partial_collapse(pd.concat([_page(), other]))
    assert flagged.groupby("dataset")["partial"].sum().to_dict() == {"fashionmnist": 1, "mnist": 1}
    with pytest.raises(ValueError, match="no valid run of a coupled optimizer"):
        partial_collapse(_page()[_page()["optimizer"].str.endswith("w")])
    with pytest.raises(ValueError, match="lack column"):
        partial_collapse(_page().drop(columns="NC1"))
