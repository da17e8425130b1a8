"""Priors and likelihoods from their names, with the package's defaults (one place for both
facades).

The scikit-learn estimators (``prior="horseshoe"``) and :func:`bayesreg.fit` (formulas) build
their objects here, so that a name means the same model in both.
"""

from __future__ import annotations

from bayesreg._validation import check_choice
from bayesreg.likelihoods import Likelihood, likelihood_from_name
from bayesreg.priors import Prior, prior_class, prior_from_name, prior_names

__all__ = ["likelihood_by_name", "prior_by_name"]


def prior_by_name(
    name: str,
    scale: float,
    likelihood: Likelihood,
    *,
    l1_ratio: float = 0.5,
    owner: str,
    groups: object = None,
) -> Prior:
    """The registered prior ``name`` at ``scale``, with the defaults that depend on the likelihood.

    A mixing prior (the elastic net) takes ``l1_ratio``; a global-local (horseshoe-family,
    ``collapsible``) prior in a model with a noise scale gets ``scale_by_sigma=True``, i.e.
    ``tau ~ C+(0, scale * sigma)`` (Carvalho et al.'s default with ``scale = 1``; an informed
    tau0 comes from ``Horseshoe.from_expected_nonzeros``); a grouped prior
    (``Prior.needs_groups``: ``"group_lasso"``, ``"grouped_horseshoe"``) takes ``groups``, one
    label per coefficient (a formula's terms: ``FormulaDesign.group_ids``).

    Raises a ValueError with the bad value and the valid names (naming ``owner`` when
    ``name`` is not even a str), and for a grouped prior without ``groups``.
    """
    if not isinstance(name, str):
        raise ValueError(
            f"The 'prior' parameter of {owner} must be a str among {list(prior_names())} or "
            f"a bayesreg Prior. Got {name!r} instead."
        )
    check_choice(name, "prior", prior_names())
    if prior_class(name).needs_groups:
        if groups is None:
            raise ValueError(
                f"prior={name!r} in {owner} shrinks groups of coefficients together and needs "
                "their labels: fit with a formula (each term's columns are one group, e.g. the "
                f"dummies of C(region)), or pass the prior object itself, e.g. "
                f"{prior_class(name).__name__}(scale, groups=[0, 0, 1, 2, 2])."
            )
        probe = prior_from_name(name, scale, groups=groups)
        kwargs = {"groups": groups}
    else:
        probe = prior_from_name(name, scale)
        kwargs = {}
    if hasattr(probe, "l1_ratio"):
        kwargs["l1_ratio"] = l1_ratio
    if probe.collapsible and likelihood.has_sigma:
        kwargs["scale_by_sigma"] = True
    return prior_from_name(name, scale, **kwargs) if kwargs else probe


def likelihood_by_name(likelihood: str | Likelihood) -> Likelihood:
    """A Likelihood object as given, or the one registered under its name."""
    return likelihood if isinstance(likelihood, Likelihood) else likelihood_from_name(likelihood)
