"""bayesreg._arviz, the one door to ArviZ: its warning filters are exact."""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np

from bayesreg import _arviz


def test_arviz_plots_leak_no_matplotlib_deprecation_warnings():
    """ArviZ 0.23 + Matplotlib 3.11 emit one deprecation warning per artist (680 per test run
    before); _arviz filters exactly that one, so any other warning still reaches the user."""
    rng = np.random.default_rng(0)
    idata = _arviz.from_dict({"w": rng.normal(size=(2, 50, 3))})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _arviz.plot_trace(idata)
        _arviz.plot_rank(idata)
        warnings.warn("a warning of another kind", UserWarning, stacklevel=1)
    plt.close("all")
    messages = [str(w.message) for w in caught]
    assert not [m for m in messages if "normalize_kwargs" in m]
    assert "a warning of another kind" in messages
