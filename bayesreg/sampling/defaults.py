"""The sampler defaults, in one place: every backend, the collapsed graph and the docs read these.

``sample_posterior`` passes them explicitly to every engine (PyMC, nutpie, NumPyro), so a
backend's own default never decides a run.
"""

from __future__ import annotations

__all__ = [
    "BACKENDS",
    "CHAINS",
    "COLLAPSED_TARGET_ACCEPT",
    "DRAWS",
    "FAST_EXTRA",
    "LOW_RANK_MAX_FEATURES",
    "LOW_RANK_MIN_CONDITION",
    "MAX_FEATURES",
    "MAX_TREEDEPTH",
    "NUTPIE_BACKENDS",
    "TARGET_ACCEPT",
    "TUNE",
]

#: draws kept per chain, warm-up iterations per chain, number of chains
DRAWS, TUNE, CHAINS = 1000, 1000, 4

#: NUTS target acceptance unless the caller or the prior (``Prior.default_target_accept``)
#: sets one; PyMC's, nutpie's and NumPyro's own default too
TARGET_ACCEPT = 0.8

#: NUTS maximum tree depth (2**10 leapfrog steps per draw at most)
MAX_TREEDEPTH = 10

#: NUTS target acceptance for the collapsed horseshoe graph unless the caller passes one.
#: Without the funnel the usual 0.8 would do; 0.9 leaves a margin for the heavy-tailed
#: log lambda_j (0 divergences on benchmarks/bench_horseshoe.py at n=1000, p=100).
COLLAPSED_TARGET_ACCEPT = 0.9

#: the largest p for which the collapsed graph is used (its gradient costs O(p^3))
MAX_FEATURES = 400

#: nutpie's low-rank-modified mass matrix is the default for a likelihood that is not
#: quadratic (its gradient reads all n rows) when the condition number of the design's
#: correlation matrix exceeds this (and p < n). Measured (min bulk ESS over w per second,
#: 4 x 1000 + 1000, benchmarks/bench_sampling.py --only logistic and the rows quoted in
#: ``bayesreg.sampling.nutpie_nuts.low_rank_by_default``): breast cancer logistic (cond 1e5)
#: 2.5-3x the diagonal's; an AR(1) design rho = 0.9, n = 1000, p = 100 (cond 584) logistic
#: 1.7x; but 0.3x with a Gaussian likelihood on that design (the sufficient-statistics
#: gradient is so cheap that the low-rank bookkeeping dominates) and 0.1x on an uncorrelated
#: p = 100 design (cond 3.6), where there is nothing to learn.
LOW_RANK_MIN_CONDITION = 100.0

#: the largest p for which that condition number is computed (an O(n p^2) Gram matrix)
LOW_RANK_MAX_FEATURES = 1000

#: the supported values of ``backend``
BACKENDS = ("pymc", "nutpie", "numpyro", "exact", "gibbs", "auto")

#: what ``nutpie_backend`` may be: nutpie's own compilation of the PyMC model (numba, JAX);
#: "pytensor": nutpie's NUTS driving the model's C-compiled sampling graph through a Python
#: callback (no numba/JAX compile); "kernel": nutpie calling ``bayesreg._fastlogp``'s static,
#: disk-cached numba C callbacks directly (no Python in the loop, no per-model compile)
NUTPIE_BACKENDS = ("numba", "jax", "pytensor", "kernel")

#: how to install the optional samplers (named in ImportErrors)
FAST_EXTRA = 'pip install -e ".[fast]"  (or: pip install "bayesreg[fast]")'
