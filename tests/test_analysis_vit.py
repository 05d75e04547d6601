"""The ViT page's shape classification (nc_core.analysis.vit) on hand-made means."""

from __future__ import annotations

import math

import pytest

from nc_core.analysis.vit import decay_shape


def test_falling_means():
    s = decay_shape({0.0: 3.0, 1e-4: 2.0, 0.05: 2.5, 0.5: 1.0})
    # ranks of (3, 2, 2.5, 1) are (4, 2, 3, 1): d = (3, 0, 0, -3) -> rho = 1 - 6*18/(4*15) = -0.8
    assert s.rho == pytest.approx(-0.8) and s.falls
    assert not s.peak_inside and s.dip_inside is False and s.argmin == 0.5


def test_rise_then_fall_and_u_shape():
    peak = decay_shape({0.0: 1.0, 1e-4: 5.0, 0.05: 3.0, 0.5: 0.5})
    assert peak.peak_inside and peak.argmax == 1e-4 and not peak.dip_inside
    u = decay_shape({0.0: 1.0, 0.05: 0.2, 0.5: 0.1, 4.0: 0.9})
    assert u.dip_inside and u.argmin == 0.5 and not u.peak_inside and u.falls  # 0.9 < 1 and rho = -0.4


def test_two_points_and_errors():
    s = decay_shape({0.0: 1.0, 0.5: 2.0})
    assert math.isnan(s.rho) and not s.falls and not s.peak_inside and not s.dip_inside
    with pytest.raises(ValueError, match="two weight decays"):
        decay_shape({0.0: 1.0})
