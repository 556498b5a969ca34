"""The local metric projection."""

from __future__ import annotations

import numpy as np
import pytest

from routing.geo import LocalProjection


def test_one_degree_of_latitude_is_about_111_km() -> None:
    """Moving 1° north is 111.2 km; 1° east at 47° N is 111.2 km × cos 47°."""
    proj = LocalProjection(47.0, 9.5)
    x, y = proj.forward(np.array([48.0, 47.0]), np.array([9.5, 10.5]))
    assert y[0] == pytest.approx(111_195, rel=1e-3) and x[0] == pytest.approx(0.0)
    assert x[1] == pytest.approx(111_195 * np.cos(np.radians(47.0)), rel=1e-3)


def test_inverse_undoes_forward() -> None:
    """Projecting to metres and back returns the original coordinates."""
    proj = LocalProjection.around(np.array([47.0, 47.3]), np.array([9.4, 9.7]))
    lat, lon = np.array([47.05, 47.29]), np.array([9.41, 9.66])
    back = proj.inverse(*proj.forward(lat, lon))
    np.testing.assert_allclose(back, (lat, lon), atol=1e-12)
