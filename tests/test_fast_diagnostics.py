"""The vectorized R-hat, bulk ESS and HDI of bayesreg.diagnostics against ArviZ's own functions.

Reference: ``az.rhat(method="rank")``, ``az.ess(method="bulk")`` and ``az.hdi`` (ArviZ 0.23),
applied per scalar. Tolerance: the vectorized code runs the same arithmetic steps; the only
differences are the order of floating-point sums (numpy reductions over another axis, the
Geyer sum written as a sum of pair sums) and the variance formula (ArviZ's numba one-pass
sum of squares vs numpy's two-pass ``var``). Each contributes O(n * 1e-16) relative error on
O(1) rank-normalized quantities with n <= 1000 draws, so 1e-10 relative is loose by orders of
magnitude (observed: ~2e-14) yet far below any difference a changed algorithm step would make
(a wrong truncation lag, rank offset or split rule shifts ESS or R-hat by >= 1e-4). The HDI is
a selection of sorted draws, so it must agree exactly.
"""

from __future__ import annotations

import warnings

import arviz as az
import numpy as np
import pytest
from arviz.utils import Numba

from bayesreg import GaussianLikelihood, Laplace, RegressionModel
from bayesreg.diagnostics import ess_bulk, hdi_bounds, rhat_ess_bulk, rhat_rank
from bayesreg.paths import posterior_path
from bayesreg.sampling import sample_posterior

RTOL = 1e-10  # see the module docstring


def _ar1(rng, chains, draws, k, phi):
    """Stationary AR(1) draws (chain, draw, k) with lag-1 autocorrelation phi, unit variance."""
    x = np.empty((chains, draws, k))
    x[:, 0] = rng.standard_normal((chains, k))
    innov = np.sqrt(1.0 - phi**2)
    for t in range(1, draws):
        x[:, t] = phi * x[:, t - 1] + innov * rng.standard_normal((chains, k))
    return x


def _arviz(x, hdi_prob=0.9):
    """ArviZ's rank R-hat, bulk ESS and HDI of (chain, draw, *shape) draws, per scalar."""
    ds = az.convert_to_dataset({"x": x})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ArviZ's own divide-by-zero / shape warnings
        rhat = az.rhat(ds, method="rank")["x"].values
        ess = az.ess(ds, method="bulk")["x"].values
        hdi = az.hdi(ds, hdi_prob=hdi_prob)["x"].values
    return rhat, ess, hdi


def _assert_same(ours, ref):
    ours, ref = np.asarray(ours), np.asarray(ref)
    assert ours.shape == ref.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(ref))
    np.testing.assert_allclose(ours, ref, rtol=RTOL, atol=0.0, equal_nan=True)


@pytest.fixture(params=[True, False], ids=["arviz-numba", "arviz-numpy"])
def arviz_numba(request):
    """Compare with both of ArviZ's variance code paths (numba one-pass and numpy two-pass)."""
    before = Numba.numba_flag
    if request.param and not before:
        pytest.skip("numba is not installed")
    Numba.numba_flag = request.param
    yield request.param
    Numba.numba_flag = before


@pytest.mark.parametrize("chains", [1, 2, 4])
@pytest.mark.parametrize("draws", [4, 5, 7, 31, 200, 301])
@pytest.mark.parametrize("phi", [0.0, 0.6, 0.95, 0.999, -0.7])
def test_matches_arviz_on_ar1_draws(chains, draws, phi, arviz_numba):
    # phi = 0: i.i.d.; 0.95 / 0.999: long autocorrelation (Geyer's sequence truncated late,
    # or by the lag cap 2j < n - 2 on short chains); -0.7: antithetic (ESS > draws);
    # odd draw counts drop the middle draw when splitting; 4 draws: the shortest ArviZ accepts
    rng = np.random.default_rng(1000 * chains + draws + int(100 * phi))
    # chain offsets make R-hat differ from 1 (and the folded R-hat matter)
    x = _ar1(rng, chains, draws, 5, phi) + 0.4 * rng.standard_normal((chains, 1, 5))
    rhat, ess, hdi = _arviz(x)
    _assert_same(rhat_rank(x), rhat)
    _assert_same(ess_bulk(x), ess)
    np.testing.assert_array_equal(hdi_bounds(x, 0.9), hdi)
    both = rhat_ess_bulk(x)
    _assert_same(both[0], rhat)
    _assert_same(both[1], ess)
    if chains == 1:
        assert np.isnan(rhat_rank(x)).all()  # R-hat needs 2 chains


@pytest.mark.parametrize("chains", [1, 2, 4])
def test_matches_arviz_where_the_lag_cap_ends_geyers_sequence(chains):
    # short i.i.d. chains: in ~2-4% of columns Geyer's pair sums stay >= 0 up to ArviZ's lag cap
    # (2j < n - 2) while rho at the last even lag is <= 0; ArviZ then still counts that lag. 400
    # columns make such cases certain (a version that drops that term fails here)
    x = np.random.default_rng(chains).standard_normal((chains, 12, 400))
    rhat, ess, _ = _arviz(x)
    _assert_same(ess_bulk(x), ess)
    _assert_same(rhat_rank(x), rhat)


def test_matches_arviz_on_multidimensional_and_scalar_variables(rng):
    x = _ar1(rng, 3, 101, 12, 0.8).reshape(3, 101, 3, 4) * np.arange(1.0, 13.0).reshape(3, 4)
    rhat, ess, hdi = _arviz(x, hdi_prob=0.5)
    _assert_same(rhat_rank(x), rhat)
    _assert_same(ess_bulk(x), ess)
    np.testing.assert_array_equal(hdi_bounds(x, 0.5), hdi)
    assert rhat_rank(x).shape == (3, 4) and hdi_bounds(x, 0.5).shape == (3, 4, 2)
    # a scalar variable: (chain, draw) in, 0-d out; ArviZ's ndarray interface as reference
    s = x[..., 0, 0]
    assert rhat_rank(s).shape == ()
    np.testing.assert_allclose(rhat_rank(s), az.rhat(s, method="rank"), rtol=RTOL)
    np.testing.assert_allclose(ess_bulk(s), az.ess(s, method="bulk"), rtol=RTOL)


def test_constant_stuck_tied_and_nan_columns(rng):
    x = rng.standard_normal((4, 60, 6))
    x[:, :, 1] = 3.0  # constant: ESS = all split draws (ArviZ's shortcut), R-hat NaN (0/0)
    x[:, :, 2] = np.arange(4.0)[:, None]  # each chain stuck at its own value: R-hat inf
    x[:, :, 3] = rng.poisson(1.0, size=(4, 60))  # heavy ties: average ranks
    x[1, 7, 4] = np.nan  # ArviZ: NaN for that scalar only
    x[:, :, 5] = x[:, :, 5] > 0  # a binary indicator
    rhat, ess, hdi = _arviz(x)
    ours = rhat_rank(x)
    # stuck chains: the within-chain variance of the z-scores is 0 up to rounding, so R-hat is
    # rounding noise over ~0: ArviZ's numba one-pass variance comes out slightly negative (NaN),
    # its numpy path and ours (two-pass) tiny positive (~1e15). Both fail any R-hat threshold.
    assert ours[2] > 1e10 and (np.isnan(rhat[2]) or rhat[2] > 1e10)
    keep = [0, 1, 3, 4, 5]
    _assert_same(ours[keep], rhat[keep])
    _assert_same(ess_bulk(x), ess)
    np.testing.assert_array_equal(hdi_bounds(x, 0.9), hdi)  # NaN column included
    assert ess_bulk(x)[1] == 4 * 60 and np.isnan(ours[1])
    assert np.isnan(ess_bulk(x)[4]) and np.isnan(ours[4])
    # integer and boolean arrays are accepted, as floats
    ints = rng.integers(0, 5, size=(2, 40, 3))
    _assert_same(ess_bulk(ints), _arviz(ints)[1])
    _assert_same(rhat_rank(ints > 2), _arviz((ints > 2).astype(float))[0])


def test_too_few_draws_give_nan_like_arviz(rng):
    x = rng.standard_normal((2, 3, 2))  # ArviZ needs at least 4 draws
    rhat, ess, _ = _arviz(x)
    assert np.isnan(rhat).all() and np.isnan(ess).all()
    assert np.isnan(rhat_rank(x)).all() and np.isnan(ess_bulk(x)).all()


@pytest.mark.parametrize("prob", [0.05, 0.5, 0.89, 0.94, 0.999])
def test_hdi_is_arviz_exactly(prob, rng):
    # skewed draws (the HDI is not the central interval) with ties at the edges
    x = np.round(rng.gamma(2.0, size=(2, 250, 4)), 2)
    np.testing.assert_array_equal(hdi_bounds(x, prob), _arviz(x, hdi_prob=prob)[2])
    # a brute-force check of the rule on one column: the narrowest window of c + 1 sorted draws
    s = np.sort(x[:, :, 0].ravel())
    c = int(np.floor(prob * s.size))
    widths = [s[i + c] - s[i] for i in range(s.size - c)]
    i = int(np.argmin(widths))
    np.testing.assert_array_equal(hdi_bounds(x, prob)[0], [s[i], s[i + c]])


def test_bad_arguments_name_the_argument(rng):
    with pytest.raises(ValueError, match=r"'draws' parameter of rhat_rank .* \(chain, draw"):
        rhat_rank(np.ones(10))
    with pytest.raises(ValueError, match="'draws' parameter of ess_bulk"):
        ess_bulk(np.array([["a", "b"], ["c", "d"]]))
    with pytest.raises(ValueError, match=r"'hdi_prob' parameter of hdi_bounds .* \(0, 1\]"):
        hdi_bounds(np.ones((2, 10)), 1.5)
    with pytest.raises(ValueError, match="'hdi_prob'"):
        hdi_bounds(np.ones((2, 10)), True)
    with pytest.raises(ValueError, match="Too few draws"):
        hdi_bounds(np.ones((1, 3)), 1.0)  # floor(1.0 * 3) = 3: no interval (ArviZ raises too)


def test_inputs_are_not_mutated(rng):
    x = rng.standard_normal((2, 50, 3))
    x[0, 0, 0] = np.nan
    keep = x.copy()
    rhat_rank(x), ess_bulk(x), hdi_bounds(x, 0.9), rhat_ess_bulk(x)
    np.testing.assert_array_equal(x, keep)


def test_summaries_agree_with_diagnose_summary(rng):
    # diagnose() reads r_hat / ess_bulk / hdi from az.summary: the same numbers
    from bayesreg.diagnostics import diagnose

    x = _ar1(rng, 4, 300, 3, 0.7)
    idata = az.from_dict(posterior={"w": x})
    summ = diagnose(idata).summary
    np.testing.assert_allclose(rhat_rank(x), summ["r_hat"].values, rtol=RTOL)
    np.testing.assert_allclose(ess_bulk(x), summ["ess_bulk"].values, rtol=RTOL)
    hdi = hdi_bounds(x, 0.94)  # az.summary's default hdi_prob
    np.testing.assert_array_equal(hdi[:, 0], summ["hdi_3%"].values)
    np.testing.assert_array_equal(hdi[:, 1], summ["hdi_97%"].values)


@pytest.mark.slow
def test_posterior_path_summaries_equal_arviz_on_the_same_draws(sparse_regression):
    # posterior_path summarizes each scale's draws with the vectorized functions; the same seed
    # at the same scale reproduces those draws, so ArviZ on them must give the same numbers
    d = sparse_regression
    model = RegressionModel(d.X, d.y, Laplace(0.3), GaussianLikelihood())
    kw = dict(draws=150, tune=150, chains=2, random_seed=11)
    scales = [0.05, 0.5]
    path = posterior_path(model, scales, progressbar=False, include_map=False, **kw)
    assert model.prior.scale == 0.3
    for i, s in enumerate(scales):
        model.set_prior_scale(s)
        idata = sample_posterior(model, progressbar=False, log_likelihood=False, **kw)
        w = idata.posterior["w"]
        hdi = az.hdi(idata, var_names=["w"], hdi_prob=path.hdi_prob)["w"]
        np.testing.assert_array_equal(path.lower[i], hdi.sel(hdi="lower").values)
        np.testing.assert_array_equal(path.upper[i], hdi.sel(hdi="higher").values)
        np.testing.assert_allclose(path.median[i], w.median(("chain", "draw")).values, rtol=1e-12)
        # summation order differs (numpy vs xarray's nanmean): rounding of a 300-term sum
        np.testing.assert_allclose(
            path.mean[i], w.mean(("chain", "draw")).values, rtol=1e-12, atol=1e-14
        )
        ess = float(az.ess(idata, var_names=["w"], method="bulk")["w"].min())
        rhat = float(az.rhat(idata, var_names=["w"])["w"].max())
        np.testing.assert_allclose(path.min_ess_bulk[i], ess, rtol=RTOL)
        np.testing.assert_allclose(path.max_rhat[i], rhat, rtol=RTOL)
