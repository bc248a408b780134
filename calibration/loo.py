"""Leave-one-out refits on their own, from the prior, each given the budget to converge.

    python -m welfare_sim.calibration.loo scenarios/hoa_binh.yaml \\
        --targets calibration/targets/hoa_binh.yaml --seeds 3 --budget 400 --workers 2 \\
        --out outputs/loo-hoa_binh.json
    python -m welfare_sim.calibration.loo scenarios/vietnam.yaml \\
        --targets calibration/targets/vietnam.yaml --sample-fraction 0.05 --seeds 3 --budget 60 \\
        --only without_account_count_2024_04 --out outputs/loo-vietnam.json

The same refits as `welfare-sim calibrate` (calibration/fit.py, the leave-one-out part) without
refitting the full model first: the scenario's values are taken as the fit (they are the fitted
values written into it), σ is measured there over the seeds as the fit measures it, and each
fitted target in turn is dropped and the rest refitted from the PRIOR (each free parameter's
`prior:`), never from the fit. Every refit uses the same seeds (common random numbers).

"Converged" is the optimiser's own stopping rule: scipy least_squares (trf) stops with status
1 (gtol 1e-4: projected gradient small), 2 (ftol 1e-4: cost changes by < 0.01 % in a step),
3 (xtol 1e-3: step below 0.1 % of the unit box) or 4 (2 and 3); status 0 means it ran out of
budget (`--budget` evaluations, that is budget // (k + 1) iterations with a Jacobian of k
forward differences each) and the refit is reported as NOT converged. Each refit's line is
written to `--out` (JSON lines) as soon as it ends, so a long run keeps what it has.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np


def main(argv: list[str] | None = None) -> int:
    from welfare_sim.calibration.fit import Evaluator, Objective, minimise, noise_sigma, to_unit, to_value
    from welfare_sim.calibration.targets import check_targets, load_targets, relative_error
    from welfare_sim.models.params import month_offset
    from welfare_sim.sim.free_parameters import lookup_path
    from welfare_sim.sim.scenario import apply_overrides, read_yaml, resolve_extends, validate_scenario

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenario", type=Path)
    ap.add_argument("--targets", type=Path, required=True)
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--budget", type=int, default=400, help="most evaluations per refit")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", type=Path, default=None, help="JSON lines, one per refit")
    ap.add_argument("--only", default=None, help="comma-separated target names to leave out")
    ap.add_argument(
        "--sample-fraction", type=float, default=None,
        help="refit on this fraction of each commune (counts scaled up), as `welfare-sim calibrate "
        "--sample-fraction` fits: the national fit's refits at 0.05",
    )
    args = ap.parse_args(argv)

    data = resolve_extends(args.scenario.resolve(), read_yaml(args.scenario))
    if args.sample_fraction is not None:
        data = apply_overrides(data, [f"geography.sample_fraction={args.sample_fraction!r}"])
    sc = validate_scenario(data, str(args.scenario))
    tf = load_targets(args.targets)
    problems = check_targets(tf, sc, str(args.targets))
    if problems or sc.calibration is None:
        print("\n".join(problems) or "no calibration block", file=sys.stderr)
        return 2
    targets = list(tf.targets)
    free = list(sc.calibration.free_parameters)
    seeds = tuple(sc.seed + i for i in range(args.seeds))
    months = max(month_offset(sc.start, t.month) for t in targets) + 1
    fitted = np.array([i for i, t in enumerate(targets) if t.fitted])
    only = set(args.only.split(",")) if args.only else None
    out = args.out.open("a") if args.out else None

    def emit(row: dict) -> None:
        print(json.dumps(row), flush=True)
        if out is not None:
            out.write(json.dumps(row) + "\n")
            out.flush()

    with Evaluator(data, free, targets, seeds, months, args.workers) as ev:
        u_fit = np.array([to_unit(p, float(lookup_path(data, p.path))) for p in free])
        u_prior = np.array(
            [to_unit(p, p.prior if p.prior is not None else float(lookup_path(data, p.path))) for p in free]
        )
        integers = ev.integers
        emit(
            {
                "kind": "start",
                "scenario": str(args.scenario),
                "seeds": list(seeds),
                "months": months,
                "sample_fraction": sc.geography.sample_fraction,
                "budget": args.budget,
                "prior": {
                    p.path: to_value(p, float(u), i) for p, u, i in zip(free, u_prior, integers, strict=True)
                },
                "fit": {p.path: to_value(p, float(u), i) for p, u, i in zip(free, u_fit, integers, strict=True)},
                "prior_is_not_fit": bool(np.any(np.abs(u_prior - u_fit) > 1e-9)),
            }
        )
        t0 = time.perf_counter()
        fit_values = ev.one(u_fit)
        sigma = noise_sigma(targets, fit_values)
        fit_mean = fit_values.mean(axis=0)
        for i in fitted:
            if only is not None and targets[i].name not in only:
                continue
            t1 = time.perf_counter()
            rest = np.array([j for j in fitted if j != i])
            sub = Objective(ev, rest, sigma)
            start_cost = sub.cost(u_prior)
            opt = minimise(sub, u_prior.copy(), "least_squares", args.budget)
            values = ev.one(opt.u)
            predicted = float(values.mean(axis=0)[i])
            t = targets[i]
            emit(
                {
                    "kind": "refit",
                    "left_out": t.name,
                    "observed": t.value,
                    "fit_model": float(fit_mean[i]),
                    "fit_rel_error": relative_error(float(fit_mean[i]), t.value),
                    "loo_model": predicted,
                    "loo_seed_sd": float(values[:, i].std(ddof=1)) if len(seeds) > 1 else 0.0,
                    "loo_rel_error": relative_error(predicted, t.value),
                    "converged": opt.converged,
                    "status": opt.status,
                    "message": str(opt.message),
                    "iterations": opt.iterations,
                    "evaluations": opt.evaluations,
                    "start_cost": start_cost,
                    "cost": opt.cost,
                    "rest_rel_errors": {
                        targets[j].name: relative_error(float(values.mean(axis=0)[j]), targets[j].value)
                        for j in rest
                    },
                    "u": [float(x) for x in opt.u],
                    "values": {
                        p.path: to_value(p, float(u), k) for p, u, k in zip(free, opt.u, integers, strict=True)
                    },
                    "wall_s": round(time.perf_counter() - t1, 1),
                }
            )
        emit({"kind": "end", "evaluations": ev.evaluations, "wall_s": round(time.perf_counter() - t0, 1)})
    if out is not None:
        out.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
