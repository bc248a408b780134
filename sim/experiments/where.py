"""`welfare-sim where`: which communes to act in first, ranked by effect per VND.

The scenario runs twice over the same seeds: as it is, and with the intervention in every candidate
commune at once (every commune post office an "ATM" point from the first month, or a drive team
in every commune in the first month). The streams are keyed by beneficiary, commune and month,
so the two runs of one seed draw alike wherever the intervention does not reach (common random
numbers): the difference in a commune's own figures, seed by seed, is that commune's effect, and
its 95 % t-interval over the seeds says how sure it is. Divided by what the intervention costs in
that commune, it ranks the communes.

What it measures is each commune's effect with every other commune treated too: where communes
share a queue (a district post office, a town's ATMs) a commune's effect alone could differ. So the
top N is checked (`check_top`): the base with the strategy in the top N alone, over the same seeds,
gives the combined effect on the whole province, set against the sum of the N single effects; a
difference the seeds tell from zero means the effects interact, and the output says so. For ATM
points the top N is also run against the strategy's own order (terrain, then size) for as many
communes.

How many seeds: as many as the user asks, or (by default) SEED_STEP at a time until every one of
the top N communes is told from zero, up to MAX_AUTO_SEEDS; a commune still not told from zero is
marked (`separates` false).

* commune_atm_points: the effect is beneficiary-hours saved (travel and queueing), the cost the
  office's conversion plus its monthly cost for the months it is open;
* drives: the effect is extra account holders in the last month, the cost one commune's share of a
  team-month (cost_per_team_month_vnd ÷ communes_per_team_per_month).
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from welfare_sim.sim.scenario import Scenario

INTERVENTIONS = {"commune_atm_points": "atm_points", "drives": "drives"}
EFFECT = {
    "commune_atm_points": ("beneficiary_hours_saved", "beneficiary-hours saved"),
    "drives": ("extra_account_holders", "extra account holders"),
}
PROBE = "where_probe"


def template(kind: str, like: Scenario | None, base: Scenario) -> dict[str, Any]:
    """The strategy to place: the last one of its kind in `like` (a strategy scenario), else in the
    base, else the model's defaults (a drive then reaches 0.9 and 0.5 apply: assumptions)."""
    for sc in (like, base):
        if sc is not None and getattr(sc.interventions, kind):
            return getattr(sc.interventions, kind)[-1].model_dump(mode="json")
    if kind == "atm_points":
        return {"name": "atm_points", "start": base.start, "communes_per_month": 20}
    return {
        "name": "drive",
        "start": base.start,
        "end": base.start,
        "teams": 1,
        "communes_per_team_per_month": 1,
        "reach": 0.9,
        "apply_prob": 0.5,
    }


def probe_scenario(base: Scenario, kind: str, spec: dict[str, Any], n_communes: int) -> dict[str, Any]:
    """The base with the intervention in every candidate commune, all from the first month."""
    data = base.model_dump(mode="json")
    entry = {**spec, "name": PROBE, "communes": None}
    if kind == "atm_points":
        entry.update(communes_per_month=max(1, n_communes), max_communes=None)
    else:
        per_team = entry["communes_per_team_per_month"]
        entry.update(teams=max(1, math.ceil(n_communes / per_team)), end=entry["start"], revisit=False)
    data["interventions"][kind] = [*data["interventions"][kind], entry]
    data["name"] = f"{base.name}_{PROBE}"
    return data


def months_open(base: Scenario, start: str, months: int) -> int:
    from welfare_sim.models.params import month_offset

    return max(0, months - max(0, month_offset(base.start, start)))


def commune_cost(kind: str, spec: dict[str, Any], base: Scenario, months: int) -> float:
    """What the intervention costs the state in one commune over the run, VND."""
    from welfare_sim.models.params import CommuneAtmPoints, Drive

    if kind == "atm_points":
        p = CommuneAtmPoints.model_validate(spec)
        return float(p.conversion_cost_vnd + p.monthly_cost_vnd * months_open(base, p.start, months))
    d = Drive.model_validate(spec)
    return d.cost_per_team_month_vnd / d.communes_per_team_per_month


def rank_communes(
    base: Scenario,
    intervention: str,
    seeds: list[int],
    months: int | None = None,
    like: Scenario | None = None,
    workers: int = 1,
    on_done: Any = None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The candidate communes ranked by effect per VND (best first), and the strategy placed."""
    from welfare_sim.sim.experiments.compare import run_all

    kind = INTERVENTIONS[intervention]
    spec = template(kind, like, base)
    probe = _validated(probe_scenario(base, kind, spec, base.geography.n_communes))
    results = run_all([base, probe], ["base", "probe"], seeds, months, workers, on_done)
    return rank_from_runs(base, intervention, spec, results, months)


def _validated(data: dict[str, Any]) -> Scenario:
    from welfare_sim.sim.scenario import validate_scenario

    return validate_scenario(data, "where")


def commune_effects(results: list[dict[str, Any]], intervention: str) -> pl.DataFrame:
    """Per commune and seed: the probe's effect on the commune's own figure (base run index 0, the
    other run index 1), with the commune's names and its beneficiaries in the base."""
    rows = [
        {"run": r["index"], "seed": r["seed"], **g} for r in results for g in r["groups"] if g["level"] == "commune"
    ]
    frame = pl.DataFrame(rows)
    figure = "hours" if intervention == "commune_atm_points" else "with_account_last"
    sign = -1.0 if intervention == "commune_atm_points" else 1.0  # fewer hours, more account holders
    before = frame.filter(pl.col("run") == 0).select(
        "key", "seed", "district", "name", "code", "beneficiaries_last", pl.col(figure).alias("before")
    )
    after = frame.filter(pl.col("run") != 0).select("key", "seed", pl.col(figure).alias("after"))
    return (
        before.join(after, on=["key", "seed"], how="inner")
        .with_columns(
            commune=pl.col("key").cast(pl.Int64), effect=sign * (pl.col("after") - pl.col("before"))
        )
        .sort("commune", "seed")
    )


def rank_from_runs(
    base: Scenario, intervention: str, spec: dict[str, Any], results: list[dict[str, Any]], months: int | None
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The ranked table from the base and probe runs of `rank_communes` (every seed they have)."""
    from welfare_sim.sim.experiments.effects import paired_interval

    kind = INTERVENTIONS[intervention]
    districts = spec.get("districts")
    cost = commune_cost(kind, spec, base, months or base.months)
    effects = commune_effects(results, intervention)
    ranked = []
    for (commune,), part in effects.group_by("commune", maintain_order=True):
        first = part.row(0, named=True)
        if districts is not None and first["district"] not in districts:
            continue
        mean, lo, hi = paired_interval(part["effect"].to_numpy())
        ranked.append(
            {
                "commune": int(commune),
                "district_name": first["district"],
                "commune_name": first["name"],
                "commune_code": first["code"],
                "beneficiaries_mean": float(part["beneficiaries_last"].mean()),
                "effect_mean": mean,
                "effect_lo": lo,
                "effect_hi": hi,
                # the seeds tell the commune's effect from zero (a gain: its interval lies above 0)
                "separates": bool(lo > 0),
                "cost_vnd": int(round(cost)),
                "effect_per_million_dong": mean / cost * 1e6 if cost else math.nan,
            }
        )
    table = pl.DataFrame(ranked, schema=RANKED_SCHEMA).sort(
        ["effect_per_million_dong", "commune"], descending=[True, False], nulls_last=True
    )
    table = table.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    return table, {
        "kind": kind,
        "strategy": spec,
        "effect": EFFECT[intervention][0],
        "cost_per_commune_vnd": cost,
        "seeds": sorted({r["seed"] for r in results}),
    }


RANKED_SCHEMA = {
    "commune": pl.Int64,
    "district_name": pl.String,
    "commune_name": pl.String,
    "commune_code": pl.String,
    "beneficiaries_mean": pl.Float64,
    "effect_mean": pl.Float64,
    "effect_lo": pl.Float64,
    "effect_hi": pl.Float64,
    "separates": pl.Boolean,
    "cost_vnd": pl.Int64,
    "effect_per_million_dong": pl.Float64,
}

# seeds added at a time, and at most, when `where` chooses how many seeds to run
SEED_STEP = 5
MAX_AUTO_SEEDS = 30


def rank_until_separated(
    base: Scenario,
    intervention: str,
    first_seed: int,
    top: int,
    months: int | None = None,
    like: Scenario | None = None,
    workers: int = 1,
    max_seeds: int = MAX_AUTO_SEEDS,
    on_done: Any = None,
    step: int | None = None,
) -> tuple[pl.DataFrame, dict[str, Any], list[dict[str, Any]]]:
    """`rank_communes` with as many seeds as it takes for every one of the top `top` communes to
    be told from zero, SEED_STEP seeds at a time up to `max_seeds`: the seeds already run are
    kept (common random numbers: a seed's runs do not depend on how many others there are). With
    `step` = `max_seeds`, exactly that many seeds. Also returns the runs, for `check_top`."""
    from welfare_sim.sim.experiments.compare import run_all

    kind = INTERVENTIONS[intervention]
    spec = template(kind, like, base)
    probe = _validated(probe_scenario(base, kind, spec, base.geography.n_communes))
    results: list[dict[str, Any]] = []
    n = 0
    while True:
        more = min(step or SEED_STEP, max_seeds - n)
        seeds = [first_seed + n + k for k in range(more)]
        results += run_all([base, probe], ["base", "probe"], seeds, months, workers, on_done)
        n += more
        table, placed = rank_from_runs(base, intervention, spec, results, months)
        if bool(table["separates"].head(top).all()) or n >= max_seeds:
            return table, placed, results


def check_top(
    base: Scenario,
    intervention: str,
    spec: dict[str, Any],
    table: pl.DataFrame,
    top: int,
    results: list[dict[str, Any]],
    months: int | None = None,
    workers: int = 1,
    on_done: Any = None,
) -> dict[str, Any]:
    """Does the top N together give what the sum of its communes' single effects suggests, and does
    it beat the strategy's own order (terrain, then size) for the same N communes?

    Runs, over the seeds of `results` (whose base runs are reused), the base with the strategy in
    the ranked top N, and (commune ATM points) with the strategy in the first N communes of its own
    targeting order. The effect is on the whole province (hours saved, or extra account holders):
    spill-overs to communes left untreated count. Paired per seed: the combined effect, the sum of
    the single effects of the N communes, their difference (≠ 0 when the seeds tell it: the
    effects interact; split into the N communes' own change and the change elsewhere, which tells
    a spill-over through shared queues from an interaction inside the N), and the ranked top N minus
    the order's top N."""
    from welfare_sim.sim.experiments.compare import run_all
    from welfare_sim.sim.experiments.effects import paired_interval

    kind = INTERVENTIONS[intervention]
    chosen = table["commune"].head(top).to_list()
    seeds = sorted({r["seed"] for r in results})
    data = base.model_dump(mode="json")
    ranked_entry = {**placed_entry(spec, kind, chosen), "name": f"where_top{len(chosen)}"}
    scenarios = [_with_entry(data, kind, ranked_entry, f"{base.name}_where_top{len(chosen)}")]
    if kind == "atm_points":
        order_entry = {**spec, "name": f"order_top{len(chosen)}", "max_communes": len(chosen), "communes": None}
        scenarios.append(_with_entry(data, kind, order_entry, f"{base.name}_order_top{len(chosen)}"))
    checked = run_all(
        [_validated(sc) for sc in scenarios], [sc["name"] for sc in scenarios], seeds, months,
        workers, on_done,
    )
    base_runs = [r for r in results if r["index"] == 0]
    figure = "hours" if intervention == "commune_atm_points" else "with_account_last"
    sign = -1.0 if intervention == "commune_atm_points" else 1.0

    def province(runs: list[dict[str, Any]], only: set[str] | None = None) -> np.ndarray:
        by_seed = {
            r["seed"]: sum(
                g[figure] for g in r["groups"] if g["level"] == "commune" and (only is None or g["key"] in only)
            )
            for r in runs
        }
        return np.array([by_seed[s] for s in seeds], np.float64)

    before = province(base_runs)
    top_runs = [r for r in checked if r["index"] == 0]
    together = sign * (province(top_runs) - before)
    keys = {str(c) for c in chosen}
    in_top = sign * (province(top_runs, keys) - province(base_runs, keys))
    singles_frame = commune_effects(results, intervention).filter(pl.col("commune").is_in(chosen))
    singles = (
        singles_frame.group_by("seed").agg(pl.col("effect").sum()).sort("seed")["effect"].to_numpy().astype(float)
    )

    def interval(values: np.ndarray) -> dict[str, float]:
        mean, lo, hi = paired_interval(values)
        return {"mean": mean, "lo": lo, "hi": hi}

    gap = interval(together - singles)
    out: dict[str, Any] = {
        "communes": chosen,
        "seeds": seeds,
        "effect": EFFECT[intervention][0],
        "together": interval(together),
        # where the combined effect falls: in the N communes themselves, and in the others (shared queues)
        "together_in_top": interval(in_top),
        "together_elsewhere": interval(together - in_top),
        "sum_of_singles": interval(singles),
        "together_minus_sum": gap,
        "interact": bool(gap["lo"] > 0 or gap["hi"] < 0),
        "ratio_together_to_sum": float(together.mean() / singles.mean()) if singles.mean() else math.nan,
    }
    if kind == "atm_points":
        order = sign * (province([r for r in checked if r["index"] == 1]) - before)
        beats = interval(together - order)
        out |= {
            "order_top": interval(order),
            "ranked_minus_order": beats,
            "ranked_beats_order": bool(beats["lo"] > 0),
            "order_targeting": spec.get("targeting"),
        }
    return out


def placed_entry(spec: dict[str, Any], kind: str, communes: list[int]) -> dict[str, Any]:
    """The strategy as placed in the listed communes, in rank order (the listed order is the order)."""
    entry = {k: v for k, v in spec.items() if v is not None}
    entry.update(name=f"where_top{len(communes)}", communes=communes)
    for key in ("districts", "max_communes", "targeting"):
        entry.pop(key, None)
    if kind == "drives":
        entry["revisit"] = False
    return entry


def _with_entry(data: dict[str, Any], kind: str, entry: dict[str, Any], name: str) -> dict[str, Any]:
    out = {**data, "name": name, "interventions": {**data["interventions"]}}
    out["interventions"][kind] = [*data["interventions"][kind], entry]
    return out


def top_scenario(
    base_path: Path, base: Scenario, kind: str, spec: dict[str, Any], communes: list[int], out_dir: Path
) -> dict[str, Any]:
    """A scenario file's content: the base (`extends`, relative to the file) plus the strategy in
    the listed communes, in rank order."""
    return {
        "extends": os.path.relpath(base_path.resolve(), out_dir.resolve()),
        "name": f"{base.name}_where_{kind}_top{len(communes)}",
        "description": f"{base.name} + {kind} in the {len(communes)} communes ranked first by `welfare-sim where`",
        "interventions": {f"{kind}+": [placed_entry(spec, kind, communes)]},
    }
