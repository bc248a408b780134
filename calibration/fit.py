"""Fit a scenario's free parameters to dated targets with scipy.optimize.

* The search runs in unit coordinates: each free parameter maps [0, 1] onto its bounds,
  linearly or on a log scale, as the scenario's `calibration:` block declares.
* Every parameter vector is run with the same seeds (common random numbers), each seed a task
  of the process pool, and the model value of a target is the mean over those seeds, so seed
  noise cannot steer the optimiser.
* Residuals are standardised: (model − target) / σ, where σ² = (sd_rel · target)² plus the
  seed-to-seed variance of the mean, measured once at the starting point.
* Uncertainty is a Laplace (Gauss-Newton) approximation: covariance (JᵀJ + I/σ₀²)⁻¹ in unit
  coordinates, from a central-difference Jacobian at the fitted point, with the bounds as a
  uniform prior (approximated by a normal of its sd σ₀). A parameter whose
  interval spans most of its bounds, whose residuals barely move across its range, or which
  trades off almost perfectly against another is flagged as not pinned down by the targets.
* Leave-one-out: each fitted target in turn is dropped, the rest refitted from the PRIOR (each
  free parameter's `prior:`, the value before any fit; else the scenario's value), never from the
  fit, which has seen the dropped figure, and the model's prediction of the dropped figure
  reported. A check (a target not fitted) is out of sample already: its leave-one-out
  prediction is the fit's own value.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import optimize

from welfare_sim.calibration.targets import Target, check_passes, model_values, relative_error
from welfare_sim.sim.free_parameters import FreeParameter, lookup_path
from welfare_sim.sim.run import run_scenario
from welfare_sim.sim.scenario import Scenario, apply_overrides, validate_scenario

METHODS = ("least_squares", "differential_evolution")
JAC_STEP = 0.04  # unit-coordinate step: wide enough to see past the model's 1/N granularity
FLAT_RESIDUAL = 1.0  # residuals (in σ) that move less than this across the whole range: flat
PRIOR_SD_UNIT = 1 / math.sqrt(12)  # sd of a uniform on [0, 1]: the bounds as a prior
WIDE_SD_UNIT = (
    0.6 * PRIOR_SD_UNIT
)  # the targets shrink the spread by less than 40 %: not pinned down
HIGH_CORRELATION = 0.95
AT_BOUND_UNIT = 0.005  # within 0.5 % of the range from a bound: the bound binds


class FitError(Exception):
    """The fit cannot go on (e.g. the model returns no value for a target)."""


# --------------------------------------------------------------------------- parameters


def to_value(par: FreeParameter, u: float, integer: bool = False) -> float:
    u = min(max(float(u), 0.0), 1.0)
    if u in (0.0, 1.0):  # exactly the bound: log/exp round-off must not step outside it
        value = par.lower if u == 0.0 else par.upper
    elif par.scale == "log":
        value = math.exp(math.log(par.lower) + u * (math.log(par.upper) - math.log(par.lower)))
    else:
        value = min(max(par.lower + u * (par.upper - par.lower), par.lower), par.upper)
    return float(round(value)) if integer else value


def to_unit(par: FreeParameter, value: float) -> float:
    if par.scale == "log":
        value = max(value, par.lower)
        u = (math.log(value) - math.log(par.lower)) / (math.log(par.upper) - math.log(par.lower))
    else:
        u = (value - par.lower) / (par.upper - par.lower)
    return min(max(u, 0.0), 1.0)


def overrides_for(
    free: Sequence[FreeParameter], integers: Sequence[bool], u: np.ndarray
) -> list[str]:
    out = []
    for par, integer, ui in zip(free, integers, u, strict=True):
        value = to_value(par, ui, integer)
        text = str(int(value)) if integer else repr(float(value))
        out += [f"{path}={text}" for path in par.paths]
    return out


def fitted_data(
    data: dict[str, Any], free: Sequence[FreeParameter], integers: Sequence[bool], u: np.ndarray
) -> dict:
    return apply_overrides(data, overrides_for(free, integers, u), source="calibration")


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Task:
    """Plain data for one evaluation, so it can go to a spawned worker process."""

    data: dict[str, Any]
    overrides: tuple[str, ...]
    seeds: tuple[int, ...]
    months: int
    targets: tuple[dict[str, Any], ...]
    series: bool = False


def run_task(task: Task) -> tuple[np.ndarray, np.ndarray | None]:
    """Model values (seeds × targets), and the monthly series (seeds × targets × months) if asked."""
    data = apply_overrides(task.data, list(task.overrides), source="calibration")
    scenario = validate_scenario(data, "calibration")
    targets = [Target.model_validate(t) for t in task.targets]
    values, series = [], []
    for seed in task.seeds:
        result = run_scenario(scenario, seed=seed, months=task.months, payments_dir=None)
        at, ser = model_values(result.monthly, scenario, targets, task.months, result.funnel)
        values.append(at)
        series.append(ser)
    return np.stack(values), (np.stack(series) if task.series else None)


@dataclass
class Evaluator:
    """Runs parameter vectors through the model, with a cache and an optional process pool."""

    data: dict[str, Any]
    free: list[FreeParameter]
    targets: list[Target]
    seeds: tuple[int, ...]
    months: int
    workers: int = 1
    on_evaluation: Callable[[int], None] | None = None
    cache: dict[tuple[float, ...], np.ndarray] = field(default_factory=dict)
    evaluations: int = 0
    _pool: ProcessPoolExecutor | None = None

    def __post_init__(self) -> None:
        self.integers = [
            isinstance(lookup_path(self.data, p.path), int)
            and not isinstance(lookup_path(self.data, p.path), bool)
            for p in self.free
        ]
        self._target_dicts = tuple(t.model_dump(mode="json") for t in self.targets)

    def __enter__(self) -> Evaluator:
        if self.workers > 1:
            from welfare_sim.sim.pool import process_pool  # workers that die with this process

            self._pool = process_pool(self.workers)
        return self

    def __exit__(self, *_: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def task(self, u: np.ndarray, series: bool = False, seeds: Sequence[int] | None = None) -> Task:
        return Task(
            self.data,
            tuple(overrides_for(self.free, self.integers, u)),
            tuple(self.seeds if seeds is None else seeds),
            self.months,
            self._target_dicts,
            series,
        )

    @staticmethod
    def key(u: np.ndarray) -> tuple[float, ...]:
        return tuple(round(float(x), 12) for x in np.clip(u, 0.0, 1.0))

    def many(self, us: Sequence[np.ndarray]) -> list[np.ndarray]:
        """Model values (seeds × targets) for each vector, in order; cached by vector."""
        keys = [self.key(u) for u in us]
        todo = list(dict.fromkeys(k for k in keys if k not in self.cache))
        # one task per (vector, seed): the seeds of a single vector run in parallel too
        tasks = [self.task(np.array(k), seeds=(s,)) for k in todo for s in self.seeds]
        if self._pool is not None and len(tasks) > 1:
            flat = list(self._pool.map(run_task, tasks))
        else:
            flat = [run_task(t) for t in tasks]
        n = len(self.seeds)
        per_vector = [
            np.concatenate([v for v, _s in flat[i * n : (i + 1) * n]]) for i in range(len(todo))
        ]
        for k, values in zip(todo, per_vector, strict=True):
            if not np.all(np.isfinite(values)):
                bad = [
                    t.name
                    for t, ok in zip(self.targets, np.isfinite(values).all(axis=0), strict=True)
                    if not ok
                ]
                raise FitError(
                    f"the model gives no value for target(s) {', '.join(bad)} (an empty scope or a "
                    "share of zero people); check the targets' scope and month"
                )
            self.cache[k] = values
            self.evaluations += 1
            if self.on_evaluation is not None:
                self.on_evaluation(self.evaluations)
        return [self.cache[k] for k in keys]

    def one(self, u: np.ndarray) -> np.ndarray:
        return self.many([u])[0]

    def series(self, u: np.ndarray) -> np.ndarray:
        """Monthly series (seeds × targets × months) at `u`, for the plot."""
        tasks = [self.task(u, series=True, seeds=(s,)) for s in self.seeds]
        runs = list(self._pool.map(run_task, tasks)) if self._pool is not None else [run_task(t) for t in tasks]
        parts = [s for _v, s in runs]
        assert all(p is not None for p in parts)
        return np.concatenate(parts)

    def projection(
        self, us: Sequence[np.ndarray], target: Target, months: int
    ) -> np.ndarray:
        """One quantity's monthly series over the whole run, for each vector and seed
        (vectors × seeds × months): the band of a projection."""
        plain = (target.model_dump(mode="json"),)
        tasks = [
            Task(self.data, tuple(overrides_for(self.free, self.integers, u)), (s,), months, plain, True)
            for u in us
            for s in self.seeds
        ]
        runs = list(self._pool.map(run_task, tasks)) if self._pool is not None else [run_task(t) for t in tasks]
        series = np.stack([s[0, 0] for _v, s in runs if s is not None])
        return series.reshape(len(us), len(self.seeds), months)


# --------------------------------------------------------------------------- objective


@dataclass
class Objective:
    evaluator: Evaluator
    fitted: np.ndarray  # indices of the targets fitted
    sigma: np.ndarray  # per target, standardising residuals

    @property
    def observed(self) -> np.ndarray:
        return np.array([t.value for t in self.evaluator.targets])

    def residuals_from(self, values: np.ndarray) -> np.ndarray:
        mean = values.mean(axis=0)
        return ((mean - self.observed) / self.sigma)[self.fitted]

    def residuals(self, u: np.ndarray) -> np.ndarray:
        return self.residuals_from(self.evaluator.one(u))

    def cost(self, u: np.ndarray) -> float:
        r = self.residuals(u)
        return float(r @ r)

    def jacobian(self, u: np.ndarray, central: bool = False, step: float = JAC_STEP) -> np.ndarray:
        """d residuals / d u by finite differences, all points evaluated in one batch."""
        k = u.size
        points, signs = [], []
        for j in range(k):
            up = u.copy()
            down = u.copy()
            if central:
                up[j] = min(u[j] + step, 1.0)
                down[j] = max(u[j] - step, 0.0)
            elif u[j] + step <= 1.0:
                up[j] = u[j] + step
            else:
                down[j] = u[j] - step
            points += [up, down]
            signs.append(up[j] - down[j])
        values = self.evaluator.many(points)
        jac = np.empty((self.fitted.size, k))
        for j in range(k):
            jac[:, j] = (
                self.residuals_from(values[2 * j]) - self.residuals_from(values[2 * j + 1])
            ) / signs[j]
        return jac


def noise_sigma(targets: list[Target], values: np.ndarray) -> np.ndarray:
    """σ per target: the figure's own uncertainty and the seed noise of the mean over seeds."""
    observed = np.array([t.value for t in targets])
    sd_rel = np.array([t.sd_rel for t in targets])
    n = values.shape[0]
    seed_var = values.var(axis=0, ddof=1) / n if n > 1 else np.zeros(len(targets))
    sigma = np.sqrt((sd_rel * np.abs(observed)) ** 2 + seed_var)
    return np.where(sigma > 0, sigma, 1.0)


# --------------------------------------------------------------------------- optimisers


@dataclass
class Optimum:
    u: np.ndarray
    cost: float
    converged: bool
    message: str
    evaluations: int
    iterations: int
    status: int = 0  # scipy's: least_squares 1 gtol, 2 ftol, 3 xtol, 4 ftol and xtol, 0 budget


def minimise(
    objective: Objective, u0: np.ndarray, method: str, budget: int, seed: int = 0
) -> Optimum:
    """Fit from `u0` with at most about `budget` model evaluations (each over every seed)."""
    ev = objective.evaluator
    start_evals = ev.evaluations
    if method == "least_squares":
        k = u0.size
        # one evaluation for the residuals plus k for each forward-difference Jacobian
        max_nfev = max(2, budget // (k + 1))
        res = optimize.least_squares(
            objective.residuals,
            u0,
            jac=lambda u: objective.jacobian(u),
            bounds=(np.zeros(k), np.ones(k)),
            method="trf",
            x_scale=1.0,
            ftol=1e-4,
            xtol=1e-3,
            gtol=1e-4,
            max_nfev=max_nfev,
        )
        u = np.clip(res.x, 0.0, 1.0)
        converged = res.status > 0
        message = (
            res.message
            if converged
            else (
                f"stopped after {res.nfev} iterations, the budget of --budget {budget} model evaluations; "
                "raise --budget or loosen the bounds"
            )
        )
        return Optimum(
            u,
            objective.cost(u),
            converged,
            message,
            ev.evaluations - start_evals,
            int(res.nfev),
            int(res.status),
        )
    if method == "differential_evolution":
        k = u0.size
        popsize = max(4, math.ceil(10 / k))  # scipy's population is popsize × k vectors
        per_generation = popsize * k
        maxiter = max(1, budget // per_generation - 1)

        def batch_map(func: Callable, points: Any) -> list[float]:
            pts = [np.asarray(p, float) for p in points]
            values = ev.many(pts)
            return [
                float(objective.residuals_from(v) @ objective.residuals_from(v)) for v in values
            ]

        res = optimize.differential_evolution(
            objective.cost,
            [(0.0, 1.0)] * k,
            x0=u0,
            popsize=popsize,
            maxiter=maxiter,
            tol=1e-3,
            atol=1e-3,
            seed=seed,
            polish=False,
            updating="deferred",
            workers=batch_map,
            init="latinhypercube",
        )
        u = np.clip(res.x, 0.0, 1.0)
        converged = bool(res.success)
        message = (
            res.message
            if converged
            else (
                f"stopped after {res.nit} generations, the budget of --budget {budget} model evaluations; "
                "raise --budget"
            )
        )
        return Optimum(
            u, objective.cost(u), converged, message, ev.evaluations - start_evals, int(res.nit)
        )
    raise ValueError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")


# --------------------------------------------------------------------------- uncertainty


@dataclass
class ParameterFit:
    path: str
    start: float
    value: float
    sd: float | None
    low95: float
    high95: float
    lower: float
    upper: float
    scale: str
    warnings: list[str]
    prior: float | None = None


def laplace(
    objective: Objective,
    u: np.ndarray,
    free: list[FreeParameter],
    integers: list[bool],
    u0: np.ndarray,
) -> tuple[list[ParameterFit], np.ndarray, np.ndarray]:
    """Approximate posterior: sd and 95 % interval per parameter, the correlation matrix and the
    covariance (unit coordinates).

    The prior is the bounds: uniform on [0, 1] in unit coordinates, approximated by a normal of
    the same sd (PRIOR_SD_UNIT), so a parameter the targets do not inform keeps its prior spread
    instead of an infinite or zero variance.
    """
    jac = objective.jacobian(u, central=True)
    k = u.size
    precision = jac.T @ jac + np.eye(k) / PRIOR_SD_UNIT**2
    cov = np.linalg.inv(precision)
    sd_u = np.sqrt(np.clip(np.diag(cov), 0.0, None))
    corr = cov / np.outer(sd_u, sd_u)
    fits = []
    for j, par in enumerate(free):
        warnings = []
        spread = float(np.linalg.norm(jac[:, j]))  # residual change per full range of the parameter
        others = [i for i in range(k) if i != j]
        partner = max(others, key=lambda i: abs(corr[i, j])) if others else None
        if spread < FLAT_RESIDUAL:
            warnings.append(
                f"flat: across its whole range the residuals move by {spread:.2f} σ only; "
                "the targets do not pin it down"
            )
        elif sd_u[j] > WIDE_SD_UNIT:
            warnings.append(
                f"not pinned down: its approximate sd is {sd_u[j] / PRIOR_SD_UNIT:.0%} of the "
                "spread its bounds alone allow"
                + (
                    f"; it trades off most with {free[partner].path} (correlation "
                    f"{corr[partner, j]:+.2f})"
                    if partner is not None
                    else ""
                )
            )
        elif partner is not None and abs(corr[partner, j]) > HIGH_CORRELATION:
            warnings.append(
                f"trades off against {free[partner].path} (correlation {corr[partner, j]:+.2f}): "
                "the targets fix a combination more than each value"
            )
        for edge, name in ((0.0, "lower"), (1.0, "upper")):
            if abs(u[j] - edge) <= AT_BOUND_UNIT:
                warnings.append(
                    f"at its {name} bound ({getattr(par, name):g}): the targets push it to the edge "
                    "of the declared range, so the bound, not the figures, sets it; widen the "
                    "bound if a wider range is plausible, or suspect the model's structure"
                )
        value = to_value(par, u[j], integers[j])
        lo = to_value(par, u[j] - 1.96 * sd_u[j])
        hi = to_value(par, u[j] + 1.96 * sd_u[j])
        if par.scale == "log":
            sd_value = value * (math.log(par.upper) - math.log(par.lower)) * sd_u[j]
        else:
            sd_value = (par.upper - par.lower) * sd_u[j]
        fits.append(
            ParameterFit(
                par.path,
                to_value(par, u0[j], integers[j]),
                value,
                float(sd_value),
                lo,
                hi,
                par.lower,
                par.upper,
                par.scale,
                warnings,
                par.prior,
            )
        )
    return fits, corr, cov


# --------------------------------------------------------------------------- the whole fit


@dataclass
class TargetFit:
    name: str
    quantity: str
    scope: str
    month: str
    date: str
    observed: float
    model: float
    model_seed_min: float
    model_seed_max: float
    rel_error: float
    fitted: bool
    relation: str
    passes: bool
    loo_model: float | None = None
    loo_rel_error: float | None = None
    loo_converged: bool | None = None
    source: str = ""
    model_seed_sd: float = 0.0  # sd over seeds (ddof 1; 0 with one seed)


@dataclass
class Projection:
    """A quantity over the whole run with the fitted parameters' uncertainty: `draws` parameter
    vectors from the approximate posterior, each run on every fit seed."""

    quantity: str
    scope: str
    months: int
    draws: int
    seeds: int
    central: np.ndarray  # months: mean over seeds at the fitted values
    low: np.ndarray  # months: 5 % quantile over draws × seeds
    high: np.ndarray  # months: 95 % quantile over draws × seeds
    runs: np.ndarray  # draws × seeds × months


PROJECTION_QUANTITY = "account_share"


def projection_band(
    ev: Evaluator, u: np.ndarray, cov: np.ndarray, months: int, draws: int, seed: int
) -> Projection:
    """Province coverage over the run: the fit, then `draws` vectors from N(u, cov) clipped to
    the bounds (the Laplace posterior), every one on the fit's seeds (common random numbers)."""
    target = Target(
        name="projection",
        date="whole run",
        month=ev.targets[0].month,
        scope=ev.targets[0].scope if ev.targets[0].scope != "district" else "province",
        quantity=PROJECTION_QUANTITY,
        value=1.0,
        fit=False,
        source="projection",
    )
    from welfare_sim.sim.streams import Streams

    # N(u, cov) through a named stream keyed by (draw, parameter): reproducible, and a draw's
    # vector does not change when more draws are asked for
    z = Streams(seed)["calibration.projection"].normal(
        np.repeat(np.arange(draws), u.size), np.tile(np.arange(u.size), draws)
    ).reshape(draws, u.size)
    w, v = np.linalg.eigh(cov)
    root = v * np.sqrt(np.clip(w, 0.0, None))
    drawn = u + z @ root.T
    vectors = [u] + [np.clip(d, 0.0, 1.0) for d in drawn]
    runs = ev.projection(vectors, target, months)
    central = runs[0].mean(axis=0)
    spread = runs[1:].reshape(-1, months) if draws else runs[0]
    return Projection(
        PROJECTION_QUANTITY,
        target.scope,
        months,
        draws,
        len(ev.seeds),
        central,
        np.quantile(spread, 0.05, axis=0),
        np.quantile(spread, 0.95, axis=0),
        runs[1:] if draws else runs[:1],
    )


@dataclass
class FitResult:
    scenario: str
    method: str
    seeds: list[int]
    months: int
    sample_fraction: float
    converged: bool
    message: str
    cost: float
    start_cost: float
    evaluations: int
    targets: list[TargetFit]
    parameters: list[ParameterFit]
    correlation: list[list[float]]
    u: np.ndarray
    u0: np.ndarray
    series: np.ndarray  # seeds × targets × months at the fit
    warnings: list[str]
    accepted: bool = False
    max_rel_error: float = 0.0
    u_prior: np.ndarray | None = None
    projection: Projection | None = None
    start: str = ""  # the scenario's first month, YYYY-MM
    loo_seeds: int = 0  # seeds each leave-one-out refit ran (0: no leave-one-out)

    @property
    def worst_fitted_error(self) -> float:
        errs = [abs(t.rel_error) for t in self.targets if t.fitted]
        return max(errs) if errs else 0.0


def calibrate(
    scenario: Scenario,
    data: dict[str, Any],
    targets: list[Target],
    seeds: Sequence[int],
    method: str = "least_squares",
    budget: int = 150,
    loo: bool = True,
    loo_budget: int | None = None,
    workers: int = 1,
    max_rel_error: float = 0.25,
    on_evaluation: Callable[[int], None] | None = None,
    on_stage: Callable[[str, int], None] | None = None,
    band_draws: int = 0,
    loo_seeds: int | None = None,
) -> FitResult:
    """Fit `scenario`'s free parameters to `targets`. `data` is the scenario as plain data."""
    from welfare_sim.models.params import month_offset

    if scenario.calibration is None:
        raise FitError(
            "the scenario has no `calibration: free_parameters:` block; declare what to fit"
        )
    free = list(scenario.calibration.free_parameters)
    months = max(month_offset(scenario.start, t.month) for t in targets) + 1
    fitted = np.array([i for i, t in enumerate(targets) if t.fitted])
    if fitted.size == 0:
        raise FitError(
            "no target is fitted (all are checks); give at least one target with relation '='"
        )
    stage = on_stage or (lambda _label, _total: None)

    warnings: list[str] = []
    if fitted.size < len(free):
        warnings.append(
            f"{fitted.size} fitted targets for {len(free)} free parameters: some parameters cannot "
            "be pinned down; see the per-parameter warnings"
        )
    with Evaluator(data, free, targets, tuple(seeds), months, workers, on_evaluation) as ev:
        u0 = np.array([to_unit(p, float(lookup_path(data, p.path))) for p in free])
        # the values before any fit: leave-one-out refits start here, not from a fitted point
        u_prior = np.array(
            [to_unit(p, p.prior if p.prior is not None else float(lookup_path(data, p.path))) for p in free]
        )
        stage("fit", budget)
        start_values = ev.one(u0)
        sigma = noise_sigma(targets, start_values)
        objective = Objective(ev, fitted, sigma)
        start_cost = objective.cost(u0)
        best = minimise(objective, u0, method, budget)
        if method == "differential_evolution":
            # a few least-squares steps from the best member sharpen the end point
            polished = minimise(
                objective, best.u, "least_squares", max(4 * (len(free) + 1), budget // 5)
            )
            if polished.cost <= best.cost:
                best = Optimum(
                    polished.u,
                    polished.cost,
                    best.converged,
                    best.message,
                    best.evaluations + polished.evaluations,
                    best.iterations,
                )
        stage("uncertainty", 2 * len(free))
        parameters, corr, cov = laplace(objective, best.u, free, ev.integers, u0)
        values = ev.one(best.u)
        mean = values.mean(axis=0)
        target_fits = []
        for i, t in enumerate(targets):
            target_fits.append(
                TargetFit(
                    t.name,
                    t.quantity,
                    t.scope_label(),
                    t.month,
                    t.date,
                    t.value,
                    float(mean[i]),
                    float(values[:, i].min()),
                    float(values[:, i].max()),
                    relative_error(mean[i], t.value),
                    t.fitted,
                    t.relation,
                    check_passes(t, float(mean[i])),
                    source=t.source,
                    model_seed_sd=float(values[:, i].std(ddof=1)) if values.shape[0] > 1 else 0.0,
                )
            )
        n_loo = 0
        if loo and fitted.size > 1:
            per_refit = loo_budget or budget
            stage("leave-one-out", per_refit * fitted.size)
            # the refits may use the first `loo_seeds` seeds only (a cost cap, said in the report);
            # σ stays the fit's, so the refits weigh the targets as the fit does
            n_loo = len(seeds) if loo_seeds is None else max(1, min(loo_seeds, len(seeds)))
            loo_ev = ev
            if n_loo < len(seeds):
                loo_ev = Evaluator(data, free, targets, tuple(seeds[:n_loo]), months, 1, on_evaluation)
                loo_ev._pool = ev._pool  # the fit's workers; closed with it
            for i in fitted:
                rest = np.array([j for j in fitted if j != i])
                sub = Objective(loo_ev, rest, sigma)
                opt = minimise(sub, u_prior, method, per_refit)
                predicted = float(loo_ev.one(opt.u).mean(axis=0)[i])
                tf = target_fits[i]
                tf.loo_model = predicted
                tf.loo_rel_error = relative_error(predicted, tf.observed)
                tf.loo_converged = opt.converged
            for i, t in enumerate(targets):
                if not t.fitted:
                    # a check is never fitted, so the fit itself already predicts it out of sample
                    tf = target_fits[i]
                    tf.loo_model = tf.model
                    tf.loo_rel_error = tf.rel_error
                    tf.loo_converged = best.converged
        series = ev.series(best.u)
        band = None
        if band_draws > 0:
            stage("projection", band_draws + 1)
            band = projection_band(ev, best.u, cov, scenario.months, band_draws, scenario.seed)
        total = ev.evaluations
    result = FitResult(
        scenario=scenario.name,
        method=method,
        seeds=list(seeds),
        months=months,
        sample_fraction=scenario.geography.sample_fraction,
        converged=best.converged,
        message=str(best.message),
        cost=best.cost,
        start_cost=start_cost,
        evaluations=total,
        targets=target_fits,
        parameters=parameters,
        correlation=corr.round(4).tolist(),
        u=best.u,
        u0=u0,
        series=series,
        warnings=warnings,
        max_rel_error=max_rel_error,
        u_prior=u_prior,
        projection=band,
        start=str(scenario.start),
        loo_seeds=(n_loo if loo and fitted.size > 1 else 0),
    )
    failed_checks = [t.name for t in target_fits if not t.fitted and not t.passes]
    if failed_checks:
        result.warnings.append(f"check(s) not met by the fitted model: {', '.join(failed_checks)}")
    result.accepted = result.converged and result.worst_fitted_error <= max_rel_error
    if result.converged and not result.accepted:
        worst = max((t for t in target_fits if t.fitted), key=lambda t: abs(t.rel_error))
        result.message = (
            f"the optimiser stopped, but target {worst.name} is off by {worst.rel_error:+.1%}, "
            f"more than --max-error {max_rel_error:.0%}: the model cannot reproduce the targets "
            "with these free parameters and bounds"
        )
    return result
