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

The MAP is :func:`bayesreg.solvers.map_estimate` (its one stopping rule: the KKT residual).
``solver`` chooses what evaluates the smooth part of the objective: ``"fista"`` plain numpy
(nothing compiled, PyMC not even imported: a PyTensor compilation costs seconds, far more than
solving a small problem), ``"map_estimate"`` the model's compiled PyTensor graph, ``"auto"``
numpy for ``n * p <= 50_000`` (:data:`bayesreg.solvers._problem.NUMPY_EVALUATOR_MAX_SIZE`).
Both minimize the same objective (tested against each other and against scikit-learn at the
converted strength).
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import special
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data
from threadpoolctl import threadpool_limits

from bayesreg._capabilities import (
    GAUSSIAN_PENALTY,
    HAS_MAP,
    KNOWN_SHAPE,
    QUADRATIC_LIKELIHOOD,
    require,
    unmet,
)
from bayesreg._named import prior_by_name
from bayesreg._validation import check_choice, check_probability, check_random_state
from bayesreg.likelihoods import Likelihood, likelihood_from_name
from bayesreg.model import RegressionModel
from bayesreg.priors import Prior
from bayesreg.solvers import map_estimate

__all__ = ["BayesianLinearRegression", "BayesianLogisticRegression"]

FIT_METHODS = ("map", "sample")
#: ``solver`` -> the evaluator of :func:`map_estimate` (see the module docstring)
SOLVERS = {"auto": "auto", "fista": "numpy", "map_estimate": "graph"}


def _check_param(value, name, owner, kind, low=None, allow_none=False):
    """scikit-learn-style parameter check: "The 'x' parameter of Est must be ... Got ..."."""
    if value is None and allow_none:
        return None
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if kind is Real else value >= low
    if ok and kind is Real:
        ok = bool(np.isfinite(value))  # inf passes "> 0" but is no scale
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
    def _resolve_prior(self, likelihood: Likelihood) -> Prior:
        """The prior object: a given Prior (rescaled by ``prior_scale``) or one built by name."""
        owner = type(self).__name__
        _check_param(self.prior_scale, "prior_scale", owner, Real, 0.0, allow_none=True)
        prior = self.prior
        if isinstance(prior, Prior):
            return prior if self.prior_scale is None else prior.with_scale(self.prior_scale)
        scale = 1.0 if self.prior_scale is None else float(self.prior_scale)
        design = getattr(self, "design_", None)  # with formula=: the terms are the groups
        groups = None if design is None else tuple(design.group_ids)
        return prior_by_name(
            prior, scale, likelihood, l1_ratio=self.l1_ratio, owner=owner, groups=groups
        )

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
    def _formula_inputs(self, X, y):
        """With ``formula``: X is a DataFrame, encoded by :func:`bayesreg.formula.formula_design`
        (its columns become ``feature_names_in_``); the formula names the response, so y is None.
        """
        self.__dict__.pop("design_", None)
        if self.formula is None:
            return X, y
        from bayesreg.formula import formula_design

        owner = type(self).__name__
        if y is not None:
            raise ValueError(
                f"{owner}(formula={self.formula!r}).fit: the formula names the response; call "
                "fit(df) with the DataFrame only (y=None)."
            )
        design, X_design, y_design = formula_design(self.formula, X)
        if design.fit_intercept and not self.fit_intercept:
            raise ValueError(
                f"{owner}: fit_intercept=False but the formula {self.formula!r} keeps its "
                "intercept; write the formula without one ('y ~ 0 + ...') instead."
            )
        self.design_ = design
        return X_design, y_design

    def _intercept(self) -> bool:
        """Whether the model has an intercept: the formula's choice, else ``fit_intercept``."""
        design = getattr(self, "design_", None)
        return bool(self.fit_intercept if design is None else design.fit_intercept)

    def _fit_arrays(self, X: np.ndarray, y: np.ndarray, likelihood: Likelihood):
        self._check_common()
        prior = self._resolve_prior(likelihood)
        owner = type(self).__name__
        if self.fit_method == "map":
            require(owner, [HAS_MAP, KNOWN_SHAPE], prior, likelihood)
            seed = None
        else:
            seed = check_random_state(self.random_state, "random_state", owner)
        # the DataFrame's column names, when scikit-learn recorded them, name w's coordinates
        names = getattr(self, "feature_names_in_", None)
        names = None if names is None else [str(c) for c in names]
        model = RegressionModel(X, y, prior, likelihood, self._intercept(), feature_names=names)
        self._model = model
        if self.fit_method == "map":
            self._fit_map(model)
        else:
            self._fit_sample(model, seed)
        self.prior_ = prior
        return self

    def _fit_map(self, model: RegressionModel) -> None:
        evaluator = SOLVERS[self.solver]
        # One BLAS thread: on small problems a threaded OpenBLAS spends ~100x more time
        # synchronizing than computing (measured on 2 busy cores: 0.2 s vs 2 ms per L-BFGS
        # solve), and grid searches run hundreds of fits.
        with threadpool_limits(limits=1, user_api="blas"):
            est = map_estimate(model, tol=self.tol, max_iter=self.max_iter, evaluator=evaluator)
        self.n_iter_ = max(int(est.n_iter), 1)
        self.coef_ = np.asarray(est.coef, dtype=np.float64)
        self.intercept_ = float(est.intercept)
        self._sigma_map = est.sigma

    def _fit_sample(self, model: RegressionModel, seed: int | None) -> None:
        # the sampling layer loads PyMC: imported on use, so a MAP fit never pays for it
        from bayesreg.sampling import sample_posterior

        idata = sample_posterior(
            model,
            draws=self.draws,
            tune=self.tune,
            chains=self.chains,
            backend=self.backend,
            random_seed=seed,
            progressbar=False,
        )
        post = idata.posterior
        self.idata_ = idata
        self.n_iter_ = int(self.draws + self.tune)
        self.coef_ = post["w"].mean(("chain", "draw")).values.astype(np.float64)
        self.intercept_ = float(post["intercept"].mean()) if "intercept" in post else 0.0
        self._sigma_map = float(post["sigma"].mean()) if "sigma" in post else None

    def _eta(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        if getattr(self, "design_", None) is not None:
            X = self.design_.transform(X)  # the training encoding: same dummies, same order
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
        Known noise scale; None estimates it.
    likelihood : str or Likelihood, default "gaussian"
        The noise model: a registered name of a regression likelihood (``"gaussian"``,
        ``"student_t"`` or ``"laplace"`` for robust regression, ``"poisson"`` or ``"negbin"``
        for counts; see :func:`bayesreg.likelihoods.likelihood_names`), built with ``sigma``
        when it has a noise scale; or a bayesreg ``Likelihood`` object (then ``sigma`` must be
        None). ``predict`` returns the mean ``E[y | x]`` (``exp(eta)`` for the count
        likelihoods).
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
    random_state : int, numpy.random.RandomState, numpy.random.Generator or None, default None
        Seed of the sampler (``fit_method="sample"``), converted once by
        :func:`bayesreg._validation.check_random_state`.
    formula : str or None, default None
        A formula such as ``"y ~ x1 + C(region)"`` (:func:`bayesreg.formula.formula_design`,
        needs the ``formulae`` package): ``fit(df)`` and ``predict(df)`` then take DataFrames
        encoded by it (dummies, interactions, transforms), the formula names the response
        (``fit``'s y stays None) and decides the intercept (``0 +`` drops it; with an intercept
        in the formula ``fit_intercept`` must be True).

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
        Only when X has string column names; with ``formula`` the design's column names.
    design_ : FormulaDesign
        With ``formula`` only: the encoding, its column names and groups (term -> columns).
    """

    _likelihood_name = "gaussian"

    def __init__(
        self,
        *,
        prior: str | Prior = "gaussian",
        prior_scale: float | None = None,
        l1_ratio: float = 0.5,
        sigma: float | None = None,
        likelihood: str | Likelihood = "gaussian",
        fit_intercept: bool = True,
        fit_method: str = "map",
        solver: str = "auto",
        tol: float = 1e-10,
        max_iter: int = 20000,
        draws: int = 1000,
        tune: int = 1000,
        chains: int = 4,
        backend: str = "auto",
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        formula: str | None = None,
    ) -> None:
        self.prior = prior
        self.prior_scale = prior_scale
        self.l1_ratio = l1_ratio
        self.sigma = sigma
        self.likelihood = likelihood
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
        self.formula = formula

    def fit(self, X, y=None) -> BayesianLinearRegression:
        """Fit the MAP or sample the posterior. X (n, p), y (n,); with ``formula`` a DataFrame
        X and no y. Returns self."""
        X, y = self._formula_inputs(X, y)
        X, y = validate_data(self, X, y, y_numeric=True, dtype=np.float64, ensure_min_samples=2)
        _check_param(self.sigma, "sigma", type(self).__name__, Real, 0.0, allow_none=True)
        self._fit_arrays(X, y.astype(np.float64), self._resolve_likelihood())
        self.sigma_ = self._sigma_map if self.sigma is None else float(self.sigma)
        return self

    def _resolve_likelihood(self) -> Likelihood:
        owner = type(self).__name__
        lik = self.likelihood
        if isinstance(lik, Likelihood):
            if self.sigma is not None:
                raise ValueError(
                    f"{owner}: pass sigma inside the Likelihood object ({lik!r}), not as "
                    f"sigma={self.sigma!r}."
                )
        else:
            name = lik
            lik = likelihood_from_name(name)
            if self.sigma is not None:
                if not lik.has_sigma:
                    raise ValueError(
                        f"{owner}: sigma={self.sigma!r} was given, but likelihood={name!r} has "
                        "no noise scale (Likelihood.has_sigma). Leave sigma=None."
                    )
                lik = likelihood_from_name(name, sigma=self.sigma)
        if lik.classifier:
            raise ValueError(
                f"The 'likelihood' parameter of {owner} must be a regression likelihood (a "
                f"real or count target); got {lik!r}, a classifier's (Likelihood.classifier). "
                "For 0/1 labels use BayesianLogisticRegression."
            )
        return lik

    def predict(self, X, return_std: bool = False):
        """Posterior (or MAP) mean prediction ``E[y | x]``, shape (n,).

        ``x'w + b`` for an identity link (Gaussian, Student-t, Laplace noise); otherwise the
        likelihood's inverse link of it (``exp(x'w + b)`` for counts): at the MAP for MAP fits,
        averaged over the draws for sampled fits.

        With ``return_std=True`` also the predictive sd of a new observation. Sampled fits: by
        the law of total variance over the draws, ``sqrt(Var_draws[E[y | eta]] +
        E_draws[Var[y | eta, sigma]])`` (the likelihood's ``mean`` and ``variance``: sigma^2 for
        Gaussian noise, sigma^2 nu / (nu - 2) for Student-t, at each draw's nu when it is
        estimated: infinite when any draw has nu <= 2, as the predictive variance then is; use
        ``predict_interval``), no Monte Carlo beyond the draws.
        A MAP fit with a Gaussian prior and Gaussian noise: the exact Gaussian posterior of
        (w, b) given sigma = ``sigma_`` (``Cov = sigma^2 (Z'Z + diag(sigma^2 / tau^2, 0))^-1``,
        Z = [X, 1]). Other MAP fits have no closed form: use ``fit_method="sample"``.
        """
        eta, Xv = self._eta(X)
        if not return_std:
            if self.fit_method == "sample":
                return self._sampled_mean_std(Xv)[0]
            return self._model.likelihood.mean(eta)  # the inverse link (identity if Gaussian)
        mean = eta
        if self.fit_method == "sample":
            return self._sampled_mean_std(Xv)
        missing = unmet(
            [GAUSSIAN_PENALTY, QUADRATIC_LIKELIHOOD], self.prior_, self._model.likelihood
        )
        if missing is not None:
            raise ValueError(
                f"predict(return_std=True) after a MAP fit needs a Gaussian prior and Gaussian "
                f"noise, {missing.description} (the posterior given sigma is then Gaussian); "
                f"{self.prior_!r} with "
                f"{self._model.likelihood!r} has none. A MAP is a point: it has no spread. Use "
                "fit_method='sample'."
            )
        Xt = self._train_X
        sig = self.sigma_
        _, c = self.prior_.elastic_coefs(sig)  # the penalty c ||w||^2 / 2: c = 1 / tau^2
        has_b = self._model.fit_intercept
        Zt = np.column_stack([Xt, np.ones(len(Xt))]) if has_b else Xt
        reg = np.full(Zt.shape[1], sig**2 * c)
        if has_b:
            reg[-1] = 0.0  # flat prior on the intercept
        cov = sig**2 * np.linalg.inv(Zt.T @ Zt + np.diag(reg))
        Zn = np.column_stack([Xv, np.ones(len(Xv))]) if has_b else Xv
        var = np.einsum("ij,jk,ik->i", Zn, cov, Zn)
        return mean, np.sqrt(var + sig**2)

    def _sampled_mean_std(self, Xv: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        from bayesreg.sampling.predictive import likelihood_at_draws, linear_predictor_draws

        lik = likelihood_at_draws(self._model, self.idata_.posterior)
        eta, sigma = linear_predictor_draws(self._model, self.idata_.posterior, Xv)
        mu = lik.mean(eta)
        var = mu.var(axis=(0, 1)) + lik.variance(eta, sigma).mean(axis=(0, 1))
        return mu.mean(axis=(0, 1)), np.sqrt(var)

    def predict_interval(self, X, prob: float = 0.9) -> np.ndarray:
        """Central posterior predictive interval of a new observation at each row of X.

        Quantiles ``(1 - prob) / 2`` and ``(1 + prob) / 2`` of posterior predictive draws
        (:func:`bayesreg.sampling.posterior_predictive`, one draw of y per posterior draw,
        seeded by ``random_state``), shape (n, 2). Sampled fits only: a MAP has no spread.
        """
        from bayesreg.sampling import posterior_predictive

        check_is_fitted(self, "coef_")
        owner = type(self).__name__
        prob = check_probability(prob, "prob", f"{owner}.predict_interval")
        if self.fit_method != "sample":
            raise ValueError(
                f"{owner}.predict_interval needs fit_method='sample': a MAP fit is a point "
                "estimate and has no posterior predictive distribution."
            )
        _, Xv = self._eta(X)
        seed = check_random_state(self.random_state, "random_state", owner)
        pp = posterior_predictive(self._model, self.idata_, X=Xv, random_seed=seed)
        y = pp.posterior_predictive["y_obs"].values.reshape(-1, Xv.shape[0])
        return np.quantile(y, [(1 - prob) / 2, (1 + prob) / 2], axis=0).T

    def _fit_arrays(self, X, y, likelihood):
        # a copy: for predict(return_std=True) after a MAP fit, whatever the caller does to X
        self._train_X = np.array(X, dtype=np.float64, copy=True)
        return super()._fit_arrays(X, y, likelihood)


class BayesianLogisticRegression(ClassifierMixin, _BayesianRegressionBase):
    """Binary logistic regression with a prior on the weights (= a penalty), MAP or posterior.

    Model: ``y_i ~ Bernoulli(sigmoid(x_i' w + b))`` with labels ``y == classes_[1]``,
    ``w ~ prior``, ``b ~ flat``. MAP objective ``CE(w, b) + P(w)``: ``Gaussian(tau)`` is
    ``LogisticRegression(C = tau^2, l1_ratio=0)``, ``Laplace(b)`` is ``C = b, l1_ratio=1``.

    Parameters
    ----------
    prior, prior_scale, l1_ratio, fit_intercept, fit_method, solver, tol, max_iter, draws, tune,
    chains, backend, random_state, formula
        As for :class:`BayesianLinearRegression`.

    Attributes
    ----------
    classes_ : ndarray (2,)
    coef_ : ndarray (n_features,)
    intercept_ : float
    prior_ : Prior
    idata_ : arviz.InferenceData (``fit_method="sample"``)
    n_features_in_, feature_names_in_, design_ (with ``formula``)
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
        random_state: int | np.random.RandomState | np.random.Generator | None = None,
        formula: str | None = None,
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
        self.formula = formula

    def fit(self, X, y=None) -> BayesianLogisticRegression:
        """Fit the MAP or sample the posterior. X (n, p), y (n,) with two classes; with
        ``formula`` a DataFrame X and no y (a 0/1 response, or ``lab[yes] ~ ...``). Returns self."""
        X, y = self._formula_inputs(X, y)
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
        self._fit_arrays(X, y01, likelihood_from_name("bernoulli"))
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
