"""nc_core.analysis.momentum (Figure 4) on a hand-made momentum x weight-decay grid."""

from __future__ import annotations

import pandas as pd
import pytest

from nc_core.analysis import momentum_effect


def _grid(at_top_1e4: float = 6.0) -> pd.DataFrame:
    values = {  # momentum -> weight decay -> NC0
        0.0: {0.0: 10.0, 1e-4: 8.0, 1e-3: 4.0},
        0.5: {0.0: 5.0, 1e-4: 5.0, 1e-3: 5.0},
        0.9: {0.0: 9.0, 1e-4: at_top_1e4, 1e-3: 1.0},
    }
    rows = [
        {"momentum": m, "weight_decay": w, "NC0_code": v, "status": "completed"}
        for m, by_wd in values.items()
        for w, v in by_wd.items()
    ]
    rows.append({"momentum": 0.99, "weight_decay": 1e-3, "NC0_code": 1e-9, "status": "diverged"})  # left out
    return pd.DataFrame(rows)


def test_momentum_effect_by_hand():
    e = momentum_effect(_grid(), "NC0_code")
    assert e.top == 0.9 and e.largest == 1e-3  # the diverged run at momentum 0.99 does not count
    assert e.ratios == {1e-4: 0.75, 1e-3: 0.25} and e.below_at_every  # 6/8, 1/4; weight decay 0 left out
    assert e.ratio_at_largest == 0.25
    assert (e.at_largest, e.at_zero, e.decay_lowers) == (1.0, 9.0, True)


def test_the_verdict_is_on_the_ratios_as_shown():
    # 7.99996 / 8 = 0.999995: below 1, but shown (and decided) as 1.0 at 4 decimals
    e = momentum_effect(_grid(7.99996), "NC0_code")
    assert e.ratios[1e-4] == 1.0 and not e.below_at_every
    assert momentum_effect(_grid(7.99996), "NC0_code", decimals=6).below_at_every


def test_seeds_of_a_cell_are_averaged_and_no_decay_effect_is_named():
    g = _grid()
    g = pd.concat(
        [g, pd.DataFrame([{"momentum": 0.9, "weight_decay": 1e-3, "NC0_code": 3.0, "status": "completed"}])]
    )
    e = momentum_effect(g, "NC0_code")  # (1 + 3) / 2 = 2 at momentum 0.9, weight decay 1e-3
    assert e.ratios[1e-3] == 0.5 and e.at_largest == 2.0
    flat = _grid()
    flat.loc[(flat["momentum"] == 0.9) & (flat["weight_decay"] == 1e-3), "NC0_code"] = 9.5
    assert not momentum_effect(flat, "NC0_code").decay_lowers  # 9.5 at the largest decay, 9 without
    with pytest.raises(ValueError, match="lack column"):
        momentum_effect(_grid(), "NC3_code")
