"""nc_core.analysis.training_dynamics (Figure 5, Table 1, Figure 6) on hand-made runs."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from nc_core.analysis import dynamics_summary, endpoints

OPTS = ["sgd", "sgdw", "adam", "adamw", "signum", "signumw"]
# every run starts at NC0 10 and NC1 1. Final NC0: SGD falls to 0.01 (a 99.9% drop), AdamW and SignumW rise
# to 40 and 12 (20x Adam's 2, 3x Signum's 4). W's smallest singular value: AdamW 1 -> 0.2 (minimum) -> 0.5
# (grows: 0.5 > 1.5 x 0.2, but below its start); SignumW 1 -> 0.8 -> 1.1 (1.1 < 1.5 x 0.8, above its start).
NC0 = {"sgd": 0.01, "sgdw": 5.0, "adam": 2.0, "adamw": 40.0, "signum": 4.0, "signumw": 12.0}
NC3 = {"sgd": 0.3, "sgdw": 0.7, "adam": 0.4, "adamw": 0.5, "signum": 0.45, "signumw": 0.6}
NC1 = {"sgd": 0.5, "sgdw": 0.5, "adam": 0.5, "adamw": 0.5, "signum": 0.5, "signumw": 1.2}
SV = {"adamw": (1.0, 0.2, 0.5), "signumw": (1.0, 0.8, 1.1)}  # (epoch 0, epoch 1, final)


def _finals(**changes: dict[str, float]) -> pd.DataFrame:
    cols = {
        "NC0_code": NC0,
        "NC3_code": NC3,
        "NC1": NC1,
        "W_sv_min": {o: SV.get(o, (1, 1, 1))[2] for o in OPTS},
    }
    df = pd.DataFrame(
        {c: [v[o] for o in OPTS] for c, v in cols.items()}, index=pd.Index(OPTS, name="optimizer")
    )
    for col, by_opt in changes.items():
        for o, v in by_opt.items():
            df.loc[o, col] = v
    return df


def _history() -> pd.DataFrame:
    rows = []
    for o in OPTS:
        sv = SV.get(o, (1.0, 1.0, 1.0))
        rows.append(
            {"optimizer": o, "epoch": 0, "NC0_code": 10.0, "NC1": 1.0, "NC3_code": 1.0, "W_sv_min": sv[0]}
        )
        rows.append(
            {"optimizer": o, "epoch": 1, "NC0_code": 7.0, "NC1": 0.8, "NC3_code": 0.9, "W_sv_min": sv[1]}
        )
    return pd.DataFrame(rows)


def test_endpoints_read_init_min_and_final():
    e = endpoints(_finals(), _history(), "W_sv_min", ["adamw", "signumw", "lion"])
    assert e.loc["adamw"].tolist() == [1.0, 0.2, 0.5] and e.loc["signumw"].tolist() == [1.0, 0.8, 1.1]
    assert e.loc["lion"].isna().all()  # no run of it: NaN, not an error


def test_dynamics_summary_by_hand():
    s = dynamics_summary(_finals(), _history())
    assert s.ratio_adam == 20.0 and s.ratio_signum == 3.0
    assert s.nc0_rises == {"sgd": False, "sgdw": False, "adam": False, "adamw": True, "signum": False,
                           "signumw": True}  # fmt: skip
    assert s.signs_as_table1
    assert s.nc0_change["adamw"] == pytest.approx(3.0) and s.nc0_change["sgd"] == pytest.approx(-0.999)
    assert s.sgd_drop == pytest.approx(0.999) and s.smallest_nc0 == "sgd"
    assert s.w_sv["adamw"] == {"init": 1.0, "min": 0.2, "final": 0.5}
    assert s.w_sv_grows == {"adamw": True, "signumw": False}
    assert s.w_sv_above_init == {"adamw": False, "signumw": True}
    assert s.coupled_below_nc3  # max(0.3, 0.4) < min(0.5, 0.6)
    assert s.nc1_fell == {o: o != "signumw" for o in OPTS}


def test_dynamics_summary_verdicts_turn():
    s = dynamics_summary(_finals(NC0_code={"sgdw": 11.0}, NC3_code={"adam": 0.55}), _history())
    assert not s.signs_as_table1  # SGDW's NC0 rose
    assert not s.coupled_below_nc3  # Adam's 0.55 is above AdamW's 0.5
    s = dynamics_summary(_finals(NC0_code={"adam": 0.001}), _history())
    assert s.smallest_nc0 == "adam" and s.ratio_adam == pytest.approx(40_000)
    missing = dynamics_summary(_finals().drop(index="signum"), _history())
    assert math.isnan(missing.ratio_signum) and math.isnan(missing.nc0["signum"])
