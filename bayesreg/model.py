"""The one PyMC model, and its compiled PyTensor functions (built once, reused).

``RegressionModel`` puts the data (``X``, ``y``), the prior scale (``prior_scale``) and, when it
is known, the noise sd (``noise_sigma``) into ``pm.Data`` containers: changing any of them
changes a shared variable, never the graph, so a regularization path or a posterior path costs
one compilation.

The model (n observations, p features)::

    w ~ prior                     dims "feature"  (scale = prior_scale [* sigma])
    intercept ~ Flat()            unpenalized, as in every penalized-regression convention
    sigma ~ HalfNormal(s_y)       only when sigma is estimated (GaussianLikelihood(sigma=None), ...)
    nu ~ Gamma(a, b)              each estimated shape parameter (Likelihood.estimated_shapes:
                                  StudentTLikelihood(nu=None), NegativeBinomialLikelihood(alpha=None))
    y ~ likelihood(X @ w + intercept [, sigma] [, nu])   dims "obs"

The log-posterior is split into three terms so that solvers can take the pieces they need:
``"data"`` (the observed log-likelihood), ``"prior"`` (the prior on w and any auxiliary
variables the prior creates) and ``"other"`` (intercept, sigma and shape-parameter priors).
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self

import numpy as np
from scipy import linalg

from bayesreg._blas import configure_blas
from bayesreg._validation import check_positive, check_X_y, feature_names_of
from bayesreg.likelihoods import GaussianLikelihood, Likelihood
from bayesreg.priors import Prior

if TYPE_CHECKING:  # PyMC and PyTensor load when the first model graph is built, not at import
    import pymc as pm
    import pytensor.tensor as pt

__all__ = ["LOGP_TERMS", "CompiledModel", "ParamLayout", "RegressionModel", "check_model"]

#: the names of the log-posterior's terms, see :meth:`RegressionModel.logp_dlogp_function`
LOGP_TERMS = ("data", "prior", "other")


@dataclass(frozen=True)
class ParamLayout:
    """Where each value variable lives in the flat unconstrained vector theta."""

    names: tuple[str, ...]
    slices: dict[str, slice]
    shapes: dict[str, tuple[int, ...]]
    size: int

    @classmethod
    def of(cls, model: pm.Model) -> ParamLayout:
        """The layout of ``model.value_vars``, in their order, sized from the initial point."""
        ip = model.initial_point()
        shapes = {v.name: tuple(np.shape(ip[v.name])) for v in model.value_vars}
        slices, start = {}, 0
        for v in model.value_vars:
            size = int(np.prod(shapes[v.name]))
            slices[v.name] = slice(start, start + size)
            start += size
        return cls(tuple(v.name for v in model.value_vars), slices, shapes, start)

    def unpack(self, theta: np.ndarray) -> dict[str, np.ndarray]:
        """Split theta (size,) into a dict of value-variable arrays (copies)."""
        theta = np.asarray(theta, dtype=np.float64)
        if theta.shape != (self.size,):
            raise ValueError(f"theta must have shape ({self.size},); got {theta.shape}.")
        return {n: theta[self.slices[n]].reshape(self.shapes[n]).copy() for n in self.names}

    def pack(self, values: dict[str, np.ndarray | float]) -> np.ndarray:
        """Inverse of :meth:`unpack`: a dict with every value variable -> theta."""
        missing = set(self.names) - set(values)
        if missing:
            raise ValueError(f"pack needs values for {sorted(missing)}.")
        return np.concatenate(
            [np.ravel(np.asarray(values[n], dtype=np.float64)) for n in self.names]
        )


class _Structure:
    """What models that differ only in their prior scale share (see ``with_prior_scale``).

    The PyMC model and every compiled function read the prior scale from shared variables
    (``pm.Data("prior_scale")``, the collapsed model's copy, ...), registered here. The scale
    itself lives in one place, ``RegressionModel.prior``: :meth:`RegressionModel.sync` writes it
    into every registered variable before a compiled function runs, so no cache can hold a
    stale copy.
    """

    def __init__(self) -> None:
        self.pymc_model: Any = None
        self.term_rvs: dict[str, list] = {}
        self.layout: ParamLayout | None = None
        self.cache: dict[Hashable, Any] = {}
        self.scale_vars: list[Any] = []
        #: the scale last written into ``scale_vars`` (a float, or a read-only (p,) array)
        self.synced_scale: float | np.ndarray | None = None


class CompiledModel:
    """What every bayesreg model with a PyMC graph shares: the lazily built structure (graph,
    shared variables, compiled functions), the one place its prior scale lives (``prior``,
    written into every registered shared variable by :meth:`sync`), ``with_prior_scale``
    copies that share every compiled function, pickling, and the compiled log posterior of
    any subset of its terms.

    A subclass sets ``prior``, ``likelihood`` and ``_structure = _Structure()`` in its
    ``__init__`` and implements ``_build()``, which fills the structure (``pymc_model``,
    ``term_rvs``, ``layout``) and registers its ``prior_scale`` shared variable.
    """

    # -- the shared structure (built lazily) -------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # compiled functions do not pickle; they are rebuilt on first use after loading
        state = dict(self.__dict__)
        state["_structure"] = None
        state.pop("_bound", None)
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._structure = _Structure()

    @property
    def pymc_model(self) -> pm.Model:
        """The PyMC model (built on first use, shared with ``with_prior_scale`` copies)."""
        if self._structure.pymc_model is None:
            self._build()
        self.sync()
        return self._structure.pymc_model

    @property
    def layout(self) -> ParamLayout:
        """Where each value variable lives in the flat vector theta."""
        if self._structure.layout is None:
            self._build()
        return self._structure.layout

    @property
    def _term_rvs(self) -> dict[str, list]:
        if self._structure.pymc_model is None:
            self._build()
        return self._structure.term_rvs

    @property
    def _functions(self) -> dict[Hashable, Any]:
        return self._structure.cache

    def cache(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The object cached under ``key`` for this model's structure, built once by ``factory``.

        Shared by every ``with_prior_scale`` copy: cache only what does not depend on the
        prior scale (compiled functions that read the shared scale qualify).
        """
        store = self._structure.cache
        if key not in store:
            store[key] = factory()
        return store[key]

    def register_prior_scale(self, variable: Any) -> None:
        """Have :meth:`sync` keep a shared variable equal to the prior scale (e.g. the
        collapsed sampler's own ``prior_scale`` data)."""
        self._structure.scale_vars.append(variable)
        self._structure.synced_scale = None
        self.sync()

    def sync(self) -> None:
        """Write this model's prior scale into every registered shared variable (O(1) when
        they already hold it). Called before any compiled function runs."""
        st = self._structure
        scale = self.prior.scale
        # a float compares in O(1); a per-coefficient scale is an immutable array, so the same
        # object means the same values (the O(p) comparison runs only when it was replaced)
        if st.synced_scale is scale or (
            st.synced_scale is not None
            and np.shape(st.synced_scale) == np.shape(scale)
            and np.array_equal(st.synced_scale, scale)
        ):
            return
        for var in st.scale_vars:
            var.set_value(np.asarray(scale, dtype=var.dtype))
        st.synced_scale = scale

    # -- hyperparameters -------------------------------------------------------------------
    @property
    def prior_scale(self) -> float | np.ndarray:
        """Current prior scale (the value in the ``prior_scale`` data container): a float, or
        a read-only array of shape (p,) for a per-coefficient scale."""
        return self.prior.scale

    def _rescaled_prior(self, value: object, where: str) -> Prior:
        """``self.prior`` at scale ``value``, which must have the shape of the current one
        (the compiled graph's ``prior_scale`` data has that shape)."""
        if np.ndim(value) == 0:
            value = check_positive(value, "prior_scale", where)
        new = self.prior.with_scale(value)
        if np.shape(new.scale) != np.shape(self.prior.scale):
            raise ValueError(
                f"The 'prior_scale' parameter of {where} must have the shape of the model's "
                f"prior scale, {np.shape(self.prior.scale)} (its graph is compiled for it); got "
                f"shape {np.shape(new.scale)}. Build a new model to change between one scale "
                "and one scale per coefficient."
            )
        return new

    def set_prior_scale(self, value: float | np.ndarray) -> None:
        """Change this model's prior scale in place: no rebuild, no recompilation.

        The compiled functions read the shared ``prior_scale`` variable, which :meth:`sync`
        sets from ``self.prior`` before each use. Library functions that need other scales use
        :meth:`with_prior_scale` instead and leave the caller's model as it was.
        """
        self.prior = self._rescaled_prior(value, f"{type(self).__name__}.set_prior_scale")
        self.sync()

    def with_prior_scale(self, value: float | np.ndarray) -> Self:
        """A model equal to this one but for the prior scale, sharing every compiled function.

        No rebuild and no recompilation; this model is not changed.
        """
        prior = self._rescaled_prior(value, f"{type(self).__name__}.with_prior_scale")
        new = object.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.pop("_bound", None)
        new.prior = prior
        return new

    @property
    def sigma_known(self) -> float | None:
        """The known noise sd, or None when sigma is estimated (or not applicable)."""
        return self.likelihood.fixed_sigma

    def _synced(self, key: Hashable) -> Callable:
        """The shared function ``key`` bound to this model: it runs at this model's prior
        scale (see :meth:`sync`). One wrapper per model and key."""
        bound = self.__dict__.setdefault("_bound", {})
        if key not in bound:
            fn = self._structure.cache[key]

            def call(th, _fn=fn, _model=self):
                _model.sync()
                return _fn(th)

            call.compiled = fn.compiled  # exposed so tests can check it is never rebuilt
            bound[key] = call
        return bound[key]

    def _theta_graph(self, terms: Iterable[str], jacobian: bool):
        import pytensor.tensor as pt
        from pytensor.graph.replace import graph_replace

        terms = tuple(terms)
        unknown = set(terms) - set(LOGP_TERMS)
        if unknown:
            raise ValueError(
                f"{sorted(unknown)!r} are not supported logp terms. Must be among: {LOGP_TERMS}."
            )
        m = self.pymc_model
        rvs = [rv for t in terms for rv in self._term_rvs[t]]
        logp = m.logp(vars=rvs, jacobian=jacobian, sum=True) if rvs else pt.constant(0.0)
        theta = pt.dvector("theta")
        replacements = {
            v: theta[self.layout.slices[v.name]].reshape(self.layout.shapes[v.name])
            for v in m.value_vars
        }
        logp = graph_replace(pt.as_tensor_variable(logp), replacements, strict=False)
        return theta, pt.cast(logp, "float64")

    def logp_dlogp_function(
        self, terms: Iterable[str] = LOGP_TERMS, jacobian: bool = True
    ) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Compiled ``theta -> (logp, dlogp/dtheta)`` for a subset of the log-posterior's terms.

        theta is the flat vector of PyMC value variables (``self.layout``: ``w``, then
        ``intercept`` and ``sigma_log__`` when present). ``jacobian=False`` drops the log-Jacobian
        of the sigma -> log sigma transform: that is PyMC's MAP convention. Compiled once per
        (terms, jacobian) and cached.
        """
        key = ("dlogp", tuple(sorted(terms)), bool(jacobian))
        if key not in self._functions:
            import pytensor
            import pytensor.tensor as pt

            theta, logp = self._theta_graph(terms, jacobian)
            grad = pt.grad(logp, theta, disconnected_inputs="ignore")
            fn = pytensor.function([theta], [logp, grad], on_unused_input="ignore")

            def logp_dlogp(th: np.ndarray, _fn=fn) -> tuple[float, np.ndarray]:
                value, g = _fn(np.asarray(th, dtype=np.float64))
                return float(value), np.asarray(g)

            logp_dlogp.compiled = fn
            self._functions[key] = logp_dlogp
        return self._synced(key)

    def logp_function(
        self, terms: Iterable[str] = LOGP_TERMS, jacobian: bool = True
    ) -> Callable[[np.ndarray], float]:
        """Compiled ``theta -> logp`` (no gradient); cached like :meth:`logp_dlogp_function`."""
        key = ("logp", tuple(sorted(terms)), bool(jacobian))
        if key not in self._functions:
            import pytensor

            theta, logp = self._theta_graph(terms, jacobian)
            fn = pytensor.function([theta], logp, on_unused_input="ignore")

            def logp_only(th: np.ndarray, _fn=fn) -> float:
                return float(_fn(np.asarray(th, dtype=np.float64)))

            logp_only.compiled = fn
            self._functions[key] = logp_only
        return self._synced(key)


class RegressionModel(CompiledModel):
    """A Bayesian linear (or logistic) regression: prior = penalty, likelihood = loss.

    Parameters
    ----------
    X : array-like of shape (n, p)
        Design matrix; a pandas DataFrame keeps its column names as feature names.
    y : array-like of shape (n,)
        Target (0/1 labels for ``BernoulliLikelihood``).
    prior : Prior
        Prior on the p weights (``Gaussian`` = L2, ``Laplace`` = L1, ...).
    likelihood : Likelihood, default ``GaussianLikelihood()`` (sigma estimated)
        The data-fit loss.
    fit_intercept : bool, default True
        Add an unpenalized intercept (flat prior).
    feature_names : sequence of str, optional
        Names of the p features (default: DataFrame columns, else ``x0 .. x{p-1}``).

    Notes
    -----
    The negative log posterior, for a Gaussian likelihood, is
    ``SSE / (2 sigma^2) + penalty(w) + const`` with ``SSE = ||y - X w - b||^2``; for a
    Bernoulli likelihood the cross-entropy replaces ``SSE / (2 sigma^2)``.
    Inputs are copied: the caller's arrays are never modified.
    """

    def __init__(
        self,
        X: object,
        y: object,
        prior: Prior,
        likelihood: Likelihood | None = None,
        fit_intercept: bool = True,
        feature_names: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(prior, Prior):
            raise TypeError(
                f"The 'prior' parameter of RegressionModel must be a bayesreg Prior "
                f"(Gaussian, Laplace, ...). Got {prior!r} instead."
            )
        likelihood = GaussianLikelihood() if likelihood is None else likelihood
        if not isinstance(likelihood, Likelihood):
            raise TypeError(
                f"The 'likelihood' parameter of RegressionModel must be a bayesreg Likelihood "
                f"(GaussianLikelihood, BernoulliLikelihood). Got {likelihood!r} instead."
            )
        names = feature_names_of(X) if feature_names is None else [str(f) for f in feature_names]
        X_arr, y_arr = check_X_y(X, y)
        y_arr = likelihood.check_y(y_arr)
        n, p = X_arr.shape
        if names is None:
            names = [f"x{j}" for j in range(p)]
        if len(names) != p:
            raise ValueError(f"feature_names has {len(names)} names but X has {p} columns.")
        if len(set(names)) != p:
            raise ValueError(f"feature_names must be unique; got {names}.")
        if prior.scale_by_sigma and not likelihood.has_sigma:
            raise ValueError(
                f"{prior!r} has scale_by_sigma=True, which needs a GaussianLikelihood or another "
                f"likelihood with a noise scale sigma (Likelihood.has_sigma); got {likelihood!r}."
            )
        X_arr.setflags(write=False)
        y_arr.setflags(write=False)
        prior.check_size(p, "X")
        self.X = X_arr
        self.y = y_arr
        self.prior = prior
        self.likelihood = likelihood
        self.fit_intercept = bool(fit_intercept)
        self.feature_names = list(names)
        self.n, self.p = n, p
        self._structure = _Structure()

    # -- construction ----------------------------------------------------------------------
    def _build(self) -> None:
        # the first graph of the process links PyTensor's BLAS before anything compiles
        configure_blas()
        import pymc as pm
        import pytensor.tensor as pt

        lik = self.likelihood
        coords = {"feature": self.feature_names, "obs": np.arange(self.n)}
        with pm.Model(coords=coords) as m:
            X = pm.Data("X", self.X, dims=("obs", "feature"))
            y_obs_data = self.y.astype(lik.observed_dtype)
            y = pm.Data("y", y_obs_data, dims="obs")
            scale = pm.Data("prior_scale", self.prior.scale)
            sigma = None
            other_rvs = []
            if lik.estimates_sigma:
                sigma = pm.HalfNormal("sigma", sigma=lik.resolved_sigma_prior_scale(self.y))
                other_rvs.append(sigma)
            elif lik.has_sigma:
                sigma = pm.Data("noise_sigma", lik.fixed_sigma)
            # estimated shape parameters (nu, alpha): free variables the likelihood reads
            shapes = {s.name: s.to_pymc() for s in lik.estimated_shapes}
            other_rvs.extend(shapes.values())
            eta = 0.0
            if self.fit_intercept:
                intercept = pm.Flat("intercept")
                other_rvs.append(intercept)
                eta = intercept
            before = set(m.free_RVs)
            w = self.prior.to_pymc("w", scale, sigma, dims="feature")
            prior_rvs = [rv for rv in m.free_RVs if rv not in before]
            eta = pt.dot(X, w) + eta
            lik.at(**shapes).to_pymc("y_obs", eta, y, sigma, dims="obs")
        st = self._structure
        st.pymc_model = m
        st.term_rvs = {"data": list(m.observed_RVs), "prior": prior_rvs, "other": other_rvs}
        st.layout = ParamLayout.of(m)
        st.scale_vars.append(scale)
        st.synced_scale = self.prior.scale

    # -- compiled functions ----------------------------------------------------------------
    def initial_point(self) -> np.ndarray:
        """PyMC's initial point as a flat theta (zeros for w and intercept)."""
        ip = self.pymc_model.initial_point()
        return self.layout.pack(ip)

    # -- the sampling graph: the same log posterior, written for speed ---------------------
    def _sufficient_statistics(self) -> dict[str, np.ndarray]:
        """Centred Gram matrix, anchor and residual statistics of the Gaussian data term."""
        X, y = self.X, self.y
        if self.fit_intercept:
            x_mean, y_mean = X.mean(axis=0), float(y.mean())
            Xc, yc = X - x_mean, y - y_mean
        else:
            x_mean, y_mean = np.zeros(self.p), 0.0
            Xc, yc = X, y
        # the anchor w0 may be any vector (the identity below is exact for all w0); the
        # least-squares one makes r0 the smallest residual, so no term dwarfs the SSE
        w0 = np.asarray(linalg.lstsq(Xc, yc)[0], dtype=np.float64)
        r0 = yc - Xc @ w0
        return {
            "gram": Xc.T @ Xc,
            "w0": w0,
            "g0": Xc.T @ r0,
            "rss0": np.asarray(r0 @ r0),
            "x_mean": np.asarray(x_mean, dtype=np.float64),
            "y_mean": np.asarray(y_mean),
        }

    @property
    def uses_sufficient_statistics(self) -> bool:
        """Whether :meth:`sampling_logp` writes the data term with sufficient statistics.

        True for a Gaussian likelihood with p < n: the O(p^2) form is then cheaper than the
        O(n p) one.
        """
        return self.likelihood.quadratic and self.p < self.n

    def sampling_logp(self) -> pt.TensorVariable:
        """The full log posterior (log-Jacobians included) for samplers, built once.

        A graph of the PyMC value variables equal to ``pymc_model.logp()``. With a Gaussian
        likelihood and p < n (:attr:`uses_sufficient_statistics`) the data term costs O(p^2)
        per evaluation instead of O(n p). With ``Xc``, ``yc`` the centred data (``X``, ``y``
        themselves without an intercept), ``G = Xc'Xc``, an anchor ``w0`` (least squares),
        ``r0 = yc - Xc w0``, ``g0 = Xc'r0`` and ``d = w - w0``::

            SSE = ||y - X w - b||^2 = r0'r0 - 2 d'g0 + d'G d + n (ybar - xbar'w - b)^2
            log p(y | w, b, sigma) = -n log(sigma) - n/2 log(2 pi) - SSE / (2 sigma^2)

        (the centred part and the mean part are orthogonal; b = 0 without an intercept).
        Anchoring at ``w0`` keeps every term on the scale of the SSE, so rounding is relative
        to the SSE, not to ``y'y``. The statistics are shared variables, not constants, so the
        compiled C code does not depend on the data and PyTensor's disk cache serves every
        model. Otherwise (Bernoulli, p >= n) it is the model's own log posterior.
        """
        return self.cache("sampling_logp", self._build_sampling_logp)

    def _build_sampling_logp(self) -> pt.TensorVariable:
        import pytensor
        import pytensor.tensor as pt

        m = self.pymc_model
        if not self.uses_sufficient_statistics:
            graph = m.logp(jacobian=True, sum=True)
        else:
            rvs = self._term_rvs["prior"] + self._term_rvs["other"]
            rest = m.logp(vars=rvs, jacobian=True, sum=True) if rvs else pt.constant(0.0)
            sigma_src = m["noise_sigma"] if self.sigma_known is not None else m["sigma"]
            # w, sigma (and b) as functions of the value variables (log-transformed sigma,
            # a deterministic w for non-centred priors)
            w, sigma = m.replace_rvs_by_values([m["w"], sigma_src])
            st = {
                k: pytensor.shared(v, name=f"sufficient_{k}")
                for k, v in self._sufficient_statistics().items()
            }
            d = w - st["w0"]
            sse = st["rss0"] - 2.0 * pt.dot(d, st["g0"]) + pt.dot(d, pt.dot(st["gram"], d))
            if self.fit_intercept:
                (b,) = m.replace_rvs_by_values([m["intercept"]])
                sse = sse + self.n * pt.sqr(st["y_mean"] - pt.dot(st["x_mean"], w) - b)
            loglik = (
                -self.n * pt.log(sigma)
                - 0.5 * self.n * np.log(2.0 * np.pi)
                - sse / (2.0 * pt.sqr(sigma))
            )
            graph = rest + loglik
        return pt.cast(pt.as_tensor_variable(graph), "float64")

    def sampling_logp_dlogp_function(self) -> Callable[[np.ndarray], tuple[float, np.ndarray]]:
        """Compiled ``theta -> (logp, dlogp/dtheta)`` of :meth:`sampling_logp`; cached.

        The same values as ``logp_dlogp_function()`` (all terms, with the Jacobian), faster.
        The raw PyTensor function (``.compiled``) trusts its input: a float64 vector of shape
        ``(layout.size,)``.
        """
        key = ("sampling_dlogp",)
        if key not in self._functions:
            import pytensor
            import pytensor.tensor as pt
            from pytensor.graph.replace import graph_replace

            m = self.pymc_model
            theta = pt.dvector("theta")
            replacements = {
                v: theta[self.layout.slices[v.name]].reshape(self.layout.shapes[v.name])
                for v in m.value_vars
            }
            logp = graph_replace(self.sampling_logp(), replacements, strict=False)
            grad = pt.grad(logp, theta, disconnected_inputs="ignore")
            fn = pytensor.function([theta], [logp, grad], on_unused_input="ignore")
            fn.trust_input = True  # the wrapper below makes the input a float64 array

            def logp_dlogp(th: np.ndarray, _fn=fn) -> tuple[float, np.ndarray]:
                value, g = _fn(np.ascontiguousarray(th, dtype=np.float64))
                return float(value), np.asarray(g)

            logp_dlogp.compiled = fn
            self._functions[key] = logp_dlogp
        return self._synced(key)

    # -- conversions between theta and (w, intercept, sigma) --------------------------------
    def params_from_theta(self, theta: np.ndarray) -> dict[str, np.ndarray | float]:
        """Natural-scale parameters: ``w`` (p,), ``intercept`` (float), ``sigma`` (float),
        and each estimated shape parameter (``nu``, ``alpha``: ``exp`` of its value variable).

        ``intercept`` is 0 without an intercept; ``sigma`` is the known sigma, 1.0 for a
        Bernoulli likelihood, or ``exp(sigma_log__)`` when estimated.
        """
        v = self.layout.unpack(theta)
        if "w" not in v:
            raise NotImplementedError(
                f"{self.prior!r} does not expose w as a value variable; use the posterior draws."
            )
        out: dict[str, np.ndarray | float] = {"w": v["w"]}
        out["intercept"] = float(v["intercept"]) if "intercept" in v else 0.0
        if "sigma_log__" in v:
            out["sigma"] = float(np.exp(v["sigma_log__"]))
        else:
            out["sigma"] = float(self.sigma_known) if self.sigma_known is not None else 1.0
        for shape in self.likelihood.estimated_shapes:
            out[shape.name] = float(np.exp(v[f"{shape.name}_log__"]))
        return out

    def theta_from_params(
        self,
        w: np.ndarray,
        intercept: float = 0.0,
        sigma: float | None = None,
        **shapes: float,
    ) -> np.ndarray:
        """Inverse of :meth:`params_from_theta` (for priors whose only value variable is w);
        each estimated shape parameter is a keyword (``nu=5.0``)."""
        owner = "RegressionModel.theta_from_params"
        wanted = [s.name for s in self.likelihood.estimated_shapes]
        if set(shapes) != set(wanted):
            raise ValueError(
                f"{owner} needs a value for each estimated shape parameter of "
                f"{self.likelihood!r}: {wanted}; got {sorted(shapes)}."
            )
        values: dict[str, np.ndarray | float] = {"w": np.asarray(w, dtype=np.float64)}
        for name, value in shapes.items():
            values[f"{name}_log__"] = float(np.log(check_positive(value, name, owner)))
        if "intercept" in self.layout.names:
            values["intercept"] = float(intercept)
        if "sigma_log__" in self.layout.names:
            if sigma is None:
                raise ValueError("sigma is estimated in this model: pass sigma.")
            values["sigma_log__"] = float(np.log(check_positive(sigma, "sigma")))
        return self.layout.pack(values)

    def linear_predictor(self, w: np.ndarray, intercept: float = 0.0) -> np.ndarray:
        """eta = X w + intercept, shape (n,)."""
        return self.X @ np.asarray(w, dtype=np.float64) + intercept

    def __repr__(self) -> str:
        return (
            f"RegressionModel(n={self.n}, p={self.p}, prior={self.prior!r}, "
            f"likelihood={self.likelihood!r}, fit_intercept={self.fit_intercept})"
        )


def jittered_start(base: np.ndarray) -> Callable[[int | None], np.ndarray]:
    """PyMC's default NUTS start as a function of a seed: ``base`` + U(-1, 1) jitter.

    ``base`` is an unconstrained initial point (theta); nutpie asks for one start per chain.
    """
    base = np.asarray(base, dtype=np.float64)

    def start(seed: int | None) -> np.ndarray:
        return base + np.random.default_rng(seed).uniform(-1.0, 1.0, size=base.size)

    return start


def check_prior_and_likelihood(prior: object, likelihood: object, owner: str) -> None:
    """Raise a TypeError naming ``owner`` unless ``prior`` is a bayesreg Prior and
    ``likelihood`` a bayesreg Likelihood (the public entry points that take both)."""
    if not isinstance(prior, Prior):
        raise TypeError(
            f"The 'prior' parameter of {owner} must be a bayesreg Prior; got {prior!r}."
        )
    if not isinstance(likelihood, Likelihood):
        raise TypeError(
            f"The 'likelihood' parameter of {owner} must be a bayesreg Likelihood; got "
            f"{likelihood!r}."
        )


def check_model(model: object, owner: str) -> RegressionModel:
    """Raise a TypeError naming ``owner`` unless ``model`` is a :class:`RegressionModel`."""
    if not isinstance(model, RegressionModel):
        raise TypeError(
            f"The 'model' parameter of {owner} must be a RegressionModel. Got {model!r} instead."
        )
    return model
