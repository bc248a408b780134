"""`welfare-sim where`: which communes to act in first, ranked by effect per VND.

The scenario runs twice over the same seeds: as it is, and with the intervention in every candidate
commune at once (every commune post office an "ATM" point from the first month, or a drive team
in every commune in the first month). The streams are keyed by beneficiary, commune and month,
so the two runs of one seed draw alike wherever the intervention does not reach (common random
numbers): the difference in a commune's own figures, seed by seed, is that commune's effect, and
its 95 % t-interval over the seeds says how sure it is. Divided by what the intervention costs in
that commune, it ranks the communes.

What it measures is each commune's effect with every other commune treated too: where communes
share a queue (a district post office, a town's ATMs) a commune's effect alone could differ a
little. The ranked list and its `top N` scenario are then checked the plain way: compare the top-N
scenario with the base (`welfare-sim compare`).

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
    from welfare_sim.sim.experiments.effects import paired_interval
    from welfare_sim.sim.scenario import validate_scenario

    kind = INTERVENTIONS[intervention]
    run_months = months or base.months
    spec = template(kind, like, base)
    districts = spec.get("districts")
    probe = validate_scenario(probe_scenario(base, kind, spec, base.geography.n_communes), "where")
    results = run_all([base, probe], ["base", "probe"], seeds, months, workers, on_done)
    rows = [
        {"run": r["index"], "seed": r["seed"], **g} for r in results for g in r["groups"] if g["level"] == "commune"
    ]
    frame = pl.DataFrame(rows)
    cost = commune_cost(kind, spec, base, run_months)
    ranked = []
    for key, part in frame.group_by("key", maintain_order=True):
        commune = int(key[0])
        first = part.row(0, named=True)
        place = {"district_name": first["district"], "commune_name": first["name"], "commune_code": first["code"]}
        if districts is not None and place["district_name"] not in districts:
            continue
        before = part.filter(pl.col("run") == 0).sort("seed")
        after = part.filter(pl.col("run") == 1).sort("seed")
        if intervention == "commune_atm_points":
            effect = (before["hours"] - after["hours"]).to_numpy()
        else:
            effect = (after["with_account_last"] - before["with_account_last"]).to_numpy()
        mean, lo, hi = paired_interval(effect)
        ranked.append(
            {
                "commune": commune,
                **place,
                "beneficiaries_mean": float(before["beneficiaries_last"].mean()),
                "effect_mean": mean,
                "effect_lo": lo,
                "effect_hi": hi,
                "cost_vnd": int(round(cost)),
                "effect_per_million_dong": mean / cost * 1e6 if cost else math.nan,
            }
        )
    table = pl.DataFrame(ranked).sort(["effect_per_million_dong", "commune"], descending=[True, False], nulls_last=True)
    table = table.with_row_index("rank", offset=1).with_columns(pl.col("rank").cast(pl.Int64))
    return table, {"kind": kind, "strategy": spec, "effect": EFFECT[intervention][0], "cost_per_commune_vnd": cost}


def top_scenario(
    base_path: Path, base: Scenario, kind: str, spec: dict[str, Any], communes: list[int], out_dir: Path
) -> dict[str, Any]:
    """A scenario file's content: the base (`extends`, relative to the file) plus the strategy in
    the listed communes, in rank order."""
    entry = {k: v for k, v in spec.items() if v is not None}
    entry.update(name=f"where_top{len(communes)}", communes=communes, districts=None)
    entry.pop("districts")
    entry.pop("max_communes", None)
    entry.pop("targeting", None)  # the listed order is the order
    if kind == "drives":
        entry["revisit"] = False
    return {
        "extends": os.path.relpath(base_path.resolve(), out_dir.resolve()),
        "name": f"{base.name}_where_{kind}_top{len(communes)}",
        "description": f"{base.name} + {kind} in the {len(communes)} communes ranked first by `welfare-sim where`",
        "interventions": {f"{kind}+": [entry]},
    }
