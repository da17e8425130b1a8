"""A multilayer perceptron whose weight decay is a prior: ``MLPModel``.

The network (n observations, p features, hidden sizes h_0 .. h_{L-1})::

    a_0 = X                                   (n, p); weights on named dims
    a_{l+1} = act(a_l @ W_l + b_l)            W_l dims (d_l, d_{l+1}), l < L
    eta = (a_L @ W_L + b_L)[:, 0]             the output layer is linear
    W_l ~ prior (every weight matrix, one shared scale = ``prior_scale``)
    b_l ~ Flat() (default) or N(0, bias_scale^2)
    y ~ likelihood(eta [, sigma])

with d_0 = "feature", d_{l+1} = "hidden_l" and the output dim "output" (size 1). With a
Gaussian prior ``N(0, tau^2)`` and a Gaussian likelihood the negative log posterior is::

    -log p(theta | y) = SSE / (2 sigma^2) + sum_l ||W_l||_F^2 / (2 tau^2) + const

(SSE = ||y - eta||^2; the cross-entropy replaces SSE / (2 sigma^2) for a Bernoulli
likelihood): the seed's J0 + (lam/2) ||W||^2 with lam = sigma^2 / tau^2 (J0 = SSE/2), i.e.
weight decay. A Laplace prior gives the L1 penalty ``sum_l ||W_l||_1 / b``.

Biases are not penalized (as in the lesson and scikit-learn). They are flat by default, so the
MAP is exactly the penalized optimum scikit-learn computes. A flat prior on a *hidden* bias
makes the posterior improper (as b -> +-inf a tanh unit saturates into a constant that the
output bias absorbs; the likelihood stays bounded away from 0 along that ray), so sampling
needs ``bias_scale`` (a wide Gaussian, e.g. 10 for standardized data).

The compiled-function machinery (shared ``prior_scale`` data, ``sync``, ``cache``,
``with_prior_scale``, ``logp_dlogp_function``, pickling) is the one of every bayesreg model,
:class:`~bayesreg.model.CompiledModel`. An ``MLPModel`` is not a ``RegressionModel`` (not a
linear model), so the linear-model functions (``check_model``) refuse it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import special

from bayesreg._blas import configure_blas
from bayesreg._capabilities import KNOWN_SHAPE, require
from bayesreg._validation import (
    check_choice,
    check_positive,
    check_positive_int,
    check_random_seed,
    check_X_y,
    feature_names_of,
)
from bayesreg.likelihoods import GaussianLikelihood, Likelihood
from bayesreg.model import CompiledModel, ParamLayout, _Structure, check_prior_and_likelihood
from bayesreg.priors import Gaussian, Prior

__all__ = ["ACTIVATIONS", "MLPModel", "check_mlp", "mlp_forward"]

#: activation name -> numpy function (scikit-learn's names)
_NUMPY_ACT = {
    "tanh": np.tanh,
    "relu": lambda z: np.maximum(z, 0.0),
    "logistic": special.expit,
    "identity": lambda z: z,
}
ACTIVATIONS = tuple(_NUMPY_ACT)


def _pytensor_act(name: str):
    import pytensor.tensor as pt

    return {
        "tanh": pt.tanh,
        "relu": lambda z: pt.maximum(z, 0.0),
        "logistic": pt.sigmoid,
        "identity": lambda z: z,
    }[name]


def mlp_forward(
    X: np.ndarray,
    weights: Sequence[np.ndarray],
    biases: Sequence[np.ndarray] | None,
    activation: str = "tanh",
    masks: Sequence[np.ndarray | None] | None = None,
) -> np.ndarray:
    """The network's output eta (n,) in numpy: ``a_{l+1} = act(a_l W_l + b_l)``, linear last.

    ``masks[l]`` (optional, shape like ``a_l``) multiplies the input of layer l (dropout:
    0 for a dropped unit, 1/(1-q) for a kept one).
    """
    act = _NUMPY_ACT[activation]
    a = np.asarray(X, dtype=np.float64)
    last = len(weights) - 1
    for k, W in enumerate(weights):
        if masks is not None and masks[k] is not None:
            a = a * masks[k]
        z = a @ W
        if biases is not None:
            z = z + biases[k]
        a = act(z) if k < last else z
    return a[:, 0]


class MLPModel(CompiledModel):
    """A Bayesian multilayer perceptron: prior on the weights = weight decay.

    Parameters
    ----------
    X : array-like of shape (n, p)
    y : array-like of shape (n,)
        Real target (Gaussian likelihood) or 0/1 labels (Bernoulli likelihood).
    hidden : sequence of int, default (16,)
        Hidden layer sizes; ``()`` gives the linear (logistic) regression.
    activation : {"tanh", "relu", "logistic", "identity"}, default "tanh"
    prior : Prior, default Gaussian(1.0)
        Prior on every entry of every weight matrix (Gaussian = L2 = weight decay, Laplace = L1),
        one scale for all layers (scikit-learn's single ``alpha``).
    likelihood : Likelihood, default GaussianLikelihood() (sigma estimated)
    fit_intercept : bool, default True
        Give every layer a bias vector.
    bias_scale : float or None, default None
        None: flat (unpenalized) biases, the penalized-optimization convention; a float: biases
        ~ N(0, bias_scale^2), needed for a proper posterior (see the module docstring).
    feature_names : sequence of str, optional

    Notes
    -----
    The negative log posterior (Gaussian prior and likelihood) is
    ``SSE / (2 sigma^2) + sum_l ||W_l||^2 / (2 tau^2) [+ sum_l ||b_l||^2 / (2 s_b^2)] + const``.
    """

    def __init__(
        self,
        X: object,
        y: object,
        *,
        hidden: Sequence[int] = (16,),
        activation: str = "tanh",
        prior: Prior | None = None,
        likelihood: Likelihood | None = None,
        fit_intercept: bool = True,
        bias_scale: float | None = None,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        owner = "MLPModel"
        prior = Gaussian(1.0) if prior is None else prior
        likelihood = GaussianLikelihood() if likelihood is None else likelihood
        check_prior_and_likelihood(prior, likelihood, owner)
        if prior.scale_by_sigma and not likelihood.has_sigma:
            raise ValueError(f"{prior!r} has scale_by_sigma=True but {likelihood!r} has no sigma.")
        # the network's graph and its theta <-> layers conversions know w, b and sigma only
        require(owner, [KNOWN_SHAPE], prior, likelihood)
        if np.ndim(prior.scale) != 0:
            raise ValueError(
                f"The 'prior' parameter of {owner} must have one scale for every weight (weight "
                f"decay); got the per-coefficient {prior!r}."
            )
        if isinstance(hidden, int | np.integer) or not isinstance(hidden, Sequence):
            raise TypeError(
                f"The 'hidden' parameter of {owner} must be a sequence of ints (e.g. (16,)); "
                f"got {hidden!r}."
            )
        self.hidden = tuple(check_positive_int(h, "hidden", owner) for h in hidden)
        self.activation = check_choice(activation, "activation", ACTIVATIONS)
        names = feature_names_of(X) if feature_names is None else [str(f) for f in feature_names]
        X_arr, y_arr = check_X_y(X, y)
        y_arr = likelihood.check_y(y_arr)
        self.n, self.p = X_arr.shape
        names = [f"x{j}" for j in range(self.p)] if names is None else names
        if len(names) != self.p or len(set(names)) != self.p:
            raise ValueError(f"feature_names must be {self.p} unique names; got {names}.")
        X_arr.setflags(write=False)
        y_arr.setflags(write=False)
        self.X, self.y = X_arr, y_arr
        self.prior, self.likelihood = prior, likelihood
        self.fit_intercept = bool(fit_intercept)
        self.bias_scale = (
            None if bias_scale is None else check_positive(bias_scale, "bias_scale", owner)
        )
        self.feature_names = list(names)
        self._structure = _Structure()

    # -- shapes and names --------------------------------------------------------------------
    @property
    def sizes(self) -> tuple[int, ...]:
        """Layer widths ``(p, h_0, ..., h_{L-1}, 1)``."""
        return (self.p, *self.hidden, 1)

    @property
    def dims(self) -> tuple[str, ...]:
        """Dim names of the layers: ``("feature", "hidden_0", ..., "output")``."""
        return ("feature", *(f"hidden_{k}" for k in range(len(self.hidden))), "output")

    @property
    def n_layers(self) -> int:
        """Number of weight matrices (hidden layers + 1)."""
        return len(self.hidden) + 1

    def weight_names(self) -> list[str]:
        """Value-variable names of the weight matrices, ``W_0 .. W_L``."""
        return [f"W_{k}" for k in range(self.n_layers)]

    def bias_names(self) -> list[str]:
        """Value-variable names of the bias vectors (empty without intercepts)."""
        return [f"b_{k}" for k in range(self.n_layers)] if self.fit_intercept else []

    # -- construction ------------------------------------------------------------------------
    def _build(self) -> None:
        configure_blas()  # before the first PyTensor compilation of the process
        import pymc as pm
        import pytensor.tensor as pt

        lik, act = self.likelihood, _pytensor_act(self.activation)
        # no "obs" dim: its length would be a constant of the graph, and the k-fold search
        # writes folds of other sizes into the X / y containers
        coords: dict[str, Any] = {"feature": self.feature_names}
        coords.update({d: np.arange(s) for d, s in zip(self.dims[1:], self.sizes[1:], strict=True)})
        with pm.Model(coords=coords) as m:
            X = pm.Data("X", self.X)
            y = pm.Data("y", self.y.astype(lik.observed_dtype))
            scale = pm.Data("prior_scale", self.prior.scale)
            sigma, other_rvs, prior_rvs = None, [], []
            if lik.estimates_sigma:
                sigma = pm.HalfNormal("sigma", sigma=lik.resolved_sigma_prior_scale(self.y))
                other_rvs.append(sigma)
            elif lik.has_sigma:
                sigma = pm.Data("noise_sigma", lik.fixed_sigma)
            a = X
            for k in range(self.n_layers):
                before = set(m.free_RVs)
                W = self.prior.to_pymc(f"W_{k}", scale, sigma, dims=self.dims[k : k + 2])
                prior_rvs += [rv for rv in m.free_RVs if rv not in before]
                z = pt.dot(a, W)
                if self.fit_intercept:
                    b = self._bias(f"b_{k}", self.dims[k + 1])
                    other_rvs.append(b)
                    z = z + b
                a = act(z) if k < self.n_layers - 1 else z
            lik.to_pymc("y_obs", a[:, 0], y, sigma, dims=None)
        st = self._structure
        st.pymc_model = m
        st.term_rvs = {"data": list(m.observed_RVs), "prior": prior_rvs, "other": other_rvs}
        st.layout = ParamLayout.of(m)
        st.scale_vars.append(scale)
        st.synced_scale = self.prior.scale

    def _bias(self, name: str, dim: str):
        import pymc as pm

        if self.bias_scale is None:
            return pm.Flat(name, dims=dim)
        return pm.Normal(name, mu=0.0, sigma=self.bias_scale, dims=dim)

    # -- theta <-> layers ----------------------------------------------------------------------
    def unpack(self, theta: np.ndarray) -> dict[str, Any]:
        """``{"weights": [W_0..W_L], "biases": [b_0..b_L] or None, "sigma": float}``.

        sigma is the known sigma, ``exp(sigma_log__)`` when estimated, 1.0 without one.
        """
        v = self.layout.unpack(theta)
        biases = [v[n] for n in self.bias_names()] if self.fit_intercept else None
        if "sigma_log__" in v:
            sigma = float(np.exp(v["sigma_log__"]))
        else:
            sigma = float(self.sigma_known) if self.sigma_known is not None else 1.0
        return {"weights": [v[n] for n in self.weight_names()], "biases": biases, "sigma": sigma}

    def pack(
        self,
        weights: Sequence[np.ndarray],
        biases: Sequence[np.ndarray] | None = None,
        sigma: float | None = None,
    ) -> np.ndarray:
        """Inverse of :meth:`unpack` (scikit-learn's ``coefs_`` / ``intercepts_`` layout)."""
        if len(weights) != self.n_layers:
            raise ValueError(f"weights must hold {self.n_layers} matrices; got {len(weights)}.")
        values: dict[str, Any] = {}
        for k, W in enumerate(weights):
            want = self.sizes[k : k + 2]
            if np.shape(W) != want:
                raise ValueError(f"weights[{k}] must have shape {want}; got {np.shape(W)}.")
            values[f"W_{k}"] = W
        for k, name in enumerate(self.bias_names()):
            values[name] = np.zeros(self.sizes[k + 1]) if biases is None else biases[k]
        if "sigma_log__" in self.layout.names:
            if sigma is None:
                sigma = float(np.std(self.y)) or 1.0
            values["sigma_log__"] = np.log(check_positive(sigma, "sigma", "MLPModel.pack"))
        return self.layout.pack(values)

    def decay_mask(self) -> np.ndarray:
        """1.0 on the weight-matrix coordinates of theta, 0.0 elsewhere (biases, sigma)."""
        mask = np.zeros(self.layout.size)
        for name in self.weight_names():
            mask[self.layout.slices[name]] = 1.0
        return mask

    def glorot_init(self, random_seed: object = None) -> np.ndarray:
        """Glorot-uniform start (scikit-learn's): W_l, b_l ~ U(-r, r), r = sqrt(6/(d_l+d_{l+1})).

        scikit-learn uses ``sqrt(2 / (d_l + d_{l+1}))`` for the logistic activation; so do we.
        """
        seed = check_random_seed(random_seed, "random_seed", "MLPModel.glorot_init")
        rng = np.random.default_rng(seed)
        factor = 2.0 if self.activation == "logistic" else 6.0
        weights, biases = [], []
        for din, dout in zip(self.sizes[:-1], self.sizes[1:], strict=True):
            r = np.sqrt(factor / (din + dout))
            weights.append(rng.uniform(-r, r, size=(din, dout)))
            biases.append(rng.uniform(-r, r, size=dout))
        return self.pack(weights, biases)

    def predict_eta(self, theta: np.ndarray, X: object | None = None) -> np.ndarray:
        """The network output eta at theta (numpy forward pass) for X (default: training X)."""
        parts = self.unpack(theta)
        X = self.X if X is None else np.asarray(X, dtype=np.float64)
        return mlp_forward(X, parts["weights"], parts["biases"], self.activation)

    def neg_log_posterior_numpy(self, theta: np.ndarray) -> float:
        """``J0(eta) + sum_l penalty(W_l)`` in numpy (the bias and sigma priors left out):
        an independent reference for the compiled graph (equal up to a constant when sigma is
        known and biases are flat)."""
        parts = self.unpack(theta)
        eta = mlp_forward(self.X, parts["weights"], parts["biases"], self.activation)
        s = parts["sigma"]
        pen = sum(self.prior.penalty(W, s) for W in parts["weights"])
        return float(self.likelihood.loss(eta, self.y, s) + pen)

    def __repr__(self) -> str:
        return (
            f"MLPModel(n={self.n}, p={self.p}, hidden={self.hidden}, activation="
            f"{self.activation!r}, prior={self.prior!r}, likelihood={self.likelihood!r}, "
            f"fit_intercept={self.fit_intercept}, bias_scale={self.bias_scale})"
        )


def check_mlp(model: object, owner: str) -> MLPModel:
    """Raise a TypeError naming ``owner`` unless ``model`` is an :class:`MLPModel`."""
    if not isinstance(model, MLPModel):
        raise TypeError(f"The 'model' parameter of {owner} must be an MLPModel; got {model!r}.")
    return model
