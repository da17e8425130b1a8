"""External reference posteriors (posteriordb, 10 long Stan chains) reproduced by our NUTS.

sblri-blr / sblrc-blr: y ~ N(X beta, sigma), beta_j ~ N(0, 10), sigma ~ N+(0, 10), no intercept.
For each parameter, z = (ours - ref) / sqrt(mcse_ours^2 + mcse_ref^2) must satisfy |z| < 4, for
the mean and for the sd. The reference draws are (nearly) independent, so their MCSE is
sd / sqrt(N) for the mean and, for a near-normal marginal, sd / sqrt(2 N) for the sd.
"""

from __future__ import annotations

import json
import os
import zipfile

import arviz as az
import numpy as np
import pytest

from bayesreg import Gaussian, GaussianLikelihood, RegressionModel
from bayesreg.sampling import sample_posterior

# a copy of the two posteriors used (posteriordb, BSD-3: licence file beside them)
PDB = os.path.join(os.path.dirname(__file__), "data", "posteriordb")


def _load_json_zip(path):
    with zipfile.ZipFile(path) as z:
        [name] = z.namelist()
        return json.loads(z.read(name))


def _reference(posterior):
    folder = os.path.join(PDB, posterior)
    info = json.load(open(os.path.join(folder, "posterior.json")))
    data = _load_json_zip(os.path.join(folder, f"{info['data_name']}.json.zip"))
    chains = _load_json_zip(os.path.join(folder, f"{posterior}.reference_draws.json.zip"))
    draws = {k: np.concatenate([np.asarray(c[k]) for c in chains]) for k in chains[0]}
    return data, draws


@pytest.mark.slow
@pytest.mark.parametrize("posterior", ["sblri-blr", "sblrc-blr"])
def test_blr_matches_posteriordb(posterior):
    data, ref = _reference(posterior)
    X, y = np.asarray(data["X"]), np.asarray(data["y"])
    assert X.shape == (data["N"], data["D"])
    model = RegressionModel(
        X, y, Gaussian(10.0), GaussianLikelihood(sigma_prior_scale=10.0), fit_intercept=False
    )
    idata = sample_posterior(
        model, draws=1000, tune=1000, chains=2, random_seed=20, progressbar=False, cores=1
    )
    # unrounded MCSEs of our mean and sd (ArviZ's summary; az.mcse(method="sd") breaks on numpy 2.4)
    summ = az.summary(idata, round_to="none")
    names = {f"beta[{j + 1}]": f"w[x{j}]" for j in range(data["D"])} | {"sigma": "sigma"}
    for ref_name, ours_name in names.items():
        r, row = ref[ref_name], summ.loc[ours_name]
        ref_sd = r.std(ddof=1)
        z_mean = (row["mean"] - r.mean()) / np.hypot(row["mcse_mean"], ref_sd / np.sqrt(r.size))
        z_sd = (row["sd"] - ref_sd) / np.hypot(row["mcse_sd"], ref_sd / np.sqrt(2 * r.size))
        assert abs(z_mean) < 4 and abs(z_sd) < 4, (posterior, ref_name, z_mean, z_sd)
