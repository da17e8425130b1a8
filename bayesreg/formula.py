"""Formulas and DataFrames: ``bayesreg.fit("y ~ x1 + x2 + C(region)", data=df, ...)``.

The formula is read by the `formulae <https://bambinos.github.io/formulae/>`_ package (the one
bambi uses; ``pip install bayesreg[formula]``), imported on first use: ``import bayesreg``
loads neither formulae nor pandas.

:func:`formula_design` turns a formula and a DataFrame into the design matrix (n, p), its column
names (``x1``, ``C(region)[b]``, ``x1:x2``, ...), the groups (the columns that one term makes:
the dummies of a categorical term together) and the encoding, which :meth:`FormulaDesign.transform`
applies to new rows (same dummies, same reference levels, same column order, the stateful
transforms such as ``scale(x)`` with the training means and sds). :func:`fit` puts the design
into a :class:`~bayesreg.model.RegressionModel` and finds its MAP or samples its posterior; every
result is labelled with the column names (the ``"feature"`` coordinate of the draws, the index of
the coefficient table).

The intercept: formulae writes an ``Intercept`` column of ones; it is dropped and the model's own
flat (unpenalized) intercept takes its place, so the intercept is never shrunk. A formula without
one (``y ~ 0 + x``, ``y ~ x - 1``) fits none (``fit_intercept=False``); formulae then codes the
first categorical term with one dummy per level (full rank without the intercept), as R does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from bayesreg._lazy import lazy_module
from bayesreg._named import likelihood_by_name, prior_by_name
from bayesreg._results import Result, jsonable
from bayesreg._validation import check_choice, check_random_seed
from bayesreg.likelihoods import Likelihood
from bayesreg.model import RegressionModel
from bayesreg.priors import Prior

if TYPE_CHECKING:
    import pandas

    from bayesreg._arviz import InferenceData
    from bayesreg.solvers import MapEstimate

pd = lazy_module("pandas")

__all__ = ["FormulaDesign", "FormulaFit", "fit", "formula_design"]

METHODS = ("map", "sample")
NA_ACTIONS = ("error", "drop")
#: formulae's name for the intercept term (and its column)
_INTERCEPT = "Intercept"


def _formulae():
    try:
        import formulae
    except ImportError:
        raise ImportError(
            "Formulas need the 'formulae' package: pip install 'bayesreg[formula]' "
            "(or pip install formulae)."
        ) from None
    return formulae


@dataclass(frozen=True)
class FormulaDesign(Result):
    """A formula's encoding of a DataFrame: the design's columns, their groups, the response.

    Attributes
    ----------
    formula : str
        The formula as given.
    response : str
        The response's name (``"y"``, ``"np.log(y)"``, ``"lab[yes]"``).
    columns : tuple of str, length p
        The design's column names in order (formulae's labels, the intercept left out).
    groups : dict of str -> tuple of int
        Each term of the formula -> the indices of its columns in ``columns``: a categorical
        term (``C(region)``) or an interaction with one gives several columns (its dummies),
        a numeric term one. The groups partition ``range(p)``: the input of grouped priors.
    fit_intercept : bool
        Whether the formula keeps the intercept (not ``0 +`` / ``- 1``).
    variables : tuple of str
        The DataFrame columns the formula's predictors read (what new rows must have).
    """

    formula: str
    response: str
    columns: tuple[str, ...]
    groups: dict[str, tuple[int, ...]]
    fit_intercept: bool
    variables: tuple[str, ...]
    _common: Any = field(repr=False, compare=False)  # formulae's CommonEffectsMatrix
    _frame: Any = field(repr=False, compare=False)  # the training columns, to rebuild _common

    def __getstate__(self) -> dict[str, Any]:
        # formulae's encoding holds the namespace it was evaluated in (modules: no pickle);
        # it is rebuilt from the training columns, which give the same levels and transforms
        state = dict(self.__dict__)
        del state["_common"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.__dict__["_common"] = _design_matrices(self.formula, self._frame).common

    @property
    def group_ids(self) -> np.ndarray:
        """The group (term) number of each column, shape (p,), in the order of ``groups``."""
        ids = np.empty(len(self.columns), dtype=np.int64)
        for k, idx in enumerate(self.groups.values()):
            ids[list(idx)] = k
        return ids

    def transform(self, data: pandas.DataFrame) -> pandas.DataFrame:
        """Encode new rows with the training encoding: a DataFrame (m, p) named by ``columns``.

        Raises a ValueError naming the column and the level when ``data`` holds a category
        the training data did not, and when a predictor is missing (NaN) or absent.
        """
        data = _check_frame(data, "data", self.formula)
        _check_columns(list(self.variables), data, self.formula)
        try:
            encoded = self._common.evaluate_new_data(data[list(self.variables)].copy())
        except ValueError as exc:  # formulae: "The levels (z) in 'C(g)' are not present ..."
            raise ValueError(
                f"cannot encode the new rows with the formula {self.formula!r}: {exc} A "
                "category unseen in the training data has no coefficient; drop those rows or "
                "refit with data that contains the category."
            ) from None
        X = _drop_intercept(np.asarray(encoded.design_matrix, dtype=np.float64), encoded.slices)
        bad = ~np.isfinite(X).all(axis=1)
        if bad.any():
            rows = data.index[bad].tolist()[:10]
            raise ValueError(
                f"{int(bad.sum())} new row(s) have missing or infinite predictors after "
                f"encoding with {self.formula!r} (index {rows}); drop or impute them first."
            )
        return pd.DataFrame(X, columns=list(self.columns), index=data.index)

    def to_dict(self) -> dict[str, Any]:
        """The encoding's description (JSON-safe), without formulae's objects."""
        out = {
            "formula": self.formula,
            "response": self.response,
            "columns": self.columns,
            "groups": self.groups,
            "fit_intercept": self.fit_intercept,
            "variables": self.variables,
        }
        return jsonable(out)


def _check_frame(data: object, name: str, formula: str) -> pandas.DataFrame:
    if not (hasattr(data, "columns") and isinstance(data, pd.DataFrame)):
        raise TypeError(
            f"The '{name}' parameter must be a pandas DataFrame whose columns the formula "
            f"{formula!r} names. Got {type(data).__name__} instead; wrap arrays with "
            "pandas.DataFrame(X, columns=[...])."
        )
    return data


def _check_columns(names: list[str], data: pandas.DataFrame, formula: str) -> None:
    columns = [str(c) for c in data.columns]
    missing = [v for v in names if v not in columns]
    if missing:
        raise ValueError(
            f"the formula {formula!r} names column(s) {', '.join(map(repr, missing))} that the "
            f"data does not have. Available columns: {', '.join(columns)}."
        )


def _parse(formula: object):
    """formulae's description of ``formula``; a ValueError naming the formula if it is bad."""
    if not isinstance(formula, str) or "~" not in formula:
        raise ValueError(
            "The 'formula' parameter must be a str 'response ~ terms' (e.g. "
            f"'y ~ x1 + C(region)'). Got {formula!r} instead."
        )
    _formulae()  # a clear ImportError when formulae is not installed
    from formulae.model_description import model_description

    try:
        description = model_description(formula)
    except Exception as exc:  # formulae's ParseError / ScanError
        raise ValueError(f"cannot parse the formula {formula!r}: {exc}") from None
    if description.response is None:
        raise ValueError(f"the formula {formula!r} has no response: write 'y ~ ...'.")
    if description.group_terms:
        raise ValueError(
            f"the formula {formula!r} has group-specific terms ('(x | g)'): this package fits "
            "common (fixed) effects only; use C(g) for a categorical predictor."
        )
    return description


def _design_matrices(formula: str, frame: pandas.DataFrame):
    """formulae's design of ``frame`` (complete rows), evaluated with numpy as ``np``."""
    return _formulae().design_matrices(formula, frame, na_action="error", env=0)


def _drop_intercept(X: np.ndarray, slices: Mapping[str, slice]) -> np.ndarray:
    """Drop formulae's intercept column (the model has its own flat intercept)."""
    keep = np.ones(X.shape[1], dtype=bool)
    if _INTERCEPT in slices:
        keep[slices[_INTERCEPT]] = False
    return X[:, keep]


def _groups(slices: Mapping[str, slice]) -> dict[str, tuple[int, ...]]:
    """term -> column indices, after the intercept column is dropped."""
    out, start = {}, 0
    for term, sl in slices.items():
        if term == _INTERCEPT:
            continue
        width = sl.stop - sl.start
        out[term] = tuple(range(start, start + width))
        start += width
    return out


def _response(dm, formula: str) -> np.ndarray:
    y = np.asarray(dm.response.design_matrix)
    if y.ndim != 1:
        levels = list(dm.response.levels or [])
        example = f"{dm.response.name}[{levels[-1]}]" if levels else "y"
        raise ValueError(
            f"the response {dm.response.name!r} of {formula!r} is categorical with levels "
            f"{levels}: write '{example} ~ ...' to model the indicator of one level (0/1)."
        )
    try:
        return y.astype(np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"the response {dm.response.name!r} of {formula!r} is not numeric."
        ) from None


def formula_design(
    formula: str, data: pandas.DataFrame, *, na_action: str = "error"
) -> tuple[FormulaDesign, pandas.DataFrame, np.ndarray]:
    """The design matrix, the response and the encoding that ``formula`` makes of ``data``.

    Parameters
    ----------
    formula : str
        A formulae formula, ``"y ~ x1 + x2 + C(region)"``: ``C(g)`` (or a text column) is
        expanded to treatment dummies (a text column's first level in sorted order is the
        reference; ``C(g, Treatment("b"))`` picks another), ``a:b`` and ``a*b`` interactions,
        ``np.log(x)``, ``scale(x)`` (with the training mean and sd on new rows), ``0 +`` /
        ``- 1`` for no intercept.
    data : pandas.DataFrame
        Holds every column the formula names; never modified.
    na_action : {"error", "drop"}, default "error"
        Rows with a missing value in a column the formula reads: stop with an error, or drop
        them (the returned X keeps the index of the rows used).

    Returns
    -------
    design : FormulaDesign
        Column names, groups, intercept, and the encoding for new rows.
    X : pandas.DataFrame of shape (n, p)
        The design without formulae's intercept column, named by ``design.columns``.
    y : ndarray of shape (n,)
        The response (float64).
    """
    description = _parse(formula)
    check_choice(na_action, "na_action", NA_ACTIONS)
    data = _check_frame(data, "data", formula)
    variables = sorted(v for v in description.var_names if v)
    _check_columns(variables, data, formula)
    predictors = sorted({v for t in description.common_terms for v in t.var_names if v})
    frame = data[variables].copy()  # formulae converts columns; the caller's frame stays as is
    if na_action == "error" and frame.isna().any(axis=None):
        rows = frame.index[frame.isna().any(axis=1)].tolist()
        cols = [c for c in variables if frame[c].isna().any()]
        raise ValueError(
            f"{len(rows)} row(s) have missing values in column(s) {cols} that {formula!r} reads "
            f"(index {rows[:10]}); drop or impute them, or pass na_action='drop' "
            "(bayesreg.fit, formula_design)."
        )
    if na_action == "drop":
        frame = frame.dropna()
    dm = _design_matrices(formula, frame)
    if dm.common is None or set(dm.common.slices) <= {_INTERCEPT}:
        raise ValueError(f"the formula {formula!r} has no predictor (nothing but an intercept).")
    slices = dict(dm.common.slices)
    X = _drop_intercept(np.asarray(dm.common.design_matrix, dtype=np.float64), slices)
    groups = _groups(slices)
    columns = [
        label for t, term in dm.common.terms.items() if t != _INTERCEPT for label in term.labels
    ]
    design = FormulaDesign(
        formula=formula,
        response=str(dm.response.name),
        columns=tuple(columns),
        groups=groups,
        fit_intercept=_INTERCEPT in slices,
        variables=tuple(predictors),
        _common=dm.common,
        _frame=frame,
    )
    return design, pd.DataFrame(X, columns=columns, index=frame.index), _response(dm, formula)


@dataclass(frozen=True)
class FormulaFit(Result):
    """A model fitted from a formula: the encoding, the model, and its MAP or its draws.

    Attributes
    ----------
    formula : str
    design : FormulaDesign
        Column names, groups and the encoding of new rows (:meth:`predict` uses it).
    model : RegressionModel
        The model of the design; its ``feature_names`` are ``design.columns``.
    method : {"map", "sample"}
    map : MapEstimate or None
        The MAP (``method="map"``).
    idata : arviz.InferenceData or None
        The posterior draws (``method="sample"``); ``w`` has the coordinate ``feature`` =
        ``design.columns``.
    """

    formula: str
    design: FormulaDesign
    model: RegressionModel
    method: str
    map: MapEstimate | None = None
    idata: InferenceData | None = field(default=None, repr=False)

    @property
    def feature_names(self) -> list[str]:
        """The design's column names, in the order of the coefficients."""
        return list(self.design.columns)

    @property
    def groups(self) -> dict[str, tuple[int, ...]]:
        """Each term -> the indices of its columns (see :class:`FormulaDesign`)."""
        return self.design.groups

    def _draws(self) -> tuple[np.ndarray, np.ndarray]:
        """w draws (S, p) and intercept draws (S,), S = chains x draws."""
        post = self.idata.posterior
        w = post["w"].transpose("chain", "draw", "feature").values.reshape(-1, self.model.p)
        b = post["intercept"].values.reshape(-1) if "intercept" in post else np.zeros(len(w))
        return w, b

    @property
    def coef(self) -> pandas.Series:
        """The MAP weights or the posterior means, indexed by the column names."""
        w = self.map.coef if self.map is not None else self._draws()[0].mean(axis=0)
        return pd.Series(np.asarray(w, dtype=np.float64), index=self.feature_names, name="coef")

    @property
    def intercept(self) -> float:
        """The MAP intercept or its posterior mean (0.0 without an intercept)."""
        return float(self.map.intercept) if self.map is not None else float(self._draws()[1].mean())

    def coefficients(self) -> pandas.DataFrame:
        """The coefficient table, one row per column name (and ``intercept`` when fitted).

        MAP: the column ``map``. Draws: ``mean``, ``sd`` and the 5% and 95% quantiles.
        """
        names = [*self.feature_names, *(["intercept"] if self.model.fit_intercept else [])]
        if self.map is not None:
            values = [*self.map.coef, *([self.map.intercept] if self.model.fit_intercept else [])]
            return pd.DataFrame({"map": np.asarray(values, dtype=np.float64)}, index=names)
        w, b = self._draws()
        draws = np.column_stack([w, b]) if self.model.fit_intercept else w
        q5, q95 = np.quantile(draws, [0.05, 0.95], axis=0)
        table = {"mean": draws.mean(axis=0), "sd": draws.std(axis=0, ddof=1), "q5": q5, "q95": q95}
        return pd.DataFrame(table, index=names)

    def linear_predictor(self, data: pandas.DataFrame) -> np.ndarray:
        """``eta = x' w + b`` at each new row, with the training encoding, shape (m,).

        At the MAP, or the posterior mean of eta over the draws (= eta at the posterior means).
        """
        X = self.design.transform(data).to_numpy()
        return X @ self.coef.to_numpy() + self.intercept

    def predict(self, data: pandas.DataFrame) -> np.ndarray:
        """The mean of y at each new row (the likelihood's ``mean(eta)``), shape (m,).

        MAP: the plug-in ``mean(x' w + b)`` (``x' w + b`` for a Gaussian likelihood, the
        probability for a Bernoulli one). Draws: the posterior mean of ``mean(eta)``, averaged
        over the draws. New rows are encoded as the training data were
        (:meth:`FormulaDesign.transform`); an unseen category is a ValueError.
        """
        lik = self.model.likelihood
        if self.map is not None:
            return np.asarray(lik.mean(self.linear_predictor(data)), dtype=np.float64)
        X = self.design.transform(data).to_numpy()
        w, b = self._draws()
        return np.asarray(lik.mean(w @ X.T + b[:, None]), dtype=np.float64).mean(axis=0)

    def to_dict(self) -> dict[str, Any]:
        """The formula, the encoding, the model, the MAP or a summary of the draws (JSON-safe)."""
        out = {
            "formula": self.formula,
            "design": self.design.to_dict(),
            "model": repr(self.model),
            "method": self.method,
            "map": None if self.map is None else self.map.to_dict(),
            "coefficients": self.coefficients().reset_index(names="name"),
        }
        return jsonable(out)


def fit(
    formula: str,
    data: pandas.DataFrame,
    *,
    prior: str | Prior = "gaussian",
    prior_scale: float | None = None,
    likelihood: str | Likelihood = "gaussian",
    method: str = "map",
    random_seed: int | np.random.Generator | None = None,
    na_action: str = "error",
    **kwargs: Any,
) -> FormulaFit:
    """Fit ``formula`` on a DataFrame: its MAP (= the penalized solution) or its posterior.

    The model is :class:`~bayesreg.model.RegressionModel` on the design of
    :func:`formula_design` (formulae's intercept column dropped; the model's flat intercept
    instead, none for ``0 +`` / ``- 1``)::

        y_i ~ likelihood(x_i' w + b),   w ~ prior,   b ~ flat

    and ``method="map"`` minimizes ``-log p(y | w, b [, sigma]) + P(w) [- log p(sigma)]`` (for
    a Gaussian likelihood with estimated sigma and a Gaussian prior ``Gaussian(tau)``:
    ``SSE / (2 sigma^2) + n log sigma + ||w||^2 / (2 tau^2) + sigma^2 / (2 s^2)``).

    Parameters
    ----------
    formula : str
        ``"y ~ x1 + x2 + C(region)"`` (see :func:`formula_design`).
    data : pandas.DataFrame
        Holds every column the formula names; never modified.
    prior : str or Prior, default "gaussian"
        A registered prior name (``"gaussian"``, ``"laplace"``, ``"horseshoe"``, ...: the
        estimators' defaults, :func:`bayesreg._named.prior_by_name`) or a Prior object. A
        grouped prior by name (``"group_lasso"``, ``"grouped_horseshoe"``) gets the formula's
        terms as its groups: the dummies of ``C(region)`` are shrunk (or zeroed) together.
    prior_scale : float or None, default None
        The prior's scale (1.0 for a name, the object's own scale for a Prior when None).
    likelihood : str or Likelihood, default "gaussian"
        A registered likelihood name (``"gaussian"``, ``"bernoulli"``, ...) or object.
    method : {"map", "sample"}, default "map"
        :func:`~bayesreg.solvers.map_estimate` or :func:`~bayesreg.sampling.sample_posterior`.
    random_seed : int, numpy.random.Generator or None
        The sampler's seed (``method="sample"``).
    na_action : {"error", "drop"}, default "error"
        Rows with missing values in the columns the formula reads.
    **kwargs
        Passed to ``map_estimate`` (``tol``, ``max_iter``, ...) or ``sample_posterior``
        (``draws``, ``tune``, ``chains``, ``backend``, ``progressbar``, ...).

    Returns
    -------
    FormulaFit
        ``coefficients()`` and ``idata`` labelled with the column names, ``groups``,
        ``predict(new_df)`` with the training encoding.
    """
    check_choice(method, "method", METHODS)
    design, X, y = formula_design(formula, data, na_action=na_action)
    lik = likelihood_by_name(likelihood)
    if isinstance(prior, Prior):
        prior_obj = prior if prior_scale is None else prior.with_scale(prior_scale)
    else:
        scale = 1.0 if prior_scale is None else float(prior_scale)
        # a grouped prior by name shrinks each term's columns together (C(region)'s dummies)
        prior_obj = prior_by_name(
            prior, scale, lik, owner="bayesreg.fit", groups=tuple(design.group_ids)
        )
    seed = check_random_seed(random_seed, "random_seed", "bayesreg.fit")
    model = RegressionModel(
        X, y, prior_obj, lik, fit_intercept=design.fit_intercept, feature_names=design.columns
    )
    if method == "map":
        from bayesreg.solvers import map_estimate

        _check_map_keywords(kwargs, map_estimate)
        est = map_estimate(model, **kwargs)
        return FormulaFit(formula=formula, design=design, model=model, method=method, map=est)
    from bayesreg.sampling import sample_posterior

    idata = sample_posterior(model, random_seed=seed, **kwargs)
    return FormulaFit(formula=formula, design=design, model=model, method=method, idata=idata)


def _check_map_keywords(kwargs: Mapping[str, Any], map_estimate: Any) -> None:
    """A ValueError naming the keywords that ``map_estimate`` does not take (draws=... etc.)."""
    import inspect

    valid = [n for n in inspect.signature(map_estimate).parameters if n != "model"]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(
            f"bayesreg.fit(method='map') got keyword(s) {unknown} that map_estimate does not "
            f"take; valid: {valid}. Sampler settings need method='sample'."
        )
