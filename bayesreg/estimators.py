"""scikit-learn compatible estimators: a penalty is a prior, inside a Pipeline or GridSearchCV.

``BayesianLinearRegression`` (Gaussian likelihood) and ``BayesianLogisticRegression``
(Bernoulli likelihood) follow scikit-learn's estimator contract: keyword-only ``__init__`` that
only stores its arguments, validation in ``fit``, fitted attributes ending in ``_``, ``fit``
returning ``self``.

Objectives (MAP, ``fit_method="map"``), with ``b`` the unpenalized intercept:

* linear: ``min_{w, b, sigma} SSE / (2 sigma^2) + n log sigma + sigma^2 / (2 s^2)
  + P(w; sigma) [+ p log(scale sigma) for sigma-scaled priors]``, SSE = ||y - X w - b||^2, where
  ``sigma^2 / (2 s^2)`` is the half-normal prior on sigma (``s = 2.5 sd(y)``) and P is the
  prior's penalty (``||w||^2 / (2 tau^2)`` for ``Gaussian(tau)``, ``||w||_1 / b`` for
  ``Laplace(b)``, the elastic net's mix). With ``sigma`` given, sigma is fixed and the
  objective is the penalized least squares ``SSE / (2 sigma^2) + P(w)``. No log-Jacobian: the
  mode of the posterior density of sigma itself, PyMC's MAP convention.
* logistic: ``min_{w, b} CE(w, b) + P(w)`` with CE the cross-entropy of labels
  ``y == classes_[1]``.

``fit_method="sample"`` draws from the posterior with NUTS
(:func:`bayesreg.sampling.sample_posterior`); ``coef_`` and ``intercept_`` are then the
posterior means and ``idata_`` holds the draws.

The MAP solver: ``solver="auto"`` uses a compile-free numpy FISTA (the prior's exact prox,
exact zeros for L1) for problems with ``n * p <= 50_000`` (a PyTensor compilation costs
seconds, far more than solving a small problem), else
:func:`bayesreg.solvers.map_estimate` on the compiled PyMC model. Both minimize the same
objective (tested against each other and against scikit-learn at the converted strength).
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from scipy import optimize, special
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from bayesreg._validation import check_choice
from bayesreg.likelihoods import BernoulliLikelihood, GaussianLikelihood, Likelihood
from bayesreg.priors import (
    ElasticNet,
    Gaussian,
    Horseshoe,
    Laplace,
    MapUndefinedError,
    Prior,
    RegularizedHorseshoe,
)

__all__ = ["PRIOR_NAMES", "BayesianLinearRegression", "BayesianLogisticRegression"]

#: prior names accepted by ``prior=``
PRIOR_NAMES = ("gaussian", "laplace", "elasticnet", "horseshoe", "regularized_horseshoe")
FIT_METHODS = ("map", "sample")
SOLVERS = ("auto", "fista", "map_estimate")
#: below this n * p the compile-free numpy solver is used by solver="auto"
_NUMPY_SIZE = 50_000


class _ConvergenceWarning(UserWarning):
    pass


def _convergence_warning():
    try:
        from bayesreg.solvers import ConvergenceWarning

        return ConvergenceWarning
    except ImportError:  # pragma: no cover - solvers ship with the package
        return _ConvergenceWarning


# ---------------------------------------------------------------------------------------------
# the compile-free MAP (numpy FISTA on centred, column-scaled coordinates)
# ---------------------------------------------------------------------------------------------
def _scaled_prox(prior: Prior, scale: np.ndarray, sigma: float):
    """Prox of u -> P(u / s) (u = s w): prox_{t P(./s)}(v) = s prox_{(t/s^2) P}(v / s)."""

    def prox(v, t):
        out = v.copy()
        p = scale.size
        out[:p] = scale * prior.prox(v[:p] / scale, t / scale**2, sigma)
        return out

    return prox


def numpy_map(
    X: np.ndarray,
    y: np.ndarray,
    prior: Prior,
    likelihood: Likelihood,
    fit_intercept: bool = True,
    tol: float = 1e-10,
    max_iter: int = 20000,
) -> tuple[np.ndarray, float, float | None, bool, int]:
    """MAP of (w, b[, sigma]) without PyTensor: FISTA for (w, b), an exact 1-D update for sigma.

    Minimizes the objective of the module docstring. Coordinates: centred columns scaled to
    unit rms (``u_j = s_j w_j``), so the step size is set by a well-conditioned design; the
    penalty's prox is taken in those coordinates exactly (``_scaled_prox``). Convergence is
    judged by the prox-gradient mapping (the KKT residual of the composite problem) relative
    to its value at the start, and for sigma by its 1-D optimality.

    Returns
    -------
    (coef (p,), intercept, sigma or None, converged, n_iter)

    When sigma is estimated and y is fitted exactly, sigma -> 0 and there is no joint MAP: the
    solver stops at ``sigma = 1e-8 sd(y)`` with a ConvergenceWarning.
    """
    from bayesreg.solvers.proximal import fista_step, prox_init

    if not prior.has_map:
        raise MapUndefinedError(
            f"{prior!r} has no MAP estimate: its density is unbounded at w = 0. "
            "Use fit_method='sample'."
        )
    n, p = X.shape
    center = X.mean(axis=0) if fit_intercept else np.zeros(p)
    s = np.sqrt(np.mean((X - center) ** 2, axis=0))
    s[s == 0.0] = 1.0
    Z = (X - center) / s
    gaussian = isinstance(likelihood, GaussianLikelihood)
    estimate_sigma = gaussian and likelihood.sigma is None
    sigma = float(likelihood.sigma) if gaussian and not estimate_sigma else 1.0
    s_sigma = likelihood.resolved_sigma_prior_scale(y) if estimate_sigma else None
    if estimate_sigma:
        sigma = max(float(np.std(y)), 1e-8)
    # Lipschitz bound of the data term in z = [u, b'] at unit sigma: centred blocks are orthogonal
    zn2 = float(np.linalg.norm(Z, ord=2) ** 2) if p else 0.0
    design = max(zn2, float(n)) if fit_intercept else zn2
    nz = p + int(fit_intercept)

    def eta_of(z):
        eta = Z @ z[:p]
        return eta + z[p] if fit_intercept else eta

    def make_smooth(sig):
        def smooth(z):
            eta = eta_of(z)
            val = likelihood.loss(eta, y, sig)
            g_eta = likelihood.loss_grad(eta, y, sig)
            g = Z.T @ g_eta
            if fit_intercept:
                g = np.append(g, g_eta.sum())
            return val, g

        return smooth

    def sigma_objective(log_sig, z):
        sig = np.exp(log_sig)
        w = z[:p] / s
        val = -likelihood.logpdf(eta_of(z), y, sig) + 0.5 * (sig / s_sigma) ** 2
        if prior.scale_by_sigma:  # the prior's normalizing constant depends on sigma
            val -= prior.logpdf(w, sig)
        return val

    z = np.zeros(nz)
    if fit_intercept:
        ybar = float(np.mean(y))
        z[p] = ybar if gaussian else float(special.logit(np.clip(ybar, 1e-6, 1 - 1e-6)))
    if estimate_sigma and prior.is_smooth:
        # smooth prior: a joint quasi-Newton run over (z, log sigma) does most of the work;
        # the alternating loop below then only polishes
        def joint(zl):
            zz, ls = zl[:nz], zl[nz]
            sig = np.exp(ls)
            _, g = make_smooth(sig)(zz)
            w = zz[:p] / s
            g[:p] += prior.penalty_grad(w, sig) / s

            def f_sigma(l_):  # everything that depends on sigma, at fixed z
                val = sigma_objective(l_, zz)
                return val if prior.scale_by_sigma else val + prior.penalty(w, np.exp(l_))

            # d/d log sigma by central differences: this run is only a warm start
            gs = (f_sigma(ls + 1e-6) - f_sigma(ls - 1e-6)) / 2e-6
            return f_sigma(ls), np.append(g, gs)

        res = optimize.minimize(
            joint,
            np.append(z, np.log(sigma)),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": 2000, "ftol": 0.0, "gtol": 1e-9},
        )
        if np.all(np.isfinite(res.x)):
            z, sigma = res.x[:nz].copy(), float(np.exp(res.x[nz]))
    converged = False
    r0 = None
    used = 0
    sigma_floor = 1e-8 * max(float(np.std(y)), 1e-300)
    while used < max_iter:
        smooth = make_smooth(sigma)
        prox = _scaled_prox(prior, s, sigma)
        safe = 1.0 / max(likelihood.curvature_bound(sigma) * design, 1e-300)
        state = prox_init(z, safe if gaussian else 8.0 * safe)
        inner_ok = False
        while used < max_iter:
            state = fista_step(state, smooth, prox, safe)
            used += 1
            if r0 is None:
                r0 = max(state.grad_map * sigma**2 if gaussian else state.grad_map, 1e-300)
            # the gradient scales like 1/sigma^2: compare at unit sigma so the test is unit-free
            gm = state.grad_map * sigma**2 if gaussian else state.grad_map
            if gm <= tol * max(r0, 1.0):
                inner_ok = True
                break
        z = state.x
        if not estimate_sigma:
            converged = inner_ok
            break
        old = np.log(sigma)
        res = optimize.minimize_scalar(
            sigma_objective, bracket=(old - 0.1, old + 0.1), args=(z,), tol=1e-12
        )
        sigma = float(np.exp(res.x))
        if sigma < sigma_floor:
            # y is fitted (almost) exactly: the objective -> -inf as sigma -> 0 (n log sigma),
            # so the joint MAP sits on the boundary sigma = 0. Stop at the floor, loudly.
            warnings.warn(
                f"The noise sd collapsed below {sigma_floor:.3g} (sd(y) = {np.std(y):.3g}): y is "
                "fitted exactly, so the joint MAP of (w, b, sigma) does not exist (the density "
                "grows without bound as sigma -> 0); returning the estimate at that floor. Pass "
                "a known sigma, or sample the posterior.",
                _convergence_warning(),
                stacklevel=3,
            )
            sigma = sigma_floor
            break
        if inner_ok and abs(res.x - old) <= 1e-9:
            converged = True
            break
    w = z[:p] / s
    b = float(z[p] - center @ w) if fit_intercept else 0.0
    return w, b, (sigma if estimate_sigma else None), converged, used


# ---------------------------------------------------------------------------------------------
# estimators
# ---------------------------------------------------------------------------------------------
def _check_param(value, name, owner, kind, low=None, allow_none=False):
    """scikit-learn-style parameter check: "The 'x' parameter of Est must be ... Got ..."."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if kind is Real else value >= low
    if not ok:
        what = "a float in the range (0, inf)" if kind is Real else f"an int in [{low}, inf)"
        if allow_none:
            what += " or None"
        raise ValueError(
            f"The '{name}' parameter of {owner} must be {what}. Got {value!r} instead."
        )
    return value


class _BayesianRegressionBase(BaseEstimator):
    _likelihood_name = "gaussian"

    # -- parameters -> prior / likelihood -------------------------------------------------
    def _resolve_prior(self, n: int, p: int) -> Prior:
        owner = type(self).__name__
        _check_param(self.prior_scale, "prior_scale", owner, Real, 0.0, allow_none=True)
        prior = self.prior
        if isinstance(prior, Prior):
            return prior if self.prior_scale is None else prior.with_scale(self.prior_scale)
        if not isinstance(prior, str):
            raise ValueError(
                f"The 'prior' parameter of {owner} must be a str among {list(PRIOR_NAMES)} or a "
                f"bayesreg Prior. Got {prior!r} instead."
            )
        check_choice(prior, "prior", PRIOR_NAMES)
        scale = 1.0 if self.prior_scale is None else float(self.prior_scale)
        if prior == "gaussian":
            return Gaussian(scale)
        if prior == "laplace":
            return Laplace(scale)
        if prior == "elasticnet":
            return ElasticNet(scale, self.l1_ratio)
        # horseshoes: tau ~ C+(0, scale * sigma) for the linear model (Carvalho et al.'s default
        # with scale = 1); an informed tau0 comes from Horseshoe.from_expected_nonzeros
        by_sigma = self._likelihood_name == "gaussian"
        cls = Horseshoe if prior == "horseshoe" else RegularizedHorseshoe
        return cls(scale, scale_by_sigma=by_sigma)

    def _check_common(self) -> None:
        owner = type(self).__name__
        check_choice(self.fit_method, "fit_method", FIT_METHODS)
        check_choice(self.solver, "solver", SOLVERS)
        _check_param(self.tol, "tol", owner, Real, 0.0)
        _check_param(self.max_iter, "max_iter", owner, Integral, 1)
        for name in ("draws", "chains"):
            _check_param(getattr(self, name), name, owner, Integral, 1)
        _check_param(self.tune, "tune", owner, Integral, 0)

    # -- fitting ----------------------------------------------------------------------------
    def _fit_arrays(self, X: np.ndarray, y: np.ndarray, likelihood: Likelihood):
        self._check_common()
        n, p = X.shape
        prior = self._resolve_prior(n, p)
        if self.fit_method == "map":
            if not prior.has_map:
                raise MapUndefinedError(
                    f"{prior!r} has no MAP estimate: its density is unbounded at w = 0, so the "
                    "posterior density grows without bound as any coefficient goes to 0 and no "
                    "maximizer exists. Use fit_method='sample' (posterior mean)."
                )
            solver = self.solver
            if solver == "auto":
                solver = "fista" if n * p <= _NUMPY_SIZE else "map_estimate"
            if solver == "fista":
                # One BLAS thread: on these small problems a threaded OpenBLAS spends ~100x more
                # time synchronizing than computing (measured on 2 busy cores: 0.2 s vs 2 ms
                # per L-BFGS solve), and grid searches run hundreds of fits.
                with threadpool_limits(limits=1, user_api="blas"):
                    coef, b, sigma, converged, n_iter = numpy_map(
                        X, y, prior, likelihood, self.fit_intercept, self.tol, self.max_iter
                    )
                self.n_iter_ = max(int(n_iter), 1)
                if not converged:
                    warnings.warn(
                        f"{type(self).__name__}: the MAP solver did not reach tol={self.tol} in "
                        f"max_iter={self.max_iter} iterations; increase max_iter or use "
                        "solver='map_estimate'.",
                        _convergence_warning(),
                        stacklevel=3,
                    )
            else:
                from bayesreg.model import RegressionModel
                from bayesreg.solvers import map_estimate

                model = RegressionModel(X, y, prior, likelihood, self.fit_intercept)
                est = map_estimate(model, tol=self.tol, max_iter=self.max_iter)
                coef, b, sigma = est.coef, est.intercept, est.sigma
                self.n_iter_ = max(int(est.n_iter), 1)
            self.coef_ = np.asarray(coef, dtype=np.float64)
            self.intercept_ = float(b)
            self._sigma_map = sigma
        else:
            from bayesreg.model import RegressionModel
            from bayesreg.sampling import sample_posterior

            model = RegressionModel(X, y, prior, likelihood, self.fit_intercept)
            idata = sample_posterior(
                model,
                draws=self.draws,
                tune=self.tune,
                chains=self.chains,
                backend=self.backend,
                random_seed=self.random_state,
                progressbar=False,
            )
            post = idata.posterior
            self.idata_ = idata
            self.n_iter_ = int(self.draws + self.tune)
            self.coef_ = post["w"].mean(("chain", "draw")).values.astype(np.float64)
            self.intercept_ = float(post["intercept"].mean()) if "intercept" in post else 0.0
            self._sigma_map = float(post["sigma"].mean()) if "sigma" in post else None
        self.prior_ = prior
        return self

    def _eta(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        X = validate_data(self, X, reset=False)
        return X @ self.coef_ + self.intercept_, X

    def _eta_draws(self, X: np.ndarray) -> np.ndarray:
        """Linear predictor per posterior draw, shape (draws_total, n)."""
        post = self.idata_.posterior
        w = post["w"].stack(s=("chain", "draw")).transpose("s", "feature").values
        eta = w @ X.T
        if "intercept" in post:
            eta = eta + post["intercept"].stack(s=("chain", "draw")).values[:, None]
        return eta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.fit_method == "sample" and self.random_state is None
        return tags


class BayesianLinearRegression(RegressorMixin, _BayesianRegressionBase):
    """Linear regression with a prior on the weights (= a penalty), MAP or posterior.

    Model: ``y_i ~ N(x_i' w + b, sigma^2)``, ``w ~ prior``, ``b ~ flat``,
    ``sigma ~ HalfNormal(2.5 sd(y))`` unless ``sigma`` is given. The MAP objective is written
    out in the module docstring; ``Gaussian(tau)`` with known sigma is ``Ridge(alpha =
    sigma^2 / tau^2)``, ``Laplace(b)`` is ``Lasso(alpha = sigma^2 / (n b))``.

    Parameters
    ----------
    prior : str or Prior, default "gaussian"
        ``"gaussian"`` (L2), ``"laplace"`` (L1), ``"elasticnet"``, ``"horseshoe"``,
        ``"regularized_horseshoe"`` (sample only), or a bayesreg ``Prior`` object.
    prior_scale : float or None, default None
        The prior's scale (tau for Gaussian, b for Laplace, tau0 / sigma for the horseshoes);
        None means 1.0, or the scale of a ``Prior`` object. Larger = weaker penalty.
    l1_ratio : float, default 0.5
        The elastic net's L1 share (``prior="elasticnet"`` only).
    sigma : float or None, default None
        Known noise sd; None estimates it.
    fit_intercept : bool, default True
    fit_method : {"map", "sample"}, default "map"
    solver : {"auto", "fista", "map_estimate"}, default "auto"
        MAP solver (see the module docstring).
    tol : float, default 1e-10
        Relative KKT tolerance of the MAP.
    max_iter : int, default 20000
    draws, tune, chains : int
        NUTS settings for ``fit_method="sample"``.
    backend : str, default "auto"
        Sampling backend (see :func:`bayesreg.sampling.sample_posterior`).
    random_state : int or None, default None
        Seed of the sampler.

    Attributes
    ----------
    coef_ : ndarray (n_features,)
        MAP weights, or posterior means.
    intercept_ : float
    sigma_ : float or None
        MAP / posterior-mean noise sd when estimated, else the given sigma.
    prior_ : Prior
        The prior actually used.
    idata_ : arviz.InferenceData
        Posterior draws (``fit_method="sample"`` only).
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X has string column names.
    """

    _likelihood_name = "gaussian"

    def __init__(
        self,
        *,
        prior: str | Prior = "gaussian",
        prior_scale: float | None = None,
        l1_ratio: float = 0.5,
        sigma: float | None = None,
        fit_intercept: bool = True,
        fit_method: str = "map",
        solver: str = "auto",
        tol: float = 1e-10,
        max_iter: int = 20000,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        backend: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.prior = prior
        self.prior_scale = prior_scale
        self.l1_ratio = l1_ratio
        self.sigma = sigma
        self.fit_intercept = fit_intercept
        self.fit_method = fit_method
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.backend = backend
        self.random_state = random_state

    def fit(self, X, y) -> BayesianLinearRegression:
        """Fit the MAP or sample the posterior. X (n, p), y (n,). Returns self."""
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, ensure_min_samples=2)
        _check_param(self.sigma, "sigma", type(self).__name__, Real, 0.0, allow_none=True)
        lik = GaussianLikelihood(self.sigma)
        self._fit_arrays(X, y.astype(np.float64), lik)
        self.sigma_ = self._sigma_map if self.sigma is None else float(self.sigma)
        return self

    def predict(self, X, return_std: bool = False):
        """Posterior (or MAP) mean prediction ``X w + b``, shape (n,).

        With ``return_std=True`` also the predictive sd of a new observation,
        ``sqrt(Var[x' w + b | y] + sigma^2)``: from the draws when sampled; for a MAP fit with a
        Gaussian prior, from the exact Gaussian posterior of (w, b) given sigma = ``sigma_``
        (``Cov = sigma^2 (Z'Z + diag(sigma^2 / tau^2, 0))^-1``, Z = [X, 1]). Other MAP fits have
        no closed form: use ``fit_method="sample"``.
        """
        mean, Xv = self._eta(X)
        if not return_std:
            return mean
        if self.fit_method == "sample":
            eta = self._eta_draws(Xv)
            post = self.idata_.posterior
            noise = float((post["sigma"] ** 2).mean()) if "sigma" in post else self.sigma_**2
            return eta.mean(axis=0), np.sqrt(eta.var(axis=0) + noise)
        if not isinstance(self.prior_, Gaussian):
            raise ValueError(
                f"predict(return_std=True) after a MAP fit needs a Gaussian prior (the posterior "
                f"given sigma is then Gaussian); got {self.prior_!r}. Use fit_method='sample'."
            )
        Xt = self._train_X
        sig = self.sigma_
        tau = self.prior_.effective_scale(sig)
        Zt = np.column_stack([Xt, np.ones(len(Xt))]) if self.fit_intercept else Xt
        reg = np.full(Zt.shape[1], sig**2 / tau**2)
        if self.fit_intercept:
            reg[-1] = 0.0  # flat prior on the intercept
        cov = sig**2 * np.linalg.inv(Zt.T @ Zt + np.diag(reg))
        Zn = np.column_stack([Xv, np.ones(len(Xv))]) if self.fit_intercept else Xv
        var = np.einsum("ij,jk,ik->i", Zn, cov, Zn)
        return mean, np.sqrt(var + sig**2)

    def _fit_arrays(self, X, y, likelihood):
        self._train_X = X  # for predict(return_std=True) after a MAP fit
        return super()._fit_arrays(X, y, likelihood)


class BayesianLogisticRegression(ClassifierMixin, _BayesianRegressionBase):
    """Binary logistic regression with a prior on the weights (= a penalty), MAP or posterior.

    Model: ``y_i ~ Bernoulli(sigmoid(x_i' w + b))`` with labels ``y == classes_[1]``,
    ``w ~ prior``, ``b ~ flat``. MAP objective ``CE(w, b) + P(w)``: ``Gaussian(tau)`` is
    ``LogisticRegression(C = tau^2, l1_ratio=0)``, ``Laplace(b)`` is ``C = b, l1_ratio=1``.

    Parameters
    ----------
    prior, prior_scale, l1_ratio, fit_intercept, fit_method, solver, tol, max_iter, draws, tune,
    chains, backend, random_state
        As for :class:`BayesianLinearRegression`.

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_ : ndarray (n_features,)
    intercept_ : float
    prior_ : Prior
    idata_ : arviz.InferenceData (``fit_method="sample"``)
    n_features_in_, feature_names_in_
    """

    _likelihood_name = "bernoulli"

    def __init__(
        self,
        *,
        prior: str | Prior = "gaussian",
        prior_scale: float | None = None,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        fit_method: str = "map",
        solver: str = "auto",
        tol: float = 1e-10,
        max_iter: int = 20000,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        backend: str = "auto",
        random_state: int | None = None,
    ) -> None:
        self.prior = prior
        self.prior_scale = prior_scale
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.fit_method = fit_method
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.draws = draws
        self.tune = tune
        self.chains = chains
        self.backend = backend
        self.random_state = random_state

    def fit(self, X, y) -> BayesianLogisticRegression:
        """Fit the MAP or sample the posterior. X (n, p), y (n,) with two classes. Returns self."""
        X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        check_classification_targets(y)
        y_type = type_of_target(y, input_name="y", raise_unknown=True)
        classes = np.unique(y)
        if y_type != "binary" or classes.size != 2:
            raise ValueError(
                "Only binary classification is supported. The type of the target is "
                f"{y_type}: {type(self).__name__} needs exactly 2 classes; got {classes.size} "
                f"class(es): {classes[:5].tolist()}."
            )
        self.classes_ = classes
        y01 = (y == classes[1]).astype(np.float64)
        self._fit_arrays(X, y01, BernoulliLikelihood())
        return self

    def decision_function(self, X) -> np.ndarray:
        """The linear predictor ``X w + b`` (log-odds of ``classes_[1]``), shape (n,)."""
        return self._eta(X)[0]

    def predict_proba(self, X) -> np.ndarray:
        """Class probabilities (n, 2): the MAP plug-in sigmoid, or for a sampled fit the
        posterior predictive ``E[sigmoid(x' w + b) | y]`` averaged over the draws."""
        eta, Xv = self._eta(X)
        if self.fit_method == "sample":
            p1 = special.expit(self._eta_draws(Xv)).mean(axis=0)
        else:
            p1 = special.expit(eta)
        return np.column_stack([1.0 - p1, p1])

    def predict(self, X) -> np.ndarray:
        """The more probable class, shape (n,)."""
        p1 = self.predict_proba(X)[:, 1]
        return self.classes_[(p1 > 0.5).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags
