"""The ``bayesreg`` command (also ``python -m bayesreg``).

``bayesreg report``
    On the diabetes data (default) or a CSV file: verify that the MAP equals the penalized
    solutions (scikit-learn, closed form, gradient descent), sample the posterior under a
    Gaussian (L2) and a Laplace (L1) prior, diagnose the draws, measure shrinkage and sparsity,
    and write ``DIR/index.html`` (self-contained) and ``DIR/report.json``.
``bayesreg verify``
    The fast check only (no sampling).

Exit codes: 0 everything passed; 1 verification failed or the diagnostics flagged a problem
(so the command can gate a CI); 2 bad input (missing file, unknown or non-numeric column,
missing values, bad option), with a message and no traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from bayesreg._lazy import lazy_module
from bayesreg.likelihoods import likelihood_from_name, likelihood_names
from bayesreg.report import PRIOR_CHOICES

# pandas (about 1 s to import) loads when a CSV is read, so --help and argument errors are fast
pd = lazy_module("pandas")

__all__ = ["InputError", "load_data", "main"]

EXIT_OK, EXIT_FAILED, EXIT_INPUT = 0, 1, 2
#: the shell's convention for a run stopped by a signal: 128 + its number (SIGINT 2, SIGTERM 15)
EXIT_SIGINT, EXIT_SIGTERM = 130, 143


class InputError(Exception):
    """Bad user input: reported as ``bayesreg: error: <message>`` with exit code 2."""


def _positive_float(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from None
    if not np.isfinite(v) or v <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return v


def _int_at_least(low: int):
    def parse(text: str) -> int:
        try:
            v = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected an integer >= {low}, got {text!r}"
            ) from None
        if v < low:
            raise argparse.ArgumentTypeError(f"expected an integer >= {low}, got {text!r}")
        return v

    return parse


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (subcommands ``report`` and ``verify``)."""
    parser = argparse.ArgumentParser(
        prog="bayesreg",
        description="A penalty is a prior: verify MAP == penalized solutions, sample the "
        "posterior, diagnose it, report shrinkage and sparsity.",
        epilog="Exit codes: 0 passed; 1 verification failed or diagnostics flagged a problem; "
        "2 bad input.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{report,verify}")

    def data_options(p: argparse.ArgumentParser) -> None:
        g = p.add_argument_group("data (default: the diabetes data shipped with scikit-learn)")
        g.add_argument("--data", metavar="FILE.csv", help="a CSV file with a header row")
        g.add_argument("--target", metavar="COLUMN", help="the target column (needed with --data)")
        g.add_argument(
            "--features",
            metavar="A,B,...",
            help="comma-separated feature columns (default: all others)",
        )
        g.add_argument(
            "--formula", metavar="'Y ~ A + C(G)'",
            help="a formula (the formulae package) choosing the target and the features "
            "instead of --target / --features: C(g) or a text column becomes treatment dummies, "
            "a:b interactions, np.log(a) transforms",
        )  # fmt: skip
        g.add_argument(
            "--likelihood", choices=("auto", *likelihood_names()), default="auto",
            help="auto: bernoulli when the target is 0/1, poisson for other non-negative "
            "integers (counts) in --data, else gaussian (the built-in diabetes score stays "
            "gaussian); the choice is printed (default: auto)",
        )  # fmt: skip
        g.add_argument(
            "--no-standardize", dest="standardize", action="store_false",
            help="keep CSV features in their units (default: centre and scale to sd 1, so one "
            "prior scale fits all coefficients)",
        )  # fmt: skip
        g.add_argument(
            "--drop-missing", action="store_true",
            help="drop rows with missing values instead of stopping with an error",
        )  # fmt: skip
        m = p.add_argument_group("model")
        m.add_argument(
            "--prior", choices=PRIOR_CHOICES, default="both",
            help="gaussian = L2/ridge, laplace = L1/lasso (default: both)",
        )  # fmt: skip
        m.add_argument(
            "--scale", type=_positive_float, metavar="SD",
            help="prior sd of each coefficient, for both priors: Gaussian(tau=SD), "
            "Laplace(b=SD/sqrt(2)) (default: maximize the evidence with BayesianRidge)",
        )  # fmt: skip

    rep = sub.add_parser(
        "report", help="verify, sample, diagnose; write index.html and report.json"
    )
    data_options(rep)
    s = rep.add_argument_group("sampling")
    s.add_argument(
        "--out",
        default="bayesreg-report",
        metavar="DIR",
        help="output folder (default: %(default)s)",
    )
    s.add_argument(
        "--backend", choices=("auto", "pymc", "nutpie", "numpyro"), default="auto",
        help="NUTS backend; auto = nutpie when installed, else pymc (default: auto)",
    )  # fmt: skip
    s.add_argument(
        "--draws", type=_int_at_least(1), default=1000, help="draws per chain (default: 1000)"
    )
    s.add_argument(
        "--tune", type=_int_at_least(0), default=1000, help="warm-up per chain (default: 1000)"
    )
    s.add_argument("--chains", type=_int_at_least(1), default=4, help="chains (default: 4)")
    s.add_argument(
        "--seed", dest="random_seed", type=_int_at_least(0), default=0,
        help="random seed (default: 0)",
    )  # fmt: skip
    s.add_argument(
        "--min-ess", type=_positive_float, default=400.0,
        help="flag bulk/tail ESS below this (default: 400, Vehtari et al. 2021)",
    )  # fmt: skip
    s.add_argument(
        "--path-points", type=_int_at_least(0), default=8,
        help="prior scales in the posterior path figure (0: no path; default: 8)",
    )  # fmt: skip
    s.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bars")

    ver = sub.add_parser(
        "verify", help="the fast check only: MAP vs penalized solvers vs scikit-learn"
    )
    data_options(ver)
    ver.add_argument(
        "--inject-conversion-error", type=_positive_float, default=1.0, metavar="FACTOR",
        help="self-test of the checker: multiply every converted penalty strength by FACTOR "
        "(anything but 1 must make verification fail)",
    )  # fmt: skip
    return parser


# ---------------------------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------------------------
def load_data(args: argparse.Namespace) -> tuple[pd.DataFrame, np.ndarray, dict[str, Any]]:
    """X (DataFrame), y and a description, from the options; raise InputError on bad input."""
    from bayesreg.datasets import load_diabetes

    if args.data is None:
        if args.target is not None or args.features is not None or args.formula is not None:
            raise InputError("--target and --features need --data FILE.csv; so does --formula.")
        ds = load_diabetes()
        info = {"source": "diabetes (scikit-learn)", "target": "disease progression",
                "standardized": "each column centred and scaled to unit norm, scikit-learn's "
                "scaling: one unit = sd x sqrt(n) of the raw column", "dropped_rows": 0,
                "feature_scale": _diabetes_scale(list(ds.feature_names))}  # fmt: skip
        return ds.X, ds.y, info
    path = args.data
    if args.formula is not None and (args.target is not None or args.features is not None):
        raise InputError("--formula chooses the target and the features: drop --target and "
                         "--features.")  # fmt: skip
    frame = _read_csv(path)
    if args.formula is not None:
        X, y, dropped, target = _formula_columns(frame, args, path)
    elif args.target is None:
        raise InputError("--data needs --target COLUMN (the column to predict).")
    else:
        X, y, dropped = _feature_columns(frame, args, path)
        target = args.target
    if len(y) < 3:
        raise InputError(f"{path!r} has {len(y)} usable row(s); at least 3 are needed.")
    constant = [c for c in X.columns if np.ptp(X[c].to_numpy()) == 0]
    if constant:
        raise InputError(
            f"constant feature column(s) {', '.join(map(repr, constant))}: they carry no "
            "information (and cannot be standardized). Leave them out (--features, --formula)."
        )
    info = {"source": os.path.abspath(path), "target": target, "dropped_rows": dropped,
            "standardized": "mean 0, sd 1" if args.standardize else "no"}  # fmt: skip
    if args.formula is not None:
        info["formula"] = args.formula
    if args.standardize:
        sd = X.std(ddof=0)
        X = (X - X.mean()) / sd
        info["feature_scale"] = {str(c): float(v) for c, v in sd.items()}
    return X.reset_index(drop=True), y, info


def _read_csv(path: str) -> pd.DataFrame:
    """The CSV at ``path`` (string column names, a saved row index dropped), or InputError."""
    if not os.path.exists(path):
        raise InputError(f"--data file {path!r} does not exist.")
    if os.path.isdir(path):
        raise InputError(f"--data {path!r} is a folder; give a CSV file.")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path!r} as CSV: {exc}") from None
    frame = _drop_index_columns(frame)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    if len(columns) == 1 and any(sep in columns[0] for sep in ";\t|"):
        sep = next(sep for sep in ";\t|" if sep in columns[0])
        raise InputError(
            f"{path!r} has one column named {columns[0][:60]!r}: it looks separated by "
            f"{sep!r}, not commas. Convert it to a comma-separated file."
        )
    return frame


def _formula_columns(
    frame: pd.DataFrame, args: argparse.Namespace, path: str
) -> tuple[pd.DataFrame, np.ndarray, int, str]:
    """The design of ``--formula``, y, the number of dropped rows and the response's name."""
    from bayesreg.formula import formula_design

    na_action = "drop" if args.drop_missing else "error"
    try:
        design, X, y = formula_design(args.formula, frame, na_action=na_action)
    except ImportError as exc:
        raise InputError(str(exc)) from None
    except ValueError as exc:
        hint = "" if args.drop_missing else " (or pass --drop-missing)"
        more = hint if "missing values" in str(exc) else ""
        raise InputError(f"--formula in {path!r}: {exc}{more}") from None
    if not design.fit_intercept:
        raise InputError(
            f"--formula {args.formula!r} has no intercept ('0 +' or '- 1'): the report always "
            "fits an unpenalized intercept; keep it in the formula."
        )
    if not np.isfinite(X.to_numpy()).all() or not np.isfinite(y).all():
        raise InputError(f"--formula {args.formula!r} gives infinite values in {path!r}.")
    return X, y, len(frame) - len(y), design.response


def _feature_columns(
    frame: pd.DataFrame, args: argparse.Namespace, path: str
) -> tuple[pd.DataFrame, np.ndarray, int]:
    """The numeric columns of ``--features`` (default: all but the target), y, dropped rows."""
    columns = list(frame.columns)
    if args.target not in columns:
        raise InputError(
            f"unknown column {args.target!r} for --target in {path!r}. Columns: {', '.join(columns)}."
        )
    if args.features is not None:
        features = [f.strip() for f in args.features.split(",") if f.strip()]
        unknown = [f for f in features if f not in columns]
        if unknown:
            raise InputError(
                f"unknown column(s) {', '.join(map(repr, unknown))} for --features in {path!r}. "
                f"Columns: {', '.join(columns)}."
            )
        if args.target in features:
            raise InputError(f"--features includes the target {args.target!r}.")
    else:
        features = [c for c in columns if c != args.target]
    if not features:
        raise InputError(f"{path!r} has no feature columns besides the target {args.target!r}.")
    used = frame[[*features, args.target]]
    non_numeric = []
    for col in used.columns:
        converted = pd.to_numeric(used[col], errors="coerce")
        bad = used[col].notna() & converted.isna()
        if bad.any():
            first = int(np.flatnonzero(bad.to_numpy())[0])
            non_numeric.append(f"{col!r} (row {first + 2}: {used[col].iloc[first]!r})")
    if non_numeric:
        raise InputError(
            f"non-numeric column(s) in {path!r}: {'; '.join(non_numeric)} (row numbers count the "
            "header as row 1). Encode categories as numbers (e.g. one-hot), leave them out "
            "with --features, or use --formula with C(column)."
        )
    used = used.apply(pd.to_numeric).astype(np.float64)
    missing = ~np.isfinite(used.to_numpy()).all(axis=1)
    dropped = int(missing.sum())
    if dropped:
        rows = (np.flatnonzero(missing) + 2).tolist()
        cols = [c for c in used.columns if not np.isfinite(used[c].to_numpy()).all()]
        shown = ", ".join(map(str, rows[:10])) + (", ..." if len(rows) > 10 else "")
        if not args.drop_missing:
            raise InputError(
                f"{dropped} row(s) of {path!r} have missing or infinite values (rows {shown}; "
                f"columns {', '.join(map(repr, cols))}). Drop or impute them, or pass --drop-missing."
            )
        used = used.loc[~missing]
    return used[features].copy(), used[args.target].to_numpy(dtype=np.float64), dropped


def _drop_index_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop a saved row index (``df.to_csv()`` without ``index=False``): a column with a blank
    header (pandas names it ``Unnamed: k``) holding 0..n-1 or 1..n. It is not a feature."""
    n = len(frame)
    drop = []
    for col in frame.columns:
        values = pd.to_numeric(frame[col], errors="coerce").to_numpy()
        blank = str(col).startswith("Unnamed: ")
        if (
            blank
            and n
            and (
                np.array_equal(values, np.arange(n)) or np.array_equal(values, np.arange(1, n + 1))
            )
        ):
            drop.append(col)
    if drop:
        _echo(
            f"note: column(s) {', '.join(map(repr, drop))} hold a row index; not used as features"
        )
    return frame.drop(columns=drop)


def _diabetes_scale(names: list[str]) -> dict[str, float]:
    """Raw units per unit of scikit-learn's scaled diabetes column: sd (ddof 0) x sqrt(n).

    A coefficient on the scaled column divided by this is the coefficient per raw unit.
    """
    from sklearn.datasets import load_diabetes as raw

    data = raw(scaled=False).data
    scale = data.std(axis=0) * np.sqrt(data.shape[0])
    return dict(zip(names, scale.tolist(), strict=True))


#: what target each likelihood name needs, in the words of ``--likelihood``'s error message
_TARGET_NEEDED = {"bernoulli": "a 0/1 target"}


def _likelihood(kind: str, y: np.ndarray, *, measured: bool = False):
    """The likelihood named by ``--likelihood`` (``auto``: bernoulli for a 0/1 target, poisson
    for other non-negative integers, else gaussian; a chosen one is said), checked against the
    target (``Likelihood.check_y``).

    ``measured=True`` says the target is known to be a measurement, not a count: the built-in
    diabetes target (a disease-progression score, whole numbers 25-346) stays gaussian.
    """
    binary = bool(np.all(np.isin(y, (0.0, 1.0))))
    values = np.unique(y)
    if kind == "auto" and values.size == 2 and not binary:
        raise InputError(
            f"the target takes two values {[float(v) for v in values]}: a class label coded "
            "other than 0/1. "
            "Recode it as 0/1 for logistic regression, or pass --likelihood gaussian to model it "
            "as a number."
        )
    if kind == "auto":
        counts = bool(np.all((y >= 0) & (y == np.round(y)))) and values.size > 2
        kind = "bernoulli" if binary else "poisson" if counts and not measured else "gaussian"
        why = {"bernoulli": "a 0/1 target", "poisson": "a count target"}
        if kind in why:  # one line within 80 columns, like every phase line
            _echo(f"likelihood: {kind} ({why[kind]}; --likelihood gaussian overrides)")
    lik = likelihood_from_name(kind)
    try:
        lik.check_y(np.asarray(y, dtype=np.float64))
    except ValueError as exc:
        needed = _TARGET_NEEDED.get(kind, "a target it can model")
        raise InputError(f"--likelihood {kind} needs {needed}: {exc}") from None
    if lik.has_sigma and np.ptp(y) == 0:
        raise InputError("the target is constant: nothing to fit.")
    return lik


# ---------------------------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------------------------
def _settings(args: argparse.Namespace, sample: bool):
    from bayesreg.report import ReportSettings

    priors = args.prior
    if not sample:
        return ReportSettings(priors=priors, prior_sd=args.scale, path_points=0, progressbar=False)
    return ReportSettings(
        priors=priors, prior_sd=args.scale, backend=args.backend, draws=args.draws,
        tune=args.tune, chains=args.chains, random_seed=args.random_seed, min_ess=args.min_ess,
        path_points=args.path_points, progressbar=args.progress,
    )  # fmt: skip


def _echo(line: str) -> None:
    print(line, flush=True)


def check_out_dir(path: str) -> None:
    """Raise InputError before any work if the report cannot be written to ``path``."""
    if os.path.exists(path) and not os.path.isdir(path):
        raise InputError(f"--out {path!r} is an existing file; give a folder (new or existing).")
    probe = os.path.abspath(path)
    while not os.path.exists(probe):  # the nearest folder that exists must be writable
        probe = os.path.dirname(probe)
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(f"--out {path!r}: cannot write in {probe!r} (permission denied).")
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(parent) and not os.access(parent, os.W_OK | os.X_OK):
        # write_report renders into a temporary folder beside --out, then renames into place
        raise InputError(f"--out {path!r}: cannot write in its parent {parent!r}.")


class Interrupted(Exception):
    """The run was stopped by SIGINT or SIGTERM (the exit code is 128 + the signal number)."""

    def __init__(self, code: int) -> None:
        super().__init__(code)
        self.code = code


class _StopOnSignal:
    """Within the block, SIGINT / SIGTERM stop the run for good.

    Samplers catch KeyboardInterrupt and return the chains they have (PyMC, nutpie): the
    handler records the signal, so that a report is never written from an interrupted run.
    """

    def __enter__(self) -> _StopOnSignal:
        import signal

        self.code: int | None = None
        self._old = {}
        for sig, code in ((signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM)):
            self._old[sig] = signal.signal(sig, self._handler(code))
        return self

    def _handler(self, code: int):
        def handle(signum, frame):
            self.code = code
            raise KeyboardInterrupt

        return handle

    def check(self) -> None:
        if self.code is not None:
            raise Interrupted(self.code)

    def __exit__(self, exc_type, exc, tb) -> bool:
        import signal

        for sig, old in self._old.items():
            signal.signal(sig, old)
        if exc_type is KeyboardInterrupt:
            raise Interrupted(self.code or EXIT_SIGINT) from None
        return False


def cmd_report(args: argparse.Namespace) -> int:
    from bayesreg.report import run_report, write_report

    check_out_dir(args.out)
    X, y, info = load_data(args)
    lik = _likelihood(args.likelihood, y, measured=args.data is None)
    settings = _settings(args, sample=True)
    with _StopOnSignal() as stop:

        def echo(line: str) -> None:
            # every phase starts with a line: a run whose sampler swallowed the interrupt
            # stops at the next phase instead of finishing the whole report first
            stop.check()
            _echo(line)

        report, results = run_report(X, y, settings, likelihood=lik, data_info=info, echo=echo)
        stop.check()  # a sampler may have swallowed the interrupt and returned early
        html_path, json_path = write_report(report, results, args.out)
    _echo(f"wrote {html_path} and {json_path}")
    _echo(report["verdict"]["message"])
    return int(report["verdict"]["exit_code"])


def cmd_verify(args: argparse.Namespace) -> int:
    from bayesreg import report as rep
    from bayesreg.model import RegressionModel
    from bayesreg.verification import verify

    X, y, info = load_data(args)
    lik = _likelihood(args.likelihood, y, measured=args.data is None)
    settings = _settings(args, sample=False)
    if settings.prior_sd is None:
        prior_sd, rule = rep.default_prior_sd(X.to_numpy(), y, lik)
    else:
        prior_sd, rule = settings.prior_sd, "given (--scale)"
    _echo(f"data: {info['source']}  n={len(y)}  p={X.shape[1]}  likelihood={lik.name}")
    _echo(f"prior sd {prior_sd:.4g} ({rule})")
    passed = True
    for name in settings.prior_names:
        model = RegressionModel(X, y, rep.prior_for(name, prior_sd), lik)
        report = verify(model, conversion_factor=args.inject_conversion_error)
        _echo(str(report))
        passed = passed and report.passed
    if args.inject_conversion_error != 1.0:
        _echo(f"(a conversion error x{args.inject_conversion_error:g} was injected on purpose)")
    _echo(
        "PASS: MAP == penalized solvers == scikit-learn" if passed else "FAIL: verification failed"
    )
    return EXIT_OK if passed else EXIT_FAILED


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (0 pass, 1 fail, 2 bad input)."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse has printed its message (or --help)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_INPUT
    if args.command is None:
        parser.print_help()
        return EXIT_INPUT
    warnings.filterwarnings("ignore", message=".*ArviZ is undergoing a major refactor.*")
    # one chain (or few draws) is a choice the diagnostics already report; ArviZ's shape check
    # would repeat it as a warning on stderr for every summary
    warnings.filterwarnings("ignore", message=".*Shape validation failed.*")
    try:
        return cmd_report(args) if args.command == "report" else cmd_verify(args)
    except InputError as exc:
        print(f"bayesreg: error: {exc}", file=sys.stderr)
        return EXIT_INPUT
    except Interrupted as exc:
        print(
            f"bayesreg: interrupted: nothing was written; {getattr(args, 'out', 'the output')!r} "
            "keeps its previous report, if any.",
            file=sys.stderr,
        )
        return exc.code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
