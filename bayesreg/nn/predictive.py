"""NUTS on a small network, its predictive band, and the diagnostics that still mean something.

A network's posterior is invariant under permuting hidden units and flipping the signs of a
tanh unit's weights (``(W_in, b, W_out) -> (-W_in, -b, -W_out)``): h! 2^h copies of every mode.
Chains land in different copies, so R-hat *across chains* of any weight is meaningless (large
even when each chain is fine). What is meaningful: each chain's own diagnostics (divergences,
ESS of the log density and of predictions), and whether chains agree on the *function*:
``max_x |mean_a(x) - mean_b(x)| / sd(x)`` over pairs of chains, sd the pooled predictive sd.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from bayesreg._results import Result
from bayesreg._validation import check_choice, check_positive_int, check_random_seed
from bayesreg.nn.model import MLPModel, check_mlp, mlp_forward

__all__ = [
    "MLPChainSummary",
    "diagnose_mlp",
    "plot_predictive_bands",
    "posterior_eta",
    "sample_mlp",
]

_NOT_RHAT = (
    "R-hat across chains is not reported: the network is not identifiable (hidden units can be "
    "permuted and tanh units sign-flipped), so chains sit in different but equivalent modes and "
    "R-hat of the weights is large even when every chain is fine. Per-chain ESS, divergences "
    "and the chains' agreement on the predicted function are reported instead."
)


def sample_mlp(
    model: MLPModel,
    *,
    draws: int = 500,
    tune: int = 500,
    chains: int = 2,
    random_seed: object = None,
    backend: str = "pymc",
    target_accept: float = 0.9,
) -> Any:
    """NUTS draws of the network's posterior (``pm.sample`` or nutpie), an InferenceData.

    Needs proper bias priors (``bias_scale``): with flat hidden biases the posterior is
    improper (a saturated tanh unit's bias can run to infinity at no cost).
    """
    check_mlp(model, "sample_mlp")
    if model.fit_intercept and model.bias_scale is None:
        raise ValueError(
            "sample_mlp needs MLPModel(bias_scale=...) (e.g. 10): with flat hidden biases the "
            "posterior is improper (b -> +-inf saturates a unit at no cost in likelihood)."
        )
    check_choice(backend, "sampling backend", ("pymc", "nutpie"))
    draws = check_positive_int(draws, "draws", "sample_mlp")
    tune = check_positive_int(tune, "tune", "sample_mlp")
    chains = check_positive_int(chains, "chains", "sample_mlp")
    seed = check_random_seed(random_seed, "random_seed", "sample_mlp")
    m = model.pymc_model  # synced
    if backend == "nutpie":
        import nutpie

        compiled = model.cache("nutpie", lambda: nutpie.compile_pymc_model(m))
        model.sync()
        return nutpie.sample(
            compiled,
            draws=draws,
            tune=tune,
            chains=chains,
            seed=seed,
            target_accept=target_accept,
            progress_bar=False,
            cores=1,
        )
    import pymc as pm

    with m:
        return pm.sample(
            draws=draws,
            tune=tune,
            chains=chains,
            cores=1,
            random_seed=seed,
            target_accept=target_accept,
            progressbar=False,
            compute_convergence_checks=False,
        )


def theta_draws(model: MLPModel, idata: Any) -> np.ndarray:
    """The draws as flat thetas, shape (chain, draw, layout.size)."""
    post = idata.posterior
    cols = []
    for name in model.layout.names:
        if name.endswith("_log__"):
            v = np.log(np.asarray(post[name[: -len("_log__")]]))
        else:
            v = np.asarray(post[name])
        cols.append(v.reshape(v.shape[0], v.shape[1], -1))
    return np.concatenate(cols, axis=-1)


def posterior_eta(model: MLPModel, idata: Any, X: object, thin: int = 1) -> np.ndarray:
    """Network outputs at X for every (thinned) draw, shape (chain, draw, m)."""
    th = theta_draws(model, idata)[:, ::thin]
    X = np.asarray(X, dtype=np.float64)
    out = np.empty((*th.shape[:2], X.shape[0]))
    for c in range(th.shape[0]):
        for d in range(th.shape[1]):
            parts = model.unpack(th[c, d])
            out[c, d] = mlp_forward(X, parts["weights"], parts["biases"], model.activation)
    return out


@dataclass(frozen=True)
class MLPChainSummary(Result):
    """What is meaningful about NUTS chains on a non-identifiable network.

    Attributes
    ----------
    divergences : tuple of int
        Divergent transitions per chain.
    ess_lp : tuple of float
        Bulk ESS of the log density, per chain.
    ess_prediction_min : tuple of float
        Smallest bulk ESS over x of the predicted mean function, per chain.
    max_chain_gap : float
        ``max over chain pairs and x of |mean_a(x) - mean_b(x)| / sd(x)`` (sd pooled).
    note : str
        Why R-hat is not reported.
    """

    divergences: tuple
    ess_lp: tuple
    ess_prediction_min: tuple
    max_chain_gap: float
    note: str = _NOT_RHAT


def diagnose_mlp(model: MLPModel, idata: Any, X: object) -> MLPChainSummary:
    """Per-chain diagnostics and predictive agreement across chains (see the module docstring)."""
    from bayesreg.diagnostics import ess_bulk

    eta = posterior_eta(model, idata, X)
    ss = idata.sample_stats
    lp_name = "lp" if "lp" in ss else "logp"
    lp = np.asarray(ss[lp_name]) if lp_name in ss else np.zeros(eta.shape[:2])
    div = np.asarray(ss["diverging"]).sum(axis=1)
    chains = eta.shape[0]
    ess_lp = tuple(float(ess_bulk(lp[c : c + 1])) for c in range(chains))
    ess_pred = tuple(float(np.nanmin(ess_bulk(eta[c : c + 1]))) for c in range(chains))
    means, sd = eta.mean(axis=1), eta.reshape(-1, eta.shape[-1]).std(axis=0)
    gap = 0.0
    for a in range(chains):
        for b in range(a + 1, chains):
            gap = max(gap, float(np.max(np.abs(means[a] - means[b]) / np.maximum(sd, 1e-12))))
    return MLPChainSummary(tuple(int(d) for d in div), ess_lp, ess_pred, gap)


def plot_predictive_bands(
    x: np.ndarray,
    bands: dict[str, np.ndarray],
    *,
    X_train=None,
    y_train=None,
    ax=None,
    level: float = 0.9,
):
    """Predictive bands side by side: ``bands[label]`` is an array (draws, m) of predictions at
    the 1-D grid ``x`` (a single row, e.g. a MAP fit, is drawn as a line). Returns the Axes."""
    import matplotlib.pyplot as plt

    ax = plt.gca() if ax is None else ax
    lo, hi = 50 * (1 - level), 100 - 50 * (1 - level)
    for label, draws in bands.items():
        draws = np.atleast_2d(draws)
        line = ax.plot(x, draws.mean(axis=0), label=label)[0]
        if draws.shape[0] > 1:
            ax.fill_between(
                x, *np.percentile(draws, [lo, hi], axis=0), color=line.get_color(), alpha=0.2
            )
    if X_train is not None:
        ax.scatter(np.ravel(X_train), y_train, color="k", s=12, zorder=3, label="data")
    ax.set_xlabel("x")
    ax.set_ylabel("prediction")
    ax.legend()
    return ax
